"""Argument checking and geometry for convolution and pooling (Paddle's argument forms).

Everything here runs before any array is touched, so a bad call raises a
``ValueError``/``TypeError`` that names the argument and the shapes involved
and changes nothing. 1-D operations are lifted to 2-D with a height of 1,
so the kernels only ever see ``[N, C, H, W]`` arrays and a ``Geometry``.

Paddle's padding forms (``paddle.nn.functional.conv2d`` and the pools):

* an int: the same padding before and after every spatial dim;
* ``[p_h, p_w]`` (one per spatial dim): symmetric;
* ``[top, bottom, left, right]`` (two per spatial dim): asymmetric;
* ``[[0, 0], [0, 0], [top, bottom], [left, right]]``: pairs for every dim of
  the input, batch and channel included (those two must be zero; for
  channel-last data they are the first and last pair);
* ``'same'``/``'valid'`` (any case): ``'valid'`` is no padding; ``'same'``
  gives ``ceil(in / stride)`` outputs, the total padding split with the
  smaller half before (Paddle's ``SAME`` algorithm; see ``same_padding``).
  Paddle then also sets the dilation to 1 (its ``UpdatePaddingAndDilation``;
  recorded: ``conv2d(x, w, padding='same', dilation=2)`` equals the same call
  with ``dilation=1``), and so does ``make_geometry``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from lasandbox.utils.validation import check_choice

CHANNEL_FIRST = {1: "NCL", 2: "NCHW"}
CHANNEL_LAST = {1: "NLC", 2: "NHWC"}


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def int_tuple(name, value, ndim, *, low=1):
    """``value`` (an int or a sequence of ``ndim`` ints) as a tuple of ``ndim`` ints ``>= low``."""
    if _is_int(value):
        values = (int(value),) * ndim
    elif isinstance(value, (list, tuple)) and len(value) == ndim and all(_is_int(v) for v in value):
        values = tuple(int(v) for v in value)
    else:
        raise ValueError(f"{name} must be an int or a list of {ndim} ints, got {value!r}")
    if any(v < low for v in values):
        raise ValueError(f"{name} must be >= {low} in every dimension, got {value!r}")
    return values


def check_data_format(data_format, ndim):
    """Return True for channel-last data (``NLC``/``NHWC``), False for channel-first; ValueError otherwise."""
    check_choice("data_format", data_format, (CHANNEL_FIRST[ndim], CHANNEL_LAST[ndim]))
    return data_format == CHANNEL_LAST[ndim]


def parse_padding(padding, ndim, channel_last=False):
    """Paddle's padding forms as ``('explicit', (before_0, after_0, before_1, ...))`` or ``('same'|'valid', None)``."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode not in ("same", "valid"):
            raise ValueError(f"padding must be 'same', 'valid', an int or a list of ints, got {padding!r}")
        return mode, None
    if _is_int(padding):
        pads = (int(padding),) * (2 * ndim)
    elif isinstance(padding, (list, tuple)):
        items = list(padding)
        if len(items) == ndim + 2 and all(isinstance(p, (list, tuple)) for p in items):
            if not all(len(p) == 2 and all(_is_int(v) for v in p) for p in items):
                raise ValueError(f"padding given as pairs must hold {ndim + 2} pairs of ints, got {padding!r}")
            outer = (items[0], items[-1]) if channel_last else (items[0], items[1])
            if any(int(v) != 0 for pair in outer for v in pair):
                raise ValueError(f"padding of the batch and channel dimensions must be [0, 0], got {padding!r}")
            spatial = items[1:-1] if channel_last else items[2:]
            pads = tuple(int(v) for pair in spatial for v in pair)
        elif len(items) == 2 * ndim and all(_is_int(v) for v in items):
            pads = tuple(int(v) for v in items)
        elif len(items) == ndim and all(_is_int(v) for v in items):
            pads = tuple(int(v) for v in items for _ in range(2))
        else:
            raise ValueError(
                f"padding must be an int, {ndim} ints, {2 * ndim} ints (before, after per dim), "
                f"{ndim + 2} [before, after] pairs, 'same' or 'valid'; got {padding!r}"
            )
    else:
        raise ValueError(f"padding must be 'same', 'valid', an int or a list of ints, got {padding!r}")
    if any(p < 0 for p in pads):
        raise ValueError(f"padding must be >= 0, got {padding!r}")
    return "explicit", pads


