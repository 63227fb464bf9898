"""ReLU forward and backward as single passes (numba), with their numpy references.

numpy's ``x * (x > 0)`` makes a bool mask and then multiplies float by bool (a
cast per element), and the backward ``g * mask`` does the same again: two
passes and a temporary each way. Here the forward writes ``max(x, 0)`` in one
pass (NaN stays NaN, as numpy's version gives), and the backward reads the
saved output instead of a mask: ``g`` where the output is positive, else 0
(Paddle's choice at 0). Single-threaded like the other layer kernels
(``conv_kernels`` says why); ``nogil`` so worker threads can overlap them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True}


@njit(**_JIT)
def relu_forward(x, out):
    """``out = max(x, 0)`` elementwise (both contiguous, same shape); NaN propagates."""
    xf, of = x.reshape(-1), out.reshape(-1)
    zero = xf.dtype.type(0)
    for i in range(xf.size):
        v = xf[i]
        of[i] = v if (v > zero or v != v) else zero


@njit(**_JIT)
def relu_backward(grad, out, grad_x):
    """``grad_x = grad`` where the forward's output ``out`` is positive, else 0."""
    gf, of, xf = grad.reshape(-1), out.reshape(-1), grad_x.reshape(-1)
    zero = gf.dtype.type(0)
    for i in range(gf.size):
        xf[i] = gf[i] if of[i] > zero else zero


def relu_forward_reference(x):
    """numpy: the same values as ``relu_forward`` (NaN kept, +0 for the rest)."""
    return np.where((x > 0) | np.isnan(x), x, np.zeros((), x.dtype))


def relu_backward_reference(grad, out):
    return np.where(out > 0, grad, np.zeros((), grad.dtype))
