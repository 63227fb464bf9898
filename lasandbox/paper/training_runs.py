"""Training runs shared by the paper's deep-net stand-ins (Figs 5, 8, 9, 10 / Tables 1, 5).

One ``OptimizerSpec`` names a method (an inner optimizer, optionally wrapped in
Lookahead or followed by Polyak averaging); ``run_training`` trains a fresh
model (``lasandbox.models.registry``: an MLP, or with ``model="cnn"`` the 1-D
CNN on MNIST-1D / the small ResNet on digits) with it under a step-decay
schedule and records, per epoch, the full-pass train loss and the test
metrics *of the weights the method returns*: the slow weights for Lookahead,
the running average for Polyak averaging. Those weights never trained
themselves, so a model with batch norm gets their own running statistics
first (one pass over the training set, SWA's ``update_bn``), and the fast
statistics come back after; every evaluation is in eval mode.

Everything here is deterministic given the seed: the seed fixes the model's
initialisation (``lasandbox.seed``) and the mini-batch order, so two methods
run with the same seed start from the same weights and see the same batches.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from dataclasses import dataclass, field, replace

import numpy as np

import lasandbox
from lasandbox import optimizer as optim
from lasandbox.datasets import load_digits, load_mnist1d
from lasandbox.incubate import LookAhead
from lasandbox.models import registry as model_registry
from lasandbox.nn import bn_stats
from lasandbox.training import evaluate, train_epoch
from lasandbox.utils.validation import check_choice, check_int, check_real


def inner_optimizers() -> tuple:
    """The optimizers a run may use: every name of ``lasandbox.optimizer.registry``."""
    return optim.registry.names()

TASKS = ("digits", "mnist1d")
# The paper's CIFAR schedule: lr x0.2 at epochs 60/120/160 of 200, i.e. 30/60/80 % of training [V-2nd].
DECAY_FRACTIONS, DECAY_FACTOR = (0.3, 0.6, 0.8), 0.2


def is_tiny(ctx) -> bool:
    """Whether to shrink a figure below ``--quick`` (tests): ``ctx.tiny`` or ``LASANDBOX_TINY=1``."""
    return bool(getattr(ctx, "tiny", False)) or os.environ.get("LASANDBOX_TINY", "0") not in ("", "0", "false", "no")


def single_threaded_blas():
    """A context in which BLAS uses one thread.

    These matrices are tiny (batch x 64): threads cost more than they save,
    and on a busy 2-core machine OpenBLAS's spinning threads made one small
    matmul 25x slower (4.7 ms instead of 0.18 ms). threadpoolctl comes with
    scikit-learn; without it nothing changes.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@functools.lru_cache(maxsize=4)
def load_task(name: str):
    """The data set of a task (cached in-process: every run of a figure reuses one copy)."""
    check_choice("task", name, TASKS)
    if name == "digits":
        return load_digits()
    return load_mnist1d(num_samples=5000)