def same_padding(size, kernel, stride, dilation):
    """Paddle's ``SAME``: ``ceil(size / stride)`` outputs; the padding total split with the smaller half before."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def output_length(size, kernel, stride, dilation, before, after, ceil_mode=False):
    """Outputs along one dim; ``ceil_mode`` counts a last, partial window (Paddle's formula, no correction)."""
    span = size + before + after - (kernel - 1) * dilation - 1
    if ceil_mode:
        return -(-span // stride) + 1
    return span // stride + 1


@dataclass(frozen=True)
class Geometry:
    """A convolution or pooling window over ``[N, C, H, W]`` (1-D ops have ``H = 1``, kernel height 1)."""

    in_size: tuple  # (H, W)
    kernel: tuple  # (kh, kw)
    stride: tuple
    dilation: tuple
    pads: tuple  # (top, bottom, left, right)
    out_size: tuple  # (Ho, Wo)

    @property
    def is_identity_window(self):
        """A 1x1 window, stride 1, no padding: the convolution is a plain matrix product."""
        return self.kernel == (1, 1) and self.stride == (1, 1) and self.pads == (0, 0, 0, 0)


def lift(values, ndim, fill):
    """A per-dim tuple of a 1-D op as the 2-D tuple the kernels use (height dim set to ``fill``)."""
    return tuple(values) if ndim == 2 else (fill, *values)


def make_geometry(op, in_spatial, kernel, stride, dilation, padding_spec, ceil_mode=False, *, input_shape):
    """Resolve the padding and the output size; ValueError when the window does not fit the padded input.

    ``in_spatial``, ``kernel``, ``stride``, ``dilation`` are tuples over the
    op's spatial dims (1 or 2); ``padding_spec`` is ``parse_padding``'s result.
    """
    ndim = len(in_spatial)
    mode, pads = padding_spec
    if mode == "valid":
        pads = (0,) * (2 * ndim)
    elif mode == "same":
        dilation = (1,) * ndim  # Paddle's SAME ignores the dilation (see the module docstring)
        pads = tuple(v for d in range(ndim) for v in same_padding(in_spatial[d], kernel[d], stride[d], dilation[d]))
    out = []
    for d in range(ndim):
        before, after = pads[2 * d], pads[2 * d + 1]
        extent = (kernel[d] - 1) * dilation[d] + 1
        padded = in_spatial[d] + before + after
        if extent > padded:
            raise ValueError(
                f"{op}: kernel_size {list(kernel)} (dilation {list(dilation)}) spans {extent} along spatial dim {d}, "
                f"more than the padded input ({in_spatial[d]} + padding {before} + {after} = {padded}); "
                f"input shape {list(input_shape)}"
            )
        out.append(output_length(in_spatial[d], kernel[d], stride[d], dilation[d], before, after, ceil_mode))
    if ndim == 1:
        pads = (0, 0, *pads)
    return Geometry(lift(in_spatial, ndim, 1), lift(kernel, ndim, 1), lift(stride, ndim, 1),
                    lift(dilation, ndim, 1), tuple(pads), lift(out, ndim, 1))


def check_input_rank(op, x_shape, ndim, data_format):
    """The input must be ``[N, C, *spatial]`` with ``ndim`` spatial dims."""
    if len(x_shape) != ndim + 2:
        layout = "[N, C, L]" if ndim == 1 else "[N, C, H, W]"
        if data_format in CHANNEL_LAST.values():
            layout = "[N, L, C]" if ndim == 1 else "[N, H, W, C]"
        raise ValueError(f"{op} expects a {ndim + 2}-D input {layout} (data_format={data_format!r}), "
                         f"got shape {list(x_shape)}")
