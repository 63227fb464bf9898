"""``paddle.base.dygraph``: ``guard`` (a no-op: lasandbox is always in dygraph mode) and ``to_variable``."""

from __future__ import annotations

import contextlib

from lasandbox.autograd.tensor import to_tensor


@contextlib.contextmanager
def guard(place=None):
    """Paddle's "run this block in dygraph mode": lasandbox always is; ``place`` must be the CPU."""
    if place is not None:
        from lasandbox.device import check_cpu_device

        check_cpu_device(place)
    yield


def to_variable(value, name=None, zero_copy=None, dtype=None):
    """A Tensor from an array or a number (Paddle's legacy name for ``to_tensor``)."""
    tensor = to_tensor(value, dtype=dtype)
    if name is not None:
        tensor.name = name
    return tensor


__all__ = ["guard", "to_variable"]
