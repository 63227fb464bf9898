"""Hyperparameter sweeps on dask.distributed, with results in an embedded SQLite store.

Command line (``lasandbox sweep --help``)::

    lasandbox sweep digits-mlp --grid "alpha=none,0.5,0.8 k=5,10 lr=0.05,0.1" --seeds 3
    lasandbox sweep status --store sweeps/digits-mlp.sqlite
    lasandbox sweep plot --store sweeps/digits-mlp.sqlite --x lr --y alpha --metric final_loss

Python::

    from lasandbox.sweep import run_sweep, load_results, plot_sweep
    summary = run_sweep("digits-mlp", {"lr": [0.05, 0.1], "alpha": [None, 0.5]}, seeds=3,
                        store="sweeps/digits.sqlite", workers=2)      # or scheduler="tcp://host:8786"
    rows = load_results("sweeps/digits.sqlite")                        # one dict per finished run
    rows[0]["config"]["lr"], rows[0]["seed"], rows[0]["final_metrics"]["final_loss"]
    plot_sweep("sweeps/digits.sqlite", x="lr", y="alpha", metric="final_loss")

* ``run_sweep(task, grid, seeds, store, *, workers=None, scheduler=None, client=None,
  retry_failed=False)`` runs every (config, seed) the store does not hold yet and
  returns a ``SweepSummary`` (planned, skipped, ok, failed, wall time). Where the
  runs execute: a local cluster of ``workers`` single-threaded processes (default:
  one per core), an existing scheduler, a ``distributed.Client`` you hold, or
  ``workers=0``: this process, without dask.
* ``load_results(store, task=None, status="ok")``: the ``runs`` table as dicts,
  JSON columns parsed (``config``, ``epoch_metrics``, ``final_metrics``).
* ``plan_runs(task, grid, seeds)``: the ``(config_hash, seed, config)`` list a
  sweep would run, after checking the grid (``GridError`` otherwise). A grid
  may be a list of grids: the union of their configs.
* ``register_task(SweepTask(name, description, params, run))`` adds a task:
  ``run(config, seed)`` returns ``{"epochs": {metric: [...]}, "final": {metric: x}}``.

What a config means for each built-in task (``digits-mlp``, ``mnist1d-mlp``,
``nqm``, ``debug``) is in :mod:`lasandbox.sweep.tasks`, for ``paper-run`` (one
run of the paper's training figures, used by ``reproduce --full``) in
:mod:`lasandbox.paper.sweep_runs`; the store's tables in
:mod:`lasandbox.sweep.store`; the grid syntax in :mod:`lasandbox.sweep.grid`.

Guarantees: a run is identified by ``(config_hash, seed)``, the hash covering the
task and every parameter (defaults included); re-running a sweep skips stored
runs; each result is committed on arrival, so killing the client loses only
the runs in flight; a worker that dies mid-run has its run rescheduled; a run
that raises is stored as failed with its traceback and the sweep goes on.

Importing this package does not import dask; a sweep does (``pip install
'lasandbox[sweep]'``), except with ``workers=0``.
"""

from lasandbox.sweep.grid import GridError, Param, config_hash, expand_grid, load_grid_file, parse_grid_spec
from lasandbox.sweep.plot import plot_sweep
from lasandbox.sweep.runner import SweepSummary, execute_run, plan_runs, run_sweep, start_local_cluster
from lasandbox.sweep.store import CorruptStoreError, SweepStore, load_results
from lasandbox.sweep.tasks import TASKS, SweepTask, get_task, register_task

__all__ = [
    "CorruptStoreError",
    "GridError",
    "Param",
    "SweepStore",
    "SweepSummary",
    "SweepTask",
    "TASKS",
    "config_hash",
    "execute_run",
    "expand_grid",
    "get_task",
    "load_grid_file",
    "load_results",
    "parse_grid_spec",
    "plan_runs",
    "plot_sweep",
    "register_task",
    "run_sweep",
    "start_local_cluster",
]
