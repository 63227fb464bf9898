"""Incubating APIs (``paddle.incubate``): LookAhead, and LookAheadMinmax for games (beyond Paddle)."""

from lasandbox.incubate.lookahead import LookAhead
from lasandbox.incubate.minmax import LookAheadMinmax

__all__ = ["LookAhead", "LookAheadMinmax"]
