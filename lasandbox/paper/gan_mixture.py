"""A small GAN on a ring of 8 Gaussians, trained with the package's optimizers (figure ``minmax``).

The data: 8 Gaussians of standard deviation ``STD`` centred on a circle of
radius ``RADIUS``. The players: an MLP generator (``LATENT``-d standard
normal noise -> 2-D point) and an MLP critic (2-D point -> logit), both
written with ``lasandbox.nn``. The losses are the standard non-saturating GAN
ones, ``softplus(-D(x)) + softplus(D(G(z)))`` for the critic and
``softplus(-D(G(z)))`` for the generator; the updates alternate (the critic
steps ``critic_steps`` times, then the generator, each on fresh batches),
which is what Chavdarova et al. call AltGAN. ``GDA`` is SGD for both players;
``Adam`` is Adam for both; ``LA-`` wraps the two in one
``lasandbox.incubate.LookAheadMinmax``.

Measured on a fixed evaluation batch (the same noise for every method and
seed, evaluated at the slow weights for Lookahead-minmax):

* ``modes``: modes covered, a mode counting when at least ``MODE_SHARE`` of the
  samples lie within ``3 STD`` of its centre (the criterion of Metz et al.'s
  unrolled GANs, with a share threshold instead of a count);
* ``high_quality``: the fraction of samples within ``3 STD`` of some centre;
* ``sliced_w1``: the sliced Wasserstein-1 distance to a fixed sample of the data
  distribution (``PROJECTIONS`` random directions; for two samples of equal size
  the 1-D distance is the mean gap between sorted projections), computed here
  in numpy. ``sliced_w1_floor`` is the same distance between two independent
  samples of the data: what a perfect generator would score.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from lasandbox.utils.validation import check_choice, check_int, check_real

MODES, RADIUS, STD = 8, 2.0, 0.05
LATENT, HIDDEN = 4, 64
EVAL_SAMPLES, PROJECTIONS, MODE_SHARE = 2000, 64, 0.02
BASES = ("gda", "adam")
# Learning rates for the base optimizers (both players), from a 2-seed look at SGD {0.05, 0.1, 0.2} and
# Adam {1e-3, 2e-3, 3e-3}; Lookahead-minmax uses its base's. The figure and the sweep task share them.
DEFAULT_LR = {"gda": 0.1, "adam": 0.002}


def mode_centres(modes=MODES, radius=RADIUS):
    angles = 2 * np.pi * np.arange(modes) / modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def sample_data(rng, n, std=STD):
    """``n`` points of the mixture (float32), each mode equally likely."""
    centres = mode_centres()
    which = rng.integers(0, len(centres), n)
    return (centres[which] + std * rng.standard_normal((n, 2))).astype(np.float32)


def mode_statistics(samples, std=STD):
    """``(modes covered, fraction of high-quality samples)`` of ``samples`` (see the module docstring)."""
    centres = mode_centres()
    distances = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(samples)), nearest] <= 3 * std
    counts = np.bincount(nearest[good], minlength=len(centres))
    return int(np.sum(counts >= MODE_SHARE * len(samples))), float(good.mean())


def sliced_w1(a, b, directions):
    """Sliced Wasserstein-1 between two equal-size samples over unit ``directions`` ``[P, 2]``."""
    if len(a) != len(b):
        raise ValueError(f"sliced_w1 needs samples of equal size, got {len(a)} and {len(b)}")
    pa, pb = np.sort(a @ directions.T, axis=0), np.sort(b @ directions.T, axis=0)
    return float(np.mean(np.abs(pa - pb)))


@dataclass
class Evaluation:
    """The fixed evaluation set: noise for the generator, a data sample and projection directions."""

    noise: np.ndarray
    reference: np.ndarray
    directions: np.ndarray
    floor: float

    @classmethod
    def make(cls, seed=12345):
        rng = np.random.default_rng(seed)
        angles = rng.uniform(0, np.pi, PROJECTIONS)
        directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        reference = sample_data(rng, EVAL_SAMPLES)
        floor = sliced_w1(sample_data(rng, EVAL_SAMPLES), reference, directions)
        noise = rng.standard_normal((EVAL_SAMPLES, LATENT)).astype(np.float32)
        return cls(noise, reference, directions, floor)

    def score(self, samples):
        modes, high_quality = mode_statistics(samples)
        return {"modes": modes, "high_quality": high_quality,
                "sliced_w1": sliced_w1(samples, self.reference, self.directions)}


@dataclass(frozen=True)
class GanMethod:
    """One way to train: the base optimizer of both players, its learning rate, and Lookahead-minmax or not."""

    name: str
    base: str
    lr: float
    alpha: float | None = None
    k: int | None = None

    def __post_init__(self):
        check_choice("base", self.base, BASES)
        check_real("lr", self.lr, low=0.0, low_open=True)
        if self.alpha is not None:
            check_real("alpha", self.alpha, low=0.0, high=1.0)
            check_int("k", self.k, low=1)


@dataclass
class GanRun:
    """Curves of one training run, one entry per evaluation (iteration 0 is before training)."""

    method: str
    seed: int
    iterations: list = field(default_factory=list)
    modes: list = field(default_factory=list)
    high_quality: list = field(default_factory=list)
    sliced_w1: list = field(default_factory=list)
    samples: np.ndarray | None = None  # the last evaluation's generated points


def _softplus(t):
    import lasandbox as paddle
    from lasandbox.nn import functional as F

    # Stable log(1 + e^t) = max(t, 0) + log(1 + e^-|t|), from the package's differentiable ops.
    return F.relu(t) + paddle.log(1 + paddle.exp(-paddle.abs(t)))


def _mlp(sizes):
    from lasandbox import nn

    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _optimizer(method, parameters, backend):
    from lasandbox.optimizer import registry

    if method.base == "gda":
        return registry.make("sgd", parameters, method.lr, backend=backend)
    return registry.make("adam", parameters, method.lr, momentum=0.5, backend=backend)  # beta1 0.5, GAN practice


def train_gan(method: GanMethod, seed: int, iterations: int, *, eval_every: int, batch_size: int = 128,
              critic_steps: int = 1, evaluation: Evaluation | None = None, backend: str = "cpu") -> GanRun:
    """Train one GAN for ``iterations`` joint iterations and evaluate every ``eval_every`` of them."""
    import lasandbox as paddle

    iterations = check_int("iterations", iterations, low=1)
    eval_every = check_int("eval_every", eval_every, low=1)
    critic_steps = check_int("critic_steps", critic_steps, low=1)
    evaluation = evaluation or Evaluation.make()
    rng = np.random.default_rng(seed)
    paddle.seed(seed)
    generator = _mlp([LATENT, HIDDEN, HIDDEN, 2])
    critic = _mlp([2, HIDDEN, HIDDEN, 1])
    g_opt = _optimizer(method, generator.parameters(), backend)
    c_opt = _optimizer(method, critic.parameters(), backend)
    joint = None if method.alpha is None else paddle.incubate.LookAheadMinmax(
        [g_opt, c_opt], alpha=method.alpha, k=method.k)
    run = GanRun(method.name, seed)

    def evaluate(t):
        with joint.slow_weights() if joint is not None else contextlib.nullcontext(), paddle.no_grad():
            samples = generator(paddle.to_tensor(evaluation.noise)).numpy().copy()
        scores = evaluation.score(samples) if np.all(np.isfinite(samples)) else \
            {"modes": 0, "high_quality": 0.0, "sliced_w1": float("nan")}
        run.iterations.append(t)
        for key, value in scores.items():
            getattr(run, key).append(value)
        run.samples = samples

    def noise():
        return paddle.to_tensor(rng.standard_normal((batch_size, LATENT)).astype(np.float32))

    # One critic pass over [real; fake]: softplus(-D(real)) and softplus(D(fake)) are softplus(sign * D).
    sign = paddle.to_tensor(np.repeat(np.float32([-1.0, 1.0]), batch_size)[:, None])
    evaluate(0)
    for t in range(1, iterations + 1):
        for _ in range(critic_steps):
            real = paddle.to_tensor(sample_data(rng, batch_size))
            both = paddle.concat([real, generator(noise()).detach()], axis=0)
            loss = 2 * paddle.mean(_softplus(sign * critic(both)))  # = mean over real + mean over fake
            loss.backward()
            c_opt.step()
            c_opt.clear_grad()
        paddle.mean(_softplus(-critic(generator(noise())))).backward()
        g_opt.step()
        g_opt.clear_grad()
        c_opt.clear_grad()  # the generator's backward also reached the critic
        if joint is not None:
            joint.step()
        if t % eval_every == 0 or t == iterations:
            evaluate(t)
    return run
