"""LookAhead beyond Paddle, through the public optimizer protocol: nested Lookahead, schedules of alpha
and k, pulling back any of the inner optimizer's state buffers."""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.optimizer import protocol

H, LR = 1.5, 0.1  # the 1-D quadratic f(x) = H/2 x^2; SGD multiplies x by 1 - LR*H per step


def _quadratic_step(x, opt):
    loss = paddle.sum(paddle.to_tensor(np.float32(H / 2)) * x * x)
    loss.backward()
    opt.step()
    opt.clear_grad()


def _nested(a1, k1, a2, k2, x0=1.0):
    x = paddle.nn.Parameter(np.array([x0], np.float32))
    inner = paddle.LookAhead(paddle.optimizer.SGD(LR, parameters=[x]), alpha=a1, k=k1, slow_init="construction")
    outer = paddle.LookAhead(inner, alpha=a2, k=k2, slow_init="construction")
    return x, inner, outer


@pytest.mark.parametrize("a1, k1, a2, m", [(0.5, 3, 0.5, 2), (0.8, 2, 0.3, 3), (1.0, 4, 0.5, 1)])
def test_nested_lookahead_contracts_by_the_closed_form_each_outer_cycle(a1, k1, a2, m):
    x, inner, outer = _nested(a1, k1, a2, m * k1)
    contraction = 1 - a2 + a2 * (1 - a1 + a1 * (1 - LR * H) ** k1) ** m
    expected = 1.0
    for _cycle in range(3):
        for _ in range(m * k1):
            _quadratic_step(x, outer)
        expected *= contraction
        np.testing.assert_allclose(float(x.numpy()[0]), expected, rtol=1e-6)
        # every level restarts from the outer slow weights
        np.testing.assert_array_equal(inner.slow_buffer(), outer.slow_buffer())
        np.testing.assert_array_equal(inner.slow_buffer(), x.numpy())


def test_nested_lookahead_resumes_mid_cycle_at_either_level_bit_identically():
    x, _, outer = _nested(0.5, 3, 0.5, 6)
    for _ in range(4):
        _quadratic_step(x, outer)
    state = outer.state_dict()
    value = x.numpy().copy()
    assert state["inner"]["steps_since_sync"] == 1 and state["steps_since_sync"] == 4
    for _ in range(9):
        _quadratic_step(x, outer)
    straight = x.numpy().copy()
    y, _, resumed = _nested(0.5, 3, 0.5, 6, x0=7.0)
    y.set_value(value)
    resumed.set_state_dict(state)
    for _ in range(9):
        _quadratic_step(y, resumed)
    np.testing.assert_array_equal(y.numpy(), straight)


def test_lookahead_implements_the_protocol_and_refuses_what_does_not():
    x = paddle.nn.Parameter(np.ones(2, np.float32))
    la = paddle.LookAhead(paddle.optimizer.SGD(0.1, parameters=[x]))
    assert protocol.is_step_target(la)
    with pytest.raises(TypeError, match="lacks select"):
        paddle.LookAhead(object())


def test_alpha_and_k_schedules_are_called_with_the_sync_index():
    x = paddle.nn.Parameter(np.array([1.0], np.float32))
    alphas, ks = [], []
    la = paddle.LookAhead(paddle.optimizer.SGD(LR, parameters=[x]), slow_init="construction",
                          alpha=lambda i: alphas.append(i) or min(1.0, 0.5 + 0.25 * i),
                          k=lambda i: ks.append(i) or i + 1)
    expected, slow = 1.0, 1.0
    for cycle in range(4):
        fast = slow
        for _ in range(cycle + 1):
            _quadratic_step(x, la)
            fast *= 1 - LR * H
        alpha = min(1.0, 0.5 + 0.25 * cycle)
        slow = alpha * fast + (1 - alpha) * slow
        expected = slow
        np.testing.assert_allclose(float(x.numpy()[0]), expected, rtol=1e-6)
    assert set(alphas) == {0, 1, 2, 3} and set(ks) == {0, 1, 2, 3}  # k(4) is asked for at the next step


@pytest.mark.parametrize("alpha, k, error, words", [
    (lambda i: 1.5, 2, ValueError, r"alpha\(0\)"),
    (lambda i: "x", 2, TypeError, r"alpha\(0\)"),
    (0.5, lambda i: 0, ValueError, r"k\(0\)"),
    (0.5, lambda i: 2.0, TypeError, r"k\(0\)"),
])  # fmt: skip
def test_a_schedule_out_of_range_is_a_named_error_and_changes_nothing(alpha, k, error, words):
    x = paddle.nn.Parameter(np.array([1.0], np.float32))
    la = paddle.LookAhead(paddle.optimizer.SGD(LR, parameters=[x]), alpha=alpha, k=k, slow_init="construction")
    paddle.sum(x * x).backward()
    if callable(alpha):
        la.step()  # k=2: the first step does not sync, so alpha is not asked for yet
        la.clear_grad()
        paddle.sum(x * x).backward()
    before, step = x.numpy().copy(), la.global_step
    with pytest.raises(error, match=words):
        la.step()
    np.testing.assert_array_equal(x.numpy(), before)
    assert la.global_step == step


def test_pullback_of_every_adam_moment():
    x = paddle.nn.Parameter(np.linspace(-1, 1, 5).astype(np.float32))
    adam = paddle.optimizer.Adam(0.05, parameters=[x])
    la = paddle.LookAhead(adam, alpha=0.5, k=2, inner_state="pullback", pullback_states=("moment1", "moment2"))
    snapshots = {}
    for step in range(1, 5):
        before = {name: adam.state_buffer(name).copy() for name in ("moment1", "moment2")}
        paddle.sum(x * x * x).backward()
        la.step()
        la.clear_grad()
        if step % 2 == 0:
            snapshots[step] = before
    cached = la.state_dict()["cached_states"]
    assert set(cached) == {"moment1", "moment2"}
    for name in ("moment1", "moment2"):
        np.testing.assert_array_equal(cached[name], adam.state_buffer(name))
    with pytest.raises(ValueError, match="pullback_states"):
        paddle.LookAhead(paddle.optimizer.Adam(0.05, parameters=[x]), inner_state="pullback",
                         pullback_states=("velocity",))
    with pytest.raises(ValueError, match="inner_state='keep'"):
        paddle.LookAhead(paddle.optimizer.Adam(0.05, parameters=[x]), pullback_states=("moment1",))


def test_default_pullback_is_the_momentum_buffer_for_every_rule_with_one():
    for name in paddle.optimizer.registry.names():
        entry = paddle.optimizer.registry.get(name)
        x = paddle.nn.Parameter(np.ones(3, np.float32))
        opt = paddle.optimizer.registry.make(name, [x], 0.01)
        if entry.has_momentum_state:
            la = paddle.LookAhead(opt, inner_state="pullback")
            assert la.pullback_states == (opt.momentum_state,)
        else:
            with pytest.raises(ValueError, match="momentum buffer"):
                paddle.LookAhead(opt, inner_state="pullback")
