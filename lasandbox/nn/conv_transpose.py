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
from lasandbox.nn.conv import conv_extra_repr, init_conv_geometry
from lasandbox.nn.layer import Layer


class _ConvTransposeNd(Layer):
    """Shared by Conv1DTranspose and Conv2DTranspose (``ndim`` spatial dims)."""

    _ndim = 2
    _op = "conv2d_transpose"

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, output_padding, dilation, groups,
                 weight_attr, bias_attr, data_format):
        super().__init__()  # parameters in the default dtype (set_default_dtype), as Paddle's
        ndim = self._ndim
        init_conv_geometry(self, in_channels, out_channels, kernel_size, stride, dilation, groups, data_format,
                           weight_attr)
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
        default = isinstance(self.output_padding, (int, np.integer)) and self.output_padding == 0
        return conv_extra_repr(self, [] if default else [f"output_padding={self.output_padding}"])


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

