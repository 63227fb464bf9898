"""Gradient clipping (``paddle.nn.ClipGradByGlobalNorm`` / ``ClipGradByNorm`` / ``ClipGradByValue``).

Two ways in, same numbers (Paddle 3.3.1's, computed in the gradients' dtype):

* Paddle's call form ``clip(params_grads)`` takes ``(param, grad)`` pairs and returns new
  pairs. Pairs without a gradient are dropped; parameters with ``need_clip=False`` pass
  through unclipped (and, for the global norm, do not count towards it). As in Paddle,
  ``ClipGradByGlobalNorm`` scales the gradients in place and returns them; the other two
  return new Tensors.
* ``clip_(grads, need_clip=None)`` clips a list of float arrays in place: what an optimizer
  given ``grad_clip=`` calls on its gradient buffers before an update. ``need_clip`` is an
  optional list of booleans, one per array, with the meaning above; without it, an array
  that is the gradient of a parameter with ``need_clip=False`` is recognised and skipped.
"""

from __future__ import annotations

import numpy as np

from lasandbox.autograd.tensor import Tensor
from lasandbox.utils.validation import AssertedValueError, check_real


def _needs_clip(param):
    return getattr(param, "need_clip", True) is not False


def _mask(grads, need_clip):
    if need_clip is None:
        # Bare arrays from an optimizer: skip those that are the gradient of a need_clip=False parameter.
        from lasandbox.nn.param import UNCLIPPED

        skipped = {id(p._grad) for p in list(UNCLIPPED.values()) if p._grad is not None}
        return [id(g) not in skipped for g in grads]
    flags = [bool(f) for f in need_clip]
    if len(flags) != len(grads):
        raise ValueError(f"need_clip has {len(flags)} entries for {len(grads)} gradients")
    return flags


class ClipGradBase:
    """Base of the gradient clippers: subclasses implement ``_clip_arrays(arrays)`` (in place)."""

    def __call__(self, params_grads):
        """Paddle's form: ``[(param, grad), ...]`` -> clipped pairs (see the module docstring)."""
        pairs = [(p, g) for p, g in params_grads if g is not None]
        chosen = [(p, g) for p, g in pairs if _needs_clip(p)]
        if not chosen:
            return list(params_grads) if isinstance(self, ClipGradByGlobalNorm) else pairs
        clipped = iter(self._clip_tensors([g for _, g in chosen]))
        return [(p, next(clipped)) if _needs_clip(p) else (p, g) for p, g in pairs]

    def _clip_tensors(self, grads):
        # New Tensors (ClipGradByGlobalNorm overrides this to scale in place, as Paddle does).
        arrays = [np.array(g._value, copy=True) for g in grads]
        self._clip_arrays(arrays)
        return [Tensor(a) for a in arrays]

    def clip_(self, grads, need_clip=None):
        """Clip the float arrays ``grads`` in place (the optimizer's form); returns them."""
        grads = list(grads)
        flags = _mask(grads, need_clip)
        chosen = [g for g, f in zip(grads, flags, strict=True) if f]
        if chosen:
            self._clip_arrays(chosen)
        return grads

    def _clip_arrays(self, arrays):
        raise NotImplementedError


class ClipGradByValue(ClipGradBase):
    """Clip every gradient element into ``[min, max]`` (``min`` defaults to ``-max``)."""

    def __init__(self, max, min=None):  # noqa: A002 - Paddle's names
        high = check_real("max", max)
        if min is None:
            if not high > 0:
                raise AssertedValueError(f"max must be > 0 when min is not given, got {max!r}")
            low = -high
        else:
            low = check_real("min", min)
        if low > high:
            raise ValueError(f"min ({low}) must not exceed max ({high})")
        self.max, self.min = high, low

    def __str__(self):
        return f"Clip Gradient By Value, min = {self.min:f}, max={self.max:f}"

    def _clip_arrays(self, arrays):
        for a in arrays:
            np.clip(a, a.dtype.type(self.min), a.dtype.type(self.max), out=a)


class ClipGradByNorm(ClipGradBase):
    """Scale each gradient whose L2 norm exceeds ``clip_norm`` down to norm ``clip_norm``."""

    def __init__(self, clip_norm):
        self.clip_norm = check_real("clip_norm", clip_norm, low=0.0)

    def __str__(self):
        return f"Gradient Clip By Norm, clip_norm={self.clip_norm:f}"

    def _clip_arrays(self, arrays):
        for a in arrays:
            norm = _l2(a)
            limit = a.dtype.type(self.clip_norm)
            if norm > limit:
                a *= limit / norm


class ClipGradByGlobalNorm(ClipGradBase):
    """Scale all gradients by ``clip_norm / max(global_norm, clip_norm)``.

    ``global_norm`` is the L2 norm of all the gradients together: ``sqrt(sum_i ||g_i||^2)``,
    summed in float32 (float64 when a gradient is float64), as Paddle does. With
    ``auto_skip_clip`` the gradients are left alone unless ``global_norm > clip_norm``
    (then the scale is ``clip_norm / global_norm``, the same number).
    """

    def __init__(self, clip_norm, group_name="default_group", auto_skip_clip=False):
        self.clip_norm = check_real("clip_norm", clip_norm, low=0.0)
        if not isinstance(group_name, str):
            raise TypeError(f"group_name must be a str, got {type(group_name).__name__}")
        if not isinstance(auto_skip_clip, bool):
            raise AssertedValueError(f"auto_skip_clip must be a bool, got {auto_skip_clip!r}")
        self.group_name = group_name
        self.auto_skip_clip = auto_skip_clip

    def __str__(self):
        return f"Gradient Clip By GlobalNorm, global_norm={self.clip_norm:f}"

    def _scale(self, arrays):
        """The factor to multiply every gradient by, or None to leave them alone."""
        wide = any(a.dtype == np.float64 for a in arrays)
        dtype = np.dtype(np.float64 if wide else np.float32)
        squares = np.array([_sum_of_squares(a) for a in arrays], dtype=dtype)
        global_norm = np.sqrt(squares.sum(dtype=dtype))
        limit = dtype.type(self.clip_norm)
        if self.auto_skip_clip and not global_norm > limit:
            return None
        return limit / np.maximum(global_norm, limit)

    def _clip_arrays(self, arrays):
        scale = self._scale(arrays)
        if scale is not None:
            for a in arrays:
                a *= a.dtype.type(scale)

    def _clip_tensors(self, grads):
        # In place, as Paddle's dygraph clip does for non-0-D gradients (0-D ones get new Tensors).
        arrays = [g._value for g in grads]
        scale = self._scale(arrays)
        if scale is None:
            return list(grads)
        out = []
        for g in grads:
            if g._value.ndim:
                g._value *= g.dtype.type(scale)
                out.append(g)
            else:
                out.append(Tensor(g._value * g.dtype.type(scale)))
        return out


def _sum_of_squares(a):
    """``sum(a**2)`` accumulated in float64, rounded to ``a``'s dtype (Paddle's squared_l2_norm)."""
    wide = a.astype(np.float64, copy=False).ravel()
    return a.dtype.type(np.dot(wide, wide))


def _l2(a):
    return np.sqrt(_sum_of_squares(a))


__all__ = ["ClipGradBase", "ClipGradByValue", "ClipGradByNorm", "ClipGradByGlobalNorm"]
