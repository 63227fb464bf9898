"""Figure ``landscape`` (paper Fig. 1 stand-in) through ``lasandbox reproduce landscape --quick`` at tiny size.

Checked: the files and csv columns it promises, finite values, the geometry
(defining points on their planes, phi_1 at fraction alpha on theta_0 -
theta_k), the grid's shape, and the report. The accuracy comparison between
the continuations is measured, not asserted: PAPER.md 5.5 says it is not
guaranteed on digits.
"""

import math

import numpy as np
import pytest
from paper_runs import reproduce_tiny  # tests/paper_runs.py, beside this file

from lasandbox.paper import fig_landscape
from lasandbox.paper.tables import read_tidy_csv


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """Run ``lasandbox reproduce landscape --quick`` once in tiny mode; yield the output folder."""
    return reproduce_tiny(tmp_path_factory.mktemp("landscape"), "landscape", "--quick")


@pytest.fixture(scope="module")
def rows(reproduced):
    return read_tidy_csv(reproduced / "landscape.csv")


def test_png_and_csv_with_the_promised_columns_and_finite_values(reproduced, rows):
    assert (reproduced / "landscape.png").stat().st_size > 10_000
    assert rows and list(rows[0]) == fig_landscape.COLUMNS
    numeric = [r[c] for r in rows for c in fig_landscape.COLUMNS if isinstance(r.get(c), float)]
    assert numeric and all(math.isfinite(v) for v in numeric)
    assert {r["panel"] for r in rows} == set(fig_landscape.PANELS)
    assert {r["kind"] for r in rows} == {"grid", "fast", "slow", "sgd"}
    for r in rows:
        assert 0.0 <= r["accuracy"] <= 1.0 and r["loss"] > 0


def test_each_panel_has_a_full_grid(rows):
    for panel in fig_landscape.PANELS:
        cells = [(int(r["i"]), int(r["j"])) for r in rows if r["panel"] == panel and r["kind"] == "grid"]
        n = int(round(math.sqrt(len(cells))))
        assert n >= 2 and sorted(cells) == [(i, j) for i in range(n) for j in range(n)]


def test_the_three_defining_points_lie_on_their_plane(rows):
    for panel in fig_landscape.PANELS:
        defining = [r for r in rows if r["panel"] == panel and r["defining"] == "true"]
        assert len(defining) == 3
        assert all(r["distance"] < 1e-5 and r["relative_distance"] < 1e-9 for r in defining)
        # The origin of the plane is the first of them.
        assert min(abs(r["a"]) + abs(r["b"]) for r in defining) < 1e-9


def test_phi_1_sits_at_fraction_alpha_on_theta_0_to_theta_k(rows):
    phi_1 = next(r for r in rows if r["panel"] == "main" and r["kind"] == "slow" and r["step"] == fig_landscape.K)
    assert phi_1["fraction"] == pytest.approx(fig_landscape.ALPHA, abs=1e-5)
    # theta_0 -> theta_k lies in the main plane, so phi_1 must too.
    assert phi_1["relative_distance"] < 1e-5
    theta_k = next(r for r in rows if r["panel"] == "main" and r["kind"] == "fast" and r["step"] == fig_landscape.K)
    end = np.array([theta_k["a"], theta_k["b"]])
    assert np.array([phi_1["a"], phi_1["b"]]) @ end / (end @ end) == pytest.approx(fig_landscape.ALPHA, abs=1e-5)


def test_the_continuations_start_where_the_first_loop_ended(rows):
    k = fig_landscape.K
    sgd = sorted((r for r in rows if r["panel"] == "sgd_continued"), key=lambda r: r.get("step") or 0)
    assert [int(r["step"]) for r in sgd if r["kind"] == "sgd"] == list(range(k, 2 * k + 1))
    slow = [r for r in rows if r["panel"] == "lookahead_continued" and r["kind"] == "slow"]
    assert sorted(int(r["step"]) for r in slow) == [k, 2 * k]
    # theta_k ends the main panel's loop and starts "SGD continued": the same weights, the same accuracy.
    end = next(r for r in rows if r["panel"] == "main" and r["kind"] == "fast" and r["step"] == k)
    start = next(r for r in rows if r["panel"] == "sgd_continued" and r["kind"] == "sgd" and r["step"] == k)
    assert (end["accuracy"], end["loss"]) == (start["accuracy"], start["loss"])


def test_segment_fraction():
    fraction, off = fig_landscape.segment_fraction([0.0, 0.0], [2.0, 0.0], [0.5, 1.0])
    assert fraction == pytest.approx(0.25) and off == pytest.approx(0.5)


def test_report_lists_the_figure_with_its_claims(reproduced):
    report = (reproduced / "REPORT.md").read_text()
    assert '<a id="landscape"></a>' in report and "**failed**" not in report
    assert "landscape.png" in report and "UNVERIFIED" in report
    assert "not guaranteed on digits" in report
