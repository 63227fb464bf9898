"""Run a sweep: plan the (config, seed) runs, skip the finished ones, execute the rest, store each result.

The client (this process) is the only writer of the store. Runs execute as
dask.distributed tasks: on a ``LocalCluster`` of worker processes started
here (the default), on an existing scheduler (``scheduler="tcp://host:8786"``)
or through a ``distributed.Client`` the caller already holds. ``workers=0``
runs them one after another in this process, without dask.

Failure handling, from the inside out:

* an exception inside a run is caught on the worker and comes back as a
  ``failed`` result with its traceback; the sweep goes on;
* a worker process that dies mid-run (killed, out of memory) is replaced by
  its nanny and the scheduler gives the run to another worker, up to
  ``distributed.scheduler.allowed-failures`` times (3 by default), after which
  the run is stored as failed (``KilledWorker``);
* each result is committed as it arrives, so killing the client loses only
  the runs in flight, and the next identical command resumes from there.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from lasandbox.sweep.grid import config_hash, parse_grid_spec
from lasandbox.sweep.store import SweepStore, utc_now
from lasandbox.sweep.tasks import get_task
from lasandbox.utils.extras import require
from lasandbox.utils.progress import progress
from lasandbox.utils.validation import check_int

# Set in each local worker process: one numba thread per process, so two worker processes on two
# cores do not each start a thread per core and fight over them. (dask already starts its workers
# with OMP/OPENBLAS/MKL_NUM_THREADS=1, the larger effect: spinning BLAS threads doubled a run's CPU time.)
WORKER_ENVIRONMENT = {"NUMBA_NUM_THREADS": "1"}

# The package's autograd keeps global state (the seeded generator, the no-grad switch), so two
# runs must never overlap in one process, whatever --nthreads a worker was started with.
_ONE_RUN_PER_PROCESS = threading.Lock()


@dataclass
class SweepSummary:
    """What ``run_sweep`` did: runs planned, already stored (skipped), finished now (ok / failed)."""

    task: str
    store: str
    planned: int
    skipped: int
    ok: int
    failed: int
    wall_time_s: float
    dashboard: str | None = None

    @property
    def ran(self) -> int:
        return self.ok + self.failed


@functools.lru_cache(maxsize=1)
def provenance() -> tuple:
    """``(package version, git revision)`` of the lasandbox this process imported.

    The revision is the commit hash, ``-dirty`` when tracked files had local
    changes, and None outside a git checkout (an installed wheel).
    """
    from lasandbox import __version__

    source = Path(__file__).resolve().parents[2]

    def git(*args):
        # --no-optional-locks: never take the index lock, which a concurrent `git commit` may need.
        return subprocess.run(["git", "--no-optional-locks", *args], cwd=source, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()

    if not (source / ".git").exists():  # an installed copy: an enclosing repository would be someone else's
        return __version__, None
    try:
        revision = git("rev-parse", "HEAD") or None
        if revision and git("status", "--porcelain", "--untracked-files=no"):
            revision += "-dirty"
    except (OSError, subprocess.SubprocessError):
        revision = None
    return __version__, revision


def execute_run(task, config, seed) -> dict:
    """Run one (config, seed) of ``task`` here (on a dask worker, or in-process) and describe the outcome.

    Never raises for an error of the run itself: the traceback is returned in
    a ``failed`` result, so a bad config cannot stop the sweep.
    """
    import numpy as np

    task = get_task(task)
    with _ONE_RUN_PER_PROCESS:
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            # Diverging configs are results, not errors: keep their overflow warnings out of the worker logs.
            with np.errstate(all="ignore"):
                outcome = task.run(dict(config), seed)
            status, error = "ok", None
        except Exception:
            outcome, status, error = {}, "failed", traceback.format_exc()
        wall_time, cpu_time = time.perf_counter() - start, time.process_time() - cpu_start
    version, revision = provenance()
    return {
        "status": status, "epoch_metrics": outcome.get("epochs"), "final_metrics": outcome.get("final"),
        "error": error, "wall_time_s": wall_time, "cpu_time_s": cpu_time,
        "worker": f"{socket.gethostname()}:{os.getpid()}", "package_version": version, "git_revision": revision,
        "finished_at": utc_now(),
    }


def plan_runs(task, grid=None, seeds=1) -> list:
    """``[(config_hash, seed, config)]`` for every config of ``grid`` and every seed, without duplicates.

    ``grid`` is a dict, a spec string or a list of those (their union); ``seeds`` a count (seeds
    0..N-1) or an iterable of seeds. Raises ``GridError``/``ValueError`` for a grid or seeds that
    cannot run.
    """
    task = get_task(task)
    if isinstance(grid, (list, tuple)):
        grid = [parse_grid_spec(one) if isinstance(one, str) else one for one in grid]
    elif isinstance(grid, str):
        grid = parse_grid_spec(grid)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = range(check_int("seeds", seeds, low=1))
    seeds = [check_int("seed", seed, low=0) for seed in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    runs, seen = [], set()
    for config in task.configs(grid):
        digest = config_hash(task.name, config)
        for seed in seeds:
            if (digest, seed) not in seen:
                seen.add((digest, seed))
                runs.append((digest, seed, config))
    return runs


def start_local_cluster(workers, dashboard_address="127.0.0.1:8787"):
    """A ``LocalCluster`` of ``workers`` single-threaded processes on loopback, and a client to it.

    ``dashboard_address=None`` turns the dashboard off (faster start, as in
    tests); a busy port makes dask pick a free one.
    """
    from distributed import Client, LocalCluster

    # Without a dashboard the scheduler still serves HTTP (health checks): on a free loopback port,
    # instead of trying 8787 and warning when another cluster holds it.
    no_dashboard = {"dashboard": False, "dashboard_address": "127.0.0.1:0"} if dashboard_address is None else {}
    # env= is applied inside each new worker process, before it imports numba (importing lasandbox
    # does not). dask's "pre-spawn" variables would do too, but they are also written into this
    # process's os.environ, and numba refuses a changed NUMBA_NUM_THREADS once its threads run.
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=dashboard_address, scheduler_kwargs=no_dashboard,
                           env=dict(WORKER_ENVIRONMENT), silence_logs=logging.ERROR)
    return cluster, Client(cluster)


def _runs_in_process(task, todo):
    for digest, seed, config in todo:
        yield digest, seed, config, execute_run(task, config, seed)


def _runs_on_dask(client, task, todo, retries):
    from distributed import as_completed

    futures = {}
    for digest, seed, config in todo:
        # The key names the run: the dashboard shows it, and a second client asking for the same
        # run on a shared scheduler shares the computation instead of repeating it.
        future = client.submit(execute_run, task, config, seed, key=f"sweep-{task.name}-{digest}-s{seed}",
                               pure=False, retries=retries)
        futures[future] = (digest, seed, config)
    try:
        # with_results: results are fetched by dask's event loop as runs finish, not by one blocking
        # round trip per run from this thread (that alone cost ~10 ms per run on 2 cores).
        for future, result in as_completed(futures, with_results=True, raise_errors=False):
            digest, seed, config = futures.pop(future)
            if future.status != "finished":  # KilledWorker, a worker without lasandbox, a cancelled run ...
                error = result[1] if isinstance(result, tuple) and len(result) == 3 else None
                text = ("".join(traceback.format_exception(error)) if isinstance(error, BaseException)
                        else f"the run ended with dask status {future.status!r}: {result!r}")
                result = {"status": "failed", "error": text, "finished_at": utc_now()}
            future.release()
            yield digest, seed, config, result
    finally:
        if futures:  # interrupted: do not leave orphaned runs on a shared scheduler
            client.cancel(list(futures))


_DEFAULT_RETRIES = 1
_DEFAULT_DASHBOARD = "127.0.0.1:8787"


def run_sweep(task, grid=None, seeds=1, store=None, *, workers=None, scheduler=None,
              client=None, retry_failed=False, retries=_DEFAULT_RETRIES, show_progress=None,
              dashboard_address=_DEFAULT_DASHBOARD, log=None) -> SweepSummary:
    """Run every (config, seed) of ``grid`` x ``seeds`` for ``task`` that ``store`` does not hold yet.

    ``task``: a registered name (``digits-mlp``, ``mnist1d-mlp``, ``nqm``,
    ``paper-run``, ``debug``) or a ``SweepTask``; ``grid``: a dict
    ``{param: [values]}``, a spec string ``"lr=0.05,0.1 alpha=none,0.5"``, or a
    list of those (the union of their configs); ``seeds``: a count or a list;
    ``store``: a path (default ``sweeps/<task>.sqlite``) or an open ``SweepStore``.
    Where runs execute: ``client`` (an existing ``distributed.Client``), else
    ``scheduler`` (an address), else a local cluster of ``workers`` processes
    (default: one per core, at most one per run); ``workers=0`` runs in this
    process without dask. ``retry_failed`` re-runs stored failures;
    ``retries`` is dask's resubmission count for errors outside the run
    itself (refused with ``workers=0``, where nothing resubmits);
    ``dashboard_address`` that of the local cluster this call starts (None:
    none; refused where no such cluster starts). ``log`` (default: print to stderr) receives one-line messages.
    """
    task = get_task(task)
    runs = plan_runs(task, grid, seeds)
    if workers is not None:
        workers = check_int("workers", workers, low=0)
    retries = check_int("retries", retries, low=0)
    given = [name for name, value in (("client", client), ("scheduler", scheduler), ("workers", workers))
             if value is not None]
    if len(given) > 1:
        raise ValueError(f"give at most one of client, scheduler and workers, got {' and '.join(given)}")
    in_process = client is None and workers == 0
    if in_process and retries != _DEFAULT_RETRIES:  # accepted and ignored before: nothing resubmits in-process
        raise ValueError(f"retries={retries} counts dask resubmissions, and workers=0 runs in this process without "
                         "dask: a run that fails is stored as failed (retry_failed=True / --retry-failed runs it "
                         "again); leave retries out")
    if (in_process or client is not None or scheduler is not None) and dashboard_address != _DEFAULT_DASHBOARD:
        where = "workers=0 runs without dask" if in_process else "an existing cluster has its own dashboard"
        raise ValueError(f"dashboard_address={dashboard_address!r} places the dashboard of a local cluster this call "
                         f"starts, and {where}; leave it out")
    if client is None and workers != 0:
        require("distributed", "a sweep on dask workers", hint="or run it in this process with workers=0, "
                "--workers 0 on the command line")
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    start = time.perf_counter()
    store = Path("sweeps") / f"{task.name}.sqlite" if store is None else store
    opened = store if isinstance(store, SweepStore) else SweepStore(store)
    owned_client = cluster = results = None
    ok = failed = 0
    dashboard = None
    try:
        opened.plan(task.name, runs)
        done = opened.finished(include_failed=not retry_failed)
        todo = [run for run in runs if (run[0], run[1]) not in done]
        configs, seed_count = len({run[0] for run in runs}), len({run[1] for run in runs})
        log(f"sweep {task.name}: {len(runs)} runs ({configs} configs x {seed_count} seeds), "
            f"{len(runs) - len(todo)} already stored, {len(todo)} to run; store {opened.path}")
        if not todo:
            return SweepSummary(task.name, opened.path, len(runs), len(runs), 0, 0, time.perf_counter() - start)
        if task.prepare is not None:
            task.prepare([config for _, _, config in todo])
        if client is None and workers != 0:
            if scheduler is not None:
                from distributed import Client

                client = owned_client = Client(scheduler)
                dashboard = client.dashboard_link
                log(f"connected to scheduler {scheduler} ({len(client.scheduler_info()['workers'])} workers); "
                    f"dashboard {dashboard}")
            else:
                count = min(workers or os.cpu_count() or 1, len(todo))
                cluster, client = start_local_cluster(count, dashboard_address)
                owned_client = client
                dashboard = client.dashboard_link if dashboard_address else None
                log(f"started a local dask cluster: {count} worker processes x 1 thread"
                    + (f"; dashboard {dashboard}" if dashboard else ""))
        results = (_runs_in_process(task, todo) if client is None else
                   _runs_on_dask(client, task, todo, retries))
        with progress(total=len(todo), desc=f"sweep {task.name}", enabled=show_progress) as bar:
            for digest, seed, config, result in results:
                opened.record({**result, "task": task.name, "config_hash": digest, "seed": seed, "config": config})
                ok += result["status"] == "ok"
                failed += result["status"] == "failed"
                bar.update(1, postfix=f"ok {ok} failed {failed}")
        return SweepSummary(task.name, opened.path, len(runs), len(runs) - len(todo), ok, failed,
                            time.perf_counter() - start, dashboard)
    finally:
        if results is not None:
            results.close()  # cancels the runs still queued, while the client is still open
        if owned_client is not None:
            owned_client.close()
        if cluster is not None:
            cluster.close()
        if not isinstance(store, SweepStore):
            opened.close()
