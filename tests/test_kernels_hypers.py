"""Hyperparameter declarations: how a range is described to a user, and checked."""

import math

import pytest

from lasandbox.kernels.hypers import REQUIRED, Hyper, HyperValues
from lasandbox.utils.validation import check_int


@pytest.mark.parametrize("hyper, text", [
    (Hyper("k", 5, kind="int", low=1), "int in [1, inf)"),  # an infinite end is open
    (Hyper("copies", 2, kind="int", low=1, high=8), "int in [1, 8]"),
    (Hyper("beta", 0.9, high=1.0, high_open=True), "real in [0, 1)"),
    (Hyper("eps", 1e-8, low_open=True), "real in (0, inf)"),
    (Hyper("nesterov", False, kind="flag"), "bool"),
])
def test_describe_writes_the_range_as_checked(hyper, text):
    assert hyper.describe() == text


def test_check_refuses_with_the_range_in_the_message():
    with pytest.raises(ValueError, match=r"k must be an int in \[1, inf\), got 0"):
        Hyper("k", 5, kind="int", low=1).check(0)
    with pytest.raises(ValueError, match=r"n must be an int in \(-inf, 3\], got 4"):
        check_int("n", 4, high=3)
    assert Hyper("k", 5, kind="int", low=1, high=math.inf).check(7) == 7


def test_required_and_values():
    assert Hyper("lr_ratio", REQUIRED).required and not Hyper("lr_ratio", 1.0).required
    h = HyperValues({"beta1": 0.9})
    assert h.beta1 == 0.9
    assert h.power("beta1", 2) == pytest.approx(0.81, rel=1e-6)
    with pytest.raises(AttributeError, match="beta2"):
        _ = h.beta2


def test_a_real_range_with_an_infinite_end_reads_open():
    from lasandbox.kernels.checks import real

    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\), got -1.0"):
        real("lr", -1.0)
    with pytest.raises(ValueError, match=r"eps must be in \(0, inf\), got 0.0"):
        Hyper("eps", 1e-8, low_open=True).check(0.0)
