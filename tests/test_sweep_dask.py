"""Sweeps on a real dask.distributed cluster: retries after a killed worker, failures, a killed client.

One local cluster (2 single-threaded worker processes, loopback, no
dashboard) is shared by the module, because starting one costs seconds.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from lasandbox.sweep import load_results, plan_runs, run_sweep, start_local_cluster  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
QUIET = {"show_progress": False, "log": lambda message: None}


@pytest.fixture(scope="module")
def client():
    numba_threads_here = os.environ.get("NUMBA_NUM_THREADS")
    cluster, client = start_local_cluster(2, dashboard_address=None)
    # The workers' thread setting must not leak into this process (numba may already run threads here).
    assert os.environ.get("NUMBA_NUM_THREADS") == numba_threads_here
    yield client
    client.close()
    cluster.close()


def _numba_threads():
    import numba

    return numba.config.NUMBA_NUM_THREADS


def _rows_in(store):
    if not Path(store).exists():
        return 0
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:  # the client has not created the table yet
        return 0
    finally:
        conn.close()


def _unique_counts(store):
    conn = sqlite3.connect(store)
    try:
        return conn.execute("SELECT COUNT(*), COUNT(DISTINCT config_hash || '/' || seed) FROM runs").fetchone()
    finally:
        conn.close()


def test_workers_run_single_threaded(client):
    assert list(client.run(_numba_threads).values()) == [1, 1]
    assert list(client.run(lambda: os.environ.get("OPENBLAS_NUM_THREADS")).values()) == ["1", "1"]


def test_dask_results_match_in_process_results_and_failures_do_not_stop_the_sweep(client, tmp_path):
    grid = {"x": [0.0, 1.0, 2.0], "y": [1.0], "fail": ["false", "true"]}
    summary = run_sweep("debug", grid, seeds=2, store=tmp_path / "dask.sqlite", client=client, **QUIET)
    assert (summary.ok, summary.failed) == (6, 6)
    run_sweep("debug", grid, seeds=2, store=tmp_path / "local.sqlite", workers=0, **QUIET)

    def by_key(path):
        return {(r["config_hash"], r["seed"]): (r["status"], r["final_metrics"]) for r in
                load_results(path, status=None)}

    assert by_key(tmp_path / "dask.sqlite") == by_key(tmp_path / "local.sqlite")
    failed = load_results(tmp_path / "dask.sqlite", status="failed")
    assert all("RuntimeError: debug task asked to fail" in row["error"] for row in failed)
    assert {row["worker"].rsplit(":", 1)[1] for row in load_results(tmp_path / "dask.sqlite")} != {str(os.getpid())}


def test_a_task_defined_in_the_callers_code_runs_on_the_workers(client, tmp_path):
    from lasandbox.sweep import Param, SweepTask

    def run(config, seed):  # a local function: dask ships it by value, no module to import on the worker
        return {"epochs": {}, "final": {"final_loss": config["scale"] * (seed + 1)}}

    task = SweepTask("scaled-seed", "a notebook-style task", (Param("scale", "float", 1.0, "factor"),), run)
    summary = run_sweep(task, {"scale": [2.0, 3.0]}, seeds=2, store=tmp_path / "s.sqlite", client=client, **QUIET)
    assert (summary.ok, summary.failed) == (4, 0)
    assert sorted(r["final_metrics"]["final_loss"] for r in load_results(tmp_path / "s.sqlite")) == [2, 3, 4, 6]


def test_a_killed_worker_has_its_run_retried(client, tmp_path):
    marker = tmp_path / "killed-once"
    grid = {"x": [1.0, 2.0, 3.0], "seconds": [0.2], "crash_marker": ["", str(marker)]}
    summary = run_sweep("debug", grid, store=tmp_path / "s.sqlite", client=client, **QUIET)
    assert marker.exists(), "the run meant to kill its worker never started"
    assert (summary.ok, summary.failed) == (6, 0)
    killed_pid = marker.read_text().split()[-1]
    crashed_rows = [r for r in load_results(tmp_path / "s.sqlite") if r["config"]["crash_marker"]]
    assert killed_pid not in {row["worker"].rsplit(":", 1)[1] for row in crashed_rows}
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker for the next tests


def test_a_sigkilled_client_loses_only_runs_in_flight_and_the_rerun_completes(client, tmp_path):
    store = tmp_path / "s.sqlite"
    argv = [sys.executable, "-m", "lasandbox.sweep.cli", "debug", "--grid", "seconds=0.4 x=1,2", "--seeds", "8",
            "--store", str(store), "--scheduler", client.scheduler.address]
    env = {**os.environ, "LASANDBOX_PROGRESS": "0"}
    process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while _rows_in(store) < 3 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, process.stdout.read().decode()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    stored_before = _rows_in(store)
    assert 3 <= stored_before < 16
    summary = run_sweep("debug", "seconds=0.4 x=1,2", seeds=8, store=store, client=client, **QUIET)
    assert summary.skipped == stored_before and summary.ok == 16 - stored_before
    assert _unique_counts(store) == (16, 16)
    expected = {(digest, seed) for digest, seed, _ in plan_runs("debug", "seconds=0.4 x=1,2", seeds=8)}
    assert {(row["config_hash"], row["seed"]) for row in load_results(store)} == expected


@pytest.mark.slow
def test_default_embedded_cluster_sigkilled_leaves_no_workers_and_resumes(tmp_path):
    import psutil

    store = tmp_path / "s.sqlite"
    argv = [sys.executable, "-m", "lasandbox.sweep.cli", "debug", "--grid", "seconds=0.5", "--seeds", "10",
            "--workers", "2", "--dashboard", "none", "--store", str(store)]
    process = subprocess.Popen(argv, cwd=REPO, env={**os.environ, "LASANDBOX_PROGRESS": "0"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _rows_in(store) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    children = psutil.Process(process.pid).children(recursive=True)
    assert process.poll() is None and children
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, f"worker processes outlived the killed client: {alive}"
    stored_before = _rows_in(store)
    summary = run_sweep("debug", "seconds=0.5", seeds=10, store=store, workers=0, **QUIET)
    assert summary.skipped == stored_before < 10
    assert _unique_counts(store) == (10, 10)


@pytest.mark.slow
def test_a_run_that_keeps_killing_workers_is_stored_as_failed(tmp_path):
    import dask

    # allowed-failures=0: the first death gives up on the run (KilledWorker) instead of rescheduling it.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster, client = start_local_cluster(2, dashboard_address=None)
    try:
        grid = {"x": [1.0, 2.0], "crash_marker": ["", str(tmp_path / "marker")]}
        summary = run_sweep("debug", grid, store=tmp_path / "s.sqlite", client=client, **QUIET)
    finally:
        client.close()
        cluster.close()
    assert (summary.ok, summary.failed) == (2, 2) or (summary.ok, summary.failed) == (3, 1)
    failed = load_results(tmp_path / "s.sqlite", status="failed")
    assert failed and all("KilledWorker" in row["error"] for row in failed)
