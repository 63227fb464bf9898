"""``nn.Conv1D`` and ``nn.Conv2D`` with Paddle 3.3.1's signature, parameters and initialisation.

* ``weight`` is ``[out_channels, in_channels/groups, *kernel_size]`` and
  ``bias`` ``[out_channels]`` (``bias_attr=False`` or ``bias=False``: none);
* default init (Paddle's): weight ~ Normal(0, std) with
  ``std = sqrt(2 / (in_channels * prod(kernel_size)))`` -- the *full*
  ``in_channels``, not divided by ``groups`` -- and a zero bias;
* ``padding``: every Paddle form (``conv_args``); ``padding_mode``
  ``'zeros'`` (default), ``'reflect'``, ``'replicate'``, ``'circular'``
  (these three need an int padding, as in Paddle);
* ``data_format`` ``NCL``/``NLC`` (1-D), ``NCHW``/``NHWC`` (2-D).

Every argument is checked at construction, so a bad layer fails where it
is built, not at its first call.
"""

from __future__ import annotations

import numpy as np

from lasandbox.autograd.tensor import as_dtype
from lasandbox.nn import conv_args
from lasandbox.nn import functional_conv as F
from lasandbox.nn import initializer as init
from lasandbox.nn.layer import Layer
from lasandbox.utils.validation import check_choice, check_int


def _check_device(device):
    if device not in (None, "cpu"):
        raise NotImplementedError(f"device={device!r}: lasandbox's layers live on the CPU (device=None or 'cpu')")


def init_conv_geometry(layer, in_channels, out_channels, kernel_size, stride, dilation, groups, data_format,
                       weight_attr):
    """What every conv layer (ordinary or transposed, ``layer._ndim`` spatial dims) checks and keeps first:
    channels and groups, kernel size, stride, dilation, data format; ``weight_attr=False`` is refused."""
    ndim = layer._ndim
    layer._in_channels = check_int("in_channels", in_channels, low=1)
    layer._out_channels = check_int("out_channels", out_channels, low=1)
    layer._groups = check_int("groups", groups, low=1)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels ({in_channels}) and out_channels ({out_channels})")
    layer._kernel_size = conv_args.int_tuple("kernel_size", kernel_size, ndim)
    layer._stride = conv_args.int_tuple("stride", stride, ndim)
    layer._dilation = conv_args.int_tuple("dilation", dilation, ndim)
    layer._data_format = data_format
    layer._channel_last = conv_args.check_data_format(data_format, ndim)
    if weight_attr is False:  # Paddle asserts the same: a convolution without a filter is no layer
        raise ValueError("weight_attr=False: a convolution needs its weight (Paddle refuses it too); "
                         "freeze it with ParamAttr(trainable=False) instead")


class _ConvNd(Layer):
    """Shared by Conv1D and Conv2D (``ndim`` spatial dims)."""

    _ndim = 2
    _op = "conv2d"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, *,
                 bias=True, padding_mode="zeros", device=None, dtype=None, weight_attr=None, bias_attr=None,
                 data_format="NCHW"):
        super().__init__(dtype=dtype or "float32")
        ndim = self._ndim
        init_conv_geometry(self, in_channels, out_channels, kernel_size, stride, dilation, groups, data_format,
                           weight_attr)
        self._padding_mode = check_choice("padding_mode", padding_mode, tuple(F.PADDING_MODES))
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be a bool, got {bias!r}")
        _check_device(device)
        if padding_mode != "zeros":
            if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)):
                raise ValueError(f"padding_mode={padding_mode!r} needs an int padding (Paddle's rule), "
                                 f"got {padding!r}")
        self._padding = padding
        self._padding_spec = conv_args.parse_padding(padding, ndim, self._channel_last)
        std = (2.0 / (in_channels * int(np.prod(self._kernel_size)))) ** 0.5
        shape = [out_channels, in_channels // groups, *self._kernel_size]
        self.weight = self.create_parameter(shape, attr=weight_attr, dtype=as_dtype(dtype),
                                            default_initializer=init.Normal(0.0, std))
        self.bias = None if not bias else self.create_parameter([out_channels], attr=bias_attr,
                                                                dtype=as_dtype(dtype), is_bias=True)

    def forward(self, x):
        padding = self._padding
        if self._padding_mode != "zeros":
            pads = self._padding_spec[1]
            x = F.pad_spatial(x, pads, self._padding_mode, self._ndim, self._channel_last)
            padding = 0
        return F.conv_nd(self._op, x, self.weight, self.bias, self._stride, padding, self._dilation, self._groups,
                         self._data_format, self._ndim)

    def extra_repr(self):
        return conv_extra_repr(self, [f"padding_mode={self._padding_mode}"] if self._padding_mode != "zeros" else [])


def conv_extra_repr(layer, after_padding=()):
    """Paddle's repr of a conv layer: stride, padding, ``after_padding`` (e.g. ``padding_mode=...``),
    dilation and groups only where they are not the default."""
    text = f"{layer._in_channels}, {layer._out_channels}, kernel_size={list(layer._kernel_size)}"
    if layer._stride != (1,) * layer._ndim:
        text += f", stride={list(layer._stride)}"
    if not (isinstance(layer._padding, (int, np.integer)) and layer._padding == 0):
        text += f", padding={layer._padding}"
    text += "".join(f", {item}" for item in after_padding)
    if layer._dilation != (1,) * layer._ndim:
        text += f", dilation={list(layer._dilation)}"
    if layer._groups != 1:
        text += f", groups={layer._groups}"
    return text + f", data_format={layer._data_format}"


class Conv1D(_ConvNd):
    """1-D convolution over ``[N, C, L]`` (``data_format='NCL'``) or ``[N, L, C]`` (``'NLC'``)."""

    _ndim = 1
    _op = "conv1d"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, *,
                 bias=True, padding_mode="zeros", device=None, dtype=None, weight_attr=None, bias_attr=None,
                 data_format="NCL"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias=bias,
                         padding_mode=padding_mode, device=device, dtype=dtype, weight_attr=weight_attr,
                         bias_attr=bias_attr, data_format=data_format)


class Conv2D(_ConvNd):
    """2-D convolution over ``[N, C, H, W]`` (``data_format='NCHW'``) or ``[N, H, W, C]`` (``'NHWC'``)."""

    _ndim = 2
    _op = "conv2d"
