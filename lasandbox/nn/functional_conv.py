"""``F.conv1d`` / ``F.conv2d`` with Paddle's arguments, and the padding op behind ``padding_mode``.

One differentiable op per convolution: the forward and backward passes run
in ``conv_compute`` (im2col + BLAS); bias is added in the same pass. 1-D
convolutions run as 2-D ones of height 1. Channel-last data (``NLC``,
``NHWC``) is transposed to channel-first around the op; the weight is
``[out_channels, in_channels/groups, *kernel]`` in both layouts, as in Paddle.
All arguments are checked (``conv_args``) before anything is computed.
"""

from __future__ import annotations

import numpy as np

from lasandbox.autograd import ops_shape
from lasandbox.autograd.function import make_result
from lasandbox.autograd.tensor import Tensor
from lasandbox.nn import conv_args
from lasandbox.utils.validation import check_int

PADDING_MODES = {"zeros": None, "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _check_tensor(name, value, op):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    if value.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must hold floats, got dtype {value.dtype}")
    return value


def _to_channel_first(x, ndim):
    return ops_shape.transpose(x, [0, ndim + 1, *range(1, ndim + 1)])


def _to_channel_last(x, ndim):
    return ops_shape.transpose(x, [0, *range(2, ndim + 2), 1])


def check_conv_operands(op, x, weight, groups, data_format, ndim, weight_layout):
    """The checks every convolution (ordinary or transposed) makes first: the data format, ``x`` and
    ``weight`` Tensors of the right ranks and one dtype (``weight_layout`` names its leading dims in the
    message), ``groups`` an int >= 1. Returns ``(channel_last, groups, input channels)``."""
    channel_last = conv_args.check_data_format(data_format, ndim)
    _check_tensor("x", x, op)
    _check_tensor("weight", weight, op)
    conv_args.check_input_rank(op, x.shape, ndim, data_format)
    if weight.ndim != ndim + 2:
        raise ValueError(f"{op}: weight must be {ndim + 2}-D [{weight_layout}, *kernel], got shape {weight.shape}")
    if weight.dtype != x.dtype:
        raise TypeError(f"{op}: x and weight must have one dtype, got {x.dtype} and {weight.dtype}")
    groups = check_int("groups", groups, low=1)
    return channel_last, groups, x.shape[-1] if channel_last else x.shape[1]


def _check_conv_args(op, x, weight, bias, stride, padding, dilation, groups, data_format, ndim):
    """Everything checked, nothing computed: returns ``(geometry, channel_last)``."""
    channel_last, groups, channels = check_conv_operands(op, x, weight, groups, data_format, ndim,
                                                         "out_channels, in_channels/groups")
    c_out = weight.shape[0]
    if channels % groups or c_out % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input channels ({channels}) and the output "
                         f"channels ({c_out}); x shape {x.shape}, weight shape {weight.shape}")
    if weight.shape[1] * groups != channels:
        raise ValueError(f"{op}: x has {channels} channels (shape {x.shape}, data_format={data_format!r}) but "
                         f"weight of shape {weight.shape} with groups={groups} expects "
                         f"{weight.shape[1] * groups} (weight.shape[1] * groups)")
    if bias is not None:
        _check_tensor("bias", bias, op)
        if bias.shape != [c_out]:
            raise ValueError(f"{op}: bias must have shape [{c_out}] (the output channels), got {bias.shape}")
    stride = conv_args.int_tuple("stride", stride, ndim)
    dilation = conv_args.int_tuple("dilation", dilation, ndim)
    spec = conv_args.parse_padding(padding, ndim, channel_last)
    spatial = tuple(x.shape[1:-1] if channel_last else x.shape[2:])
    geom = conv_args.make_geometry(op, spatial, tuple(weight.shape[2:]), stride, dilation, spec,
                                   input_shape=x.shape)
    return geom, channel_last, groups


def as_images(ndim, *arrays):
    """1-D arrays (``[N, C, L]`` data, ``[Co, Ci, k]`` weights) as height-1 images; 2-D ones as they are."""
    return arrays if ndim == 2 else tuple(a.reshape(a.shape[0], a.shape[1], 1, a.shape[2]) for a in arrays)


def _conv(x, weight, bias, geom, groups, ndim):
    """The op on channel-first Tensors (1-D ones seen as height-1 images)."""
    from lasandbox.nn import conv_compute  # numba loads on the first convolution, not at import

    xv, wv = as_images(ndim, x._value, weight._value)
    bv = None if bias is None else bias._value
    out4 = conv_compute.conv_forward(xv, wv, bv, geom, groups)
    x_shape, w_shape = x._value.shape, weight._value.shape

    def backward(g):
        g4 = g.reshape(out4.shape)
        dx, dw, db = conv_compute.conv_backward(g4, xv, wv, geom, groups, need_x=not x.stop_gradient,
                                                need_weight=not weight.stop_gradient)
        grads = (None if dx is None else dx.reshape(x_shape), None if dw is None else dw.reshape(w_shape))
        return grads if bias is None else (*grads, db)

    out = out4.reshape(out4.shape[0], out4.shape[1], out4.shape[3]) if ndim == 1 else out4
    parents = (x, weight) if bias is None else (x, weight, bias)
    return make_result(out, parents, backward)


def conv_nd(op, x, weight, bias, stride, padding, dilation, groups, data_format, ndim):
    geom, channel_last, groups = _check_conv_args(op, x, weight, bias, stride, padding, dilation, groups,
                                                  data_format, ndim)
    if channel_last:
        return _to_channel_last(_conv(_to_channel_first(x, ndim), weight, bias, geom, groups, ndim), ndim)
    return _conv(x, weight, bias, geom, groups, ndim)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, data_format="NCL", name=None):
    """1-D convolution (cross-correlation) of ``x`` ``[N, C, L]`` by ``weight`` ``[Co, C/groups, K]``."""
    return conv_nd("conv1d", x, weight, bias, stride, padding, dilation, groups, data_format, 1)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, data_format="NCHW", name=None):
    """2-D convolution (cross-correlation) of ``x`` ``[N, C, H, W]`` by ``weight`` ``[Co, C/groups, kh, kw]``.

    ``padding``: an int, one per spatial dim, ``[top, bottom, left, right]``,
    pairs for all four dims, ``'same'`` or ``'valid'`` (see ``conv_args``).
    """
    return conv_nd("conv2d", x, weight, bias, stride, padding, dilation, groups, data_format, 2)


def pad_spatial(x, pads, mode, ndim, channel_last=False):
    """Pad the spatial dims by ``pads`` (before, after per dim) with ``mode`` reflect | replicate | circular.

    One gather op: each output position reads one input position (found by
    ``np.pad`` of the index range), so the backward pass scatter-adds.
    """
    numpy_mode = PADDING_MODES[mode]
    xv = x._value
    first_spatial = 1 if channel_last else 2
    index = []
    for d in range(ndim):
        size = xv.shape[first_spatial + d]
        before, after = pads[2 * d], pads[2 * d + 1]
        if numpy_mode == "reflect" and max(before, after) >= size:
            raise ValueError(f"padding_mode='reflect' needs padding < the input size ({size}) along spatial dim "
                             f"{d}, got padding {before}, {after} for input shape {list(xv.shape)}")
        index.append(np.pad(np.arange(size), (before, after), mode=numpy_mode))
    grids = np.ix_(*index)
    selector = (slice(None),) * first_spatial + grids
    out = xv[selector]

    def backward(g):
        dx = np.zeros_like(xv)
        np.add.at(dx, selector, g)
        return (dx,)

    return make_result(np.ascontiguousarray(out), (x,), backward)
