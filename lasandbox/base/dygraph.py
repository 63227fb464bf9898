"""``paddle.base.dygraph``: ``guard`` (a no-op: lasandbox is always in dygraph mode).

(Paddle 3.3.1 no longer has ``to_variable`` here: ``paddle.to_tensor`` replaces it.)"""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def guard(place=None):
    """Paddle's "run this block in dygraph mode": lasandbox always is; ``place`` must be the CPU."""
    if place is not None:
        from lasandbox.device import check_cpu_device

        check_cpu_device(place)
    yield


__all__ = ["guard"]
