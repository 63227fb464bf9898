"""``F.conv1d_transpose`` / ``F.conv2d_transpose`` with Paddle 3.3.1's arguments and refusals.

The transposed convolution of ``x`` ``[N, C, H, W]`` by ``weight``
``[C, Co/groups, kh, kw]`` is the input gradient of the ordinary convolution
that maps its output ``[N, Co, Ho, Wo]`` back to ``x``'s shape, with
``weight`` read as that convolution's ``[out, in/groups, kh, kw]`` weight.
So the three passes reuse ``conv_compute`` (im2col + BLAS) as they are:

* forward: ``conv_backward``'s input gradient with ``x`` as the output gradient;
* input gradient: ``conv_forward`` of the output gradient;
* weight gradient: ``conv_backward``'s weight gradient, the output gradient
  in the role of the input and ``x`` in that of the output gradient.

Output size along a dim (Paddle's): ``(H - 1)*stride - pad_before - pad_after
+ dilation*(k - 1) + 1``, plus ``output_padding`` (rows/columns at the
bottom/right), or ``output_size`` in ``[that, that + stride)``. Paddle refuses
``output_padding`` that is not below the stride (its kernel checks "below the
stride or the dilation" and then that the shapes are consistent, which only
``output_padding < stride`` passes; recorded), ``output_size`` out of range,
and ``output_padding`` given with ``output_size``. ``'same'`` pads by
``conv_args.same_padding`` of ``x``'s size (the output is ``H*stride``) and
sets the dilation to 1; ``'valid'`` is no padding. An output size below 1
(Paddle returns an empty or negative shape) is refused here.
"""

from __future__ import annotations

from lasandbox.autograd.function import make_result
from lasandbox.nn import conv_args
from lasandbox.nn.functional_conv import (
    _check_tensor,
    _to_channel_first,
    _to_channel_last,
    as_images,
    check_conv_operands,
)


def _check_output_padding(op, output_padding, stride, ndim):
    padding = conv_args.int_tuple("output_padding", output_padding, ndim, low=0)
    if any(p >= s for p, s in zip(padding, stride, strict=True)):
        raise ValueError(f"{op}: output_padding {list(padding)} must be less than the stride {list(stride)} in "
                         f"every dimension (Paddle refuses it too)")
    return padding


def _output_spatial(op, spatial, kernel, stride, dilation, pads, output_padding, output_size, ndim, x_shape):
    """The output's spatial size: the inferred one plus ``output_padding``, or a checked ``output_size``."""
    inferred = tuple((spatial[d] - 1) * stride[d] - pads[2 * d] - pads[2 * d + 1] + dilation[d] * (kernel[d] - 1) + 1
                     for d in range(ndim))
    if any(v < 1 for v in inferred):
        raise ValueError(f"{op}: the output would have spatial size {list(inferred)} (input shape {list(x_shape)}, "
                         f"kernel {list(kernel)}, stride {list(stride)}, dilation {list(dilation)}, padding "
                         f"{list(pads)}); reduce the padding")
    if output_size is None:
        return tuple(v + p for v, p in zip(inferred, output_padding, strict=True))
    size = conv_args.int_tuple("output_size", output_size, ndim)
    for d in range(ndim):
        if not inferred[d] <= size[d] < inferred[d] + stride[d]:
            raise ValueError(f"{op}: output_size {list(size)} must lie in [inferred, inferred + stride) in every "
                             f"dimension; inferred {list(inferred)}, stride {list(stride)} (input shape "
                             f"{list(x_shape)})")
    return size


