"""Optimizers: flat buffers, Paddle's update rules against float64 formulas, groups, schedules, state, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import nn
from lasandbox.kernels import cpu_backend
from lasandbox.optimizer import lr as lr_sched


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 5)]
    return [nn.Parameter(rng.standard_normal(s).astype(np.float32)) for s in shapes]


def quadratic_loss(params, targets):
    total = None
    for p, t in zip(params, targets, strict=True):
        term = ((p - paddle.to_tensor(t)) ** 2).sum()
        total = term if total is None else total + term
    return total


def run(opt, params, steps=5, seed=1):
    rng = np.random.default_rng(seed)
    targets = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
    grads = []
    for _ in range(steps):
        quadratic_loss(params, targets).backward()
        grads.append([p.grad.numpy().astype(np.float64).copy() for p in params])
        opt.step()
        opt.clear_grad()
    return grads


def test_parameters_and_gradients_are_views_of_one_flat_buffer():
    params = make_params()
    opt = paddle.optimizer.Adam(learning_rate=0.1, parameters=params)
    buffer = opt._space.param_buffer
    assert buffer.dtype == np.float32 and buffer.size == 12 + 4 + 10
    assert all(np.shares_memory(p._value, buffer) for p in params)
    run(opt, params, steps=1)
    quadratic_loss(params, [np.zeros(p.shape, np.float32) for p in params]).backward()
    assert all(np.shares_memory(p._grad, opt._space.grad_buffer) for p in params)


def _count_kernel_calls(monkeypatch, calls):
    """Record the size of every kernel call the cpu backend makes (the optimizers call it directly)."""
    original = cpu_backend.run
    monkeypatch.setattr(cpu_backend, "run", lambda rule, chain, arrays, *a, **kw: (
        calls.append(arrays["param"].size), original(rule, chain, arrays, *a, **kw))[1])


def test_one_kernel_call_per_step(monkeypatch):
    calls = []
    _count_kernel_calls(monkeypatch, calls)
    params = make_params()
    opt = paddle.optimizer.Adam(learning_rate=0.1, parameters=params)
    run(opt, params, steps=3)
    assert calls == [26, 26, 26]


def reference_run(rule, params0, grads, **hp):
    """Float64 replay of Paddle's formulas given the gradients that were seen."""
    p = [x.astype(np.float64) for x in params0]
    state = [dict(v=np.zeros_like(x), m=np.zeros_like(x), s=np.zeros_like(x)) for x in p]
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            st = state[i]
            if rule == "sgd":
                p[i] = p[i] - hp["lr"] * (g + hp.get("wd", 0) * p[i])
            elif rule == "momentum":
                g = g + hp.get("wd", 0) * p[i]
                st["v"] = hp["mu"] * st["v"] + g
                step = g + hp["mu"] * st["v"] if hp.get("nesterov") else st["v"]
                p[i] = p[i] - hp["lr"] * step
            else:
                if rule == "adamw":
                    p[i] = p[i] * (1 - hp["lr"] * hp["wd"])
                else:
                    g = g + hp.get("wd", 0) * p[i]
                b1, b2, eps = 0.9, 0.999, 1e-8
                st["m"] = b1 * st["m"] + (1 - b1) * g
                st["s"] = b2 * st["s"] + (1 - b2) * g * g
                lr_t = hp["lr"] * np.sqrt(1 - b2**t) / (1 - b1**t)
                p[i] = p[i] - lr_t * st["m"] / (np.sqrt(st["s"]) + eps * np.sqrt(1 - b2**t))
    return p


# case -> (make(params, **kw), float64 hyperparameters); kw carries backend=.
CASES = {
    "sgd": (lambda ps, **kw: paddle.optimizer.SGD(0.1, parameters=ps, **kw), dict(lr=0.1)),
    "sgd_l2": (lambda ps, **kw: paddle.optimizer.SGD(0.1, parameters=ps, weight_decay=0.01, **kw),
               dict(lr=0.1, wd=0.01)),
    "momentum": (lambda ps, **kw: paddle.optimizer.Momentum(0.05, 0.9, parameters=ps, **kw), dict(lr=0.05, mu=0.9)),
    "nesterov_l2": (
        lambda ps, **kw: paddle.optimizer.Momentum(0.05, 0.8, parameters=ps, use_nesterov=True,
                                                   weight_decay=paddle.regularizer.L2Decay(0.02), **kw),
        dict(lr=0.05, mu=0.8, nesterov=True, wd=0.02)),
    "adam": (lambda ps, **kw: paddle.optimizer.Adam(0.01, parameters=ps, **kw), dict(lr=0.01)),
    "adam_l2": (lambda ps, **kw: paddle.optimizer.Adam(0.01, parameters=ps, weight_decay=0.05, **kw),
                dict(lr=0.01, wd=0.05)),
    "adamw": (lambda ps, **kw: paddle.optimizer.AdamW(0.01, parameters=ps, weight_decay=0.1, **kw),
              dict(lr=0.01, wd=0.1)),
}


