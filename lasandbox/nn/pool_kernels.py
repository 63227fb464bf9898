"""Pooling kernels (numba) over ``[P, H, W]`` stacks of planes (``P = N*C``).

Window conventions are Paddle's and are spelled out, with a numpy reference
for each kernel, in ``conv_reference``. Like the convolution kernels these
run single-threaded (``conv_kernels`` says why); compiled on first use,
cached on disk. ``error_model='numpy'``: an all-padding window of an
exclusive average is 0/0 = nan, as in Paddle, instead of an exception.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@njit(inline="always")
def _clip(o, stride, before, kernel, size):
    start = o * stride - before
    return max(start, 0), min(start + kernel, size)


@njit(**_JIT)
def max_pool_forward(x, kh, kw, sh, sw, top, left, out, index):
    """``out`` = max over each window's real positions, ``index`` = its flat ``h*W + w`` (first maximum; -1 if none)."""
    planes, h, w = x.shape
    ho, wo = out.shape[1], out.shape[2]
    lowest = np.finfo(x.dtype).min
    for p in range(planes):
        for oh in range(ho):
            r0, r1 = _clip(oh, sh, top, kh, h)
            for ow in range(wo):
                c0, c1 = _clip(ow, sw, left, kw, w)
                best = lowest
                where = -1
                for r in range(r0, r1):
                    for c in range(c0, c1):
                        value = x[p, r, c]
                        if value > best:
                            best = value
                            where = r * w + c
                out[p, oh, ow] = best
                index[p, oh, ow] = where


@njit(inline="always")
def _columns_reached(j, sw, left, w, wo):
    """Outputs ``ow`` whose window column ``j`` (``ow*sw - left + j``) is a real column, as ``[lo, hi)``."""
    offset = j - left
    lo = 0 if offset >= 0 else (-offset + sw - 1) // sw
    hi = (w - offset + sw - 1) // sw if w - offset > 0 else 0
    return lo, min(max(hi, lo), wo), offset


@njit(**_JIT)
def max_pool_values(x, kh, kw, sh, sw, top, left, out):
    """``max_pool_forward``'s ``out`` without the indices (no gradient needed: evaluation).

    Without an index to track, the loop can run window offset by window offset
    over a row of outputs with a branch-free maximum: ~2x faster than the
    window-by-window loop on a 1-D CNN's pools.
    """
    planes, h, w = x.shape
    ho, wo = out.shape[1], out.shape[2]
    lowest = np.finfo(x.dtype).min
    for p in range(planes):
        for oh in range(ho):
            best = out[p, oh]
            best[:] = lowest
            r0, r1 = _clip(oh, sh, top, kh, h)
            for r in range(r0, r1):
                row = x[p, r]
                for j in range(kw):
                    lo, hi, offset = _columns_reached(j, sw, left, w, wo)
                    for ow in range(lo, hi):
                        best[ow] = max(best[ow], row[ow * sw + offset])


def is_pairwise(h, w, kh, kw, sh, sw, top, left, ho, wo):
    """Whether a max pool takes disjoint pairs along rows: a 1x2 window, stride (1, 2), no padding, ``w = 2*wo``
    (``MaxPool1D(2)`` on an even length): then ``max_pool_pairs`` computes it on the flat data."""
    return (kh, kw, sh, sw, top, left) == (1, 2, 1, 2, 0, 0) and ho == h and w == 2 * wo


@njit(**_JIT)
def max_pool_pairs(x, out):
    """``out[i] = max(x[2i], x[2i+1])`` on flat arrays, compared as ``max_pool_forward`` compares (strictly
    greater, from the lowest float): the same values, in one loop the compiler vectorises (~15x faster
    than ``max_pool_values`` on a 1-D CNN's pools, whose planes are single rows of 20-40 values)."""
    lowest = np.finfo(x.dtype).min
    for i in range(out.size):
        best = lowest
        first, second = x[2 * i], x[2 * i + 1]
        best = first if first > best else best
        out[i] = second if second > best else best


@njit(**_JIT)
def max_pool_pairs_index(x, wo, out, index):
    """``max_pool_pairs`` with ``max_pool_forward``'s index (``2*ow`` or ``2*ow + 1`` within the row; -1 if
    neither value exceeds the lowest float, e.g. both NaN)."""
    lowest = np.finfo(x.dtype).min
    for i in range(out.size):
        column = 2 * (i % wo)
        best, where = lowest, -1
        first, second = x[2 * i], x[2 * i + 1]
        if first > best:
            best, where = first, column
        if second > best:
            best, where = second, column + 1
        out[i] = best
        index[i] = where


