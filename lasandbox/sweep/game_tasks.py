"""Sweep tasks for two-player games (figure ``minmax``): the bilinear game and the GAN on 8 Gaussians.

Registered when first asked for (``tasks.TASK_MODULES``), so a sweep of another task never loads the
game code; see :mod:`lasandbox.sweep.tasks` for what each task's metrics mean.
"""

from __future__ import annotations

from lasandbox.backends import HOST_BACKENDS
from lasandbox.sweep.grid import Param
from lasandbox.sweep.tasks import SweepTask, baseline_defaults, finite_or_none, register_task

K_DEFAULT = 5

BILINEAR_PARAMS = (
    Param("lr", "float", 0.1, "GDA step size of both players", low=0.0, low_open=True),
    Param("coupling", "float", 1.0, "s in min_x max_y s x y (the rates depend on lr * s)", low=0.0, low_open=True),
    Param("alpha", "float", 0.5, "Lookahead-minmax alpha; none = GDA alone", low=0.0, high=1.0, low_open=True,
          optional=True),
    Param("k", "int", K_DEFAULT, "joint iterations per sync", low=1),
    Param("critic_steps", "int", 1, "steps of the max player (y) per step of x", low=1),
    Param("separate", "bool", False, "two separate LookAhead wrappers instead of one LookAheadMinmax"),
    Param("iterations", "int", 200, "joint iterations", low=1),
    Param("backend", "choice", "cpu", "kernel backend", choices=HOST_BACKENDS),
)


def _run_bilinear(config, seed):
    import numpy as np

    from lasandbox.paper import bilinear_game as bg

    # The game is deterministic: the seed only picks the start (x0, y0) on the unit circle.
    angle = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    run = bg.simulate(config["lr"], [config["coupling"]], config["iterations"], alpha=config["alpha"],
                      k=config["k"], x0=np.cos(angle), y0=np.sin(angle), critic_steps=config["critic_steps"],
                      separate=config["separate"], backend=config["backend"])
    distance = run.norms()[:, 0].astype(float)
    eta, steps = config["lr"] * config["coupling"], config["iterations"]
    if config["separate"]:
        expected = None
    else:  # spectral radius per iteration of one cycle (alpha none: a cycle of one GDA iteration)
        alpha, k = (1.0, 1) if config["alpha"] is None else (config["alpha"], config["k"])
        cycle = bg.joint_cycle_matrix(eta, alpha, k, config["critic_steps"])
        expected = finite_or_none(max(abs(np.linalg.eigvals(cycle))) ** (1 / k))
    recorded = np.unique(np.linspace(0, steps, 51).round().astype(int))
    final = finite_or_none(distance[-1])
    return {
        "epochs": {"iteration": recorded.tolist(), "distance": [finite_or_none(distance[t]) for t in recorded]},
        "final": {"final_distance": final, "rate": finite_or_none((distance[-1] / distance[0]) ** (1 / steps)),
                  "expected_rate": expected, "diverged": final is None},
    }


GAN_PARAMS = (
    Param("base", "choice", "adam", "optimizer of both players (gda: SGD)", choices=("gda", "adam")),
    Param("lr", "float", None, "learning rate of both players; none = figure minmax's (gda 0.1, adam 0.002)",
          low=0.0, low_open=True, optional=True),
    Param("alpha", "float", 0.5, "Lookahead-minmax alpha; none = the base optimizer alone", low=0.0, high=1.0,
          low_open=True, optional=True),
    Param("k", "int", K_DEFAULT, "joint iterations per sync", low=1),
    Param("critic_steps", "int", 1, "critic steps per generator step", low=1),
    Param("iterations", "int", 2000, "joint iterations (generator steps)", low=1),
    Param("eval_every", "int", 100, "iterations between evaluations", low=1),
    Param("batch_size", "int", 128, "samples per batch", low=1),
    Param("backend", "choice", "cpu", "kernel backend", choices=HOST_BACKENDS),
)


def _run_gan(config, seed):
    from lasandbox.paper import gan_mixture as gm
    from lasandbox.paper.training_runs import single_threaded_blas

    lr = gm.DEFAULT_LR[config["base"]] if config["lr"] is None else config["lr"]
    method = gm.GanMethod(config["base"], config["base"], lr, alpha=config["alpha"],
                          k=config["k"] if config["alpha"] is not None else None)
    with single_threaded_blas():
        run = gm.train_gan(method, seed, config["iterations"], eval_every=config["eval_every"],
                           batch_size=config["batch_size"], critic_steps=config["critic_steps"],
                           backend=config["backend"])
    distances = [finite_or_none(v) for v in run.sliced_w1]
    finite = [v for v in distances if v is not None]
    return {
        "epochs": {"iteration": run.iterations, "modes": run.modes,
                   "high_quality": [finite_or_none(v) for v in run.high_quality], "sliced_w1": distances},
        "final": {"final_sliced_w1": distances[-1], "final_modes": run.modes[-1],
                  "final_high_quality": finite_or_none(run.high_quality[-1]),
                  "best_sliced_w1": min(finite) if finite else None, "diverged": distances[-1] is None},
    }


register_task(SweepTask("bilinear-game", "GDA or Lookahead-minmax on min_x max_y s x y (SGD players), exact rates",
                        BILINEAR_PARAMS, _run_bilinear,
                        normalize=baseline_defaults(BILINEAR_PARAMS, ("k", "separate"))))
register_task(SweepTask("gan-8gaussians", "a small GAN on a ring of 8 Gaussians, base optimizer or Lookahead-minmax",
                        GAN_PARAMS, _run_gan, normalize=baseline_defaults(GAN_PARAMS, ("k",))))