@pytest.mark.parametrize("backend", ["numpy", "cpu"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_update_rules_match_float64_formulas(case, backend):
    make_opt, hp = CASES[case]
    params = make_params()
    start = [p.numpy().copy() for p in params]
    opt = make_opt(params, backend=backend)
    grads = run(opt, params, steps=6)
    rule = case.split("_")[0].replace("nesterov", "momentum")
    expected = reference_run(rule, start, grads, **hp)
    for p, e in zip(params, expected, strict=True):
        np.testing.assert_allclose(p.numpy(), e, rtol=2e-5, atol=2e-6)


def test_parameter_groups_scale_lr_and_decay():
    params = make_params()
    start = [p.numpy().copy() for p in params]
    opt = paddle.optimizer.SGD(0.1, parameters=[
        {"params": params[:2]},
        {"params": params[2:], "learning_rate": 0.5, "weight_decay": 0.2},
    ])
    grads = run(opt, params, steps=1)
    np.testing.assert_allclose(params[0].numpy(), start[0] - 0.1 * grads[0][0], rtol=1e-6)
    expected = start[2] - 0.05 * (grads[0][2] + 0.2 * start[2])
    np.testing.assert_allclose(params[2].numpy(), expected, rtol=1e-5, atol=1e-7)


def test_parameters_without_gradient_are_skipped():
    params = make_params()
    frozen_before = params[1].numpy().copy()
    opt = paddle.optimizer.Momentum(0.1, 0.9, parameters=params)
    ((params[0] ** 2).sum() + (params[2] ** 2).sum()).backward()
    opt.step()
    np.testing.assert_array_equal(params[1].numpy(), frozen_before)
    assert np.all(opt._state["velocity"][12:16] == 0)
    assert opt._step_counts.tolist() == [1, 0, 1]


def _gradient_step(opt, params, grads):
    """Backpropagate ``sum(p * g)`` over the parameters in ``grads`` ({index: g}), step, drop the gradients."""
    loss = None
    for i, g in grads.items():
        term = (params[i] * paddle.to_tensor(g)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    opt.step()
    opt.clear_grad(set_to_zero=False)  # (zeroed gradients would still count as gradients and step)


_SHAPES = [(3,), (4,), (2, 2), (5,)]
_SCHEDULE = [[0, 1, 2, 3], [0, 2, 3], [0, 1, 2, 3], [1, 2], [0, 1, 2, 3]]  # which parameters get a gradient


@pytest.mark.parametrize("name, calls_when_all_step", [("Adam", 3), ("SGD", 1), ("Momentum", 1)])
def test_uneven_step_counts_still_batch_adjacent_parameters(monkeypatch, name, calls_when_all_step):
    rng = np.random.default_rng(4)
    params = [nn.Parameter(rng.standard_normal(s).astype(np.float32)) for s in _SHAPES]
    opt = getattr(paddle.optimizer, name)(0.1, parameters=params)
    calls = []
    _count_kernel_calls(monkeypatch, calls)
    per_step = []
    for which in _SCHEDULE:
        calls.clear()
        _gradient_step(opt, params, {i: rng.standard_normal(_SHAPES[i]).astype(np.float32) for i in which})
        per_step.append(list(calls))
    assert opt._step_counts.tolist() == [4, 4, 5, 4]
    # Step 1: one call over all 16 values. Parameter 1 then lags one step behind for good: Adam (whose
    # bias correction depends on the count) makes one call per run of equal counts, [0] [1] [2, 3];
    # SGD and Momentum ignore the count and still make one call.
    assert per_step[0] == [16]
    assert len(per_step[2]) == len(per_step[4]) == calls_when_all_step
    assert sum(per_step[2]) == 16 and per_step[1] == [3, 9]
    assert per_step[3] == ([4, 4] if name == "Adam" else [8])  # parameters 1 and 2: counts 2 and 3


@pytest.mark.parametrize("name", ["Adam", "SGD", "Momentum"])
def test_uneven_step_counts_match_one_optimizer_per_parameter(name):
    rng = np.random.default_rng(3)
    values = [rng.standard_normal(s).astype(np.float32) for s in _SHAPES]
    params = [nn.Parameter(v.copy()) for v in values]
    alone = [nn.Parameter(v.copy()) for v in values]
    opt = getattr(paddle.optimizer, name)(0.1, parameters=params)
    singles = [getattr(paddle.optimizer, name)(0.1, parameters=[p]) for p in alone]
    for which in _SCHEDULE:
        grads = {i: rng.standard_normal(_SHAPES[i]).astype(np.float32) for i in which}
        _gradient_step(opt, params, grads)
        for i in which:
            _gradient_step(singles[i], [alone[i]], {0: grads[i]})
    for batched, single in zip(params, alone, strict=True):
        np.testing.assert_array_equal(batched.numpy(), single.numpy())


def test_cuda_backend_without_a_gpu_is_a_named_error_before_anything_moves(monkeypatch):
    from lasandbox.kernels import api

    monkeypatch.setattr(api, "_cuda_available", False)
    params = make_params()
    values = [p._value for p in params]
    with pytest.raises(ValueError, match="backend 'cuda' is not available"):
        paddle.optimizer.Adam(0.1, parameters=params, backend="cuda")
    assert all(p._value is v for p, v in zip(params, values, strict=True))  # not moved into a flat buffer


def test_minimize_uses_existing_gradients_and_subsets():
    params = make_params()
    opt = paddle.optimizer.SGD(0.1, parameters=params)
    loss = quadratic_loss(params, [np.zeros(p.shape, np.float32) for p in params])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ops, pg = opt.minimize(loss)
    assert ops == [] and pg == [] and any("loss.backward" in str(w.message) for w in caught)
    loss.backward()
    before = params[0].numpy().copy()
    ops, pg = opt.minimize(loss, no_grad_set={params[1]})
    assert [p for p, _ in pg] == [params[0], params[2]]
    assert not np.array_equal(params[0].numpy(), before)


def test_lr_schedules():
    step = lr_sched.StepDecay(0.1, step_size=2, gamma=0.5)
    values = []
    for _ in range(5):
        values.append(step())
        step.step()
    assert values == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    cos = lr_sched.CosineAnnealingDecay(1.0, T_max=4)
    got = []
    for _ in range(5):
        got.append(cos())
        cos.step()
    assert got == pytest.approx([1.0, 0.8535534, 0.5, 0.1464466, 0.0], abs=1e-6)
    warm = lr_sched.LinearWarmup(lr_sched.StepDecay(0.1, 1, 0.5), warmup_steps=2, start_lr=0.0, end_lr=0.1)
    seen = []
    for _ in range(4):
        seen.append(warm())
        warm.step()
    assert seen == pytest.approx([0.0, 0.05, 0.1, 0.05])
    params = make_params()
    opt = paddle.optimizer.SGD(lr_sched.StepDecay(0.1, 1, 0.1), parameters=params)
    assert opt.get_lr() == pytest.approx(0.1)
    opt._learning_rate.step()
    assert opt.get_lr() == pytest.approx(0.01)
    with pytest.raises(RuntimeError, match="LRScheduler"):
        opt.set_lr(0.5)


def test_state_dict_roundtrip_and_rejects_bad_state():
    params = make_params()
    opt = paddle.optimizer.Adam(0.1, parameters=params)
    run(opt, params, steps=3)
    state = opt.state_dict()
    # Paddle's layout: one Tensor per accumulator per parameter, the step count in the beta pows.
    assert list(state)[:3] == ["param_0_moment1_0", "param_1_moment1_0", "param_2_moment1_0"]
    assert state["param_0_beta1_pow_acc_0"].numpy().tolist() == [np.float32(np.float32(0.9) ** 4)]
    other_params = make_params()
    other = paddle.optimizer.Adam(0.1, parameters=other_params)
    with pytest.raises(ValueError, match="param_1_moment2_0"):
        other.set_state_dict(dict(state, param_1_moment2_0=np.zeros(5, np.float32)))
    assert not other._state["moment1"].any()
    with pytest.raises(KeyError, match="beta2_pow_acc"):
        other.set_state_dict({k: v for k, v in state.items() if "beta2_pow" not in k})
    with pytest.raises(ValueError, match="match no parameter"):
        other.set_state_dict(dict(state, not_a_parameter_moment1_0=np.zeros(3, np.float32)))
    assert not other._state["moment1"].any() and not other._step_counts.any()
    other.set_state_dict(state)
    np.testing.assert_array_equal(other._state["moment2"], opt._state["moment2"])
    assert other._step_counts.tolist() == [3, 3, 3]


def test_state_dict_of_the_earlier_flat_layout_still_loads():
    params = make_params()
    opt = paddle.optimizer.Adam(0.1, parameters=params)
    run(opt, params, steps=2)
    flat = {"moment1": opt.state_buffer("moment1").copy(), "moment2": opt.state_buffer("moment2").copy(),
            "step_counts": np.array([2, 2, 2]), "num_values": opt.flat_parameters().size}
    other = paddle.optimizer.Adam(0.1, parameters=make_params())
    with pytest.raises(ValueError, match="moment2"):
        other.set_state_dict(dict(flat, moment2=np.zeros(5, np.float32)))
    other.set_state_dict(flat)
    np.testing.assert_array_equal(other.state_buffer("moment2"), opt.state_buffer("moment2"))
    assert other._step_counts.tolist() == [2, 2, 2]


def test_backend_is_fixed_at_construction():
    opt = paddle.optimizer.Adam(0.01, parameters=make_params(), backend="numpy")
    with pytest.raises(AttributeError, match="chosen at construction.*backend='cpu'"):
        opt.backend = "cpu"
    assert opt.backend == "numpy"


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda ps: paddle.optimizer.SGD(-0.1, parameters=ps), ValueError, "learning_rate"),
        (lambda ps: paddle.optimizer.SGD("0.1", parameters=ps), TypeError, "learning_rate"),
        (lambda ps: paddle.optimizer.SGD(0.1), TypeError, "parameters"),
        (lambda ps: paddle.optimizer.SGD(0.1, parameters=[]), ValueError, "parameters"),
        (lambda ps: paddle.optimizer.Momentum(0.1, momentum=-0.9, parameters=ps), ValueError, "momentum"),
        (lambda ps: paddle.optimizer.Adam(0.1, beta1=1.0, parameters=ps), ValueError, "beta1"),
        (lambda ps: paddle.optimizer.Adam(0.1, beta2=-0.1, parameters=ps), ValueError, "beta2"),
        (lambda ps: paddle.optimizer.Adam(0.1, epsilon=-1.0, parameters=ps), ValueError, "epsilon"),
        (lambda ps: paddle.optimizer.AdamW(0.1, weight_decay=-0.1, parameters=ps), ValueError, "weight_decay"),
        (lambda ps: paddle.optimizer.SGD(0.1, parameters=[np.zeros(3)]), TypeError, "Tensors"),
        (lambda ps: paddle.optimizer.SGD(0.1, backend="gpu", parameters=ps), ValueError, "backend"),
        (lambda ps: paddle.optimizer.SGD(0.1, grad_clip=1.0, parameters=ps), TypeError, "grad_clip"),
        (lambda ps: paddle.optimizer.Adam(0.1, multi_precision="yes", parameters=ps), TypeError, "multi_precision"),
        (lambda ps: paddle.optimizer.Momentum(0.1, use_multi_tensor=None, parameters=ps), TypeError,
         "use_multi_tensor"),
        (lambda ps: paddle.optimizer.AdamW(0.1, weight_decay=paddle.regularizer.L1Decay(0.1), parameters=ps),
         TypeError, "decoupled"),
        (lambda ps: paddle.optimizer.SGD(0.1, weight_decay=paddle.regularizer.L1Decay(-1.0), parameters=ps),
         ValueError, "coeff"),
        (lambda ps: paddle.optimizer.SGD(0.1, parameters=[{"params": ps}, {"params": ps[:1], "learning_rate": 10.0}]),
         ValueError, "in parameter groups 0 and 1"),  # the second group's rate had been ignored
        (lambda ps: paddle.optimizer.SGD(0.1, parameters=[{"params": ps, "grad_clip": "norm"}]), TypeError,
         r"parameters\[0\]\['grad_clip'\]"),
    ],
)
def test_bad_arguments_raise_before_touching_parameters(make, error, message):
    params = make_params()
    values = [p._value for p in params]
    with pytest.raises(error, match=message):
        make(params)
    for p, v in zip(params, values, strict=True):
        assert p._value is v  # not even re-bound into a buffer