@njit(**_JIT)
def max_pool_backward(dout, index, dx):
    """``dx[p, index[p, o]] += dout[p, o]`` (``dx`` is ``[P, H*W]``, zeroed here)."""
    planes, ho, wo = dout.shape
    dx[:, :] = 0
    for p in range(planes):
        for oh in range(ho):
            for ow in range(wo):
                where = index[p, oh, ow]
                if where >= 0:
                    dx[p, where] += dout[p, oh, ow]


@njit(inline="always")
def _avg_divisor(oh, ow, r0, r1, c0, c1, kh, kw, sh, sw, top, left, h, w, exclusive):
    """Real positions (``exclusive``), else the window's span inside ``size + pad_before`` (Paddle's bound)."""
    if exclusive:
        return float((r1 - r0) * (c1 - c0))
    start_h, start_w = oh * sh - top, ow * sw - left
    return float((min(start_h + kh, h + top) - start_h) * (min(start_w + kw, w + left) - start_w))


@njit(**_JIT)
def avg_pool_forward(x, kh, kw, sh, sw, top, left, exclusive, out):
    """Window sums (float64) over real positions divided as ``_avg_divisor`` says (offset by offset, as max)."""
    planes, h, w = x.shape
    ho, wo = out.shape[1], out.shape[2]
    total = np.empty(wo)
    for p in range(planes):
        for oh in range(ho):
            total[:] = 0.0
            r0, r1 = _clip(oh, sh, top, kh, h)
            for r in range(r0, r1):
                row = x[p, r]
                for j in range(kw):
                    lo, hi, offset = _columns_reached(j, sw, left, w, wo)
                    for ow in range(lo, hi):
                        total[ow] += row[ow * sw + offset]
            for ow in range(wo):
                c0, c1 = _clip(ow, sw, left, kw, w)
                out[p, oh, ow] = total[ow] / _avg_divisor(oh, ow, r0, r1, c0, c1, kh, kw, sh, sw, top, left, h, w,
                                                          exclusive)


@njit(**_JIT)
def avg_pool_backward(dout, kh, kw, sh, sw, top, left, exclusive, dx):
    """Each output gradient shared equally (by the forward divisor) among its window's real positions."""
    planes, h, w = dx.shape
    ho, wo = dout.shape[1], dout.shape[2]
    dx[:, :, :] = 0
    for p in range(planes):
        for oh in range(ho):
            r0, r1 = _clip(oh, sh, top, kh, h)
            for ow in range(wo):
                c0, c1 = _clip(ow, sw, left, kw, w)
                if r1 <= r0 or c1 <= c0:
                    continue
                share = dout[p, oh, ow] / _avg_divisor(oh, ow, r0, r1, c0, c1, kh, kw, sh, sw, top, left, h, w,
                                                       exclusive)
                for r in range(r0, r1):
                    for c in range(c0, c1):
                        dx[p, r, c] += share


@njit(**_JIT)
def adaptive_avg_forward(x, row_starts, row_stops, col_starts, col_stops, out):
    """Mean of ``x[p, row_starts[i]:row_stops[i], col_starts[j]:col_stops[j]]`` for every bin ``(i, j)``."""
    planes = x.shape[0]
    for p in range(planes):
        for i in range(row_starts.size):
            for j in range(col_starts.size):
                total = 0.0
                for r in range(row_starts[i], row_stops[i]):
                    for c in range(col_starts[j], col_stops[j]):
                        total += x[p, r, c]
                area = (row_stops[i] - row_starts[i]) * (col_stops[j] - col_starts[j])
                out[p, i, j] = total / area


@njit(**_JIT)
def adaptive_avg_backward(dout, row_starts, row_stops, col_starts, col_stops, dx):
    planes = dx.shape[0]
    dx[:, :, :] = 0
    for p in range(planes):
        for i in range(row_starts.size):
            for j in range(col_starts.size):
                area = (row_stops[i] - row_starts[i]) * (col_stops[j] - col_starts[j])
                share = dout[p, i, j] / area
                for r in range(row_starts[i], row_stops[i]):
                    for c in range(col_starts[j], col_stops[j]):
                        dx[p, r, c] += share
