"""Pooling with Paddle's arguments: ``max_pool1d/2d``, ``avg_pool1d/2d``, ``adaptive_avg_pool1d/2d``,
``adaptive_max_pool1d/2d``.

Paddle's defaults and numerics: ``stride=None`` means the kernel size;
``padding`` takes the convolution's forms (``conv_args``); ``ceil_mode``
counts a last partial window with Paddle's formula (which, unlike
PyTorch's, can leave a window entirely in the padding: max gives the
dtype's lowest value there and an exclusive average 0/0 = nan, as Paddle's
CPU kernels do); ``exclusive=True`` divides by the real positions in the
window, ``False`` by its extent including padding (details and Paddle's
quirks in ``conv_reference``); ``divisor_override`` multiplies the average
by ``kernel area / divisor_override``; ``return_mask`` also returns the flat
``h*W + w`` index of each maximum (int32; channel-first data only, as in
Paddle). Each pool is one op (numba
kernels in ``pool_kernels``), 1-D pools run as height-1 2-D ones, and
channel-last data is transposed around the op.
"""

from __future__ import annotations

import numbers

import numpy as np

from lasandbox.autograd.engine import is_grad_enabled
from lasandbox.autograd.function import make_result
from lasandbox.autograd.tensor import Tensor
from lasandbox.nn import conv_args
from lasandbox.nn.conv_reference import adaptive_bins
from lasandbox.nn.functional_conv import _check_tensor, _to_channel_first, _to_channel_last


def _pool_geometry(op, x, kernel_size, stride, padding, ceil_mode, data_format, ndim):
    channel_last = conv_args.check_data_format(data_format, ndim)
    _check_tensor("x", x, op)
    conv_args.check_input_rank(op, x.shape, ndim, data_format)
    kernel = conv_args.int_tuple("kernel_size", kernel_size, ndim)
    stride = kernel if stride is None else conv_args.int_tuple("stride", stride, ndim)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{op}: ceil_mode must be a bool, got {ceil_mode!r}")
    spec = conv_args.parse_padding(padding, ndim, channel_last)
    if spec[0] == "valid" and ceil_mode:
        raise ValueError(f"{op}: padding='valid' needs ceil_mode=False (Paddle's rule), got ceil_mode=True")
    if spec[0] == "explicit":
        for d in range(ndim):
            # Paddle accepts it and returns the lowest float (max) or nan (average) for such windows.
            if max(spec[1][2 * d], spec[1][2 * d + 1]) >= kernel[d]:
                raise ValueError(f"{op}: padding {padding!r} must be smaller than kernel_size {list(kernel)} "
                                 f"along spatial dim {d}: otherwise a window lies entirely in the padding")
    spatial = tuple(x.shape[1:-1] if channel_last else x.shape[2:])
    geom = conv_args.make_geometry(op, spatial, kernel, stride, (1,) * ndim, spec, ceil_mode, input_shape=x.shape)
    return geom, channel_last


def _planes(xv, ndim):
    """``[N, C, *spatial]`` as a contiguous ``[N*C, H, W]`` stack (H = 1 for 1-D)."""
    xv = np.ascontiguousarray(xv)
    n, c = xv.shape[:2]
    return xv.reshape(n * c, 1 if ndim == 1 else xv.shape[2], xv.shape[-1])


def _around_layout(x, ndim, channel_last, run):
    """Apply ``run`` (an op on channel-first Tensors) to ``x``, transposing channel-last data around it."""
    if not channel_last:
        return run(x)
    result = run(_to_channel_first(x, ndim))
    if isinstance(result, tuple):
        return tuple(_to_channel_last(r, ndim) for r in result)
    return _to_channel_last(result, ndim)


