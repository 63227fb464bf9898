"""Readable numpy references for the convolution, pooling and batch-norm kernels.

Each function computes from the definition, with no concern for speed, what
a numba kernel in ``conv_kernels``, ``pool_kernels`` or ``norm_kernels``
computes fast; the parity tests compare the two on random data. Arrays are
``[N, C, H, W]`` and windows are described by a ``conv_args.Geometry``
(1-D ops have ``H = 1``).

Window conventions (Paddle's): output ``o`` along a dim covers input
positions ``o*stride - pad_before + t*dilation`` for ``t < kernel``;
positions outside ``[0, size)`` are padding. Pools only ever look at real
input positions: max pooling ignores padding (an all-padding window, which
``ceil_mode`` can produce, gives the dtype's lowest value, as Paddle's CPU
kernel does), average pooling divides by the number of real positions
(``exclusive=True``) or by the window's extent inside the input plus the
padding *before* it along each dim (``exclusive=False``; Paddle bounds a
window by ``size + pad_before`` also at the far end, which only matters
for the last windows of ``ceil_mode``). ``divisor_override`` multiplies that
average by ``kernel_h * kernel_w / divisor_override``, as Paddle does.
"""

from __future__ import annotations

import numpy as np


def _window_positions(o, size, kernel, stride, dilation, before):
    """Input positions of output ``o``'s window that lie inside ``[0, size)``."""
    positions = o * stride - before + dilation * np.arange(kernel)
    return positions[(positions >= 0) & (positions < size)]


def _tap_slices(geom, i, j):
    """For kernel tap (i, j): the output rows/cols it reaches and the input rows/cols they read."""
    (h, w), (ho, wo) = geom.in_size, geom.out_size
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    top, _, left, _ = geom.pads
    rows = np.arange(ho) * sh - top + i * dh
    cols = np.arange(wo) * sw - left + j * dw
    keep_r, keep_c = (rows >= 0) & (rows < h), (cols >= 0) & (cols < w)
    return np.flatnonzero(keep_r), rows[keep_r], np.flatnonzero(keep_c), cols[keep_c]


def conv_forward(x, weight, bias, geom, groups):
    """``out[n, o] = bias[o] + sum_{c in o's group, i, j} weight[o, c, i, j] * x[n, c, tap]``."""
    n, c = x.shape[:2]
    c_out, c_group, kh, kw = weight.shape
    out = np.zeros((n, c_out, *geom.out_size), dtype=np.float64)
    per_out = c_out // groups
    for g in range(groups):
        xs, os_ = slice(g * c_group, (g + 1) * c_group), slice(g * per_out, (g + 1) * per_out)
        for i in range(kh):
            for j in range(kw):
                out_r, in_r, out_c, in_c = _tap_slices(geom, i, j)
                patch = x[:, xs][:, :, in_r][:, :, :, in_c]
                out[:, os_, out_r[:, None], out_c[None, :]] += np.einsum("nchw,oc->nohw", patch, weight[os_, :, i, j])
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out.astype(x.dtype)


def conv_backward(dout, x, weight, geom, groups):
    """Gradients ``(dx, dweight, dbias)`` of ``conv_forward`` for the output gradient ``dout``."""
    c_out, c_group, kh, kw = weight.shape
    dx = np.zeros(x.shape, dtype=np.float64)
    dweight = np.zeros(weight.shape, dtype=np.float64)
    per_out = c_out // groups
    for g in range(groups):
        xs, os_ = slice(g * c_group, (g + 1) * c_group), slice(g * per_out, (g + 1) * per_out)
        for i in range(kh):
            for j in range(kw):
                out_r, in_r, out_c, in_c = _tap_slices(geom, i, j)
                patch = x[:, xs][:, :, in_r][:, :, :, in_c]
                grad = dout[:, os_][:, :, out_r][:, :, :, out_c]
                dweight[os_, :, i, j] += np.einsum("nohw,nchw->oc", grad, patch)
                contribution = np.einsum("nohw,oc->nchw", grad, weight[os_, :, i, j])
                np.add.at(dx, (slice(None), xs, in_r[:, None], in_c[None, :]), contribution)
    dbias = dout.sum(axis=(0, 2, 3))
    return dx.astype(x.dtype), dweight.astype(weight.dtype), dbias.astype(dout.dtype)