def _check_conv_transpose_args(op, x, weight, bias, stride, padding, output_padding, dilation, groups, output_size,
                               data_format, ndim):
    """Everything checked, nothing computed: returns ``(geometry, channel_last, groups)``.

    The geometry is that of the ordinary convolution from the output back to ``x``.
    """
    channel_last, groups, channels = check_conv_operands(op, x, weight, groups, data_format, ndim,
                                                         "in_channels, out_channels/groups")
    if channels % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input channels ({channels}); x shape {x.shape}")
    if weight.shape[0] != channels:
        raise ValueError(f"{op}: x has {channels} channels (shape {x.shape}, data_format={data_format!r}) but "
                         f"weight of shape {weight.shape} expects {weight.shape[0]} (weight.shape[0])")
    c_out = weight.shape[1] * groups
    if bias is not None:
        _check_tensor("bias", bias, op)
        if bias.shape != [c_out]:
            raise ValueError(f"{op}: bias must have shape [{c_out}] (weight.shape[1] * groups, the output "
                             f"channels), got {bias.shape}")
    stride = conv_args.int_tuple("stride", stride, ndim)
    dilation = conv_args.int_tuple("dilation", dilation, ndim)
    kernel = tuple(weight.shape[2:])
    if output_size is not None and not (conv_args._is_int(output_padding) and output_padding == 0):
        raise ValueError(f"{op}: output_padding ({output_padding!r}) and output_size ({output_size!r}) exclude "
                         f"each other (Paddle's rule: give one of them)")
    out_padding = _check_output_padding(op, output_padding, stride, ndim)
    spatial = tuple(x.shape[1:-1] if channel_last else x.shape[2:])
    mode, pads = conv_args.parse_padding(padding, ndim, channel_last)
    if mode == "valid":
        pads = (0,) * (2 * ndim)
    elif mode == "same":
        dilation = (1,) * ndim  # as Paddle's SAME does for the ordinary convolution (conv_args)
        pads = tuple(v for d in range(ndim)
                     for v in conv_args.same_padding(spatial[d], kernel[d], stride[d], dilation[d]))
    out = _output_spatial(op, spatial, kernel, stride, dilation, pads, out_padding, output_size, ndim, x.shape)
    for d in range(ndim):  # one fact checked, not assumed: the ordinary convolution maps `out` back to `spatial`
        assert conv_args.output_length(out[d], kernel[d], stride[d], dilation[d], pads[2 * d],
                                       pads[2 * d + 1]) == spatial[d]
    lifted_pads = tuple(pads) if ndim == 2 else (0, 0, *pads)
    geom = conv_args.Geometry(conv_args.lift(out, ndim, 1), conv_args.lift(kernel, ndim, 1),
                              conv_args.lift(stride, ndim, 1), conv_args.lift(dilation, ndim, 1), lifted_pads,
                              conv_args.lift(spatial, ndim, 1))
    return geom, channel_last, groups


def _conv_transpose(x, weight, bias, geom, groups, ndim):
    """The op on channel-first Tensors (1-D ones seen as height-1 images)."""
    from lasandbox.nn import conv_compute  # numba loads on the first convolution, not at import

    xv, wv = as_images(ndim, x._value, weight._value)
    out_shape = (xv.shape[0], wv.shape[1] * groups, *geom.in_size)
    out4, _, _ = conv_compute.conv_backward(xv, None, wv, geom, groups, need_x=True, need_weight=False,
                                            x_shape=out_shape)
    if bias is not None:
        out4 += bias._value.reshape(1, -1, 1, 1).astype(out4.dtype, copy=False)
    x_shape, w_shape = x._value.shape, weight._value.shape

    def backward(g):
        g4 = g.reshape(out_shape)
        dx = None if x.stop_gradient else conv_compute.conv_forward(g4, wv, None, geom, groups).reshape(x_shape)
        dw = None
        if not weight.stop_gradient:
            _, dw, _ = conv_compute.conv_backward(xv, g4, wv, geom, groups, need_x=False, need_weight=True)
            dw = dw.reshape(w_shape)
        return (dx, dw) if bias is None else (dx, dw, g4.sum(axis=(0, 2, 3)))

    out = out4.reshape(out4.shape[0], out4.shape[1], out4.shape[3]) if ndim == 1 else out4
    parents = (x, weight) if bias is None else (x, weight, bias)
    return make_result(out, parents, backward)


def conv_transpose_nd(op, x, weight, bias, stride, padding, output_padding, dilation, groups, output_size,
                      data_format, ndim):
    geom, channel_last, groups = _check_conv_transpose_args(op, x, weight, bias, stride, padding, output_padding,
                                                            dilation, groups, output_size, data_format, ndim)
    if channel_last:
        out = _conv_transpose(_to_channel_first(x, ndim), weight, bias, geom, groups, ndim)
        return _to_channel_last(out, ndim)
    return _conv_transpose(x, weight, bias, geom, groups, ndim)


def conv1d_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                     output_size=None, data_format="NCL", name=None):
    """1-D transposed convolution of ``x`` ``[N, C, L]`` by ``weight`` ``[C, Co/groups, K]`` (Paddle's order:
    ``groups`` before ``dilation``)."""
    return conv_transpose_nd("conv1d_transpose", x, weight, bias, stride, padding, output_padding, dilation, groups,
                             output_size, data_format, 1)


def conv2d_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1,
                     output_size=None, data_format="NCHW", name=None):
    """2-D transposed convolution of ``x`` ``[N, C, H, W]`` by ``weight`` ``[C, Co/groups, kh, kw]``.

    ``padding``: every form ``conv2d`` takes (``conv_args``); ``output_padding``
    an int or one per dim; ``output_size`` an int or ``[Ho, Wo]``.
    """
    return conv_transpose_nd("conv2d_transpose", x, weight, bias, stride, padding, output_padding, dilation, groups,
                             output_size, data_format, 2)
