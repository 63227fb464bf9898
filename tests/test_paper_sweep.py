"""The paper's training figures through the sweep machinery (``reproduce --full`` / ``--sweep``).

Checks that a ``paper-run`` sweep trains exactly what the in-process path
trains (bit for bit, also on dask worker processes), that a rerun resumes from
the store instead of training again, that failures stop the figure with the
traceback, and that the options are checked before anything runs.
"""

import math
import os
import sqlite3

import numpy as np
import pytest

from lasandbox.paper import sweep_runs
from lasandbox.paper import training_runs as tr
from lasandbox.paper.registry import FigureContext
from lasandbox.sweep import config_hash, get_task, load_results, plan_runs
from lasandbox.sweep.cli import main as sweep_main

TINY = tr.Protocol(task="digits", hidden=(16,), epochs=2, batch_size=64)
SPECS = {
    "sgd": tr.OptimizerSpec("sgd", "momentum", 0.05),
    "la": tr.OptimizerSpec("la", "momentum", 0.05, alpha=0.5, k=5),
}
QUIET = {"LASANDBOX_PROGRESS": "0"}


@pytest.fixture(autouse=True)
def fresh_run_cache(monkeypatch):
    # Each test must train (or read the store) itself, not find another test's runs in memory.
    monkeypatch.setattr(tr, "_RUN_CACHE", {})
    for name, value in QUIET.items():
        monkeypatch.setenv(name, value)


def _ctx(tmp_path, **options):
    return FigureContext("robustness", tmp_path, quick=True, backend="cpu", **options)


def _recorded(ctx):
    return {name: value for name, value, *_ in ctx.settings}["training runs"]


def _curves(results):
    return {key: [(run.seed, run.train_loss, run.test_loss, run.test_accuracy, run.diverged) for run in runs]
            for key, runs in results.items()}


@pytest.mark.parametrize("spec", [
    tr.OptimizerSpec("anything", "adamw", 3e-4, weight_decay=0.5, alpha=0.8, k=10, polyak_start=0.5),
    tr.OptimizerSpec("integers", "sgd", 1, weight_decay=0, alpha=1, k=2),  # ints where floats are meant
])  # fmt: skip
def test_config_round_trips_and_hashes_as_the_planned_run(spec):
    protocol = tr.Protocol(task="digits", hidden=(32, 16), epochs=3, batch_size=32)
    config = sweep_runs.config_for(spec, protocol, "numpy")
    back, protocol_back, backend = sweep_runs.spec_and_protocol(config)
    assert back == spec.with_(name="run") and protocol_back == protocol and backend == "numpy"
    # The config is a complete, valid point of the task's grid, hashed as the store will hash it:
    # planning it gives exactly one run per seed, under the hash the figures look up.
    runs = plan_runs("paper-run", {name: [value] for name, value in config.items()}, seeds=[0, 3])
    assert [(seed, planned) for _, seed, planned in runs] == [(0, config), (3, config)]
    assert {digest for digest, _, _ in runs} == {config_hash("paper-run", config)}


def test_paper_run_is_a_sweep_task_by_name_and_listed_by_the_cli(capsys):
    assert get_task("paper-run") is sweep_runs.TASK
    assert sweep_main(["tasks"]) == 0
    assert "paper-run:" in capsys.readouterr().out


def test_a_list_of_grids_plans_their_union_without_duplicates():
    one = {"inner": ["sgd"], "lr": [0.1, 0.2]}
    other = {"inner": ["sgd", "adam"], "lr": [0.1]}
    planned = plan_runs("paper-run", [one, other], seeds=1)
    assert sorted((c["inner"], c["lr"]) for _, _, c in planned) == [("adam", 0.1), ("sgd", 0.1), ("sgd", 0.2)]


@pytest.mark.parametrize("grid, message", [
    ({"alpha": [0.5]}, "alpha and k go together"),
    ({"hidden": ["16xa"]}, "hidden"),
    ({"hidden": ["064"]}, "write '064' as '64'"),
    ({"hidden": ["16x0"]}, "widths >= 1"),
    ({"inner": ["lbfgs"]}, "inner"),
    ({"inner": ["sgd"], "momentum": [0.5]}, "no momentum-like argument"),
    ("hidden=64,64", None),  # the comma lists two values: two one-layer configs, not a 64x64 net
])  # fmt: skip
def test_bad_paper_run_grids_fail_before_anything_runs(grid, message):
    if message is None:
        assert [c["hidden"] for _, _, c in plan_runs("paper-run", grid, seeds=1)] == ["64"]
        assert [c["hidden"] for _, _, c in plan_runs("paper-run", "hidden=64x64,32", seeds=1)] == ["64x64", "32"]
        return
    with pytest.raises(ValueError, match=message):
        plan_runs("paper-run", grid, seeds=1)


