"""Shape manipulation: reshape, transpose, concat, stack, squeeze, unsqueeze, flatten, indexing."""

from __future__ import annotations

import numbers

import numpy as np

from lasandbox.autograd.function import ensure_tensor, make_result, normalize_axis
from lasandbox.autograd.tensor import Tensor


def reshape(x, shape, name=None):
    xv = x._value
    shape = [int(getattr(s, "_value", s)) for s in shape]
    # Paddle: 0 in the target shape copies the input's size at that position.
    shape = [xv.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    try:
        out = xv.reshape(shape)
    except ValueError as err:
        raise ValueError(f"cannot reshape a Tensor of shape {list(xv.shape)} to {shape}") from err
    return make_result(out, (x,), lambda g: (g.reshape(xv.shape),))


def transpose(x, perm, name=None):
    xv = x._value
    perm = [int(p) for p in perm]
    if sorted(a % max(xv.ndim, 1) for a in perm) != list(range(xv.ndim)):
        raise ValueError(f"perm must be a permutation of range({xv.ndim}), got {perm}")
    inverse = np.argsort([p % xv.ndim for p in perm])
    return make_result(np.transpose(xv, perm), (x,), lambda g: (np.transpose(g, inverse),))


def concat(x, axis=0, name=None):
    tensors = [ensure_tensor(t) for t in x]
    if not tensors:
        raise ValueError("concat needs at least one Tensor in x")
    values = [t._value for t in tensors]
    (axis,) = normalize_axis(axis, values[0].ndim)
    try:
        out = np.concatenate(values, axis=axis)
    except ValueError as err:
        shapes = [list(v.shape) for v in values]
        raise ValueError(f"concat along axis {axis} needs matching other dims, got shapes {shapes}") from err
    splits = np.cumsum([v.shape[axis] for v in values])[:-1]
    return make_result(out, tuple(tensors), lambda g: tuple(np.split(g, splits, axis=axis)))


def stack(x, axis=0, name=None):
    tensors = [ensure_tensor(t) for t in x]
    if not tensors:
        raise ValueError("stack needs at least one Tensor in x")
    values = [t._value for t in tensors]
    if len({v.shape for v in values}) != 1:
        raise ValueError(f"stack needs Tensors of one shape, got {[list(v.shape) for v in values]}")
    (axis,) = normalize_axis(axis, values[0].ndim + 1)
    out = np.stack(values, axis=axis)
    n = len(values)
    return make_result(
        out, tuple(tensors), lambda g: tuple(np.squeeze(p, axis) for p in np.split(g, n, axis=axis))
    )


def squeeze(x, axis=None, name=None):
    xv = x._value
    if axis is None:
        axes = tuple(i for i, s in enumerate(xv.shape) if s == 1)
    else:
        # Paddle ignores listed axes whose size is not 1.
        axes = tuple(a for a in normalize_axis(axis, xv.ndim) if xv.shape[a] == 1)
    return make_result(np.squeeze(xv, axis=axes), (x,), lambda g: (g.reshape(xv.shape),))


def unsqueeze(x, axis, name=None):
    xv = x._value
    axes = [axis] if np.isscalar(axis) else list(axis)
    out = xv
    for a in axes:
        out = np.expand_dims(out, int(a))
    return make_result(out, (x,), lambda g: (g.reshape(xv.shape),))


def flatten(x, start_axis=0, stop_axis=-1, name=None):
    xv = x._value
    if xv.ndim == 0:
        return reshape(x, [1])
    for label, axis in (("start_axis", start_axis), ("stop_axis", stop_axis)):
        # Paddle's range; taking the axis modulo ndim had flattened a wrong or no range silently.
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not -xv.ndim <= axis < xv.ndim:
            raise ValueError(f"flatten: {label} must be an int in [-{xv.ndim}, {xv.ndim}) for a {xv.ndim}-D "
                             f"input (shape {list(xv.shape)}), got {axis!r}")
    start, stop = (a % xv.ndim for a in (start_axis, stop_axis))
    if start > stop:
        raise ValueError(f"flatten needs start_axis <= stop_axis, got {start_axis} and {stop_axis}")
    shape = list(xv.shape[:start]) + [-1] + list(xv.shape[stop + 1 :])
    if xv.size == 0:
        shape[start] = int(np.prod(xv.shape[start : stop + 1]))
    return reshape(x, shape)


def _index_value(index):
    """Tensors inside an index are replaced by their arrays."""
    if isinstance(index, Tensor):
        return index._value
    if isinstance(index, tuple):
        return tuple(_index_value(i) for i in index)
    if isinstance(index, list):
        return [_index_value(i) for i in index]
    return index


def getitem(x, index):
    xv = x._value
    index = _index_value(index)
    out = xv[index]

    def backward(g):
        full = np.zeros_like(xv)
        np.add.at(full, index, g)  # add.at: repeated indices each contribute
        return (full,)

    return make_result(np.array(out, copy=True), (x,), backward)


def tile(x, repeat_times, name=None):
    xv = x._value
    reps = tuple(int(r) for r in repeat_times)
    out = np.tile(xv, reps)
    full_shape = (1,) * (out.ndim - xv.ndim) + xv.shape

    def backward(g):
        # Fold each repeated axis into (repeat, size) and sum the repeats.
        reps_full = (1,) * (out.ndim - len(reps)) + reps
        folded = g.reshape([d for r, s in zip(reps_full, full_shape, strict=True) for d in (r, s)])
        summed = folded.sum(axis=tuple(range(0, folded.ndim, 2)))
        return (summed.reshape(xv.shape),)

    return make_result(out, (x,), backward)
