"""The shared plot style: fixed colours, a scoped rc context, head-less saving."""

import subprocess
import sys

import matplotlib
import pytest

from lasandbox import plotting
from lasandbox.plotting import apply_style, color_for, new_figure, save_figure


def test_roles_have_fixed_distinct_colours():
    assert color_for("sgd") == color_for("inner") == color_for("SGD")
    assert color_for("lookahead") == color_for("slow")
    assert len({color_for("sgd"), color_for("fast"), color_for("slow")}) == 3
    assert color_for("some new optimizer") == plotting.COLORS["reference"]
    assert plotting.sequence_color(len(plotting.SEQUENCE)) == plotting.SEQUENCE[0]


def test_style_is_scoped_to_the_with_block():
    before = matplotlib.rcParams["axes.spines.top"], matplotlib.rcParams["font.size"]
    with apply_style():
        assert matplotlib.rcParams["axes.spines.top"] is False
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0] == plotting.SEQUENCE[0]
    assert (matplotlib.rcParams["axes.spines.top"], matplotlib.rcParams["font.size"]) == before


def test_save_figure_writes_png_and_creates_folders(tmp_path):
    with apply_style():
        fig, axes = new_figure(1, 2)
        assert len(axes) == 2
        axes[0].plot([0, 1], [1, 0], color=color_for("fast"))
        path = save_figure(fig, tmp_path / "deep" / "folder" / "plot")
    assert path.suffix == ".png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_figure_closes_pyplot_figures(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = plt.figure()
    assert fig.number in plt.get_fignums()
    save_figure(fig, tmp_path / "p.png")
    assert fig.number not in plt.get_fignums()


def test_importing_plotting_does_not_import_matplotlib():
    code = "import sys, lasandbox.plotting; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
