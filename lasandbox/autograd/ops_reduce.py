"""Reductions: sum, mean, max, min (Paddle's ``axis``/``keepdim`` names)."""

from __future__ import annotations

import numpy as np

from lasandbox.autograd.function import make_result, normalize_axis


def _expand_back(g, shape, axes, keepdim):
    """Reinsert reduced axes so ``g`` broadcasts against the input shape."""
    if not keepdim:
        for a in sorted(axes):
            g = np.expand_dims(g, a)
    return np.broadcast_to(g, shape)


def sum(x, axis=None, dtype=None, keepdim=False, name=None):  # noqa: A001 - Paddle's name
    xv = x._value
    axes = normalize_axis(axis, xv.ndim)
    out = np.sum(xv, axis=axes, keepdims=keepdim)
    if dtype is not None:
        out = out.astype(dtype)
    elif xv.dtype == np.bool_:
        out = out.astype(np.int64)
    out = np.asarray(out)
    return make_result(out, (x,), lambda g: (_expand_back(g, xv.shape, axes, keepdim).astype(xv.dtype),))


def mean(x, axis=None, keepdim=False, name=None):
    xv = x._value
    axes = normalize_axis(axis, xv.ndim)
    count = int(np.prod([xv.shape[a] for a in axes])) if xv.ndim else 1
    out = np.asarray(np.mean(xv, axis=axes, keepdims=keepdim), dtype=xv.dtype)
    return make_result(
        out, (x,), lambda g: ((_expand_back(g, xv.shape, axes, keepdim) / count).astype(xv.dtype),)
    )


def _extreme(np_fn):
    def reduce(x, axis=None, keepdim=False, name=None):
        """Gradient goes to the extreme entries, shared equally between ties."""
        xv = x._value
        axes = normalize_axis(axis, xv.ndim)
        out = np.asarray(np_fn(xv, axis=axes, keepdims=keepdim))
        out_kept = np_fn(xv, axis=axes, keepdims=True)

        def backward(g):
            hits = xv == out_kept
            share = hits / hits.sum(axis=axes, keepdims=True)
            return ((_expand_back(g, xv.shape, axes, keepdim) * share).astype(xv.dtype),)

        return make_result(out, (x,), backward)

    reduce.__name__ = np_fn.__name__
    return reduce


max = _extreme(np.max)  # noqa: A001 - Paddle's name
min = _extreme(np.min)  # noqa: A001 - Paddle's name
amax = max
amin = min


def logsumexp(x, axis=None, keepdim=False, name=None):
    xv = x._value
    axes = normalize_axis(axis, xv.ndim)
    shift = np.max(xv, axis=axes, keepdims=True)
    summed = np.sum(np.exp(xv - shift), axis=axes, keepdims=True)
    out_kept = np.log(summed) + shift
    out = out_kept if keepdim else np.squeeze(out_kept, axis=axes)

    def backward(g):
        return (_expand_back(g, xv.shape, axes, keepdim) * np.exp(xv - out_kept),)

    return make_result(np.asarray(out), (x,), backward)