def _max_pool(x, geom, ndim, return_mask):
    from lasandbox.nn import pool_kernels

    xv = x._value
    planes = _planes(xv, ndim)
    ho, wo = geom.out_size
    out = np.empty((planes.shape[0], ho, wo), dtype=xv.dtype)
    (kh, kw), (sh, sw) = geom.kernel, geom.stride
    out_shape = (*xv.shape[:2], *(geom.out_size if ndim == 2 else (wo,)))
    pairwise = pool_kernels.is_pairwise(*planes.shape[1:], kh, kw, sh, sw, geom.pads[0], geom.pads[2], ho, wo)
    if not return_mask and not (is_grad_enabled() and not x.stop_gradient):
        if pairwise:
            pool_kernels.max_pool_pairs(planes.reshape(-1), out.reshape(-1))
        else:
            pool_kernels.max_pool_values(planes, kh, kw, sh, sw, geom.pads[0], geom.pads[2], out)
        return Tensor(out.reshape(out_shape))
    index = np.empty((planes.shape[0], ho, wo), dtype=np.int32)
    if pairwise:
        pool_kernels.max_pool_pairs_index(planes.reshape(-1), wo, out.reshape(-1), index.reshape(-1))
    else:
        pool_kernels.max_pool_forward(planes, kh, kw, sh, sw, geom.pads[0], geom.pads[2], out, index)

    def backward(g):
        dx = np.empty((planes.shape[0], planes.shape[1] * planes.shape[2]), dtype=xv.dtype)
        pool_kernels.max_pool_backward(np.ascontiguousarray(g, dtype=xv.dtype).reshape(out.shape), index, dx)
        return (dx.reshape(xv.shape),)

    result = make_result(out.reshape(out_shape), (x,), backward)
    if return_mask:
        return result, Tensor(index.reshape(out_shape))
    return result


def _avg_pool(x, geom, ndim, exclusive, divisor_override):
    """The average op; ``divisor_override`` scales it by ``kh*kw / divisor_override`` (Paddle's definition)."""
    from lasandbox.nn import pool_kernels

    xv = x._value
    planes = _planes(xv, ndim)
    ho, wo = geom.out_size
    out = np.empty((planes.shape[0], ho, wo), dtype=xv.dtype)
    (kh, kw), (sh, sw) = geom.kernel, geom.stride
    window = (kh, kw, sh, sw, geom.pads[0], geom.pads[2], bool(exclusive))
    pool_kernels.avg_pool_forward(planes, *window, out)
    factor = None if divisor_override is None else xv.dtype.type(kh * kw / divisor_override)
    if factor is not None:
        out *= factor
    out_shape = (*xv.shape[:2], *(geom.out_size if ndim == 2 else (wo,)))

    def backward(g):
        g = np.ascontiguousarray(g, dtype=xv.dtype).reshape(out.shape)
        dx = np.empty(planes.shape, dtype=xv.dtype)
        pool_kernels.avg_pool_backward(g if factor is None else g * factor, *window, dx)
        return (dx.reshape(xv.shape),)

    return make_result(out.reshape(out_shape), (x,), backward)


