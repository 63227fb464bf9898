"""``paddle.tensor``: the Tensor functions (the same ones as at the top level) and ``fill_constant``."""

from lasandbox.autograd import *  # noqa: F403 - Paddle's paddle.tensor namespace mirrors the top level
from lasandbox.autograd import __all__ as _autograd_all
from lasandbox.autograd.creation import full


def fill_constant(shape, dtype, value, force_cpu=False, out=None, name=None):
    """A Tensor of ``shape`` filled with ``value`` (Paddle's older name for ``full``); ``out`` is written in place."""
    result = full(shape, value, dtype=dtype)
    if out is None:
        return result
    out.set_value(result)
    return out


__all__ = [*_autograd_all, "fill_constant"]
