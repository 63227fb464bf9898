"""Autograd-lite: Tensor, differentiable ops with one backward rule each, gradcheck."""

from lasandbox.autograd import methods as _methods
from lasandbox.autograd.creation import (
    arange,
    eye,
    full,
    full_like,
    get_generator,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    seed,
    uniform,
    zeros,
    zeros_like,
)
from lasandbox.autograd.engine import enable_grad, is_grad_enabled, no_grad
from lasandbox.autograd.gradcheck import gradcheck
from lasandbox.autograd.ops_math import (
    abs,
    add,
    allclose,
    argmax,
    argmin,
    assign,
    cast,
    clip,
    cos,
    divide,
    equal,
    exp,
    greater_equal,
    greater_than,
    isclose,
    less_equal,
    less_than,
    log,
    matmul,
    maximum,
    minimum,
    multiply,
    neg,
    not_equal,
    pow,
    scale,
    sin,
    sqrt,
    square,
    subtract,
    tanh,
    where,
)
from lasandbox.autograd.ops_reduce import amax, amin, logsumexp, max, mean, min, sum
from lasandbox.autograd.ops_shape import concat, flatten, reshape, squeeze, stack, tile, transpose, unsqueeze
from lasandbox.autograd.tensor import (
    Tensor,
    as_dtype,
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    is_tensor,
    set_default_dtype,
    to_tensor,
)

_methods.install()

__all__ = [
    "Tensor", "to_tensor", "is_tensor", "as_dtype", "gradcheck",
    "no_grad", "enable_grad", "is_grad_enabled",
    "float16", "float32", "float64", "int32", "int64", "bool_",
    "add", "subtract", "multiply", "divide", "pow", "neg", "exp", "log", "sqrt", "abs", "tanh",
    "sin", "cos", "allclose", "isclose", "randperm", "set_default_dtype", "get_default_dtype",
    "square", "matmul", "where", "clip", "maximum", "minimum", "cast", "assign", "scale",
    "equal", "not_equal", "greater_than", "greater_equal", "less_than", "less_equal",
    "argmax", "argmin", "sum", "mean", "max", "min", "amax", "amin", "logsumexp",
    "reshape", "transpose", "concat", "stack", "squeeze", "unsqueeze", "flatten", "tile",
    "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "linspace",
    "randn", "rand", "uniform", "normal", "randint", "eye", "seed", "get_generator",
]