def _check_bool(op, name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be a bool, got {value!r}")
    return bool(value)


def _check_mask_layout(op, return_mask, data_format):
    """Paddle returns the mask of channel-first data only (its flat ``h*W + w`` index is per plane)."""
    return_mask = _check_bool(op, "return_mask", return_mask)
    if return_mask and data_format != "NCHW":
        raise ValueError(f"{op}: return_mask=True needs data_format='NCHW' (as in Paddle), got {data_format!r}")
    return return_mask


def max_pool1d(x, kernel_size, stride=None, padding=0, return_mask=False, ceil_mode=False, name=None):
    """Max over windows of ``x`` ``[N, C, L]``; ``return_mask`` also gives each maximum's index along L."""
    geom, _ = _pool_geometry("max_pool1d", x, kernel_size, stride, padding, ceil_mode, "NCL", 1)
    return _max_pool(x, geom, 1, _check_bool("max_pool1d", "return_mask", return_mask))


def max_pool2d(x, kernel_size, stride=None, padding=0, return_mask=False, ceil_mode=False, data_format="NCHW",
               name=None):
    """Max over windows of ``x`` ``[N, C, H, W]``; ``return_mask`` also gives each maximum's ``h*W + w``."""
    return_mask = _check_mask_layout("max_pool2d", return_mask, data_format)
    geom, channel_last = _pool_geometry("max_pool2d", x, kernel_size, stride, padding, ceil_mode, data_format, 2)
    return _around_layout(x, 2, channel_last, lambda t: _max_pool(t, geom, 2, return_mask))


def avg_pool1d(x, kernel_size, stride=None, padding=0, exclusive=True, ceil_mode=False, name=None):
    """Average over windows of ``x`` ``[N, C, L]`` (``exclusive``: over the real positions only)."""
    geom, _ = _pool_geometry("avg_pool1d", x, kernel_size, stride, padding, ceil_mode, "NCL", 1)
    return _avg_pool(x, geom, 1, _check_bool("avg_pool1d", "exclusive", exclusive), None)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, exclusive=True, divisor_override=None,
               data_format="NCHW", name=None):
    """Average over windows of ``x`` ``[N, C, H, W]``; ``divisor_override`` replaces the divisor when given."""
    geom, channel_last = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding, ceil_mode, data_format, 2)
    exclusive = _check_bool("avg_pool2d", "exclusive", exclusive)
    if divisor_override is not None:
        if not isinstance(divisor_override, numbers.Real) or isinstance(divisor_override, bool) or \
                not divisor_override > 0:
            raise ValueError(f"avg_pool2d: divisor_override must be a number > 0 or None, got {divisor_override!r}")
    return _around_layout(x, 2, channel_last, lambda t: _avg_pool(t, geom, 2, exclusive, divisor_override))


def _adaptive_size(op, output_size, spatial):
    ndim = len(spatial)
    items = [output_size] * ndim if not isinstance(output_size, (list, tuple)) else list(output_size)
    if len(items) != ndim:
        raise ValueError(f"{op}: output_size must be an int or {ndim} ints (None keeps that input size), "
                         f"got {output_size!r}")
    sizes = []
    for d, item in enumerate(items):
        if item is None and ndim > 1:
            sizes.append(spatial[d])
            continue
        if not isinstance(item, numbers.Integral) or isinstance(item, bool) or item < 1:
            raise ValueError(f"{op}: output_size must hold ints >= 1, got {output_size!r}")
        sizes.append(int(item))
    return tuple(sizes)


def _adaptive_avg(x, out_size, ndim):
    from lasandbox.nn import pool_kernels

    xv = x._value
    planes = _planes(xv, ndim)
    rows = adaptive_bins(planes.shape[1], out_size[0] if ndim == 2 else 1)
    cols = adaptive_bins(planes.shape[2], out_size[-1])
    bins = tuple(np.ascontiguousarray(b, dtype=np.int64) for b in (*rows, *cols))
    out = np.empty((planes.shape[0], rows[0].size, cols[0].size), dtype=xv.dtype)
    pool_kernels.adaptive_avg_forward(planes, *bins, out)

    def backward(g):
        dx = np.empty(planes.shape, dtype=xv.dtype)
        pool_kernels.adaptive_avg_backward(np.ascontiguousarray(g, dtype=xv.dtype).reshape(out.shape), *bins, dx)
        return (dx.reshape(xv.shape),)

    return make_result(out.reshape(*xv.shape[:2], *out_size), (x,), backward)


def adaptive_avg_pool1d(x, output_size, name=None):
    """Average of ``x`` ``[N, C, L]`` over ``output_size`` bins ``[floor(i*L/n), ceil((i+1)*L/n))``."""
    _check_tensor("x", x, "adaptive_avg_pool1d")
    conv_args.check_input_rank("adaptive_avg_pool1d", x.shape, 1, "NCL")
    return _adaptive_avg(x, _adaptive_size("adaptive_avg_pool1d", output_size, tuple(x.shape[2:])), 1)


