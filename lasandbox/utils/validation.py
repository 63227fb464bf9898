"""Argument checks shared by the whole package.

Every public entry point validates its arguments *before* touching any state,
and the error message names the argument and the accepted range, so a user
can fix the call without reading the source.
"""

from __future__ import annotations

import numbers

import numpy as np


def _is_real(value) -> bool:
    # bool is an Integral in Python, but alpha=True is almost surely a mistake.
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_real(name: str, value, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``float(value)`` after checking it is a real number in the range.

    ``low``/``high`` are inclusive unless ``low_open``/``high_open`` is set.
    Raises ``TypeError`` for non-numbers and ``ValueError`` for out-of-range or
    non-finite values; the message names ``name`` and the accepted range.
    """
    if not _is_real(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    lo_bad = low is not None and (value <= low if low_open else value < low)
    hi_bad = high is not None and (value >= high if high_open else value > high)
    if lo_bad or hi_bad:
        left = "(" if low_open or low is None else "["  # an infinite end is never included
        right = ")" if high_open or high is None else "]"
        lo_txt = "-inf" if low is None else f"{low:g}"
        hi_txt = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must be in {left}{lo_txt}, {hi_txt}{right}, got {value!r}")
    return value


def check_int(name: str, value, *, low=None, high=None) -> int:
    """Return ``int(value)`` after checking it is a true integer in ``[low, high]``.

    Floats (even ``2.0``) and bools are rejected with ``TypeError``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo_txt = "(-inf" if low is None else f"[{low}"  # an infinite end is never included
        hi_txt = "inf)" if high is None else f"{high}]"
        shown = repr(value) if abs(value) < 10**30 else f"an int of {len(str(abs(value)))} digits"
        raise ValueError(f"{name} must be an int in {lo_txt}, {hi_txt}, got {shown}")
    return value


def check_flags(**flags) -> None:
    """Each keyword a bool (numpy's too): for Paddle's switches that change nothing here (``multi_precision``,
    ``lazy_mode``, ``use_multi_tensor``), which must still be switches, not any value at all."""
    for name, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")


def check_choice(name: str, value, choices) -> str:
    """Check that ``value`` is one of ``choices`` (strings)."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def check_finite(name: str, array):
    """Return ``array`` after checking that it holds no NaN or inf (``ValueError`` naming it otherwise)."""
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf")
    return array


class AssertedValueError(ValueError, AssertionError):
    """A ``ValueError`` that is also an ``AssertionError``.

    Where Paddle guards an argument with ``assert``, its own tests expect
    ``AssertionError``; lasandbox's contract is a ``ValueError`` naming the
    argument. Raising this satisfies both.
    """


class TypeValueError(TypeError, ValueError):
    """A ``TypeError`` that is also a ``ValueError``: for arguments of the wrong type where Paddle
    raises ``ValueError`` (``paddle.save``'s path and protocol), so code written against either catches it."""


class AssertedTypeError(TypeError, AssertionError):
    """A ``TypeError`` that is also an ``AssertionError`` (see ``AssertedValueError``)."""


def as_paddle_assert(check, *args, **kwargs):
    """Run ``check(*args, **kwargs)``; its ValueError/TypeError comes out as the Asserted* variant.

    For the checks Paddle writes as ``assert``: the message is the check's own.
    """
    try:
        return check(*args, **kwargs)
    except TypeError as err:
        raise AssertedTypeError(str(err)) from None
    except ValueError as err:
        raise AssertedValueError(str(err)) from None