def conv_transpose_forward(x, weight, bias, stride, dilation, pads_before, out_size, groups):
    """The transposed convolution by its definition, a scatter: each input value adds its kernel, scaled.

    ``x`` ``[N, C, H, W]``, ``weight`` ``[C, Co/groups, kh, kw]``; input ``(h, w)`` of channel ``c``
    adds ``x[n, c, h, w] * weight[c, o, i, j]`` to output ``(h*sh - top + i*dh, w*sw - left + j*dw)``
    of channel ``o`` of ``c``'s group, where that lies inside ``out_size``. Written without the
    ordinary convolution, so the fast path (its input gradient) is checked against the definition.
    """
    n, c, h, w = x.shape
    c_in, per_group, kh, kw = weight.shape
    per_in = c // groups
    out = np.zeros((n, per_group * groups, *out_size), dtype=np.float64)
    for ci in range(c_in):
        g = ci // per_in
        for i in range(kh):
            for j in range(kw):
                for r in range(h):
                    row = r * stride[0] - pads_before[0] + i * dilation[0]
                    if not 0 <= row < out_size[0]:
                        continue
                    for q in range(w):
                        col = q * stride[1] - pads_before[1] + j * dilation[1]
                        if 0 <= col < out_size[1]:
                            out[:, g * per_group:(g + 1) * per_group, row, col] += (
                                x[:, ci, r, q, None] * weight[ci, :, i, j][None, :])
    if bias is not None:
        out += np.asarray(bias).reshape(1, -1, 1, 1)
    return out.astype(x.dtype)


def _windows(geom):
    """Every output position with the real input positions of its window: ``(oh, ow, rows, cols)``."""
    (h, w), (ho, wo) = geom.in_size, geom.out_size
    top, _, left, _ = geom.pads
    for oh in range(ho):
        rows = _window_positions(oh, h, geom.kernel[0], geom.stride[0], geom.dilation[0], top)
        for ow in range(wo):
            cols = _window_positions(ow, w, geom.kernel[1], geom.stride[1], geom.dilation[1], left)
            yield oh, ow, rows, cols


def _inclusive_extent(o, size, kernel, stride, before):
    start = o * stride - before
    return min(start + kernel, size + before) - start


def max_pool_forward(x, geom):
    """Max over each window's real positions; also the flat ``h*W + w`` index of the first maximum."""
    n, c = x.shape[:2]
    out = np.full((n, c, *geom.out_size), np.finfo(x.dtype).min, dtype=x.dtype)
    index = np.full((n, c, *geom.out_size), -1, dtype=np.int32)
    width = geom.in_size[1]
    for oh, ow, rows, cols in _windows(geom):
        if rows.size == 0 or cols.size == 0:
            continue
        window = x[:, :, rows[:, None], cols[None, :]].reshape(n, c, -1)
        first = window.argmax(axis=2)  # numpy's argmax takes the first maximum
        out[:, :, oh, ow] = np.take_along_axis(window, first[..., None], axis=2)[..., 0]
        flat = (rows[:, None] * width + cols[None, :]).ravel()
        index[:, :, oh, ow] = flat[first]
    return out, index


def max_pool_backward(dout, index, in_shape):
    """Each output gradient goes to its window's maximum (nowhere for an all-padding window)."""
    n, c, h, w = in_shape
    dx = np.zeros((n, c, h * w), dtype=dout.dtype)
    flat_index = index.reshape(n, c, -1)
    flat_grad = dout.reshape(n, c, -1)
    for a in range(n):
        for b in range(c):
            valid = flat_index[a, b] >= 0
            np.add.at(dx[a, b], flat_index[a, b][valid], flat_grad[a, b][valid])
    return dx.reshape(in_shape)


def _avg_divisor(geom, oh, ow, rows, cols, exclusive, divisor_override):
    (h, w), (kh, kw), (sh, sw) = geom.in_size, geom.kernel, geom.stride
    top, _, left, _ = geom.pads
    if exclusive:
        divisor = float(rows.size * cols.size)
    else:
        divisor = float(_inclusive_extent(oh, h, kh, sh, top) * _inclusive_extent(ow, w, kw, sw, left))
    return divisor if divisor_override is None else divisor * divisor_override / (kh * kw)


