"""The paper's training figures as a sweep: one ``paper-run`` task per (method, protocol, seed).

``robustness``, ``alpha_k`` and ``optimizers`` each train a list of methods
over seeds. ``run_methods`` runs that list either in this process (``--quick``,
the default there) or through :mod:`lasandbox.sweep` (``--full``, or
``reproduce --sweep``): every run becomes a (config, seed) of the ``paper-run``
task, executed on a dask cluster (local processes by default, or
``--scheduler``) and stored in ``OUT/sweeps/paper-runs.sqlite``. Re-running the
same command resumes from the store, and the three figures share it: a run
stored by one is not trained again by another. A stored run is reused as long
as its config matches, so delete the store after changing the training code
(each row records the package version and git revision it was trained with).

The config of a run is an :class:`~lasandbox.paper.training_runs.OptimizerSpec`
(its ``name`` left out: a label, not a setting) plus the
:class:`~lasandbox.paper.training_runs.Protocol` and the kernel backend, so
``lasandbox sweep paper-run --grid "inner=adam lr=0.001,0.003 alpha=none,0.5 k=5"``
runs the same training outside a figure.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from lasandbox.backends import KERNEL_BACKENDS
from lasandbox.models import registry as model_registry
from lasandbox.optimizer import registry
from lasandbox.paper.training_runs import (
    TASKS,
    OptimizerSpec,
    Protocol,
    RunResult,
    inner_optimizers,
    load_task,
    run_training,
    single_threaded_blas,
)
from lasandbox.sweep.grid import GridError, Param, config_hash
from lasandbox.sweep.tasks import SweepTask, finite_or_none, register_task
from lasandbox.utils.validation import check_int

TASK_NAME = "paper-run"
STORE_NAME = "paper-runs.sqlite"
METRICS = ("train_loss", "test_loss", "test_accuracy")
_DEFAULT = Protocol()

PARAMS = (
    Param("inner", "choice", "momentum", "inner optimizer (lasandbox.optimizer.registry)",
          choices=inner_optimizers()),
    Param("lr", "float", 0.1, "base learning rate of the step-decay schedule", low=0.0, low_open=True),
    Param("momentum", "float", None, "the optimizer's momentum-like argument (heavy ball, or beta1); none = its "
          "default", low=0.0, high=1.0, high_open=True, optional=True),
    Param("weight_decay", "float", None, "the optimizer's weight decay (none = its default, e.g. adamw's 0.01)",
          low=0.0, optional=True),
    Param("alpha", "float", None, "Lookahead slow step size; none = the inner optimizer alone", low=0.0,
          high=1.0, optional=True),
    Param("k", "int", None, "Lookahead inner steps per sync (with alpha)", low=1, optional=True),
    Param("polyak_start", "float", None, "report the iterate average from this fraction of training", low=0.0,
          high=1.0, high_open=True, optional=True),
    Param("task", "choice", _DEFAULT.task, "data set", choices=TASKS),
    Param("model", "choice", _DEFAULT.model, "network (lasandbox.models.registry): mlp, or cnn = the 1-D CNN on "
          "mnist1d / the small ResNet on digits", choices=model_registry.names()),
    # "64x64", not "64,64": a comma separates a grid's values on the command line.
    Param("hidden", "str", None, "widths: the MLP's hidden layers, e.g. 64x64, or the CNN's channels, e.g. 32; "
          "none = the model's default (mlp 64x64, cnn 32 on mnist1d / 16 on digits); none and the default "
          "spelled out are stored as two configs", optional=True),
    Param("epochs", "int", _DEFAULT.epochs, "passes over the training set", low=1),
    Param("batch_size", "int", _DEFAULT.batch_size, "mini-batch size", low=1),
    Param("backend", "choice", "cpu", "kernel backend", choices=KERNEL_BACKENDS),
)
_SPEC_FIELDS = tuple(f.name for f in fields(OptimizerSpec) if f.name != "name")


def config_for(spec: OptimizerSpec, protocol: Protocol, backend: str) -> dict:
    """The ``paper-run`` config of one training run (every parameter, defaults included).

    Each value goes through its parameter's coercion, as a grid's values do,
    so that ``lr=1`` and ``lr=1.0`` are one config with one hash.
    """
    config = {name: getattr(spec, name) for name in _SPEC_FIELDS}
    hidden = None if protocol.hidden is None else _format_hidden(protocol.hidden)
    config.update(task=protocol.task, model=protocol.model, hidden=hidden, epochs=protocol.epochs,
                  batch_size=protocol.batch_size, backend=backend)
    return {param.name: param.coerce(config[param.name]) for param in PARAMS}


def spec_and_protocol(config: dict) -> tuple[OptimizerSpec, Protocol, str]:
    """The inverse of :func:`config_for` (the spec's name set to ``"run"``)."""
    spec = OptimizerSpec("run", **{name: config[name] for name in _SPEC_FIELDS})
    hidden = None if config["hidden"] is None else _parse_hidden(config["hidden"])
    protocol = Protocol(task=config["task"], model=config["model"], hidden=hidden, epochs=config["epochs"],
                        batch_size=config["batch_size"])
    return spec, protocol, config["backend"]


def _format_hidden(widths) -> str:
    return "x".join(str(int(width)) for width in widths)


def _parse_hidden(text: str) -> tuple:
    try:
        widths = tuple(int(part) for part in text.split("x"))
    except ValueError:
        raise GridError(f"parameter 'hidden': {text!r} is not a list of widths such as 64x64") from None
    if min(widths) < 1:
        raise GridError(f"parameter 'hidden': {text!r} needs widths >= 1")
    if _format_hidden(widths) != text:  # one spelling per architecture, or the same run gets two hashes
        raise GridError(f"parameter 'hidden': write {text!r} as {_format_hidden(widths)!r}")
    return widths


def _check_config(config):
    if (config["alpha"] is None) != (config["k"] is None):
        raise GridError("alpha and k go together: give both (Lookahead) or neither (alpha=none k=none)")
    if config["hidden"] is not None:
        try:
            model_registry.check_widths(config["model"], _parse_hidden(config["hidden"]))
        except ValueError as err:
            raise GridError(f"parameter 'hidden' with model={config['model']}: {err}") from None
    try:
        registry.check_knobs(config["inner"], config["momentum"])
    except ValueError as err:
        raise GridError(str(err)) from None


def _run_config(config, seed):
    spec, protocol, backend = spec_and_protocol(config)
    with single_threaded_blas():
        result = run_training(load_task(protocol.task), spec, model=protocol.model, hidden=protocol.hidden,
                              epochs=protocol.epochs, batch_size=protocol.batch_size, seed=seed, backend=backend)
    curves = {metric: [finite_or_none(x) for x in getattr(result, metric)] for metric in METRICS}
    final = {f"final_{metric}": curves[metric][-1] for metric in METRICS}
    final["final_loss"] = final["final_train_loss"]  # the name the other sweep tasks (and plots) use
    final["diverged"] = result.diverged
    return {"epochs": curves, "final": final}


def _prepare(configs):
    for task in {config["task"] for config in configs}:
        # Generate (and cache on disk) the data once, before local workers race for it; workers on
        # other machines generate their own copy on first use.
        load_task(task)


TASK = register_task(SweepTask(
    name=TASK_NAME,
    description="one training run of the paper's stand-ins, MLP or CNN (reproduce robustness / alpha_k / "
                "optimizers)",
    params=PARAMS,
    run=_run_config,
    prepare=_prepare,
    check=_check_config,
))  # fmt: skip


def result_from_row(row: dict, spec: OptimizerSpec) -> RunResult:
    """A stored ``paper-run`` row as the ``RunResult`` the figures read (null = NaN: a diverged epoch)."""
    curves = {metric: [math.nan if x is None else float(x) for x in row["epoch_metrics"][metric]]
              for metric in METRICS}
    return RunResult(spec, row["seed"], diverged=bool(row["final_metrics"]["diverged"]), **curves)


@dataclass(frozen=True)
class SweepSettings:
    """Where ``run_methods`` sends its runs: a store, and local ``workers`` or a ``scheduler`` (see run_sweep)."""

    store: Path
    workers: int | None = None
    scheduler: str | None = None


def resolve_sweep_options(sweep, workers, scheduler):
    """Check ``reproduce``'s sweep options; return ``sweep`` with ``workers``/``scheduler`` implying True.

    Raises ``ValueError``/``TypeError`` naming the option, before anything runs.
    """
    if sweep is not None and not isinstance(sweep, bool):
        raise TypeError(f"sweep must be True, False or None, got {type(sweep).__name__}")
    if workers is not None:
        workers = check_int("workers", workers, low=0)
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ValueError(f"scheduler must be a dask scheduler address such as 'tcp://host:8786', got {scheduler!r}")
    if workers is not None and scheduler is not None:
        raise ValueError("give workers (a local cluster) or scheduler (an existing one), not both")
    if workers is not None or scheduler is not None:
        if sweep is False:
            raise ValueError("workers/scheduler place the runs of a sweep: they cannot go with sweep=False")
        sweep = True
    return sweep, workers, scheduler


def sweep_settings(ctx) -> SweepSettings | None:
    """The sweep a figure context asks for, or None to train in this process.

    ``ctx.sweep`` True/False forces it; None (the default) means: sweep at
    full size, in-process at ``--quick`` (a local cluster's start-up would
    cost more than the few quick runs).
    """
    use = getattr(ctx, "sweep", None)
    if use is None:
        use = not ctx.quick
    if not use:
        return None
    return SweepSettings(Path(ctx.out_dir) / "sweeps" / STORE_NAME, getattr(ctx, "workers", None),
                         getattr(ctx, "scheduler", None))


def sweep_runs(jobs, protocol: Protocol, backend: str, settings: SweepSettings, log=None):
    """Run ``jobs`` (``[(spec, seed)]``) as one sweep; return their results, in order, and the sweep's summary.

    The sweep covers every config of ``jobs`` with every seed of ``jobs`` (the
    figures ask for exactly that product). Runs already in the store are not
    trained again; runs stored as failed are (a figure needs every run, and
    the cause may have been fixed or passing). A run that fails again raises
    ``RuntimeError`` with its traceback and the command that lists the
    others: a figure cannot be drawn with holes in it. The third value
    returned says where the runs trained ("in this process", ...).
    """
    from lasandbox.sweep import load_results, run_sweep

    configs = [config_for(spec, protocol, backend) for spec, _ in jobs]
    grid = [{name: [value] for name, value in config.items()} for config in configs]
    seeds = sorted({seed for _, seed in jobs})
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))  # as run_sweep logs
    workers, scheduler = settings.workers, settings.scheduler
    if workers is None and scheduler is None and not _dask_installed():
        workers = 0
        log("dask.distributed is not installed (pip install 'lasandbox[sweep]'): running the sweep in this process")
    where = (f"on the dask scheduler {scheduler}" if scheduler else
             "in this process" if workers == 0 else "on a local dask cluster")
    settings.store.parent.mkdir(parents=True, exist_ok=True)
    summary = run_sweep(TASK, grid, seeds, settings.store, workers=workers, scheduler=scheduler, log=log,
                        retry_failed=True)
    stored = {(row["config_hash"], row["seed"]): row
              for row in load_results(settings.store, task=TASK_NAME, status=None)}
    results = []
    for (spec, seed), config in zip(jobs, configs, strict=True):
        row = stored.get((config_hash(TASK_NAME, config), seed))
        if row is None or row["status"] != "ok":
            error = "not in the store" if row is None else row.get("error") or "failed"
            raise RuntimeError(f"paper run {spec.name!r} (seed {seed}) did not finish: {error}\n"
                               f"see: lasandbox sweep status --store {settings.store}")
        results.append(result_from_row(row, spec))
    return results, summary, where


def _dask_installed() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True
