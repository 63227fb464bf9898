"""optimizer.lr: argument checks name the argument, schedules resume from their state_dict, edge cases.

The schedules' values are compared with Paddle 3.3.1's in tests/paddle_compat (exactly, as Python floats).
"""

from __future__ import annotations

import math

import pytest

from lasandbox.optimizer import lr
from lasandbox.utils.validation import AssertedValueError

SCHEDULES = [
    lambda: lr.NoamDecay(d_model=64, warmup_steps=4),
    lambda: lr.PiecewiseDecay([2, 5], [0.3, 0.2, 0.1]),
    lambda: lr.NaturalExpDecay(0.5, 0.1),
    lambda: lr.InverseTimeDecay(0.5, 0.1),
    lambda: lr.PolynomialDecay(0.5, 4, cycle=True),
    lambda: lr.LinearWarmup(lr.StepDecay(0.5, 2), warmup_steps=3, start_lr=0.0, end_lr=0.5),
    lambda: lr.ExponentialDecay(0.5, 0.9),
    lambda: lr.MultiStepDecay(0.5, [2, 4]),
    lambda: lr.StepDecay(0.5, 2),
    lambda: lr.LambdaDecay(0.5, lambda e: 0.9**e),
    lambda: lr.MultiplicativeDecay(0.5, lambda e: 0.9),
    lambda: lr.CosineAnnealingDecay(0.5, 4),
    lambda: lr.LinearLR(0.5, 4),
    lambda: lr.OneCycleLR(0.5, 30),
    lambda: lr.CyclicLR(0.1, 0.5, 3),
    lambda: lr.CosineAnnealingWarmRestarts(0.5, 2, 2),
]


@pytest.mark.parametrize("make", SCHEDULES, ids=lambda m: type(m()).__name__)
def test_state_dict_resumes_exactly(make):
    sched = make()
    for _ in range(7):
        sched.step()
    resumed = make()
    resumed.set_state_dict(sched.state_dict())
    ahead = [sched.step() or sched() for _ in range(6)]
    again = [resumed.step() or resumed() for _ in range(6)]
    assert ahead == again


def test_reduce_on_plateau_resumes_and_counts():
    sched = lr.ReduceOnPlateau(1.0, patience=1, factor=0.5)
    for metric in (3.0, 3.0, 3.0, 2.0):
        sched.step(metric)
    assert sched() == 0.5 and sched.best == 2.0 and sched.last_epoch == 4
    other = lr.ReduceOnPlateau(1.0, patience=1, factor=0.5)
    other.set_state_dict(sched.state_dict())
    assert (other(), other.best, other.num_bad_epochs) == (0.5, 2.0, 0)


@pytest.mark.parametrize("make, name, error", [
    (lambda: lr.StepDecay(0.1, step_size=1.5), "step_size", TypeError),
    (lambda: lr.StepDecay(0.1, step_size=0), "step_size", AssertedValueError),
    (lambda: lr.StepDecay(0.1, 2, gamma=1.0), "gamma", ValueError),
    (lambda: lr.NoamDecay(d_model=0, warmup_steps=3), "d_model", ValueError),
    (lambda: lr.PiecewiseDecay([3, 2], [0.1, 0.2, 0.3]), "boundaries", ValueError),
    (lambda: lr.PiecewiseDecay([3], [0.1, 0.2, 0.3]), "values", ValueError),
    (lambda: lr.NaturalExpDecay(0.1, gamma=0), "gamma", AssertedValueError),
    (lambda: lr.PolynomialDecay(0.1, decay_steps=0), "decay_steps", AssertedValueError),
    (lambda: lr.PolynomialDecay(0.1, 3, power=0), "power", AssertedValueError),
    (lambda: lr.LinearWarmup(0.1, 3, start_lr=0.2, end_lr=0.1), "end_lr", AssertedValueError),
    (lambda: lr.LinearWarmup("x", 3, 0.0, 0.1), "learning_rate", TypeError),
    (lambda: lr.ExponentialDecay(0.1, gamma=1.0), "gamma", AssertedValueError),
    (lambda: lr.LambdaDecay(0.1, lr_lambda=3), "lr_lambda", TypeError),
    (lambda: lr.CosineAnnealingDecay(0.1, T_max=2.0), "T_max", TypeError),
    (lambda: lr.CosineAnnealingDecay(0.1, T_max=0), "T_max", AssertedValueError),
    (lambda: lr.CosineAnnealingDecay(0.1, 3, eta_min="0"), "eta_min", TypeError),
    (lambda: lr.LinearLR(0.1, 3, start_factor=0), "start_factor", ValueError),
    (lambda: lr.LinearLR(0.1, 0), "total_steps", ValueError),
    (lambda: lr.OneCycleLR(0.1, 10, phase_pct=1), "phase_pct", TypeError),
    (lambda: lr.OneCycleLR(0.1, 2, phase_pct=0.3), "phase", ValueError),
    (lambda: lr.CyclicLR(0.1, 0.5, 3, exp_gamma=1), "exp_gamma", TypeError),
    (lambda: lr.CyclicLR(0.1, 0.5, 3, scale_fn=3), "scale_fn", TypeError),
    (lambda: lr.CosineAnnealingWarmRestarts(0.1, T_0=0), "T_0", ValueError),
    (lambda: lr.ReduceOnPlateau(0.1, patience=-1), "patience", ValueError),
    (lambda: lr.ReduceOnPlateau(0.1).step([1.0, 2.0]), "metrics", TypeError),
    (lambda: lr.StepDecay(-0.1, 2), "learning_rate", ValueError),
])
def test_bad_arguments_raise_naming_them(make, name, error):
    with pytest.raises(error, match=name):
        make()


def test_paddle_assert_checks_are_also_assertion_errors():
    with pytest.raises(AssertionError):
        lr.ExponentialDecay(0.1, gamma=2.0)


def test_one_cycle_refuses_steps_past_the_total():
    sched = lr.OneCycleLR(0.5, 10)
    for _ in range(10):
        sched.step()
    with pytest.raises(ValueError, match="total_steps"):
        sched.step()


def test_step_with_epoch_uses_closed_forms():
    cosine = lr.CosineAnnealingDecay(1.0, T_max=10, eta_min=0.1)
    cosine.step(7)
    assert cosine() == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * 0.7)) / 2, abs=0)
    restarts = lr.CosineAnnealingWarmRestarts(1.0, T_0=2, T_mult=2)
    restarts.step(7)  # cycles of 2, 4, then 8: epoch 7 is 1 into the third
    assert (restarts.T_i, restarts.T_cur) == (8, 1)


def test_verbose_prints_each_rate(capsys):
    sched = lr.StepDecay(0.5, 1, gamma=0.5, verbose=True)
    sched.step()
    assert capsys.readouterr().out.splitlines() == [
        "Epoch 0: StepDecay set learning rate to 0.5.", "Epoch 1: StepDecay set learning rate to 0.25."]