def test_the_sweep_command_line_runs_a_paper_run_grid(tmp_path, capsys):
    store = tmp_path / "runs.sqlite"
    argv = ["paper-run", "--grid", "task=digits hidden=16x8 epochs=1 inner=sgd lr=0.05 alpha=none,0.5 k=none,5",
            "--workers", "0", "--store", str(store)]
    # alpha=0.5 with k=none (and alpha=none with k=5) do not fit together: rejected before anything runs.
    with pytest.raises(SystemExit):
        sweep_main(argv)
    assert not store.exists()
    argv[2] = "task=digits hidden=16x8 epochs=1 inner=sgd lr=0.05 alpha=0.5 k=5"
    assert sweep_main(argv) == 0
    rows = load_results(store)
    assert len(rows) == 1 and rows[0]["config"]["hidden"] == "16x8"
    assert len(rows[0]["epoch_metrics"]["train_loss"]) == 2


def test_sweep_in_this_process_equals_the_in_process_path_and_resumes_from_the_store(tmp_path):
    direct = tr.run_methods(_ctx(tmp_path / "direct", sweep=False), SPECS, TINY, 2, desc="direct")
    assert not (tmp_path / "direct" / "sweeps").exists()

    tr._RUN_CACHE.clear()
    swept_ctx = _ctx(tmp_path / "swept", sweep=True, workers=0)
    swept = tr.run_methods(swept_ctx, SPECS, TINY, 2, desc="swept")
    assert _curves(swept) == _curves(direct)
    store = tmp_path / "swept" / "sweeps" / sweep_runs.STORE_NAME
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT COUNT(*), SUM(status = 'ok') FROM runs").fetchone() == (4, 4)
    assert "4 trained now in this process, 0 read from the store" in _recorded(swept_ctx)

    # A rerun (a new process would have an empty cache) reads every run back instead of training it.
    tr._RUN_CACHE.clear()
    again_ctx = _ctx(tmp_path / "swept", sweep=True, workers=0)
    again = tr.run_methods(again_ctx, SPECS, TINY, 2, desc="again")
    assert _curves(again) == _curves(direct)
    assert "0 trained now, 4 read from the store" in _recorded(again_ctx)


