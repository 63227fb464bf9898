"""Paddle arguments lasandbox accepts but does not implement: a non-default value is an error, never ignored."""

from __future__ import annotations


def not_implemented(owner: str, **given) -> None:
    """Raise NotImplementedError naming the first argument of ``given`` (``name=(value, default)``) that
    differs from its default."""
    for name, (value, default) in given.items():
        if value is not default and value != default:
            raise NotImplementedError(f"{owner}({name}={value!r}) is not implemented in lasandbox "
                                      f"(only {name}={default!r})")
