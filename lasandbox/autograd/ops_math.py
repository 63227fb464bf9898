"""Elementwise arithmetic, matmul and friends, each with one backward rule."""

from __future__ import annotations

import numpy as np

from lasandbox.autograd.function import ensure_tensor, leaf_gradient, make_result, unbroadcast
from lasandbox.autograd.tensor import Tensor, as_dtype


def _binary(x, y):
    if not isinstance(x, Tensor):
        x = ensure_tensor(x, like=y)
    y = ensure_tensor(y, like=x)
    return x, y


def add(x, y, name=None):
    x, y = _binary(x, y)
    xs, ys = x._value.shape, y._value.shape
    return make_result(x._value + y._value, (x, y), lambda g: (unbroadcast(g, xs), unbroadcast(g, ys)))


def subtract(x, y, name=None):
    x, y = _binary(x, y)
    xs, ys = x._value.shape, y._value.shape
    return make_result(x._value - y._value, (x, y), lambda g: (unbroadcast(g, xs), unbroadcast(-g, ys)))


def multiply(x, y, name=None):
    x, y = _binary(x, y)
    xv, yv = x._value, y._value
    return make_result(
        xv * yv, (x, y), lambda g: (unbroadcast(g * yv, xv.shape), unbroadcast(g * xv, yv.shape))
    )


def divide(x, y, name=None):
    x, y = _binary(x, y)
    xv, yv = x._value, y._value
    out = xv / yv

    def backward(g):
        gx = g / yv
        return unbroadcast(gx, xv.shape), unbroadcast(-gx * out, yv.shape)

    return make_result(out, (x, y), backward)


def pow(x, y, name=None):  # noqa: A001 - Paddle's name
    """``x ** y``; the gradient wrt ``y`` uses ``log(x)`` and is defined for ``x > 0``."""
    x, y = _binary(x, y)
    xv, yv = x._value, y._value
    out = np.power(xv, yv)

    def backward(g):
        gx = g * yv * np.power(xv, yv - 1)
        gy = None
        if not y.stop_gradient:
            with np.errstate(divide="ignore", invalid="ignore"):
                gy = unbroadcast(g * out * np.log(np.where(xv > 0, xv, 1)), yv.shape)
        return unbroadcast(gx, xv.shape), gy

    return make_result(out, (x, y), backward)


def neg(x, name=None):
    return make_result(-x._value, (x,), lambda g: (-g,))


def exp(x, name=None):
    out = np.exp(x._value)
    return make_result(out, (x,), lambda g: (g * out,))


def log(x, name=None):
    xv = x._value
    return make_result(np.log(xv), (x,), lambda g: (g / xv,))


def sqrt(x, name=None):
    out = np.sqrt(x._value)
    return make_result(out, (x,), lambda g: (g / (2 * out),))


def sin(x, name=None):
    xv = x._value
    return make_result(np.sin(xv), (x,), lambda g: (g * np.cos(xv),))


def cos(x, name=None):
    xv = x._value
    return make_result(np.cos(xv), (x,), lambda g: (-g * np.sin(xv),))


def abs(x, name=None):  # noqa: A001 - Paddle's name
    xv = x._value
    return make_result(np.abs(xv), (x,), lambda g: (g * np.sign(xv),))


def tanh(x, name=None):
    out = np.tanh(x._value)
    return make_result(out, (x,), lambda g: (g * (1 - out * out),))


def square(x, name=None):
    xv = x._value
    return make_result(xv * xv, (x,), lambda g: (2 * g * xv,))


def matmul(x, y, transpose_x=False, transpose_y=False, name=None):
    """Matrix product with numpy's batching rules; 1-D operands are promoted as in numpy."""
    x, y = _binary(x, y)
    xv, yv = x._value, y._value
    if transpose_x and xv.ndim >= 2:
        xv = np.swapaxes(xv, -1, -2)
    if transpose_y and yv.ndim >= 2:
        yv = np.swapaxes(yv, -1, -2)
    if xv.ndim == 0 or yv.ndim == 0:
        raise ValueError("matmul needs x and y with at least one dimension; use multiply for scalars")
    if xv.shape[-1] != yv.shape[-2 if yv.ndim >= 2 else -1]:
        raise ValueError(
            f"matmul shape mismatch: x has shape {list(x.shape)}, y has shape {list(y.shape)} "
            f"(transpose_x={transpose_x}, transpose_y={transpose_y}); x's last dim must equal y's "
            f"{'second-to-last' if yv.ndim >= 2 else 'only'} dim"
        )
    out = np.matmul(xv, yv)

    def backward(g):
        if xv.ndim == 2 and yv.ndim == 2:  # the common case: only the gradients needed, leaves written in place
            ga = gb = None
            if not x.stop_gradient:
                ga = np.matmul(g, yv.T).T if transpose_x else leaf_gradient(x, lambda o: np.matmul(g, yv.T, out=o))
            if not y.stop_gradient:
                gb = np.matmul(xv.T, g).T if transpose_y else leaf_gradient(y, lambda o: np.matmul(xv.T, g, out=o))
            return ga, gb
        # 1-D operands as numpy promotes them: x to a row [1, k], y to a column [k, 1]; the gradient
        # gets back the axes that the promotion removed from the output (both, for a vector dot product).
        a = xv[None, :] if xv.ndim == 1 else xv
        b = yv[:, None] if yv.ndim == 1 else yv
        g2 = np.reshape(g, np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1]))
        ga = np.matmul(g2, np.swapaxes(b, -1, -2))
        gb = np.matmul(np.swapaxes(a, -1, -2), g2)
        ga = unbroadcast(ga, a.shape).reshape(xv.shape)
        gb = unbroadcast(gb, b.shape).reshape(yv.shape)
        if transpose_x and xv.ndim >= 2:
            ga = np.swapaxes(ga, -1, -2)
        if transpose_y and yv.ndim >= 2:
            gb = np.swapaxes(gb, -1, -2)
        return ga, gb

    return make_result(out, (x, y), backward)


