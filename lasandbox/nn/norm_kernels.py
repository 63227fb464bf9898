"""Batch-norm kernels (numba) over ``[N, C, S]`` views (``S`` = the spatial positions, 1 for ``[N, C]``).

Statistics and gradient sums accumulate in float64 (two passes for the
variance, so it is not the difference of two large numbers); the
elementwise parts run in the data's dtype. Single-threaded like the other
layer kernels (``conv_kernels`` says why). The numpy references are in
``conv_reference`` (``batch_statistics``, ``batch_norm_forward``,
``batch_norm_backward``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Reassociating the sums lets them vectorise; the parity tests bound the difference.
_JIT = {"cache": True, "nogil": True, "fastmath": {"reassoc"}}


@njit(**_JIT)
def batch_statistics(x, mean, var):
    """Per-channel mean and biased variance (float64 outputs) of ``x`` ``[N, C, S]``."""
    n, channels, s = x.shape
    count = n * s
    for c in range(channels):
        total = 0.0
        for i in range(n):
            row = x[i, c]
            for k in range(s):
                total += row[k]
        mu = total / count
        squares = 0.0
        for i in range(n):
            row = x[i, c]
            for k in range(s):
                d = row[k] - mu
                squares += d * d
        mean[c] = mu
        var[c] = squares / count


@njit(**_JIT)
def affine_channels(x, scale, shift, out):
    """``out[:, c] = x[:, c] * scale[c] + shift[c]`` (the normalisation folded into one multiply-add)."""
    n, channels, s = x.shape
    for i in range(n):
        for c in range(channels):
            a, b = scale[c], shift[c]
            src, dst = x[i, c], out[i, c]
            for k in range(s):
                dst[k] = src[k] * a + b


@njit(**_JIT)
def gradient_sums(dout, x, mean, sum_dout, sum_dout_centered):
    """``sum_dout[c] = sum dout[:, c]``, ``sum_dout_centered[c] = sum dout[:, c] * (x[:, c] - mean[c])`` (float64)."""
    n, channels, s = x.shape
    for c in range(channels):
        total, weighted = 0.0, 0.0
        mu = mean[c]
        for i in range(n):
            g, v = dout[i, c], x[i, c]
            for k in range(s):
                total += g[k]
                weighted += g[k] * (v[k] - mu)
        sum_dout[c] = total
        sum_dout_centered[c] = weighted


@njit(**_JIT)
def batch_stats_input_grad(dout, x, mean, scale, mean_dout, slope, dx):
    """``dx = scale * (dout - mean_dout - (x - mean) * slope)`` per channel.

    With ``scale = weight*inv_std``, ``mean_dout = sum(dout)/M`` and
    ``slope = sum(dout*(x - mean)) * inv_std^2 / M`` this is the gradient
    through batch statistics (``M = N*S``).
    """
    n, channels, s = x.shape
    for i in range(n):
        for c in range(channels):
            a, m, mu, k1 = scale[c], mean_dout[c], mean[c], slope[c]
            g, v, d = dout[i, c], x[i, c], dx[i, c]
            for k in range(s):
                d[k] = a * (g[k] - m - (v[k] - mu) * k1)


def as_channels_view(x):
    """``x`` ``[N, C, *spatial]`` as a contiguous ``[N, C, S]`` array (also when ``N`` or ``S`` is 0)."""
    x = np.ascontiguousarray(x)
    # S spelled out: reshape(..., -1) cannot infer it from an empty array.
    return x.reshape(x.shape[0], x.shape[1], int(np.prod(x.shape[2:], dtype=np.int64)))
