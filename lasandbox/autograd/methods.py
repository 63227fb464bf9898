"""Operators and Paddle-style methods on Tensor, bound to the differentiable ops."""

from __future__ import annotations

from lasandbox.autograd import ops_math, ops_reduce, ops_shape
from lasandbox.autograd.function import ensure_tensor
from lasandbox.autograd.tensor import Tensor


def _reflected(op):
    return lambda self, other: op(ensure_tensor(other, like=self), self)


_OPERATORS = {
    "__add__": ops_math.add,
    "__radd__": _reflected(ops_math.add),
    "__sub__": ops_math.subtract,
    "__rsub__": _reflected(ops_math.subtract),
    "__mul__": ops_math.multiply,
    "__rmul__": _reflected(ops_math.multiply),
    "__truediv__": ops_math.divide,
    "__rtruediv__": _reflected(ops_math.divide),
    "__pow__": ops_math.pow,
    "__rpow__": _reflected(ops_math.pow),
    "__matmul__": ops_math.matmul,
    "__rmatmul__": _reflected(ops_math.matmul),
    "__neg__": ops_math.neg,
    "__abs__": ops_math.abs,
    "__eq__": ops_math.equal,
    "__ne__": ops_math.not_equal,
    "__lt__": ops_math.less_than,
    "__le__": ops_math.less_equal,
    "__gt__": ops_math.greater_than,
    "__ge__": ops_math.greater_equal,
    "__getitem__": ops_shape.getitem,
}

_METHODS = {
    "add": ops_math.add,
    "subtract": ops_math.subtract,
    "multiply": ops_math.multiply,
    "divide": ops_math.divide,
    "pow": ops_math.pow,
    "matmul": ops_math.matmul,
    "exp": ops_math.exp,
    "log": ops_math.log,
    "sqrt": ops_math.sqrt,
    "abs": ops_math.abs,
    "tanh": ops_math.tanh,
    "sin": ops_math.sin,
    "cos": ops_math.cos,
    "allclose": ops_math.allclose,
    "isclose": ops_math.isclose,
    "square": ops_math.square,
    "clip": ops_math.clip,
    "argmax": ops_math.argmax,
    "argmin": ops_math.argmin,
    "equal": ops_math.equal,
    "sum": ops_reduce.sum,
    "mean": ops_reduce.mean,
    "max": ops_reduce.max,
    "min": ops_reduce.min,
    "logsumexp": ops_reduce.logsumexp,
    "reshape": ops_shape.reshape,
    "transpose": ops_shape.transpose,
    "squeeze": ops_shape.squeeze,
    "unsqueeze": ops_shape.unsqueeze,
    "flatten": ops_shape.flatten,
    "tile": ops_shape.tile,
}


def _t(self):
    """Reverse the axes (Paddle's ``Tensor.T``)."""
    return ops_shape.transpose(self, list(range(self.ndim))[::-1])


def install():
    for name, fn in {**_OPERATORS, **_METHODS}.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(_t)
