"""The training tasks a sweep can run, and what a config means for each.

A task is a function ``run(config, seed) -> {"epochs": {metric: [values]},
"final": {metric: value}}`` plus the :class:`~lasandbox.sweep.grid.Param`\\ s
its config may set. ``epochs`` holds per-epoch curves (epoch 0 is before
training); ``final`` holds the scalars a heatmap plots. Non-finite numbers are
stored as null and flagged with ``diverged: true``.

Built in (``lasandbox sweep tasks`` prints the parameters with their defaults):

* ``digits-mlp`` / ``mnist1d-mlp``: an MLP (one hidden layer) trained on
  scikit-learn's digits / MNIST-1D with ``optimizer`` (any name of
  ``lasandbox.optimizer.registry``), wrapped in LookAhead(alpha, k) unless
  ``alpha=none``. ``model=cnn`` trains the task's conv net instead
  (``lasandbox.models.registry``: the small ResNet on the 8x8 digits, the
  1-D CNN on MNIST-1D; ``hidden`` is then its channel count); with
  ``evaluate=slow`` its batch-norm statistics are recomputed for the slow
  weights before each evaluation (``LookAhead.slow_weights(recompute_bn=...)``).
  ``momentum`` sets the optimizer's momentum-like argument (heavy ball for
  ``momentum``, beta1 for the Adam family) and ``weight_decay`` its decay; ``none``
  keeps the optimizer's defaults (AdamW's 0.01, say).
  Metrics: ``train_loss``, ``test_loss``, ``test_accuracy`` per epoch;
  ``final_loss`` (train loss after the last epoch), ``final_test_loss``,
  ``final_test_accuracy``, ``best_test_accuracy``.
  Lookahead variants: ``nested_alpha`` / ``nested_k`` wrap that LookAhead in an outer one (nested
  Lookahead; ``nested_k`` counts optimizer steps, a multiple of ``k`` gives whole inner cycles, other
  values are allowed); ``pullback_states=all`` makes ``inner_state`` reset/pullback act on every state
  buffer of the rule (Adam's two moments) instead of the momentum buffer. Where their part is off
  (``alpha=none``, ``nested_alpha=none``, ``inner_state=keep``) these are set to their defaults.
* ``bilinear-game`` and ``gan-8gaussians`` (defined in :mod:`lasandbox.sweep.game_tasks`, loaded on
  first use), the two-player games of figure ``minmax``. ``bilinear-game``: ``min_x max_y s x y`` with
  simultaneous GDA (SGD players) and Lookahead-minmax (``alpha=none``: GDA alone; ``separate=true``: two
  separate LookAhead wrappers instead), the max player stepping ``critic_steps`` times per iteration.
  Metrics: ``distance`` |z| per recorded iteration; ``final_distance``, the measured ``rate`` per
  iteration and the ``expected_rate`` (the cycle matrix's spectral radius per iteration; exact for
  ``critic_steps=1``, asymptotic otherwise; none for separate wrappers). ``gan-8gaussians``: the GAN of
  figure ``minmax`` (``lasandbox.paper.gan_mixture``) with ``base`` gda or adam, Lookahead-minmax unless
  ``alpha=none``. Metrics per evaluation: ``modes``, ``high_quality``, ``sliced_w1``;
  ``final_sliced_w1``, ``final_modes``, ``final_high_quality``, ``best_sliced_w1``.
* ``nqm``: a short Monte-Carlo run of SGD (``alpha=none``) or Lookahead(SGD)
  on the noisy quadratic model (``a_i = 1/i``, ``sigma2_i = 1/a_i``), with the
  package's kernels. Metrics: ``final_loss`` (mean excess loss over chains at
  the last step), its ``final_loss_stderr``, and ``expected_final_loss`` from
  the closed form; per "epoch": ``step`` and ``loss`` at ~50 points.
* ``debug``: no training; sleeps ``seconds``, can fail on purpose or kill its
  own worker once. It exists to test the machinery and to measure its overhead.
* ``paper-run`` (defined in :mod:`lasandbox.paper.sweep_runs`, loaded on first
  use): one run of the paper's training figures; ``reproduce --full`` sweeps it.
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lasandbox.backends import HOST_BACKENDS
from lasandbox.sweep.grid import GridError, Param, expand_grid


@dataclass(frozen=True)
class SweepTask:
    """A named training task: its parameters, its run function and optional hooks.

    ``prepare(configs)`` runs once in the client before anything is submitted
    (e.g. to generate a cached data set once instead of racing in every
    worker); ``check(config)`` rejects configs whose parameters do not fit
    together, with a :class:`GridError`; ``normalize(config)`` returns the
    config with the parameters of a switched-off part set to their defaults
    (``nested_k`` when ``nested_alpha=none``), so that a grid crossing
    ``nested_alpha=none,0.5`` with ``nested_k=10,20`` runs the one-level
    config once rather than twice under two hashes.
    """

    name: str
    description: str
    params: tuple
    run: Callable
    prepare: Callable | None = None
    check: Callable | None = None
    normalize: Callable | None = None

    def configs(self, grid) -> list:
        """The grid's configs, completed with defaults, normalized, de-duplicated and checked
        (see :func:`expand_grid`).

        ``grid`` may also be a list of grids: their configs one after another
        (a union of products, for sweeps that are not one cartesian product).
        """
        configs = self._expanded(grid)
        if self.normalize is not None:
            unique = []
            for config in (self.normalize(dict(config)) for config in configs):
                if config not in unique:
                    unique.append(config)
            configs = unique
        if self.check is not None:
            for config in configs:
                self.check(config)
        return configs

    def _expanded(self, grid) -> list:
        grids = grid if isinstance(grid, (list, tuple)) else [grid]
        return [config for one in grids for config in expand_grid(self.params, one)]

    def normalised_away(self, grid) -> dict:
        """``{param: ([values], example)}``: the values of ``grid`` that ``normalize`` replaced by the default
        in some config (``k=10`` where ``alpha=none``), and the first such config as the grid gave it, for the
        sweep command to say which grid points ran as one."""
        if self.normalize is None:
            return {}
        replaced = {}
        for config in self._expanded(grid):
            for name, value in self.normalize(dict(config)).items():
                if value != config[name]:
                    values, _ = replaced.setdefault(name, ([], config))
                    if config[name] not in values:
                        values.append(config[name])
        return replaced


TASKS: dict = {}


def register_task(task: SweepTask) -> SweepTask:
    """Make ``task`` available by name (to ``run_sweep`` and the ``lasandbox sweep`` command).

    Registration lives in the registering process; dask workers receive the
    task object itself with each run, so a task defined in a notebook works
    on a local cluster too.
    """
    if not isinstance(task, SweepTask):
        raise TypeError(f"task must be a SweepTask, got {type(task).__name__}")
    if task.name in ("status", "plot", "tasks"):
        raise ValueError(f"task name {task.name!r} is reserved for a 'lasandbox sweep' subcommand")
    TASKS[task.name] = task
    return task


# Tasks that live with the code they run, registered when their module is first imported. Importing
# them here would make every sweep (and every dask worker) load the paper's figure code.
TASK_MODULES = {"paper-run": "lasandbox.paper.sweep_runs", "bilinear-game": "lasandbox.sweep.game_tasks",
                "gan-8gaussians": "lasandbox.sweep.game_tasks"}


def load_task_modules():
    """Import the modules of ``TASK_MODULES``, so that ``TASKS`` lists every task of the package."""
    for module in dict.fromkeys(TASK_MODULES.values()):
        importlib.import_module(module)


def get_task(task) -> SweepTask:
    """A registered task by name (or the task itself), with a clear error for an unknown name."""
    if isinstance(task, SweepTask):
        return task
    if task not in TASKS and task in TASK_MODULES:
        importlib.import_module(TASK_MODULES[task])
    if task not in TASKS:
        known = list(TASKS) + [name for name in TASK_MODULES if name not in TASKS]
        raise ValueError(f"unknown sweep task {task!r}; registered tasks: {', '.join(known)}")
    return TASKS[task]


def finite_or_none(value):
    """A float for JSON: NaN and infinities become None (JSON has no NaN; a diverged run has no loss)."""
    value = float(value)
    return value if math.isfinite(value) else None


def baseline_defaults(params, names):
    """A task's ``normalize`` for parameters that only matter with Lookahead: where ``alpha=none`` each of
    ``names`` takes its declared default, so a grid crossing ``alpha=none`` with them runs the baseline once."""
    defaults = {param.name: param.default for param in params if param.name in names}
    missing = set(names) - set(defaults)
    if missing:
        raise ValueError(f"baseline_defaults: no parameter {sorted(missing)} among the task's")

    def normalize(config):
        if config["alpha"] is None:
            config.update(defaults)
        return config

    return normalize


# ----------------------------------------------------------------------------------------------- MLP tasks

def _optimizer_names():
    from lasandbox.optimizer import registry

    return registry.names()


NESTED_K_DEFAULT = 20
# The LookAhead knobs of the training tasks: what alpha=none turns off (``_normalize_mlp_config``).
LOOKAHEAD_PARAMS = (
    Param("k", "int", 5, "LookAhead inner steps per sync", low=1),
    Param("inner_state", "choice", "keep", "inner optimizer state at a sync",
          choices=("keep", "reset", "pullback")),
    Param("pullback_states", "choice", "momentum", "the state buffers inner_state reset/pullback acts on: "
          "the momentum buffer, or all of the rule's (Adam: moment1 and moment2)", choices=("momentum", "all")),
    Param("nested_alpha", "float", None, "alpha of an outer LookAhead around LookAhead(alpha, k) (nested "
          "Lookahead); none = one level", low=0.0, high=1.0, low_open=True, optional=True),
    Param("nested_k", "int", NESTED_K_DEFAULT, "optimizer steps per outer sync of the nested LookAhead (a "
          "multiple of k gives whole inner cycles)", low=1),
    Param("slow_init", "choice", "first_step", "when the slow weights start (Paddle: first_step)",
          choices=("first_step", "construction")),
    Param("evaluate", "choice", "fast", "weights the metrics use (slow: LookAhead's slow weights)",
          choices=("fast", "slow")),
)


def _model_names():
    from lasandbox.models import registry

    return registry.names()


def _mlp_params(hidden, batch_size):
    return (
        Param("model", "choice", "mlp", "network (lasandbox.models.registry): mlp, or cnn = the task's conv net "
              "(small ResNet on digits, 1-D CNN on mnist1d)", choices=_model_names()),
        Param("optimizer", "choice", "momentum", "inner optimizer (lasandbox.optimizer.registry)",
              choices=_optimizer_names()),
        Param("lr", "float", 0.05, "learning rate of the inner optimizer", low=0.0, low_open=True),
        Param("momentum", "float", None, "the optimizer's momentum-like argument (momentum, or beta1 of the Adam "
              "family; registry.Entry.momentum_argument); none = its default", low=0.0, high=1.0, high_open=True,
              optional=True),
        Param("weight_decay", "float", None, "the optimizer's weight decay (L2, or decoupled where the optimizer "
              "decouples it); none = its default", low=0.0, optional=True),
        Param("alpha", "float", 0.5, "LookAhead slow-weight step size; none = inner optimizer alone", low=0.0,
              high=1.0, low_open=True, optional=True),
        *LOOKAHEAD_PARAMS,
        Param("epochs", "int", 10, "passes over the training set", low=1),
        Param("batch_size", "int", batch_size, "mini-batch size", low=1),
        Param("hidden", "int", None, f"width: the MLP's hidden layer, or the CNN's channels; none = the model's "
              f"default (mlp {hidden}; cnn: 16 on digits, 32 on mnist1d)", low=1, optional=True),
        Param("backend", "choice", "auto", "kernel backend of the optimizer", choices=("auto", *HOST_BACKENDS)),
    )


_lookahead_off_defaults = baseline_defaults(LOOKAHEAD_PARAMS, [param.name for param in LOOKAHEAD_PARAMS])


def _normalize_mlp_config(config):
    """The variants' knobs at their declared defaults where their part is off: without LookAhead (alpha=none)
    every LookAhead knob, so a grid crossing alpha=none with k (or any of them) runs the baseline once;
    without an outer level its k; with inner_state=keep the buffers it would act on."""
    defaults = {param.name: param.default for param in LOOKAHEAD_PARAMS}
    config = _lookahead_off_defaults(config)
    if config["nested_alpha"] is None:
        config["nested_k"] = defaults["nested_k"]
    if config["inner_state"] == "keep":
        config["pullback_states"] = defaults["pullback_states"]
    return config


def _check_mlp_config(config):
    from lasandbox.kernels import rules
    from lasandbox.optimizer import registry

    try:
        entry = registry.check_knobs(config["optimizer"], config["momentum"])
    except ValueError as err:
        raise GridError(str(err)) from None
    if config["alpha"] is None or config["inner_state"] == "keep":
        return
    if config["pullback_states"] == "all":
        if not rules.get(entry.cls.rule_name).state:
            raise GridError(f"inner_state={config['inner_state']!r} with pullback_states=all: "
                            f"{config['optimizer']} keeps no state buffers")
    elif not entry.has_momentum_state:
        raise GridError(f"inner_state={config['inner_state']!r} needs an optimizer with a momentum buffer, "
                        f"not {config['optimizer']} (or pullback_states=all for every state buffer)")


@functools.lru_cache(maxsize=4)
def _load_split(dataset):
    # Cached per worker process: each run would otherwise reload and re-standardise the data.
    from lasandbox.datasets import load

    return load(dataset)


def _make_optimizer(config, parameters):
    import lasandbox as paddle

    inner = paddle.optimizer.registry.make(config["optimizer"], parameters, config["lr"],
                                           momentum=config["momentum"], weight_decay=config["weight_decay"],
                                           backend=config["backend"])
    if config["alpha"] is None:
        return inner
    every_buffer = config["inner_state"] != "keep" and config["pullback_states"] == "all"
    lookahead = paddle.LookAhead(inner, alpha=config["alpha"], k=config["k"], slow_init=config["slow_init"],
                                 inner_state=config["inner_state"],
                                 pullback_states=inner.state_names if every_buffer else None)
    if config["nested_alpha"] is None:
        return lookahead
    return paddle.LookAhead(lookahead, alpha=config["nested_alpha"], k=config["nested_k"],
                            slow_init=config["slow_init"])


def _train_mlp(dataset, default_widths, config, seed):
    import lasandbox as paddle
    from lasandbox.models import registry
    from lasandbox.nn.bn_stats import batch_norm_layers
    from lasandbox.training import train

    split = _load_split(dataset)
    paddle.seed(seed)
    widths = default_widths.get(config["model"]) if config["hidden"] is None else (config["hidden"],)
    model = registry.make(config["model"], split, widths)
    optimizer = _make_optimizer(config, model.parameters())
    eval_model = None
    if config["evaluate"] == "slow" and config["alpha"] is not None:
        statistics = None
        if batch_norm_layers(model):  # the slow weights get batch-norm statistics of their own
            size = config["batch_size"]
            statistics = [split.x_train[i : i + size] for i in range(0, len(split.x_train), size)]
        eval_model = lambda _model: optimizer.slow_weights(recompute_bn=statistics,  # noqa: E731
                                                           model=None if statistics is None else _model)
    history = train(model, optimizer, split, config["epochs"], batch_size=config["batch_size"], seed=seed,
                    eval_model=eval_model)
    curves = {
        "train_loss": [finite_or_none(v) for v in history.train_loss],
        "test_loss": [finite_or_none(v) for v in history.test_loss],
        "test_accuracy": [finite_or_none(v) for v in history.test_accuracy],
    }
    final = {
        "final_loss": curves["train_loss"][-1],
        "final_test_loss": curves["test_loss"][-1],
        "final_test_accuracy": curves["test_accuracy"][-1],
        "best_test_accuracy": max(curves["test_accuracy"][1:], default=None),
        "diverged": curves["train_loss"][-1] is None,
    }
    return {"epochs": curves, "final": final}


def _mlp_task(dataset, hidden, batch_size, description):
    def prepare(configs):
        _load_split(dataset)  # generate (and cache on disk) the data once, before workers race for it

    return SweepTask(
        name=f"{dataset}-mlp",
        description=description,
        params=_mlp_params(hidden, batch_size),
        # None: the registry's default widths (the CNNs'); the MLP tasks keep their one hidden layer.
        run=functools.partial(_train_mlp, dataset, {"mlp": (hidden,)}),
        prepare=prepare,
        check=_check_mlp_config,
        normalize=_normalize_mlp_config,
    )


# ------------------------------------------------------------------------------------------------ NQM task

NQM_PARAMS = (
    Param("lr", "float", 0.5, "SGD learning rate (stable for lr < 2; the largest curvature is 1)", low=0.0,
          low_open=True),
    Param("alpha", "float", 0.5, "Lookahead slow-weight step size; none = plain SGD", low=0.0, high=1.0,
          low_open=True, optional=True),
    Param("k", "int", 5, "Lookahead inner steps per sync", low=1),
    Param("steps", "int", 500, "SGD steps", low=1),
    Param("chains", "int", 256, "Monte-Carlo chains", low=2),
    Param("dim", "int", 100, "coordinates of the quadratic (a_i = 1/i)", low=1),
    Param("backend", "choice", "cpu", "kernel backend", choices=HOST_BACKENDS),
)


def _run_nqm(config, seed):
    import numpy as np

    from lasandbox.paper import nqm_theory
    from lasandbox.paper.nqm_simulation import simulate_loss_curve

    a, sigma2 = nqm_theory.nqm_spectrum(config["dim"])
    curve = simulate_loss_curve(config["lr"], a, sigma2, config["steps"], alpha=config["alpha"], k=config["k"],
                                chains=config["chains"], seeds=(seed,), backend=config["backend"])
    try:
        expected = float(nqm_theory.expected_loss_at_step(config["lr"], a, sigma2, config["steps"],
                                                          alpha=config["alpha"], k=config["k"]))
    except ValueError:  # outside the region where the closed form holds (lr*a >= 2): no theory value
        expected = None
    recorded = np.unique(np.linspace(0, config["steps"], 51).round().astype(int))
    final_loss = finite_or_none(curve.loss[-1])
    return {
        "epochs": {"step": recorded.tolist(), "loss": [finite_or_none(curve.loss[t]) for t in recorded]},
        "final": {
            "final_loss": final_loss,
            "final_loss_stderr": finite_or_none(curve.loss_stderr[-1]),
            "expected_final_loss": None if expected is None else finite_or_none(expected),
            "diverged": final_loss is None,
        },
    }


# ---------------------------------------------------------------------------------------------- debug task

DEBUG_PARAMS = (
    Param("x", "float", 0.0, "a coordinate of the toy loss x^2 + y^2 + z^2 + 0.01 seed (final_loss)"),
    Param("y", "float", 0.0, "a coordinate of the toy loss"),
    Param("z", "float", 0.0, "a coordinate of the toy loss"),
    Param("epochs", "int", 3, "length of the recorded toy curve", low=1),
    Param("seconds", "float", 0.0, "time to sleep, standing in for training", low=0.0),
    Param("fail", "bool", False, "raise an error instead of finishing"),
    Param("crash_marker", "str", "", "if set and this file does not exist: create it, then kill the worker "
          "process (SIGKILL) mid-task; the retry finds the file and finishes"),
)


def _run_debug(config, seed):
    if config["crash_marker"] and not Path(config["crash_marker"]).exists():
        Path(config["crash_marker"]).write_text(f"killed pid {os.getpid()}\n")
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(config["seconds"])
    if config["fail"]:
        raise RuntimeError(f"debug task asked to fail (seed {seed})")
    loss = config["x"] ** 2 + config["y"] ** 2 + config["z"] ** 2 + 0.01 * seed
    curve = [loss * (1 + 2.0 ** -epoch) for epoch in range(config["epochs"] + 1)]  # a toy "training curve"
    return {"epochs": {"loss": curve}, "final": {"final_loss": loss, "diverged": False}}


register_task(_mlp_task("digits", 32, 32, "MLP 64-hidden-10 (model=cnn: small ResNet on the 8x8 images) on "
                        "scikit-learn's digits (1,347 training images)"))
register_task(_mlp_task("mnist1d", 64, 64, "MLP 40-hidden-10 (model=cnn: 1-D CNN) on MNIST-1D (4,000 training "
                        "samples, generated offline and cached)"))
register_task(SweepTask("nqm", "SGD or Lookahead(SGD) on the noisy quadratic model, Monte Carlo", NQM_PARAMS,
                        _run_nqm, normalize=baseline_defaults(NQM_PARAMS, ("k",))))
register_task(SweepTask("debug", "no training: sleeps, fails or kills its worker on request (tests, overhead)",
                        DEBUG_PARAMS, _run_debug))