def test_two_optimizers_over_the_same_parameters_each_see_current_values():
    params = make_params()
    first = paddle.optimizer.SGD(0.1, parameters=params)
    second = paddle.optimizer.SGD(0.1, parameters=params)
    run(second, params, steps=1)
    current = [p.numpy().copy() for p in params]
    grads = run(first, params, steps=1)
    for p, c, g in zip(params, current, grads[0], strict=True):
        np.testing.assert_allclose(p.numpy(), c - 0.1 * g, rtol=1e-6, atol=1e-7)


def test_adamw_apply_decay_param_fun_excludes_parameters_by_name():
    layer = nn.Linear(3, 2)
    assert layer.weight.name.endswith(".w_0") and layer.bias.name.endswith(".b_0")
    layer.bias.set_value(np.ones(2, np.float32))
    opt = paddle.optimizer.AdamW(0.1, parameters=layer.parameters(), weight_decay=0.5,
                                 apply_decay_param_fun=lambda name: name.endswith(".w_0"))
    (layer(paddle.ones([1, 3])) * 0).sum().backward()  # zero gradients: only decay can move parameters
    weight_before = layer.weight.numpy().copy()
    opt.step()
    np.testing.assert_array_equal(layer.bias.numpy(), np.ones(2, np.float32))
    np.testing.assert_allclose(layer.weight.numpy(), weight_before * (1 - 0.1 * 0.5), rtol=1e-6)
