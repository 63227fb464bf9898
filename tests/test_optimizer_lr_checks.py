"""optimizer.lr: rates are finite and >= 0 wherever they come from (arguments, ``step(epoch)``,
``set_state_dict``, a computed schedule), and a refused call leaves the scheduler and optimizer as they were.
"""

from __future__ import annotations

import copy
import inspect
import math

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.optimizer import SGD, Adam, lr

INF, NAN = float("inf"), float("nan")

# One valid construction per schedule that takes a learning_rate (ReduceOnPlateau included).
WITH_LEARNING_RATE = {
    "NoamDecay": dict(d_model=16, warmup_steps=5),
    "NaturalExpDecay": dict(gamma=0.5), "InverseTimeDecay": dict(gamma=0.5),
    "PolynomialDecay": dict(decay_steps=10), "LinearWarmup": dict(warmup_steps=5, start_lr=0.0, end_lr=0.1),
    "ExponentialDecay": dict(gamma=0.9), "MultiStepDecay": dict(milestones=[3, 6]), "StepDecay": dict(step_size=3),
    "LambdaDecay": dict(lr_lambda=lambda e: 0.9**e), "MultiplicativeDecay": dict(lr_lambda=lambda e: 0.9),
    "CosineAnnealingDecay": dict(T_max=10), "LinearLR": dict(total_steps=10),
    "CosineAnnealingWarmRestarts": dict(T_0=5), "ReduceOnPlateau": {},
}


@pytest.mark.parametrize("value", [INF, -INF, NAN])
@pytest.mark.parametrize("name", sorted(WITH_LEARNING_RATE))
def test_every_learning_rate_argument_must_be_finite(name, value):
    assert "learning_rate" in inspect.signature(getattr(lr, name)).parameters
    with pytest.raises(ValueError, match="learning_rate"):
        getattr(lr, name)(learning_rate=value, **WITH_LEARNING_RATE[name])


@pytest.mark.parametrize("make, name, error", [
    (lambda: lr.CosineAnnealingDecay(0.1, T_max=4, eta_min=-1.0), "eta_min", ValueError),
    (lambda: lr.CosineAnnealingDecay(0.1, T_max=4, eta_min=NAN), "eta_min", ValueError),
    (lambda: lr.CosineAnnealingDecay(0.1, T_max=4, eta_min=INF), "eta_min", ValueError),
    (lambda: lr.PolynomialDecay(0.1, decay_steps=10, end_lr=INF), "end_lr", ValueError),
    (lambda: lr.LinearWarmup(0.1, 3, start_lr=0.0, end_lr=INF), "end_lr", ValueError),
    (lambda: lr.LinearWarmup(0.1, 3, start_lr=NAN, end_lr=0.1), "start_lr", ValueError),
    (lambda: lr.OneCycleLR(INF, 20), "max_learning_rate", ValueError),
    (lambda: lr.OneCycleLR(0.1, 20, end_learning_rate=INF), "end_learning_rate", ValueError),
    (lambda: lr.CyclicLR(0.01, INF, 5), "max_learning_rate", ValueError),
    (lambda: lr.CyclicLR(NAN, 0.1, 5), "base_learning_rate", ValueError),
    (lambda: lr.CyclicLR(0.01, 0.1, 5, mode="exp_range", exp_gamma=-0.5), "exp_gamma", ValueError),
    (lambda: lr.CyclicLR(0.01, 0.1, 5, mode="exp_range", exp_gamma=NAN), "exp_gamma", ValueError),
    (lambda: lr.CosineAnnealingWarmRestarts(0.1, 5, eta_min=INF), "eta_min", ValueError),
    (lambda: lr.ReduceOnPlateau(0.1, min_lr=INF), "min_lr", ValueError),
    (lambda: lr.PiecewiseDecay([3, 6], [0.1, INF, 0.01]), r"values\[1\]", ValueError),
    (lambda: lr.PiecewiseDecay([NAN], [0.1, 0.01]), r"boundaries\[0\]", ValueError),
    (lambda: lr.PiecewiseDecay(3, [0.1, 0.01]), "boundaries", TypeError),
    (lambda: lr.PiecewiseDecay([3], 0.1), "values", TypeError),
])
def test_rate_arguments_are_checked(make, name, error):
    with pytest.raises(error, match=name):
        make()


def _scheduler_state(sched):
    return copy.deepcopy(vars(sched))


