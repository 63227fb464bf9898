"""Host-side scalar math as Paddle does it: float32 operations, and float32 power accumulators.

Paddle computes a rule's per-step scalars in float32 (``1 - beta1`` is
``f32(1) - f32(0.999) = 0.0009999871``, not 0.001) and keeps ``beta^t`` in a
float32 accumulator multiplied once per step. The rules' ``constants``
functions use these helpers (numpy float32 scalars: every operation rounds to
float32) so that the scalars reaching the kernels are the ones Paddle's kernels
see; ``Rule.step_constants`` hands them on as Python floats. Recurrences are memoised per process (the last value,
plus a checkpoint every ``CHECKPOINT`` steps), so a step costs O(1) however long
a run is, and a resumed run recomputes at most ``CHECKPOINT`` terms.
"""

from __future__ import annotations

import math

import numpy as np

f32 = np.float32
CHECKPOINT = 1024


ONE = f32(1.0)


def one_minus(x):
    """``1 - x`` in float32 (``x`` rounded first)."""
    return ONE - f32(x)


class Recurrence:
    """``value(t)`` of ``x_0 = initial``, ``x_t = advance(x_{t-1}, t)``, memoised."""

    def __init__(self, initial, advance):
        self.advance = advance
        self.checkpoints = {0: initial}
        self.last = (0, initial)

    def value(self, t):
        start, value = self.last
        if t < start:
            start = (t // CHECKPOINT) * CHECKPOINT
            value = self.checkpoints[start]
        for i in range(start + 1, t + 1):
            value = self.advance(value, i)
            if i % CHECKPOINT == 0:
                self.checkpoints[i] = value
        if t >= self.last[0]:
            self.last = (t, value)
        return value


_recurrences: dict = {}


def recurrence(key, initial, advance) -> Recurrence:
    """The memoised recurrence named ``key`` (a tuple of what defines it), created on first use."""
    found = _recurrences.get(key)
    if found is None:
        found = _recurrences[key] = Recurrence(initial, advance)
    return found


def power(base, t):
    """``base^t`` as Paddle's float32 accumulator holds it: ``t`` float32 multiplications of ``f32(base)``."""
    b = f32(base)
    return recurrence(("power", float(b)), ONE, lambda x, _i: x * b).value(t)


def sqrt(x):
    """Square root of a float32 value, rounded to float32 (``std::sqrt`` on a float)."""
    return f32(math.sqrt(float(f32(x))))
