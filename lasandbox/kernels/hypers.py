"""A rule's hyperparameters: their declaration (``Hyper``: default, kind, range, Paddle's name), the check
of a given value against it, and the checked values as ``constants(h, lr, step)`` reads them
(``HyperValues``). Part of the declaration vocabulary ``declare`` exports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lasandbox.kernels import checks, hostmath
from lasandbox.utils.validation import check_int


@dataclass(frozen=True)
class Hyper:
    """One hyperparameter: its kernel keyword, default, kind and accepted range, and Paddle's name for it.

    ``default=REQUIRED`` makes it a positional argument of the kernel function
    (after ``lr`` and ``step``). ``kind`` is ``"real"`` (checked into
    ``[low, high]``, ends open with ``low_open``/``high_open``), ``"int"`` (an
    int in ``[low, high]``) or ``"flag"`` (a bool).
    """

    name: str
    default: object
    kind: str = "real"
    low: float = 0.0
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    paddle: str | None = None
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def label(self, naming="kernel") -> str:
        """The argument's name as a user of that surface wrote it (``naming='paddle'``: Paddle's name)."""
        return (self.paddle or self.name) if naming == "paddle" else self.name

    def check(self, value, naming="kernel"):
        """The value as the kernels use it (float or bool), or a named TypeError/ValueError."""
        name = self.label(naming)
        if value is None:
            from lasandbox.utils.validation import AssertedValueError

            raise AssertedValueError(f"{name} is not set (got None)")  # Paddle: ValueError, or an assert
        if self.kind == "flag":
            return checks.flag(name, value)
        if self.kind == "int":
            return check_int(name, value, low=int(self.low), high=None if self.high == math.inf else int(self.high))
        return checks.real(name, value, self.low, self.high, high_open=self.high_open, low_open=self.low_open)

    def describe(self) -> str:
        if self.kind == "flag":
            return "bool"
        if self.kind == "int":
            high = "inf)" if self.high == math.inf else f"{int(self.high)}]"
            return f"int in [{int(self.low)}, {high}"
        left, right = "(" if self.low_open else "[", ")" if self.high_open or self.high == math.inf else "]"
        return f"real in {left}{self.low:g}, {'inf' if self.high == math.inf else f'{self.high:g}'}{right}"


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()


class HyperValues:
    """Attribute access to checked hyperparameters in ``constants(h, lr, step)``: ``h.beta1``; and
    ``h.power("beta1", t)``, the power Paddle's accumulator holds at step ``t``."""

    __slots__ = ("_values", "_powers")

    def __init__(self, values, powers=None):
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_powers", powers or {})

    def power(self, name, t):
        """``name``'s value to the power ``t`` in float32 as Paddle accumulates it, or, where the
        optimizer keeps a running product for it (a Tensor hyperparameter), that product."""
        if name in self._powers:
            return self._powers[name]
        return hostmath.power(self._values[name], t)

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no hyperparameter {name!r}") from None