def _same(a, b):  # NaN-aware equality of two vars() snapshots
    return a.keys() == b.keys() and all(
        (x is y) or x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
        or callable(x) for x, y in zip(a.values(), b.values(), strict=True))


@pytest.mark.parametrize("epoch, error", [(-5, ValueError), (-1, ValueError), (2.5, TypeError), ("a", TypeError),
                                          (True, TypeError)])
def test_step_epoch_is_checked_like_last_epoch(epoch, error):
    sched = lr.StepDecay(0.1, step_size=3)
    sched.step()
    before = _scheduler_state(sched)
    with pytest.raises(error, match="epoch"):
        sched.step(epoch)
    assert _same(before, _scheduler_state(sched)) and sched() == 0.1


@pytest.mark.parametrize("epoch, error", [(NAN, ValueError), (INF, ValueError), (-1, ValueError), ("3", TypeError)])
def test_warm_restarts_step_epoch_is_checked_before_it_moves(epoch, error):
    sched = lr.CosineAnnealingWarmRestarts(0.1, T_0=2, T_mult=2)
    sched.step(5)
    before = _scheduler_state(sched)
    with pytest.raises(error, match="epoch"):
        sched.step(epoch)
    assert _same(before, _scheduler_state(sched))


def test_reduce_on_plateau_epoch_is_checked():
    sched = lr.ReduceOnPlateau(0.1)
    with pytest.raises(ValueError, match="epoch"):
        sched.step(1.0, epoch=-2)
    assert (sched.last_epoch, sched.best) == (0, None)


def test_a_raising_lr_lambda_leaves_last_epoch():
    sched = lr.LambdaDecay(0.1, lambda e: 1.0 if e < 2 else 1 / 0)
    sched.step()
    with pytest.raises(ZeroDivisionError):
        sched.step()
    assert (sched.last_epoch, sched()) == (1, 0.1)


@pytest.mark.parametrize("make, key, value, error", [
    (lambda: lr.StepDecay(0.1, 3), "last_lr", -5.0, ValueError),
    (lambda: lr.StepDecay(0.1, 3), "last_lr", NAN, ValueError),
    (lambda: lr.StepDecay(0.1, 3), "last_lr", INF, ValueError),
    (lambda: lr.StepDecay(0.1, 3), "last_lr", "0.1", TypeError),
    (lambda: lr.StepDecay(0.1, 3), "last_epoch", "x", TypeError),
    (lambda: lr.StepDecay(0.1, 3), "last_epoch", 2.5, TypeError),
    (lambda: lr.StepDecay(0.1, 3), "last_epoch", -3, ValueError),
    (lambda: lr.StepDecay(0.1, 3), "last_epoch", True, TypeError),
    (lambda: lr.CosineAnnealingWarmRestarts(0.1, 2, 2), "T_i", 0, ValueError),
    (lambda: lr.CosineAnnealingWarmRestarts(0.1, 2, 2), "T_cur", NAN, ValueError),
    (lambda: lr.ReduceOnPlateau(0.1), "num_bad_epochs", -1, ValueError),
    (lambda: lr.ReduceOnPlateau(0.1), "cooldown_counter", 1.5, TypeError),
    (lambda: lr.ReduceOnPlateau(0.1), "best", "x", TypeError),
])
def test_set_state_dict_checks_every_value_first(make, key, value, error):
    sched = make()
    saved = sched.state_dict()
    sched.step(1.0) if isinstance(sched, lr.ReduceOnPlateau) else sched.step()
    before = _scheduler_state(sched)
    bad = {**saved, key: value}  # its other values differ from the current ones: a partial set would show
    with pytest.raises(error, match=f"state_dict\\['{key}'\\]"):
        sched.set_state_dict(bad)
    assert _same(before, _scheduler_state(sched))


def test_set_state_dict_refuses_a_non_dict_and_missing_keys():
    sched = lr.StepDecay(0.1, 3)
    with pytest.raises(TypeError, match="state_dict must be a dict"):
        sched.set_state_dict(5)
    with pytest.raises(KeyError, match="last_lr"):
        sched.set_state_dict({"last_epoch": 2})
    assert (sched.last_epoch, sched.last_lr) == (0, 0.1)


