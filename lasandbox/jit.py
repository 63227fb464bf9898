"""``jit.to_static``: accepted for Paddle compatibility and deliberately a no-op.

Paddle compiles a dygraph function to a static graph; lasandbox always runs
eagerly on numpy, so the decorator returns the function unchanged.
"""

from __future__ import annotations


def to_static(function=None, input_spec=None, build_strategy=None, backend=None, **kwargs):
    """Return ``function`` unchanged (works with and without arguments)."""
    if function is None:
        return lambda fn: fn
    return function


def not_to_static(function=None):
    return function if function is not None else (lambda fn: fn)


__all__ = ["to_static", "not_to_static"]
