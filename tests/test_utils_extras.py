"""A command that needs an optional extra says which one in one line and exits 2 (checked in subprocesses).

Each subprocess hides the module (``sys.modules[name] = None``, which makes ``import name`` fail as if
it were not installed); CI's core-only step (``.ci/run``) runs the same commands where it really is not.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lasandbox.utils.extras import EXTRAS, MissingExtraError, require

ROOT = Path(__file__).parents[1]

RUN_HIDDEN = """
import runpy, sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
target, sys.argv = sys.argv[2], sys.argv[2:]
if target.endswith(".py"):
    runpy.run_path(target, run_name="__main__")
else:
    from lasandbox.cli import main
    sys.exit(main(sys.argv[1:]))
"""


def run_without(modules, *command, cwd=ROOT):
    return subprocess.run([sys.executable, "-c", RUN_HIDDEN, ",".join(modules), *command], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def assert_one_line_naming(out, extra):
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert f"pip install 'lasandbox[{extra}]'" in lines[0]


@pytest.mark.parametrize("where", [["--workers", "2"], [], ["--scheduler", "tcp://127.0.0.1:1"]],
                         ids=["workers-2", "default", "scheduler"])
def test_a_dask_sweep_without_dask_names_the_sweep_extra(tmp_path, where):
    store = tmp_path / "s.sqlite"
    out = run_without(["distributed"], "lasandbox", "sweep", "debug", "--grid", "seconds=0", "--store", str(store),
                      *where)
    assert_one_line_naming(out, "sweep")
    assert "--workers 0" in out.stderr
    assert not store.exists()  # said before anything was opened


def test_an_in_process_sweep_needs_no_dask(tmp_path):
    out = run_without(["distributed"], "lasandbox", "sweep", "debug", "--grid", "seconds=0", "--workers", "0",
                      "--store", str(tmp_path / "s.sqlite"))
    assert out.returncode == 0, out.stderr


def test_the_training_step_benchmark_without_torch_names_the_bench_extra():
    assert_one_line_naming(run_without(["torch"], "benchmarks/train_step.py", "--steps", "1"), "bench")


def test_the_sweep_scaling_benchmark_without_dask_names_the_sweep_extra():
    out = run_without(["distributed", "dask"], "benchmarks/sweep_scaling.py", "--skip-scaling")
    assert_one_line_naming(out, "sweep")


@pytest.mark.parametrize("notebook", ["04_loss_landscape", "05_kernels_cpu_vs_gpu", "06_reproduce_paper"])
def test_a_notebook_run_as_a_script_without_ipython_names_the_notebooks_extra(notebook):
    out = run_without(["IPython"], str(ROOT / "notebooks" / f"{notebook}.py"), cwd=ROOT / "notebooks")
    assert_one_line_naming(out, "notebooks")


def test_require_names_the_extra_and_checks_its_argument():
    with pytest.raises(MissingExtraError, match=r"the thing needs torch.*lasandbox\[bench\]"):
        sys.modules["torch"], saved = None, sys.modules.get("torch")
        try:
            require("torch", "the thing")
        finally:
            if saved is None:
                del sys.modules["torch"]
            else:
                sys.modules["torch"] = saved
    with pytest.raises(ValueError, match="module must be one of"):
        require("numpy", "x")
    assert set(EXTRAS.values()) <= {"sweep", "bench", "notebooks", "dev"}
