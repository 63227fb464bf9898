"""``nn.Conv1DTranspose`` and ``nn.Conv2DTranspose`` with Paddle 3.3.1's signature, parameters and init.

* ``weight`` is ``[in_channels, out_channels/groups, *kernel_size]`` and
  ``bias`` ``[out_channels]`` (``bias_attr=False``: none);
* default init (Paddle's, which gives the transposed layers no initializer of
  their own): Xavier-uniform over that weight shape, zero bias;
* ``forward(x, output_size=None)``: ``output_size`` as in
  ``F.conv2d_transpose``. ``Conv2DTranspose`` drops its ``output_padding``
  when ``output_size`` is given; ``Conv1DTranspose`` passes both, so a layer
  built with ``output_padding`` refuses an ``output_size`` (both as in Paddle);
* argument order as Paddle's: ``Conv1DTranspose`` takes ``groups`` before
  ``dilation``, ``Conv2DTranspose`` ``dilation`` before ``groups``.

Every argument that does not depend on the input is checked at construction
(Paddle checks ``groups`` against the channels only at the first call).
"""

from __future__ import annotations

import numpy as np

from lasandbox.nn import conv_args
from lasandbox.nn import functional_conv_transpose as F
from lasandbox.nn.layer import Layer
from lasandbox.utils.validation import check_int


class _ConvTransposeNd(Layer):
    """Shared by Conv1DTranspose and Conv2DTranspose (``ndim`` spatial dims)."""

    _ndim = 2
    _op = "conv2d_transpose"

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, output_padding, dilation, groups,
                 weight_attr, bias_attr, data_format):
        super().__init__()  # parameters in the default dtype (set_default_dtype), as Paddle's
        ndim = self._ndim
        self._in_channels = check_int("in_channels", in_channels, low=1)
        self._out_channels = check_int("out_channels", out_channels, low=1)
        self._groups = check_int("groups", groups, low=1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"groups={groups} must divide in_channels ({in_channels}) and "
                             f"out_channels ({out_channels})")
        self._kernel_size = conv_args.int_tuple("kernel_size", kernel_size, ndim)
        self._stride = conv_args.int_tuple("stride", stride, ndim)
        self._dilation = conv_args.int_tuple("dilation", dilation, ndim)
        self._data_format = data_format
        self._channel_last = conv_args.check_data_format(data_format, ndim)
        if weight_attr is False:  # Paddle asserts the same: a convolution without a filter is no layer
            raise ValueError("weight_attr=False: a convolution needs its weight (Paddle refuses it too); "
                             "freeze it with ParamAttr(trainable=False) instead")
        conv_args.parse_padding(padding, ndim, self._channel_last)
        self._padding = padding
        F._check_output_padding(self._op, output_padding, self._stride, ndim)
        self.output_padding = output_padding
        shape = [in_channels, out_channels // groups, *self._kernel_size]
        self.weight = self.create_parameter(shape, attr=weight_attr)  # default: Xavier-uniform, as Paddle's
        self.bias = self.create_parameter([out_channels], attr=bias_attr, is_bias=True)

    def _forward(self, x, output_padding, output_size):
        return F.conv_transpose_nd(self._op, x, self.weight, self.bias, self._stride, self._padding, output_padding,
                                   self._dilation, self._groups, output_size, self._data_format, self._ndim)

    def extra_repr(self):
        # Paddle's format: stride, padding, output_padding, dilation and groups only when not the default.
        text = f"{self._in_channels}, {self._out_channels}, kernel_size={list(self._kernel_size)}"
        if self._stride != (1,) * self._ndim:
            text += f", stride={list(self._stride)}"
        if not (isinstance(self._padding, (int, np.integer)) and self._padding == 0):
            text += f", padding={self._padding}"
        if not (isinstance(self.output_padding, (int, np.integer)) and self.output_padding == 0):
            text += f", output_padding={self.output_padding}"
        if self._dilation != (1,) * self._ndim:
            text += f", dilation={list(self._dilation)}"
        if self._groups != 1:
            text += f", groups={self._groups}"
        return text + f", data_format={self._data_format}"


class Conv1DTranspose(_ConvTransposeNd):
    """1-D transposed convolution over ``[N, C, L]`` (``data_format='NCL'``) or ``[N, L, C]`` (``'NLC'``)."""

    _ndim = 1
    _op = "conv1d_transpose"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 dilation=1, weight_attr=None, bias_attr=None, data_format="NCL"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, dilation, groups,
                         weight_attr, bias_attr, data_format)

    def forward(self, x, output_size=None):
        return self._forward(x, self.output_padding, output_size)


class Conv2DTranspose(_ConvTransposeNd):
    """2-D transposed convolution over ``[N, C, H, W]`` (``data_format='NCHW'``) or ``[N, H, W, C]`` (``'NHWC'``)."""

    _ndim = 2
    _op = "conv2d_transpose"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, dilation=1,
                 groups=1, weight_attr=None, bias_attr=None, data_format="NCHW"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, dilation, groups,
                         weight_attr, bias_attr, data_format)

    def forward(self, x, output_size=None):
        return self._forward(x, self.output_padding if output_size is None else 0, output_size)