def avg_pool_forward(x, geom, exclusive=True, divisor_override=None):
    """Sum over each window's real positions divided as described in the module docstring."""
    n, c = x.shape[:2]
    out = np.zeros((n, c, *geom.out_size), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty exclusive window is 0/0 = nan, as in Paddle
        for oh, ow, rows, cols in _windows(geom):
            total = x[:, :, rows[:, None], cols[None, :]].sum(axis=(2, 3), dtype=np.float64)
            out[:, :, oh, ow] = total / _avg_divisor(geom, oh, ow, rows, cols, exclusive, divisor_override)
    return out.astype(x.dtype)


def avg_pool_backward(dout, geom, in_shape, exclusive=True, divisor_override=None):
    dx = np.zeros(in_shape, dtype=np.float64)
    for oh, ow, rows, cols in _windows(geom):
        if rows.size == 0 or cols.size == 0:
            continue
        share = dout[:, :, oh, ow] / _avg_divisor(geom, oh, ow, rows, cols, exclusive, divisor_override)
        dx[:, :, rows[:, None], cols[None, :]] += share[:, :, None, None]
    return dx.astype(dout.dtype)


def adaptive_bins(size, out):
    """Paddle's adaptive bins: output ``o`` averages ``[floor(o*size/out), ceil((o+1)*size/out))``."""
    starts = (np.arange(out) * size) // out
    stops = -((-(np.arange(1, out + 1) * size)) // out)
    return starts, stops


def adaptive_avg_pool_forward(x, out_size):
    n, c, h, w = x.shape
    (rs, re), (cs, ce) = adaptive_bins(h, out_size[0]), adaptive_bins(w, out_size[1])
    out = np.zeros((n, c, *out_size), dtype=np.float64)
    for oh in range(out_size[0]):
        for ow in range(out_size[1]):
            out[:, :, oh, ow] = x[:, :, rs[oh]:re[oh], cs[ow]:ce[ow]].mean(axis=(2, 3), dtype=np.float64)
    return out.astype(x.dtype)


def adaptive_avg_pool_backward(dout, in_shape):
    n, c, h, w = in_shape
    out_size = dout.shape[2:]
    (rs, re), (cs, ce) = adaptive_bins(h, out_size[0]), adaptive_bins(w, out_size[1])
    dx = np.zeros(in_shape, dtype=np.float64)
    for oh in range(out_size[0]):
        for ow in range(out_size[1]):
            area = (re[oh] - rs[oh]) * (ce[ow] - cs[ow])
            dx[:, :, rs[oh]:re[oh], cs[ow]:ce[ow]] += dout[:, :, oh, ow][:, :, None, None] / area
    return dx.astype(dout.dtype)


def batch_norm_forward(x, mean, var, weight, bias, epsilon):
    """``y = weight * (x - mean) / sqrt(var + epsilon) + bias`` per channel of ``x`` ``[N, C, S]``."""
    inv_std = 1.0 / np.sqrt(var.astype(np.float64) + epsilon)
    x_hat = (x - mean[None, :, None]) * inv_std[None, :, None]
    return (x_hat * weight[None, :, None] + bias[None, :, None]).astype(x.dtype)


def batch_statistics(x):
    """Per-channel mean and biased variance of ``x`` ``[N, C, S]`` (the ones Paddle normalises with)."""
    return x.mean(axis=(0, 2), dtype=np.float64), x.var(axis=(0, 2), dtype=np.float64)


def batch_norm_backward(dout, x, mean, var, weight, epsilon, batch_stats):
    """Gradients ``(dx, dweight, dbias)``; with ``batch_stats`` the statistics depend on ``x`` too."""
    inv_std = 1.0 / np.sqrt(var.astype(np.float64) + epsilon)
    x_hat = (x - mean[None, :, None]) * inv_std[None, :, None]
    dbias = dout.sum(axis=(0, 2), dtype=np.float64)
    dweight = (dout * x_hat).sum(axis=(0, 2), dtype=np.float64)
    scale = (weight * inv_std)[None, :, None]
    if batch_stats:
        count = x.shape[0] * x.shape[2]
        dx = scale * (dout - dbias[None, :, None] / count - x_hat * dweight[None, :, None] / count)
    else:
        dx = scale * dout
    return dx.astype(x.dtype), dweight.astype(x.dtype), dbias.astype(x.dtype)


def batch_norm_step(x, dout, running_mean, running_var, weight, bias, momentum, epsilon, use_batch, training):
    """One whole batch-norm call on ``x`` ``[N, C, S]`` as Paddle 3.3.1 makes it, from the pieces above.

    Returns ``(out, dx, dweight, dbias, new_running_mean, new_running_var)``
    for the output gradient ``dout``. ``use_batch``: normalise by batch
    statistics (and update the running ones); ``training``: differentiate
    through them. Paddle's exceptions: with fewer than two values per
    channel batch statistics are not computed at all (``y = x``, running
    statistics kept; the gradient is the identity's in training, the eval
    one otherwise); outside training the gradient takes the running
    statistics after the update.
    """
    count = x.shape[0] * x.shape[2]
    mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
    skip = use_batch and count <= 1
    if use_batch and not skip:
        batch_mean, batch_var = batch_statistics(x)
        out = batch_norm_forward(x, batch_mean, batch_var, weight, bias, epsilon)
        mean = momentum * mean + (1 - momentum) * batch_mean
        var = momentum * var + (1 - momentum) * batch_var
        if training:
            dx, dweight, dbias = batch_norm_backward(dout, x, batch_mean, batch_var, weight, epsilon, True)
            return out, dx, dweight, dbias, mean, var
    else:
        out = x.copy() if skip else batch_norm_forward(x, mean, var, weight, bias, epsilon)
        if skip and training:
            zeros = np.zeros(x.shape[1], x.dtype)
            return out, dout.astype(x.dtype), zeros, zeros, mean, var
    dx, dweight, dbias = batch_norm_backward(dout, x, mean, var, weight, epsilon, False)
    return out, dx, dweight, dbias, mean, var