def adaptive_avg_pool2d(x, output_size, data_format="NCHW", name=None):
    """Average of ``x`` ``[N, C, H, W]`` over an ``output_size`` grid of bins (None keeps that input size)."""
    channel_last = conv_args.check_data_format(data_format, 2)
    _check_tensor("x", x, "adaptive_avg_pool2d")
    conv_args.check_input_rank("adaptive_avg_pool2d", x.shape, 2, data_format)
    spatial = tuple(x.shape[1:3] if channel_last else x.shape[2:])
    out_size = _adaptive_size("adaptive_avg_pool2d", output_size, spatial)
    return _around_layout(x, 2, channel_last, lambda t: _adaptive_avg(t, out_size, 2))


def _adaptive_max(x, out_size, ndim, return_mask):
    """Max over adaptive bins (they may overlap), with Paddle's kernel's rule for which element wins.

    Paddle scans a bin row by row from the lowest finite value and keeps an element only if it is
    strictly greater (``max_pool_forward``'s rule): the first maximum wins, NaN never does, and a bin
    holding nothing above the lowest float gives that value with index -1. A numpy op: one vectorised
    reduction per output bin, over every plane at once (adaptive outputs are small).
    """
    xv = x._value
    planes = _planes(xv, ndim)
    count, height, width = planes.shape
    if height == 0 or width == 0:
        raise ValueError(f"adaptive_max_pool{ndim}d: x has an empty spatial dim (shape {x.shape}): no bin to "
                         f"take a maximum of")
    rows = adaptive_bins(height, out_size[0] if ndim == 2 else 1)
    cols = adaptive_bins(width, out_size[-1])
    lowest = np.finfo(xv.dtype).min
    out = np.empty((count, rows[0].size, cols[0].size), dtype=xv.dtype)
    index = np.empty(out.shape, dtype=np.int32)
    for oh, (r0, r1) in enumerate(zip(*rows, strict=True)):
        for ow, (c0, c1) in enumerate(zip(*cols, strict=True)):
            window = planes[:, r0:r1, c0:c1].reshape(count, (r1 - r0) * (c1 - c0))
            eligible = window > lowest  # False for NaN, -inf and the lowest float itself
            first = np.where(eligible, window, -np.inf).argmax(axis=1)
            found = eligible[np.arange(count), first]
            out[:, oh, ow] = np.where(found, window[np.arange(count), first], lowest)
            # flat h*W + w of the winner in its plane (the bin's column count is c1 - c0)
            index[:, oh, ow] = np.where(found, (r0 + first // (c1 - c0)) * width + c0 + first % (c1 - c0), -1)
    out_shape = (*xv.shape[:2], *out_size)

    def backward(g):
        g = np.asarray(g, dtype=xv.dtype).reshape(count, -1)
        dx = np.zeros((count, height * width), dtype=xv.dtype)
        flat = index.reshape(count, -1)
        plane, where = np.nonzero(flat >= 0)
        np.add.at(dx, (plane, flat[plane, where]), g[plane, where])  # overlapping bins add up
        return (dx.reshape(xv.shape),)

    result = make_result(out.reshape(out_shape), (x,), backward)
    if return_mask:
        return result, Tensor(index.reshape(out_shape))
    return result


def _checked_adaptive_max(x, output_size, return_mask, ndim):
    op = f"adaptive_max_pool{ndim}d"
    _check_tensor("x", x, op)
    conv_args.check_input_rank(op, x.shape, ndim, "NCL" if ndim == 1 else "NCHW")
    out_size = _adaptive_size(op, output_size, tuple(x.shape[2:]))
    return _adaptive_max(x, out_size, ndim, _check_bool(op, "return_mask", return_mask))


def adaptive_max_pool1d(x, output_size, return_mask=False, name=None):
    """Max of ``x`` ``[N, C, L]`` over ``output_size`` bins; ``return_mask`` also gives each maximum's index."""
    return _checked_adaptive_max(x, output_size, return_mask, 1)


def adaptive_max_pool2d(x, output_size, return_mask=False, name=None):
    """Max of ``x`` ``[N, C, H, W]`` over an ``output_size`` grid of bins (None keeps that input size).

    Channel-first only, as Paddle's (it has no ``data_format`` here); the mask is ``h*W + w``.
    """
    return _checked_adaptive_max(x, output_size, return_mask, 2)
