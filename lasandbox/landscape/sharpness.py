"""Sharpness: the top Hessian eigenvalue of the loss, at any weights, along a trajectory.

Hessian-vector products are central differences of autograd gradients,
``Hv ~ (g(w + eps*v) - g(w - eps*v)) / (2*eps)`` for a unit vector ``v``,
computed in float64 (the model's parameters are swapped for float64 copies
for the duration, so float32 rounding does not swamp the difference).
Power iteration on ``v -> Hv`` converges to the eigenvalue of largest
*magnitude*; the reported value is the Rayleigh quotient ``v.Hv`` and keeps
its sign (a negative value means the strongest curvature is a descent
direction). Comparing the value at the fast and at the slow weights tells
how sharp a region each sits in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lasandbox import nn
from lasandbox.autograd.tensor import Tensor
from lasandbox.landscape.layout import ParameterLayout, loaded_weights
from lasandbox.utils.progress import progress
from lasandbox.utils.validation import check_choice, check_int, check_real


@dataclass
class SharpnessResult:
    """Top Hessian eigenvalue (largest magnitude, signed), its eigenvector and the iteration record."""

    eigenvalue: float
    vector: np.ndarray
    iterations: int
    converged: bool
    history: np.ndarray


@dataclass
class TrajectorySharpness:
    """Top eigenvalue at recorded fast and slow weights."""

    fast_steps: np.ndarray
    fast: np.ndarray
    slow_steps: np.ndarray
    slow: np.ndarray


def _default_loss(model, x, y):
    return nn.CrossEntropyLoss()(model(Tensor(x)), Tensor(y))


def loss_gradient(model, weights, x, y, loss_fn=None, layout=None):
    """Loss and its gradient (float64, flat) at ``weights``; the model's own weights and grads are untouched.

    ``loss_fn(model, x, y)`` returns a scalar Tensor (mean cross-entropy by default).
    """
    layout = layout or ParameterLayout.from_model(model)
    loss_fn = loss_fn or _default_loss
    x64 = np.asarray(x, dtype=np.float64)
    with loaded_weights(layout, weights, dtype=np.float64):
        loss = loss_fn(model, x64, y)
        if not isinstance(loss, Tensor) or loss.size != 1:
            raise ValueError("loss_fn(model, x, y) must return a scalar Tensor")
        loss.backward()
        gradient = np.zeros(layout.size)
        for p, slot in zip(layout.parameters, layout.slots, strict=True):
            if p._grad is not None:
                gradient[slot.start:slot.stop] = p._grad.ravel()
    return float(np.asarray(loss.numpy()).ravel()[0]), gradient


def hessian_vector_product(model, weights, vector, x, y, *, eps=1e-4, loss_fn=None, layout=None):
    """``H(weights) @ vector`` by central differences of gradients (``vector`` is scaled to unit length)."""
    layout = layout or ParameterLayout.from_model(model)
    eps = check_real("eps", eps, low=0.0, low_open=True)  # 0 had divided by zero: a vector of NaN
    weights = layout.check_vector("weights", weights)
    vector = layout.check_vector("vector", vector)
    norm = np.linalg.norm(vector)
    if norm == 0:
        raise ValueError("vector must be non-zero")
    unit = vector / norm
    _, g_plus = loss_gradient(model, weights + eps * unit, x, y, loss_fn, layout)
    _, g_minus = loss_gradient(model, weights - eps * unit, x, y, loss_fn, layout)
    return (g_plus - g_minus) / (2 * eps) * norm


def top_hessian_eigenvalue(model, x, y, weights=None, *, loss_fn=None, iterations=100, tol=1e-4, eps=1e-4,
                           seed=0, initial_vector=None):
    """Power iteration for the Hessian eigenvalue of largest magnitude at ``weights`` (default: the model's).

    Stops when the Rayleigh quotient changes by less than ``tol`` (relative)
    between iterations, or after ``iterations``. ``initial_vector`` warm-starts
    it (e.g. the previous snapshot's eigenvector along a trajectory); without
    it ``seed`` draws the start (a seed other than 0 with one is refused).
    """
    layout = ParameterLayout.from_model(model)
    iterations = check_int("iterations", iterations, low=1)
    tol = check_real("tol", tol, low=0.0)
    eps = check_real("eps", eps, low=0.0, low_open=True)
    seed = check_int("seed", seed, low=0)
    if initial_vector is not None and seed != 0:  # the seed only draws a start when none is given
        raise TypeError(f"seed={seed} draws the starting vector, and initial_vector= is one: give one of them")
    weights = layout.flatten().astype(np.float64) if weights is None else layout.check_vector("weights", weights)
    if initial_vector is None:
        vector = np.random.default_rng(seed).standard_normal(layout.size)
    else:
        vector = layout.check_vector("initial_vector", initial_vector).copy()
    norm = np.linalg.norm(vector)
    if norm == 0:
        raise ValueError("initial_vector must be non-zero")
    vector /= norm
    history, converged, value = [], False, 0.0
    for _ in range(iterations):
        product = hessian_vector_product(model, weights, vector, x, y, eps=eps, loss_fn=loss_fn, layout=layout)
        value = float(vector @ product)
        history.append(value)
        size = np.linalg.norm(product)
        if size == 0:  # flat in this direction and (numerically) everywhere the iteration reached
            converged = True
            break
        vector = product / size
        if len(history) > 1 and abs(history[-1] - history[-2]) <= tol * max(abs(history[-1]), 1e-12):
            converged = True
            break
    return SharpnessResult(value, vector, len(history), converged, np.array(history))


def sharpness_along_trajectory(model, trajectory, x, y, *, which="both", every=1, loss_fn=None, iterations=50,
                               tol=1e-3, eps=1e-4, seed=0, show_progress=False):
    """Top Hessian eigenvalue at every ``every``-th recorded fast snapshot and/or at every slow snapshot.

    Each power iteration is warm-started from the previous snapshot's
    eigenvector (neighbouring snapshots have similar curvature), which cuts
    the iterations needed severalfold.
    """
    check_choice("which", which, ("both", "fast", "slow"))
    every = check_int("every", every, low=1)
    jobs = []
    if which in ("both", "fast"):
        jobs.append(("fast", trajectory.fast_steps[::every], trajectory.fast[::every]))
    if which in ("both", "slow"):
        jobs.append(("slow", trajectory.slow_steps, trajectory.slow))
    results = {"fast": (np.zeros(0, np.int64), np.zeros(0)), "slow": (np.zeros(0, np.int64), np.zeros(0))}
    total = sum(len(points) for _, _, points in jobs)
    with progress(total=total, desc="sharpness", enabled=None if show_progress else False) as bar:
        for name, steps, points in jobs:
            values, warm = np.empty(len(points)), None
            for i, point in enumerate(points):
                start = {"seed": seed} if warm is None else {"initial_vector": warm}
                result = top_hessian_eigenvalue(model, x, y, point, loss_fn=loss_fn, iterations=iterations, tol=tol,
                                                eps=eps, **start)
                values[i], warm = result.eigenvalue, result.vector
                bar.update(1)
            results[name] = (np.asarray(steps, dtype=np.int64), values)
    return TrajectorySharpness(results["fast"][0], results["fast"][1], results["slow"][0], results["slow"][1])
