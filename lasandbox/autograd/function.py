"""Plumbing shared by every differentiable op: building graph nodes and un-broadcasting."""

from __future__ import annotations

import numpy as np

from lasandbox.autograd import engine
from lasandbox.autograd.tensor import Tensor, as_value


def make_result(value, parents, backward_fn):
    """Wrap ``value`` in a Tensor that remembers ``parents`` when a gradient is needed.

    ``backward_fn(grad)`` must return one gradient (or None) per parent.
    """
    if not isinstance(value, np.ndarray):
        # numpy returns scalars (np.float64) from 0-d operations: a Tensor always holds an array,
        # so that .numpy() is a 0-d ndarray as in Paddle and in-place ops on _value work.
        value = np.asarray(value)
    if engine.is_grad_enabled() and any(not p.stop_gradient for p in parents):
        return Tensor(value, stop_gradient=False, _parents=tuple(parents), _backward_fn=backward_fn)
    return Tensor(value)


def leaf_gradient(tensor, compute):
    """A parent's gradient, computed by ``compute(out)`` (``out``: an array to write it into, or None).

    When ``tensor`` is a leaf whose next gradient may be written outright (its
    flat optimizer buffer, or a cleared gradient: ``Tensor._overwritable_grad``),
    ``compute`` writes it there and None is returned, so the engine adds nothing
    (a weight's gradient goes from the matrix product straight into the optimizer's
    buffer: no temporary, no copy). Otherwise ``compute(None)``'s result is returned.
    """
    if tensor._backward_fn is None and not tensor.stop_gradient:
        target = tensor._overwritable_grad()
        if target is not None:
            compute(target)
            tensor._grad, tensor._grad_is_zero = target, False
            return None
    return compute(None)


def ensure_tensor(obj, like=None) -> Tensor:
    """Tensors pass through; numbers and arrays become constant Tensors.

    A Python number takes the float dtype of ``like`` so ``x * 2.0`` stays float32.
    """
    if isinstance(obj, Tensor):
        return obj
    like_value = like._value if isinstance(like, Tensor) else None
    return Tensor(as_value(obj, like_value))


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def normalize_axis(axis, ndim, name="axis"):
    """Return a tuple of non-negative axes (None means all axes)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    result = []
    for a in axes:
        a = int(a)
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{name} {a} is out of range for a Tensor with {ndim} dimensions")
        result.append(a % max(ndim, 1))
    return tuple(result)
