"""Pooling layers with Paddle's signatures and defaults (``stride=None`` = kernel size, ``padding=0``,
``ceil_mode=False``, ``exclusive=True``); the numerics are ``functional_pool``'s.

Arguments are checked when the layer is built, and with the input's shape
at each call.
"""

from __future__ import annotations

from lasandbox.nn import conv_args
from lasandbox.nn import functional_pool as F
from lasandbox.nn.layer import Layer


def _check_window(kernel_size, stride, padding, ndim, data_format):
    channel_last = conv_args.check_data_format(data_format, ndim)
    conv_args.int_tuple("kernel_size", kernel_size, ndim)
    if stride is not None:
        conv_args.int_tuple("stride", stride, ndim)
    conv_args.parse_padding(padding, ndim, channel_last)


class MaxPool1D(Layer):
    """Max over windows of ``[N, C, L]``."""

    def __init__(self, kernel_size, stride=None, padding=0, return_mask=False, ceil_mode=False, name=None):
        super().__init__()
        _check_window(kernel_size, stride, padding, 1, "NCL")
        self.ksize, self.stride, self.padding = kernel_size, stride, padding
        self.return_mask, self.ceil_mode = return_mask, ceil_mode

    def forward(self, x):
        return F.max_pool1d(x, self.ksize, self.stride, self.padding, self.return_mask, self.ceil_mode)

    def extra_repr(self):
        return f"kernel_size={self.ksize}, stride={self.stride}, padding={self.padding}"


class MaxPool2D(Layer):
    """Max over windows of ``[N, C, H, W]`` (or ``NHWC``)."""

    def __init__(self, kernel_size, stride=None, padding=0, return_mask=False, ceil_mode=False, data_format="NCHW",
                 name=None):
        super().__init__()
        _check_window(kernel_size, stride, padding, 2, data_format)
        F._check_mask_layout("MaxPool2D", return_mask, data_format)
        self.ksize, self.stride, self.padding = kernel_size, stride, padding
        self.return_mask, self.ceil_mode, self.data_format = return_mask, ceil_mode, data_format

    def forward(self, x):
        return F.max_pool2d(x, self.ksize, self.stride, self.padding, self.return_mask, self.ceil_mode,
                            self.data_format)

    def extra_repr(self):
        return f"kernel_size={self.ksize}, stride={self.stride}, padding={self.padding}"


class AvgPool1D(Layer):
    """Average over windows of ``[N, C, L]``."""

    def __init__(self, kernel_size, stride=None, padding=0, exclusive=True, ceil_mode=False, name=None):
        super().__init__()
        _check_window(kernel_size, stride, padding, 1, "NCL")
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.exclusive, self.ceil_mode = exclusive, ceil_mode

    def forward(self, x):
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.exclusive, self.ceil_mode)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2D(Layer):
    """Average over windows of ``[N, C, H, W]`` (or ``NHWC``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, exclusive=True, divisor_override=None,
                 data_format="NCHW", name=None):
        super().__init__()
        _check_window(kernel_size, stride, padding, 2, data_format)
        self.ksize, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.exclusive, self.divisor, self.data_format = (ceil_mode, exclusive, divisor_override,
                                                                          data_format)

    def forward(self, x):
        return F.avg_pool2d(x, self.ksize, self.stride, self.padding, self.ceil_mode, self.exclusive, self.divisor,
                            self.data_format)

    def extra_repr(self):
        return f"kernel_size={self.ksize}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1D(Layer):
    """Average of ``[N, C, L]`` over ``output_size`` bins (1 = global average pooling)."""

    def __init__(self, output_size, name=None):
        super().__init__()
        F._adaptive_size("AdaptiveAvgPool1D", output_size, (1,))
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool1d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2D(Layer):
    """Average of ``[N, C, H, W]`` over an ``output_size`` grid of bins (1 = global average pooling)."""

    def __init__(self, output_size, data_format="NCHW", name=None):
        super().__init__()
        conv_args.check_data_format(data_format, 2)
        F._adaptive_size("AdaptiveAvgPool2D", output_size, (1, 1))
        self.output_size, self.data_format = output_size, data_format

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size, self.data_format)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _AdaptiveMaxPool(Layer):
    """Shared by AdaptiveMaxPool1D and AdaptiveMaxPool2D (``_ndim`` spatial dims, channel-first only)."""

    _ndim = 2

    def __init__(self, output_size, return_mask=False, name=None):
        super().__init__()
        op = type(self).__name__
        F._adaptive_size(op, output_size, (1,) * self._ndim)
        self.output_size, self.return_mask = output_size, F._check_bool(op, "return_mask", return_mask)

    def forward(self, x):
        pool = F.adaptive_max_pool1d if self._ndim == 1 else F.adaptive_max_pool2d
        return pool(x, self.output_size, self.return_mask)

    def extra_repr(self):
        return f"output_size={self.output_size}, return_mask={self.return_mask}"


class AdaptiveMaxPool1D(_AdaptiveMaxPool):
    """Max of ``[N, C, L]`` over ``output_size`` bins; ``return_mask`` also returns each maximum's index."""

    _ndim = 1


class AdaptiveMaxPool2D(_AdaptiveMaxPool):
    """Max of ``[N, C, H, W]`` over an ``output_size`` grid of bins (channel-first only, as in Paddle)."""

    _ndim = 2
