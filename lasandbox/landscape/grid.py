"""Loss and accuracy over a grid in a plane, along a line, or at recorded snapshots.

Two paths compute the same numbers:

* ``method='batched'``: many grid points per pass, the first layer's products
  computed once -- for plain MLPs by one numba kernel (``batched_mlp``), for
  conv nets by the model's own forward on the points folded into the batch
  (``batched_cnn``);
* ``method='naive'``: load each point into the model and call
  ``lasandbox.training.evaluate`` (one autograd forward per point). It works
  for any model and is the reference the batched path is tested against.

``method='auto'`` takes the batched path when the model is a plain MLP or a
conv net the folded pass supports (``batched_cnn.cnn_structure``, confirmed
by a two-point probe) and falls back to the naive one otherwise. Every result
carries its cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lasandbox.landscape import batched_cnn
from lasandbox.landscape.batched_mlp import evaluate_plane_points, mlp_structure
from lasandbox.landscape.directions import Plane
from lasandbox.landscape.layout import ParameterLayout, check_labelled_data, loaded_weights
from lasandbox.utils.progress import progress
from lasandbox.utils.validation import check_choice, check_finite, check_int, check_real

METHODS = ("auto", "batched", "naive")


@dataclass
class GridResult:
    """``loss[j, i]`` and ``accuracy[j, i]`` at ``plane.point(a[i], b[j])`` (rows follow ``b``, as in ``contourf``)."""

    a: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    plane: Plane
    method: str
    seconds: float
    num_samples: int
    data_name: str = ""

    @property
    def num_points(self):
        return self.loss.size

    @property
    def points_per_second(self):
        return self.num_points / self.seconds if self.seconds > 0 else float("inf")

    @property
    def extent(self):
        return (float(self.a[0]), float(self.a[-1]), float(self.b[0]), float(self.b[-1]))

    def cost(self):
        """One line: method, grid size, seconds and points per second."""
        return (f"{len(self.a)}x{len(self.b)} grid, {self.method}, {self.num_samples} samples: "
                f"{self.seconds:.3f} s, {self.points_per_second:,.0f} points/s")


@dataclass
class LineResult:
    """Loss and accuracy at ``start + t*(end - start)`` for each ``t``."""

    t: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    method: str
    seconds: float


_BATCHABLE = ("method='batched' needs a plain MLP (nn.Sequential of Linear layers with ReLU/Tanh/Sigmoid between "
              "them) or a conv net whose parameters are all in Conv1D/Conv2D, BatchNorm (eval mode) and Linear "
              "layers; use method='naive' or 'auto' for this model")


def _check_method(method, model, layout):
    """``('mlp', layers)``, ``('cnn', plan)`` or ``None`` (the per-point loop)."""
    check_choice("method", method, METHODS)
    layers = mlp_structure(model, layout)
    plan = None if layers is not None else batched_cnn.cnn_structure(model, layout)
    if method == "batched" and layers is None and plan is None:
        raise ValueError(_BATCHABLE)
    if method == "naive":
        return None
    return ("mlp", layers) if layers is not None else (("cnn", plan) if plan is not None else None)


def evaluate_points(model, plane, coords, x, y, *, method="auto", show_progress=False, desc="landscape"):
    """Mean cross-entropy and accuracy at each row ``(a, b)`` of ``coords`` in ``plane``.

    Returns ``(loss, accuracy, method_used)``; the model's own weights and
    modes are left as they were. Evaluated in eval mode (as
    ``lasandbox.training.evaluate`` is): batch norm uses its running
    statistics, the same at every point, and dropout is off.
    """
    from lasandbox.training import eval_mode

    with eval_mode(model):
        return _evaluate_points(model, plane, coords, x, y, method=method, show_progress=show_progress, desc=desc)


def _evaluate_points(model, plane, coords, x, y, *, method, show_progress, desc):
    layout = ParameterLayout.from_model(model)
    if not isinstance(plane, Plane):
        raise TypeError(f"plane must be a lasandbox.landscape.Plane, got {type(plane).__name__}")
    if plane.size != layout.size:
        raise ValueError(f"plane lives in a {plane.size}-dimensional weight space, the model has {layout.size} weights")
    x, y = check_labelled_data(x, y)
    coords = check_finite("coords", np.asarray(coords, dtype=np.float64).reshape(-1, 2))
    path = _check_method(method, model, layout)
    if path is not None and path[0] == "cnn" and not batched_cnn.probe_agrees(
            model, path[1], layout, plane.origin, plane.d1, plane.d2, x, y,
            lambda vector, xs, ys: _evaluate_loaded(model, layout, vector, xs, ys)):
        if method == "batched":
            raise ValueError("method='batched': the folded conv-net pass disagrees with the per-point loop on "
                             "this model (its forward mixes samples?); use method='naive' or 'auto'")
        path = None
    bar = progress(total=len(coords), desc=f"{desc} ({'naive' if path is None else 'batched'})",
                   enabled=None if show_progress else False)
    with bar:
        if path is not None and path[0] == "mlp":
            loss, accuracy = evaluate_plane_points(path[1], plane.origin, plane.d1, plane.d2, coords, x, y,
                                                   on_chunk=bar.update)
            return loss, accuracy, "batched"
        if path is not None:
            loss, accuracy = batched_cnn.evaluate_plane_points_cnn(model, path[1], plane.origin, plane.d1, plane.d2,
                                                                   coords, x, y, on_chunk=bar.update)
            return loss, accuracy, "batched"
        loss, accuracy = np.empty(len(coords)), np.empty(len(coords))
        for p, (a, b) in enumerate(coords):
            loss[p], accuracy[p] = _evaluate_loaded(model, layout, plane.point(a, b), x, y)
            bar.update(1)
    return loss, accuracy, "naive"


def _evaluate_loaded(model, layout, vector, x, y):
    from lasandbox.training import evaluate

    with loaded_weights(layout, vector):
        return evaluate(model, x, y)


def _axis(name, low, high, count):
    low, high = check_real(f"{name}_min", low), check_real(f"{name}_max", high)
    if not high > low:
        raise ValueError(f"extent must have {name}_max > {name}_min, got {name} range [{low}, {high}]")
    return np.linspace(low, high, count)


def evaluate_grid(model, plane, x, y, *, extent=(-0.5, 1.5, -0.5, 1.5), resolution=25, method="auto",
                  show_progress=True, data_name=""):
    """Loss and accuracy over a ``resolution`` grid covering ``extent = (a_min, a_max, b_min, b_max)``.

    ``resolution`` is one int (square grid) or ``(num_a, num_b)``.
    """
    if isinstance(resolution, (tuple, list)):
        if len(resolution) != 2:
            raise ValueError(f"resolution must be an int or a pair (num_a, num_b), got {resolution!r}")
        num_a, num_b = (check_int("resolution", r, low=2) for r in resolution)
    else:
        num_a = num_b = check_int("resolution", resolution, low=2)
    if isinstance(extent, str) or not hasattr(extent, "__len__"):
        raise TypeError(f"extent must be (a_min, a_max, b_min, b_max), got {type(extent).__name__} {extent!r}")
    if len(extent) != 4:
        raise ValueError(f"extent must be (a_min, a_max, b_min, b_max), got {extent!r}")
    a = _axis("a", extent[0], extent[1], num_a)
    b = _axis("b", extent[2], extent[3], num_b)
    mesh_a, mesh_b = np.meshgrid(a, b)  # [num_b, num_a]
    coords = np.stack([mesh_a.ravel(), mesh_b.ravel()], axis=1)
    start = time.perf_counter()
    loss, accuracy, used = evaluate_points(model, plane, coords, x, y, method=method,
                                           show_progress=show_progress, desc="grid")
    seconds = time.perf_counter() - start
    return GridResult(a, b, loss.reshape(num_b, num_a), accuracy.reshape(num_b, num_a), plane, used, seconds,
                      int(np.shape(x)[0]), data_name)


def interpolate(model, start, end, x, y, *, t=None, method="auto"):
    """1-D interpolation: loss and accuracy at ``start + t*(end - start)`` (``t`` default -0.5..1.5, 41 points)."""
    layout = ParameterLayout.from_model(model)
    start_vec = layout.check_vector("start", start)
    end_vec = layout.check_vector("end", end)
    direction = end_vec - start_vec
    if not np.any(direction):
        raise ValueError("start and end are the same point: there is no line to interpolate along")
    t = np.linspace(-0.5, 1.5, 41) if t is None else np.asarray(t, dtype=np.float64).ravel()
    if t.size == 0 or not np.all(np.isfinite(t)):
        raise ValueError("t must be a non-empty array of finite interpolation fractions")
    # A line is a plane whose second coordinate stays 0; any direction not parallel to the first will do.
    helper = np.zeros_like(direction)
    helper[int(np.argmin(np.abs(direction)))] = 1.0
    line = Plane(start_vec, direction, helper)
    began = time.perf_counter()
    loss, accuracy, used = evaluate_points(model, line, np.stack([t, np.zeros_like(t)], axis=1), x, y, method=method)
    return LineResult(t, loss, accuracy, used, time.perf_counter() - began)


def evaluate_weights(model, weights, x, y, *, show_progress=False):
    """Loss and accuracy of the model at each row of ``weights`` ``[n, P]`` (e.g. recorded snapshots)."""
    layout = ParameterLayout.from_model(model)
    weights = layout.check_matrix("weights", weights)
    x, y = check_labelled_data(x, y)
    loss, accuracy = np.empty(len(weights)), np.empty(len(weights))
    for i in progress(range(len(weights)), desc="snapshots", enabled=None if show_progress else False):
        loss[i], accuracy[i] = _evaluate_loaded(model, layout, weights[i], x, y)
    return loss, accuracy