def test_a_failed_run_stops_the_figure_and_is_retried_by_the_next_run(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise FloatingPointError("the loss exploded on purpose")

    with monkeypatch.context() as patch:
        patch.setattr(sweep_runs, "run_training", broken)
        with pytest.raises(RuntimeError, match="(?s)did not finish.*exploded on purpose.*sweep status --store"):
            tr.run_methods(_ctx(tmp_path, sweep=True, workers=0), SPECS, TINY, 1, desc="broken")
    # Fixed (here: the patch is gone), the same command trains the failed runs again and draws the figure.
    ctx = _ctx(tmp_path, sweep=True, workers=0)
    results = tr.run_methods(ctx, SPECS, TINY, 1, desc="fixed")
    assert all(len(runs[0].train_loss) == TINY.epochs + 1 for runs in results.values())
    assert "2 trained now in this process, 0 read from the store" in _recorded(ctx)


def test_a_diverged_run_comes_back_from_the_store_as_nan_and_diverged(tmp_path):
    wild = {"wild": tr.OptimizerSpec("wild", "momentum", 1e4, momentum=0.99)}
    direct = tr.run_methods(_ctx(tmp_path / "direct", sweep=False), wild, TINY, 1, desc="direct")["wild"][0]
    assert direct.diverged and math.isnan(direct.train_loss[-1])
    tr._RUN_CACHE.clear()
    swept = tr.run_methods(_ctx(tmp_path / "swept", sweep=True, workers=0), wild, TINY, 1, desc="swept")["wild"][0]
    assert swept.diverged
    for metric in ("train_loss", "test_loss", "test_accuracy"):
        np.testing.assert_array_equal(getattr(swept, metric), getattr(direct, metric))  # NaN == NaN here


def test_quick_trains_in_process_and_full_sweeps_unless_told_otherwise(tmp_path):
    assert sweep_runs.sweep_settings(_ctx(tmp_path)) is None
    full = FigureContext("alpha_k", tmp_path, quick=False, backend="cpu")
    assert sweep_runs.sweep_settings(full).store == tmp_path / "sweeps" / sweep_runs.STORE_NAME
    assert sweep_runs.sweep_settings(FigureContext("alpha_k", tmp_path, quick=False, sweep=False)) is None
    settings = sweep_runs.sweep_settings(_ctx(tmp_path, sweep=True, scheduler="tcp://10.0.0.5:8786"))
    assert settings.scheduler == "tcp://10.0.0.5:8786" and settings.workers is None


@pytest.mark.parametrize("options, error, message", [
    ({"workers": 2, "scheduler": "tcp://h:8786"}, ValueError, "not both"),
    ({"workers": -1}, ValueError, "workers"),
    ({"workers": 1.5}, TypeError, "workers"),
    ({"scheduler": " "}, ValueError, "scheduler"),
    ({"sweep": False, "workers": 2}, ValueError, "sweep=False"),
    ({"sweep": "yes"}, TypeError, "sweep"),
])  # fmt: skip
def test_reproduce_rejects_bad_sweep_options_before_any_figure_runs(tmp_path, options, error, message):
    from lasandbox.paper.runner import run_figures

    with pytest.raises(error, match=message):
        run_figures(["robustness"], out_dir=tmp_path, **options)
    assert not (tmp_path / "REPORT.md").exists()


def test_workers_or_scheduler_imply_a_sweep():
    assert sweep_runs.resolve_sweep_options(None, 2, None) == (True, 2, None)
    assert sweep_runs.resolve_sweep_options(None, None, "tcp://h:8786") == (True, None, "tcp://h:8786")
    assert sweep_runs.resolve_sweep_options(None, None, None) == (None, None, None)
    assert sweep_runs.resolve_sweep_options(False, None, None) == (False, None, None)


def test_cli_rejects_workers_with_scheduler_with_usage_status(tmp_path, capsys):
    from lasandbox.paper.runner import main

    with pytest.raises(SystemExit) as exit_info:
        main(["robustness", "--workers", "2", "--scheduler", "tcp://h:8786", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_reproduce_with_a_local_dask_cluster_writes_the_same_figures_as_in_process(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from lasandbox.paper.runner import main

    monkeypatch.setenv("LASANDBOX_TINY", "1")
    assert main(["robustness", "alpha_k", "--out", str(tmp_path / "local")]) == 0
    tr._RUN_CACHE.clear()
    assert main(["robustness", "alpha_k", "--sweep", "--workers", "2", "--out", str(tmp_path / "dask")]) == 0
    for name in ("robustness", "alpha_k"):
        assert (tmp_path / "dask" / f"{name}.csv").read_bytes() == (tmp_path / "local" / f"{name}.csv").read_bytes()
    report = (tmp_path / "dask" / "REPORT.md").read_text()
    assert "trained now on a local dask cluster" in report
    with sqlite3.connect(tmp_path / "dask" / "sweeps" / sweep_runs.STORE_NAME) as conn:
        pids = {int(row[0].rsplit(":", 1)[1]) for row in conn.execute("SELECT worker FROM runs")}
        total, distinct = conn.execute("SELECT COUNT(*), COUNT(DISTINCT config_hash || '/' || seed) "
                                       "FROM runs").fetchone()
    assert total == distinct  # alpha_k reused robustness's shared runs instead of storing them twice
    assert pids and os.getpid() not in pids  # trained in the cluster's worker processes


def test_without_dask_the_sweep_runs_in_this_process_and_says_so(tmp_path, monkeypatch):
    messages = []
    monkeypatch.setattr(sweep_runs, "_dask_installed", lambda: False)
    settings = sweep_runs.SweepSettings(tmp_path / "runs.sqlite")
    runs, summary, where = sweep_runs.sweep_runs([(SPECS["sgd"], 0)], TINY, "cpu", settings, log=messages.append)
    assert summary.ok == 1 and runs[0].seed == 0 and len(runs[0].train_loss) == TINY.epochs + 1
    assert where == "in this process"
    assert any("not installed" in message for message in messages)
    assert not any("dask cluster" in message for message in messages)
    # And the figure's report says the same.
    tr._RUN_CACHE.clear()
    ctx = _ctx(tmp_path / "figure", sweep=True)
    tr.run_methods(ctx, {"sgd": SPECS["sgd"]}, TINY, 1, desc="no dask")
    assert "1 trained now in this process" in _recorded(ctx)
