"""Incubating APIs (``paddle.incubate``): LookAhead."""

from lasandbox.incubate.lookahead import LookAhead

__all__ = ["LookAhead"]