@dataclass(frozen=True)
class OptimizerSpec:
    """A method to train with.

    ``inner``: a name of ``lasandbox.optimizer.registry``, at ``lr`` (the
    schedule's base rate) with ``momentum`` (its momentum-like argument: heavy
    ball, or beta1 of the Adam family) and ``weight_decay``; None keeps the
    optimizer's own default (AdamW's 0.01, say). ``alpha``/``k`` set: wrap it in
    Lookahead. ``polyak_start`` set: also keep the uniform average of the
    iterates from that fraction of training on, and report that average.
    """

    name: str
    inner: str
    lr: float
    momentum: float | None = None
    weight_decay: float | None = None
    alpha: float | None = None
    k: int | None = None
    polyak_start: float | None = None

    def __post_init__(self):
        check_choice("inner", self.inner, inner_optimizers())
        check_real("lr", self.lr, low=0.0, low_open=True)
        if self.momentum is not None:
            check_real("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
            optim.registry.check_knobs(self.inner, self.momentum)
        if self.weight_decay is not None:
            check_real("weight_decay", self.weight_decay, low=0.0)
        if (self.alpha is None) != (self.k is None):
            raise ValueError("alpha and k must be given together (Lookahead) or both left out")
        if self.alpha is not None:
            check_real("alpha", self.alpha, low=0.0, high=1.0)
            check_int("k", self.k, low=1)
        if self.polyak_start is not None:
            check_real("polyak_start", self.polyak_start, low=0.0, high=1.0, high_open=True)

    @property
    def is_lookahead(self) -> bool:
        return self.alpha is not None

    def with_(self, **changes) -> OptimizerSpec:
        return replace(self, **changes)


def build_optimizer(spec: OptimizerSpec, parameters, learning_rate, backend="cpu"):
    """The optimizer of ``spec`` over ``parameters``; ``learning_rate`` may be an LR scheduler."""
    inner = optim.registry.make(spec.inner, parameters, learning_rate, momentum=spec.momentum,
                                weight_decay=spec.weight_decay, backend=backend)
    if spec.is_lookahead:
        # slow_init='construction' is Algorithm 1's phi_0 = theta_0; Paddle's lazy default differs
        # only by the first step, and the paper's figures are the paper's algorithm.
        return LookAhead(inner, alpha=spec.alpha, k=spec.k, slow_init="construction")
    return inner


def parameter_buffer(optimizer) -> np.ndarray:
    """The flat float32 host buffer all parameters are views into (fast weights for Lookahead):
    one vector operation per step (averaging, snapshots) instead of a loop over tensors."""
    return optimizer.flat_parameters()


@contextlib.contextmanager
def weights_swapped_in(optimizer, weights, recompute_bn=None, model=None):
    """Temporarily put ``weights`` (a flat vector) into the model; the current ones come back after.

    ``recompute_bn=loader`` (with ``model``): also recompute the batch-norm
    running statistics for ``weights`` and restore the current ones after,
    as ``LookAhead.slow_weights`` does.
    """
    buffer = parameter_buffer(optimizer)
    saved = buffer.copy()
    buffer[...] = weights
    try:
        with contextlib.ExitStack() as statistics:
            if recompute_bn is not None:
                statistics.enter_context(bn_stats.kept_statistics(model))
                bn_stats.update_bn(model, recompute_bn)
            yield
    finally:
        buffer[...] = saved


def statistics_loader(model, x, batch_size):
    """The batches ``update_bn`` recomputes ``model``'s batch-norm statistics from (the training inputs in
    order, ``batch_size`` at a time), or None when the model has no batch norm to recompute."""
    if not bn_stats.batch_norm_layers(model):
        return None
    return [x[start : start + batch_size] for start in range(0, len(x), batch_size)]


class PolyakAverage:
    """Uniform running average of the iterates, updated after each step once ``started``.

    ``recompute_bn``/``model``: a loader to recompute batch-norm statistics
    for the average before it is evaluated (see ``weights_swapped_in``).
    """

    def __init__(self, optimizer, recompute_bn=None, model=None):
        self.optimizer = optimizer
        self.average = None
        self.count = 0
        self.recompute_bn, self.model = recompute_bn, model

    def update(self):
        current = parameter_buffer(self.optimizer)
        if self.average is None:
            self.average = current.astype(np.float64)
        else:
            # Running mean in float64: thousands of float32 additions would drift.
            self.average += (current - self.average) / (self.count + 1)
        self.count += 1

    def evaluation_context(self):
        if self.average is None:
            return contextlib.nullcontext()
        return weights_swapped_in(self.optimizer, self.average.astype(np.float32), self.recompute_bn, self.model)


@dataclass
class RunResult:
    """Per-epoch metrics of one run (index 0 = before training) of the weights the method returns."""

    spec: OptimizerSpec
    seed: int
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    diverged: bool = False

    @property
    def final_train_loss(self) -> float:
        return self.train_loss[-1]

    @property
    def final_test_accuracy(self) -> float:
        return self.test_accuracy[-1]


def decay_milestones(epochs: int) -> list[int]:
    """Epochs after which the lr is multiplied by ``DECAY_FACTOR`` (30/60/80 % of training)."""
    return sorted({max(1, int(round(epochs * fraction))) for fraction in DECAY_FRACTIONS})


def evaluation_context(optimizer, averager=None, recompute_bn=None, model=None):
    """Where to evaluate: the slow weights for Lookahead, the average for Polyak, else as is.

    ``recompute_bn=loader`` (with ``model``) recomputes batch-norm statistics
    for the slow weights (the averager holds its own loader).
    """
    if averager is not None:
        return averager.evaluation_context()
    if isinstance(optimizer, LookAhead):
        if recompute_bn is None:
            return optimizer.slow_weights()
        return optimizer.slow_weights(recompute_bn=recompute_bn, model=model)
    return contextlib.nullcontext()


def run_training(split, spec: OptimizerSpec, *, model="mlp", hidden=None, epochs=20, batch_size=64, seed=0,
                 backend="cpu") -> RunResult:
    """Train a fresh ``model`` (a name of ``lasandbox.models.registry``, with widths ``hidden``; None = its
    default) with ``spec`` under the step-decay schedule; see the module docstring.

    A run whose train loss stops being finite is stopped and marked
    ``diverged``; its remaining epochs are recorded as NaN.
    """
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    hidden = model_registry.check_widths(model, hidden, split)
    lasandbox.seed(seed)
    network = model_registry.make(model, split, hidden)
    schedule = optim.lr.MultiStepDecay(spec.lr, decay_milestones(epochs), gamma=DECAY_FACTOR)
    optimizer = build_optimizer(spec, network.parameters(), schedule, backend)
    # Weights that never trained (slow, averaged) get batch-norm statistics of their own before evaluation.
    statistics = statistics_loader(network, split.x_train, batch_size)
    averager = None
    if spec.polyak_start is not None:
        averager = PolyakAverage(optimizer, recompute_bn=statistics, model=network)
    average_from_epoch = None if averager is None else int(math.floor(spec.polyak_start * epochs))
    on_step = averager.update if averager is not None else None
    rng = np.random.default_rng(seed)
    result = RunResult(spec, seed)

    def record():
        with evaluation_context(optimizer, averager, statistics, network):
            train_loss = evaluate(network, split.x_train, split.y_train)[0]
            test_loss, accuracy = evaluate(network, split.x_test, split.y_test)
        result.train_loss.append(train_loss)
        result.test_loss.append(test_loss)
        result.test_accuracy.append(accuracy)

    record()
    # A diverging run (large lr x momentum) overflows on purpose: it is detected below and recorded as NaN.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(epochs):
            step_hook = (lambda _loss: on_step()) if on_step and epoch >= average_from_epoch else None
            train_epoch(network, optimizer, split.x_train, split.y_train, batch_size, rng, on_step=step_hook)
            schedule.step()
            record()
            if not np.isfinite(result.train_loss[-1]):
                result.diverged = True
                remaining = epochs - epoch  # this epoch and the ones never run
                for series in (result.train_loss, result.test_loss, result.test_accuracy):
                    series[-1:] = [math.nan] * remaining
                break
    return result


@dataclass(frozen=True)
class Protocol:
    """What every run of a figure shares: data, model (a ``lasandbox.models.registry`` name and its widths,
    None = the model's default for the data), length, batch size."""

    task: str = "mnist1d"
    model: str = "mlp"
    hidden: tuple | None = None
    epochs: int = 15
    batch_size: int = 64

    def __post_init__(self):
        check_choice("task", self.task, TASKS)
        check_choice("model", self.model, model_registry.names())
        if self.hidden is not None:
            object.__setattr__(self, "hidden", model_registry.check_widths(self.model, self.hidden))
        check_int("epochs", self.epochs, low=1)
        check_int("batch_size", self.batch_size, low=1)

    def describe(self) -> str:
        milestones = "/".join(str(m) for m in decay_milestones(self.epochs))
        network = model_registry.describe(self.model, load_task(self.task), self.hidden)
        return (f"{self.task}, {network}, {self.epochs} epochs, batch {self.batch_size}, lr x{DECAY_FACTOR} "
                f"after epochs {milestones}")


def figure_model(ctx) -> str:
    """The model a figure's training runs use: ``ctx.model`` (``reproduce --model``), ``mlp`` if unset."""
    return getattr(ctx, "model", None) or "mlp"


def standard_protocol(ctx) -> Protocol:
    """The protocol shared by ``robustness``, ``alpha_k`` and ``optimizers`` at this run size and model.

    Sharing it lets the three figures reuse each other's runs (see ``cached_run``).
    """
    model = figure_model(ctx)
    if is_tiny(ctx):
        return Protocol(model=model, epochs=2)
    return Protocol(model=model, epochs=15 if ctx.quick else 60)


_RUN_CACHE: dict = {}


def _cache_key(spec, protocol, seed, backend):
    return replace(spec, name=""), protocol, seed, backend


def cached_run(spec: OptimizerSpec, protocol: Protocol, seed: int, backend="cpu") -> RunResult:
    """``run_training`` memoised in-process: figures run one after another reuse identical runs.

    The key ignores ``spec.name`` (a label); runs are deterministic, so a
    cached result is the result a fresh run would give.
    """
    key = _cache_key(spec, protocol, seed, backend)
    if key not in _RUN_CACHE:
        _RUN_CACHE[key] = run_training(load_task(protocol.task), spec, model=protocol.model,
                                       hidden=protocol.hidden, epochs=protocol.epochs,
                                       batch_size=protocol.batch_size, seed=seed, backend=backend)
    result = _RUN_CACHE[key]
    return replace(result, spec=spec) if result.spec != spec else result


def run_methods(ctx, methods: dict, protocol: Protocol, seeds: int, desc: str) -> dict:
    """``{key: [RunResult for seed 0..seeds-1]}`` for ``methods`` = ``{key: OptimizerSpec}``.

    Where the runs train follows ``ctx`` (see ``sweep_runs.sweep_settings``):
    in this process, or first as one sweep of every (method, seed) on dask,
    stored in ``OUT/sweeps/paper-runs.sqlite`` so that a rerun resumes. Either
    way the results land in the in-process cache, so the figures that share
    runs (robustness, alpha_k, optimizers) train each one once.
    """
    from lasandbox.paper.sweep_runs import sweep_runs, sweep_settings

    jobs = [(key, spec, seed) for key, spec in methods.items() for seed in range(seeds)]
    settings = sweep_settings(ctx)
    if settings is not None:
        runs, summary, where = sweep_runs([(spec, seed) for _, spec, seed in jobs], protocol, ctx.backend,
                                          settings)
        for (_, spec, seed), run in zip(jobs, runs, strict=True):
            _RUN_CACHE[_cache_key(spec, protocol, seed, ctx.backend)] = run
        ctx.record("training runs", f"a lasandbox sweep ({summary.planned} runs): {summary.ran} trained now"
                   + (f" {where}" if summary.ran else "") + f", {summary.skipped} read from the store "
                   f"{settings.store}")
    if model_registry.entry(protocol.model).batch_norm:
        ctx.note("Batch norm: Lookahead's slow weights and the Polyak average never trained, so before each "
                 "evaluation their running statistics are recomputed (one pass over the training set, update_bn) "
                 "and the fast weights' statistics come back after; every evaluation is in eval mode.")
    results = {key: [] for key in methods}
    bar = ctx.progress(total=len(jobs), desc=desc)
    with single_threaded_blas():
        for key, spec, seed in jobs:
            results[key].append(cached_run(spec, protocol, seed, ctx.backend))
            bar.update(1)
    bar.close()
    return results


def curve_rows(run: RunResult, **fields) -> list[dict]:
    """One tidy ``curve`` row per epoch of ``run``: ``fields`` plus seed, epoch, train loss, test accuracy."""
    series = zip(run.train_loss, run.test_accuracy, strict=True)
    return [{"panel": "curve", **fields, "seed": run.seed, "epoch": epoch, "train_loss": loss,
             "test_accuracy": accuracy} for epoch, (loss, accuracy) in enumerate(series)]  # fmt: skip


def mean_and_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value), ignoring NaN (diverged runs)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0
