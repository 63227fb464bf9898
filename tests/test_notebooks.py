"""Notebooks: jupytext percent scripts (no outputs in git), executed top to bottom in their own CI lane.

The convention is enforced here: every notebook is ``notebooks/NN_name.py`` in jupytext's percent
format, paired with an ``.ipynb`` that ``make lab`` creates and git ignores; notebooks use the public
API only and have a ``FULL`` switch. The ``notebooks`` marker runs them (``make test-notebooks``).
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
EXPECTED = ["01_quickstart", "02_lookahead_mechanics", "03_noisy_quadratic", "04_loss_landscape",
            "05_kernels_cpu_vs_gpu", "06_reproduce_paper", "07_lookahead_variants"]


def test_the_seven_notebooks_exist():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_convention(path):
    text = path.read_text()
    assert "formats: ipynb,py:percent" in text, "pair the notebook with jupytext (ipynb,py:percent)"
    assert re.search(r"^FULL = False$", text, re.M), "a FULL = False switch at the top"
    private = re.findall(r"lasandbox[\w.]*\._\w+", text)
    assert not private, f"notebooks use the public API only, found {private}"


def test_no_notebook_outputs_in_git():
    tracked = subprocess.run(["git", "ls-files", "notebooks"], cwd=ROOT, capture_output=True, text=True).stdout
    assert not [f for f in tracked.split() if f.endswith(".ipynb")]


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, monkeypatch):
    # conftest.py turns numba's CUDA simulator on when there is no GPU; the notebooks' kernel should
    # see the machine as it is (a user's session has no simulator).
    monkeypatch.delenv("NUMBA_ENABLE_CUDASIM", raising=False)
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    from notebook_client import SlicedKernelManager  # tests/notebook_client.py: why, there

    notebook = jupytext.read(path)
    start = time.perf_counter()
    # timeout: per cell (the slowest takes ~12 s).
    nbclient.NotebookClient(notebook, timeout=180, kernel_name="python3", kernel_manager_class=SlicedKernelManager,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    print(f"{path.stem}: {time.perf_counter() - start:.1f}s")
