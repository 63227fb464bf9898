"""Planes and lines through weight space, and the coordinates of weights in them.

A ``Plane`` is an origin and two directions; a point of the plane is
``origin + a*d1 + b*d2``. Three ways to pick one:

* ``Plane.through_points(theta_0, theta_mid, theta_end)``: the paper's
  Figure 1, ``d1 = theta_mid - theta_0``, ``d2 = theta_end - theta_0``. With
  ``orthonormalise=True`` (the default) the directions are Gram-Schmidt
  orthonormalised, so coordinates are distances in weight space and the
  picture is not sheared; with ``False`` the three points sit at (0,0), (1,0)
  and (0,1). ``plane.basis`` says which.
* ``Plane.filter_normalised(layout, weights)``: two random directions scaled
  filter by filter to the weights' norms (Li et al. 2018, "Visualizing the
  Loss Landscape of Neural Nets"), so the plot is comparable across layers and
  networks whose weights differ in scale.
* ``Plane.pca(points)``: the top two principal directions of a recorded
  trajectory, with the variance they explain.

``plane.project(points)`` returns coordinates *and* each point's distance
from the plane: a trajectory that leaves the plane is reported, not
silently flattened onto it. All arithmetic is in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lasandbox.utils.validation import check_choice, check_finite, check_int, check_real

BASES = ("raw", "orthonormal", "filter-normalised", "pca")
BIAS_POLICIES = ("zero", "weights", "normalised")
PCA_CENTRES = ("last", "mean")


@dataclass(frozen=True)
class Projection:
    """Coordinates of points in a plane and how far each point is from it.

    ``distance`` is the Euclidean norm of the part of ``point - origin`` the
    plane cannot represent; ``relative_distance`` divides it by
    ``|point - origin|`` (0 for the origin itself).
    """

    coords: np.ndarray
    distance: np.ndarray
    relative_distance: np.ndarray

    @property
    def a(self):
        return self.coords[:, 0]

    @property
    def b(self):
        return self.coords[:, 1]

    @property
    def max_relative_distance(self):
        return float(self.relative_distance.max(initial=0.0))


def _as_flat(name, vector):
    array = np.asarray(getattr(vector, "_value", vector))
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty flat weight vector, got shape {list(array.shape)}")
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real array, got dtype {array.dtype}")
    return check_finite(name, array).astype(np.float64)


class Plane:
    """``origin + a*d1 + b*d2`` in flat weight space (see the module docstring)."""

    def __init__(self, origin, d1, d2, *, basis="raw", explained_variance_ratio=None, description=""):
        origin, d1, d2 = _as_flat("origin", origin), _as_flat("d1", d1), _as_flat("d2", d2)
        if not (origin.size == d1.size == d2.size):
            raise ValueError(f"origin, d1 and d2 must have the same length, got {origin.size}, {d1.size}, {d2.size}")
        check_choice("basis", basis, BASES)
        n1, n2 = np.linalg.norm(d1), np.linalg.norm(d2)
        if n1 == 0 or n2 == 0:
            raise ValueError("d1 and d2 must be non-zero directions (two of the defining points coincide?)")
        cosine = float(d1 @ d2) / (n1 * n2)
        if abs(cosine) > 1 - 1e-9:
            raise ValueError(f"d1 and d2 are parallel (cosine {cosine:.12f}): they do not span a plane")
        self.origin, self.d1, self.d2 = origin, d1, d2
        self.basis = basis
        self.explained_variance_ratio = explained_variance_ratio
        self.description = description or basis
        self._basis_matrix = np.stack([d1, d2], axis=1)  # [P, 2]
        self._gram_inverse = np.linalg.inv(self._basis_matrix.T @ self._basis_matrix)

    # ---------------------------------------------------------- constructors
    @classmethod
    def through_points(cls, theta_0, theta_mid, theta_end, *, orthonormalise=True):
        """The plane of Figure 1: origin ``theta_0``, directions towards ``theta_mid`` and ``theta_end``."""
        points = [(name, np.asarray(getattr(v, "_value", v))) for name, v in
                  (("theta_0", theta_0), ("theta_mid", theta_mid), ("theta_end", theta_end))]
        origin = _as_flat(*points[0])
        mid, end = _as_flat(*points[1]), _as_flat(*points[2])
        if not (origin.size == mid.size == end.size):
            raise ValueError(f"theta_0, theta_mid and theta_end must have the same length, got {origin.size}, "
                             f"{mid.size}, {end.size}")
        d1, d2 = mid - origin, end - origin
        if not orthonormalise:
            return cls(origin, d1, d2, basis="raw",
                       description="origin theta_0; d1 = theta_mid - theta_0, d2 = theta_end - theta_0")
        n1 = np.linalg.norm(d1)
        if n1 == 0:
            raise ValueError("theta_mid equals theta_0: the three points do not span a plane")
        e1 = d1 / n1
        rest = d2 - (d2 @ e1) * e1
        n2 = np.linalg.norm(rest)
        # Collinear up to the points' own rounding (float32 weights on a straight path): what is left of d2 is
        # then that rounding, at most eps/2 of each coordinate's size, and normalising it gives a random axis.
        eps = max(float(np.finfo(a.dtype).eps) if a.dtype.kind == "f" else 0.0 for _, a in points)
        rounding = 4.0 * eps * max(np.linalg.norm(origin), np.linalg.norm(mid), np.linalg.norm(end))
        if n2 <= max(1e-9 * np.linalg.norm(d2), rounding, 1e-300):
            raise ValueError("theta_0, theta_mid and theta_end are collinear (up to their rounding): they do not "
                             "span a plane")
        return cls(origin, e1, rest / n2, basis="orthonormal",
                   description="origin theta_0; Gram-Schmidt of (theta_mid - theta_0, theta_end - theta_0)")

    @classmethod
    def through_trajectory(cls, trajectory, *, orthonormalise=True):
        """``through_points`` on a recorded trajectory: its first, middle and last fast weights.

        When the run ends on a sync, the last point is the end of the last
        inner loop (the fast weights just before the sync pulled them back),
        as in Figure 1; the middle point is the fast point halfway in steps.
        """
        steps, points, is_end = trajectory.fast_path()
        if len(points) < 3:
            raise ValueError(f"the trajectory has {len(points)} fast points; a plane needs at least 3")
        last = path_end_index(steps, is_end)
        middle_step = (int(steps[0]) + int(steps[last])) / 2
        middle = int(np.argmin(np.abs(steps[: last + 1] - middle_step)))  # first of equals: the inner-loop end
        return cls.through_points(points[0], points[middle], points[last], orthonormalise=orthonormalise)

    @classmethod
    def filter_normalised(cls, layout, weights, *, seed=0, bias="zero"):
        """Random plane through ``weights`` with filter-normalised directions (Li et al. 2018)."""
        seed = check_int("seed", seed, low=0)
        rng = np.random.default_rng(seed)
        d1 = filter_normalised_direction(layout, weights, rng=rng, bias=bias)
        d2 = filter_normalised_direction(layout, weights, rng=rng, bias=bias)
        return cls(weights, d1, d2, basis="filter-normalised",
                   description=f"origin = weights; random filter-normalised directions (seed {seed}, bias {bias!r})")

    @classmethod
    def pca(cls, points, *, center="last"):
        """Top-2 principal directions of ``points`` ``[n, P]`` (rows = weight snapshots).

        ``center='last'`` (Li et al. 2018) measures the trajectory from its
        final point, which becomes the origin; ``'mean'`` is textbook PCA. The
        directions are orthonormal and signed so that the trajectory moves
        towards +d1 and +d2 (``explained_variance_ratio`` holds the two ratios).
        """
        check_choice("center", center, PCA_CENTRES)
        x = np.asarray(points, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] < 3:
            raise ValueError(f"points must be [n >= 3, P] weight snapshots, got shape {list(x.shape)}")
        check_finite("points", x)
        origin = x[-1] if center == "last" else x.mean(axis=0)
        centred = x - origin
        total = float((centred * centred).sum())
        if total == 0:
            raise ValueError("all points are equal: there is no variance to explain")
        # Eigen-decompose the smaller Gram matrix: n x n for short runs, P x P for long ones.
        if centred.shape[0] <= centred.shape[1]:
            values, vectors = np.linalg.eigh(centred @ centred.T)
            order = np.argsort(values)[::-1][:2]
            values = values[order]
            if values[1] <= 1e-12 * total:
                raise ValueError("the points lie on a line: the second principal direction is undefined")
            directions = (centred.T @ vectors[:, order]) / np.sqrt(values)
        else:
            values, vectors = np.linalg.eigh(centred.T @ centred)
            order = np.argsort(values)[::-1][:2]
            values = values[order]
            if values[1] <= 1e-12 * total:
                raise ValueError("the points lie on a line: the second principal direction is undefined")
            directions = vectors[:, order]
        travel = x[-1] - x[0]
        for j in range(2):
            if travel @ directions[:, j] < 0:
                directions[:, j] *= -1
        ratio = values / total
        return cls(origin, directions[:, 0], directions[:, 1], basis="pca", explained_variance_ratio=ratio,
                   description=f"top-2 PCA of {x.shape[0]} snapshots (centre: {center}); "
                               f"explained variance {ratio[0]:.3f} + {ratio[1]:.3f}")

    # -------------------------------------------------------------- geometry
    @property
    def size(self):
        return self.origin.size

    @property
    def orthonormal(self):
        gram = self._basis_matrix.T @ self._basis_matrix
        return bool(np.allclose(gram, np.eye(2), atol=1e-9))

    def point(self, a, b):
        """``origin + a*d1 + b*d2`` (float64)."""
        return self.origin + float(a) * self.d1 + float(b) * self.d2

    def points(self, coords):
        """One weight vector per row of ``coords`` ``[n, 2]``."""
        coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        return self.origin + coords @ self._basis_matrix.T

    def project(self, points):
        """Least-squares coordinates of each row of ``points`` and its distance from the plane."""
        x = np.asarray(points, dtype=np.float64)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.size:
            raise ValueError(f"points must be flat weight vectors of {self.size} values, got shape {list(x.shape)}")
        offsets = x - self.origin
        coords = (offsets @ self._basis_matrix) @ self._gram_inverse
        residual = offsets - coords @ self._basis_matrix.T
        distance = np.linalg.norm(residual, axis=1)
        span = np.linalg.norm(offsets, axis=1)
        relative = np.divide(distance, span, out=np.zeros_like(distance), where=span > 0)
        return Projection(coords, distance, relative)

    def __repr__(self):
        return f"Plane(size={self.size}, basis={self.basis!r}: {self.description})"


def path_end_index(steps, is_inner_end):
    """Index of the end of a ``Trajectory.fast_path()``: the last inner-loop end if the run stopped on a sync."""
    last = len(steps) - 1
    if last >= 1 and is_inner_end[last - 1] and steps[last - 1] == steps[last]:
        return last - 1
    return last


def filter_normalised_direction(layout, weights, *, rng=None, seed=None, bias="zero"):
    """A random direction scaled so each filter has the norm of the weights' filter (Li et al. 2018).

    A filter is one output unit: a column of a ``Linear`` weight (Paddle's
    ``[in, out]`` layout) or the leading axis of a convolution weight
    ``[out, in, kh, kw]``. One-dimensional parameters (biases) follow
    ``bias``: ``'zero'`` leaves them out of the direction (Li et al.'s
    default), ``'weights'`` copies the weights themselves (their code's
    other option), ``'normalised'`` scales the whole vector to the
    weights' norm.
    """
    check_choice("bias", bias, BIAS_POLICIES)
    weights = layout.check_vector("weights", weights)
    if rng is not None and seed is not None:  # the seed had been ignored
        raise TypeError("filter_normalised_direction takes rng= or seed=, not both (rng draws the direction)")
    if rng is None:
        rng = np.random.default_rng(0 if seed is None else check_int("seed", seed, low=0))
    direction = np.zeros(layout.size)
    for slot, w in zip(layout.slots, layout.split(weights), strict=True):
        d = rng.standard_normal(slot.shape)
        if w.ndim <= 1:
            if bias == "zero":
                d[...] = 0
            elif bias == "weights":
                d[...] = w
            else:
                d *= _safe_ratio(np.linalg.norm(w), np.linalg.norm(d))
        else:
            axes = (0,) if w.ndim == 2 else tuple(range(1, w.ndim))  # the axes a filter spans
            d *= _safe_ratio(np.sqrt((w * w).sum(axis=axes, keepdims=True)),
                             np.sqrt((d * d).sum(axis=axes, keepdims=True)))
        direction[slot.start:slot.stop] = d.ravel()
    return direction


def filter_norms(layout, vector):
    """The norm of every filter of every multi-dimensional parameter (the quantity filter normalisation matches)."""
    norms = []
    for w in layout.split(np.asarray(vector, dtype=np.float64)):
        if w.ndim >= 2:
            axes = (0,) if w.ndim == 2 else tuple(range(1, w.ndim))
            norms.append(np.sqrt((w * w).sum(axis=axes)).ravel())
    return np.concatenate(norms) if norms else np.zeros(0)


def _safe_ratio(numerator, denominator):
    # A zero random filter (never in practice) or a dead zero filter in the weights gives a zero filter.
    return np.divide(numerator, denominator, out=np.zeros(np.broadcast(numerator, denominator).shape),
                     where=denominator > 0)


def extent_around(coords, *, margin=0.25, square=False):
    """A box ``(a_min, a_max, b_min, b_max)`` around ``coords`` padded by ``margin`` of the larger span.

    ``square=True`` gives both axes the same span (for equal-aspect plots of
    an orthonormal plane).
    """
    margin = check_real("margin", margin, low=0.0)
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    if coords.shape[0] == 0:
        raise ValueError("coords is empty: nothing to put a box around")
    low, high = coords.min(axis=0), coords.max(axis=0)
    span = max(float((high - low).max()), 1e-12)
    pad = margin * span
    if square:
        centre = (low + high) / 2
        half = span / 2 + pad
        return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)
    return (low[0] - pad, high[0] + pad, low[1] - pad, high[1] + pad)