def test_linear_warmup_checks_the_wrapped_state_before_setting_its_own():
    warm = lr.LinearWarmup(lr.StepDecay(0.5, 2), warmup_steps=3, start_lr=0.0, end_lr=0.5)
    state = warm.state_dict()
    state["last_epoch"] = 9
    state["LinearWarmup_LR"] = {"last_epoch": 6, "last_lr": NAN}
    with pytest.raises(ValueError, match="StepDecay state_dict\\['last_lr'\\]"):
        warm.set_state_dict(state)
    assert (warm.last_epoch, warm.learning_rate.last_epoch) == (0, 0)


def test_reduce_on_plateau_resumes_with_an_array_best():
    sched = lr.ReduceOnPlateau(0.1)
    sched.step(np.array([2.0]))
    other = lr.ReduceOnPlateau(0.1)
    other.set_state_dict(sched.state_dict())
    assert other.best.item() == 2.0


# ------------------------------------------------------------------ the optimizer reads a checked rate
def _model_with_grads():
    paddle.seed(0)
    lin = paddle.nn.Linear(3, 2)
    paddle.mean(lin(paddle.to_tensor(np.ones((4, 3), "float32")))).backward()
    return lin


@pytest.mark.parametrize("make, shown", [
    (lambda: lr.LambdaDecay(0.1, lambda e: 1.0 if e < 1 else -1.0), "-0.1"),
    (lambda: lr.LambdaDecay(0.1, lambda e: 1.0 if e < 1 else NAN), "nan"),
    (lambda: lr.MultiplicativeDecay(0.1, lambda e: 1e200), "inf"),  # overflows at epoch 2
])
def test_a_bad_computed_rate_raises_at_the_step_before_any_write(make, shown):
    sched = make()
    lin = _model_with_grads()
    opt = SGD(sched, parameters=lin.parameters(), grad_clip=paddle.nn.ClipGradByGlobalNorm(1e-3))
    sched.step()
    if isinstance(sched, lr.MultiplicativeDecay):
        sched.step()
    weights = [p.numpy().copy() for p in lin.parameters()]
    grads = [p.grad.numpy().copy() for p in lin.parameters()]
    with pytest.raises(ValueError, match=f"{type(sched).__name__} computed learning rate {shown}"):
        opt.step()
    assert all(np.array_equal(w, p.numpy()) for w, p in zip(weights, lin.parameters(), strict=True))
    assert all(np.array_equal(g, p.grad.numpy()) for g, p in zip(grads, lin.parameters(), strict=True))
    assert opt.global_step == 0
    with pytest.raises(ValueError, match=type(sched).__name__):
        opt.get_lr()


def test_linear_lr_to_zero_ends_on_zero_not_a_rounding_negative():
    sched = lr.LinearLR(0.1, total_steps=10, end_factor=0.0)
    for _ in range(12):
        sched.step()
    assert sched() == 0.0  # Paddle's arithmetic gives -2.96e-18 here
    # and a Paddle checkpoint saved there, holding that rounding, loads (as 0); a real negative does not
    state = dict(sched.state_dict(), last_lr=-2.96e-18)
    restored = lr.LinearLR(0.1, total_steps=10, end_factor=0.0)
    restored.set_state_dict(state)
    assert restored.last_lr == 0.0
    with pytest.raises(ValueError, match="last_lr"):
        restored.set_state_dict(dict(state, last_lr=-1e-6))


def test_adam_set_state_dict_refuses_a_bad_scheduler_entry_and_changes_nothing():
    lin = _model_with_grads()
    sched = lr.StepDecay(0.1, 3)
    opt = Adam(sched, parameters=lin.parameters())
    opt.step()
    sched.step()
    state = opt.state_dict()
    before = {k: (v.numpy().copy() if hasattr(v, "numpy") else copy.deepcopy(v)) for k, v in state.items()}
    weights = [p.numpy().copy() for p in lin.parameters()]
    for entry, error in [({"last_epoch": 2, "last_lr": NAN}, ValueError), ({"last_epoch": "x", "last_lr": 0.1},
                                                                          TypeError), (5, TypeError)]:
        bad = {**state, "LR_Scheduler": entry}
        with pytest.raises(error, match="StepDecay state_dict"):
            opt.set_state_dict(bad)
        now = opt.state_dict()
        for k, v in before.items():
            assert np.array_equal(np.asarray(v), np.asarray(now[k].numpy() if hasattr(now[k], "numpy") else now[k]))
        assert all(np.array_equal(w, p.numpy()) for w, p in zip(weights, lin.parameters(), strict=True))
        assert opt.get_lr() == 0.1