def where(condition, x, y, name=None):
    """Pick from ``x`` where ``condition`` holds, else from ``y``; gradients follow the pick."""
    cond = np.asarray(getattr(condition, "_value", condition), dtype=bool)
    x, y = _binary(x, y)
    xv, yv = x._value, y._value
    out = np.where(cond, xv, yv)

    def backward(g):
        return unbroadcast(np.where(cond, g, 0), xv.shape), unbroadcast(np.where(cond, 0, g), yv.shape)

    return make_result(out.astype(np.result_type(xv, yv), copy=False), (x, y), backward)


def clip(x, min=None, max=None, name=None):  # noqa: A002 - Paddle's names
    """Clamp into ``[min, max]``; the gradient passes where the value was not clamped."""
    xv = x._value
    lo = -np.inf if min is None else float(getattr(min, "_value", min))
    hi = np.inf if max is None else float(getattr(max, "_value", max))
    if lo > hi:
        raise ValueError(f"clip needs min <= max, got min={lo} and max={hi}")
    out = np.clip(xv, lo, hi).astype(xv.dtype, copy=False)
    inside = (xv >= lo) & (xv <= hi)
    return make_result(out, (x,), lambda g: (g * inside,))


def _shared_extreme(x, y, np_fn, x_wins):
    """``np_fn(x, y)`` whose gradient goes to the picked input, halved at a tie (as Paddle and torch do)."""
    x, y = _binary(x, y)
    xv, yv = x._value, y._value
    picked, tie = x_wins(xv, yv), xv == yv

    def backward(g):
        share_x = np.where(tie, g.dtype.type(0.5), picked).astype(g.dtype, copy=False)
        return unbroadcast(g * share_x, xv.shape), unbroadcast(g * (1 - share_x), yv.shape)

    return make_result(np_fn(xv, yv), (x, y), backward)


def maximum(x, y, name=None):
    """Elementwise max; where ``x == y`` each input gets half the gradient (Paddle 3.3.1's rule)."""
    return _shared_extreme(x, y, np.maximum, np.greater)


def minimum(x, y, name=None):
    """Elementwise min; where ``x == y`` each input gets half the gradient (Paddle 3.3.1's rule)."""
    return _shared_extreme(x, y, np.minimum, np.less)


def cast(x, dtype):
    """Convert dtype; the gradient is converted back."""
    dtype = as_dtype(dtype)
    source = x._value.dtype
    return make_result(x._value.astype(dtype), (x,), lambda g: (g.astype(source),))


def assign(x, output=None):
    """A copy of ``x`` that stays in the graph (``clone``)."""
    x = ensure_tensor(x)
    return make_result(np.array(x._value, copy=True), (x,), lambda g: (g,))


def scale(x, scale=1.0, bias=0.0, bias_after_scale=True, name=None):
    if bias_after_scale:
        return add(multiply(x, scale), bias)
    return multiply(add(x, bias), scale)


# Comparisons give boolean Tensors and no gradient.
def _compare(op):
    def compare(x, y, name=None):
        x, y = _binary(x, y)
        return Tensor(op(x._value, y._value))

    compare.__name__ = op.__name__
    return compare


equal = _compare(np.equal)
not_equal = _compare(np.not_equal)
greater_than = _compare(np.greater)
greater_equal = _compare(np.greater_equal)
less_than = _compare(np.less)
less_equal = _compare(np.less_equal)


def isclose(x, y, rtol=1e-05, atol=1e-08, equal_nan=False, name=None):
    """Elementwise ``|x - y| <= atol + rtol * |y|`` (a boolean Tensor, no gradient)."""
    x, y = _binary(x, y)
    return Tensor(np.isclose(x._value, y._value, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(x, y, rtol=1e-05, atol=1e-08, equal_nan=False, name=None):
    """Whether every element is close (a 0-d boolean Tensor, as Paddle returns)."""
    x, y = _binary(x, y)
    return Tensor(np.asarray(np.allclose(x._value, y._value, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def argmax(x, axis=None, keepdim=False, dtype="int64", name=None):
    out = np.argmax(x._value, axis=axis, keepdims=keepdim if axis is not None else False)
    return Tensor(np.asarray(out, dtype=as_dtype(dtype)))


def argmin(x, axis=None, keepdim=False, dtype="int64", name=None):
    out = np.argmin(x._value, axis=axis, keepdims=keepdim if axis is not None else False)
    return Tensor(np.asarray(out, dtype=as_dtype(dtype)))
