"""LookAhead: Paddle semantics, the optax-style edge cases, research options, bad input, exact resume."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import nn

INNER = {
    "sgd": lambda p: paddle.optimizer.SGD(learning_rate=0.1, parameters=p),
    "momentum": lambda p: paddle.optimizer.Momentum(learning_rate=0.05, momentum=0.9, parameters=p),
    "nesterov": lambda p: paddle.optimizer.Momentum(learning_rate=0.05, momentum=0.9, use_nesterov=True,
                                                    parameters=p),
    "adam": lambda p: paddle.optimizer.Adam(learning_rate=0.01, parameters=p),
    "adamw": lambda p: paddle.optimizer.AdamW(learning_rate=0.01, weight_decay=0.1, parameters=p),
}

DATA = np.random.default_rng(7)
X = DATA.standard_normal((20, 8, 5)).astype(np.float32)
Y = DATA.integers(0, 3, (20, 8, 1))


def make_model(seed=0):
    paddle.seed(seed)
    return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))


def flat(model):
    return np.concatenate([p.numpy().ravel() for p in model.parameters()])


def train(model, opt, steps, start=0):
    loss_fn = nn.CrossEntropyLoss()
    snapshots = []
    for t in range(start, start + steps):
        loss = loss_fn(model(paddle.to_tensor(X[t])), paddle.to_tensor(Y[t]))
        loss.backward()
        opt.step()
        opt.clear_grad()
        snapshots.append(flat(model))
    return snapshots


@pytest.mark.parametrize("inner", sorted(INNER))
def test_alpha_one_reproduces_the_inner_optimizer_exactly(inner):
    a, b = make_model(), make_model()
    plain = train(a, INNER[inner](a.parameters()), 12)
    wrapped = train(b, paddle.LookAhead(INNER[inner](b.parameters()), alpha=1.0, k=3), 12)
    for x, y in zip(plain, wrapped, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("inner", sorted(INNER))
def test_alpha_zero_freezes_the_slow_weights(inner):
    model = make_model()
    theta0 = flat(model)
    opt = paddle.LookAhead(INNER[inner](model.parameters()), alpha=0.0, k=4, slow_init="construction")
    snaps = train(model, opt, 12)
    for t in (3, 7, 11):  # after each sync the fast weights are back at phi_0 = theta_0
        np.testing.assert_array_equal(snaps[t], theta0)
    assert not np.array_equal(snaps[5], theta0)
    # Paddle's lazy init: the slow weights are the fast weights after step 1, and stay there.
    model = make_model()
    opt = paddle.LookAhead(INNER[inner](model.parameters()), alpha=0.0, k=4)
    snaps = train(model, opt, 8)
    np.testing.assert_array_equal(snaps[3], snaps[0])
    np.testing.assert_array_equal(snaps[7], snaps[0])


@pytest.mark.parametrize("alpha", [0.2, 0.5, 0.8])
def test_paper_init_gives_the_interpolation_after_k_steps(alpha):
    k = 5
    a, b = make_model(), make_model()
    theta0 = flat(a)
    plain = train(a, INNER["momentum"](a.parameters()), k)
    la = paddle.LookAhead(INNER["momentum"](b.parameters()), alpha=alpha, k=k, slow_init="construction")
    wrapped = train(b, la, k)
    expected = theta0 + alpha * (plain[-1] - theta0)
    np.testing.assert_allclose(wrapped[-1], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(la.state_dict()["slow"], wrapped[-1])  # after a sync, fast == slow


def test_slow_weights_change_only_every_k_steps_and_fast_equals_slow_after_sync():
    model = make_model()
    la = paddle.LookAhead(INNER["adam"](model.parameters()), alpha=0.5, k=3)
    slows = []
    for t in range(9):
        train(model, la, 1, start=t)
        slows.append(la.state_dict()["slow"].copy())
        if (t + 1) % 3 == 0:
            np.testing.assert_array_equal(flat(model), slows[-1])
    # Lazy init at step 1, then changes exactly at steps 3, 6, 9.
    changed = [not np.array_equal(slows[i], slows[i - 1]) for i in range(1, 9)]
    assert changed == [False, True, False, False, True, False, False, True]
    assert la.global_step == 9


def test_one_dimensional_quadratic_outer_factor():
    """On f(x) = a x^2 / 2 with SGD, each outer step multiplies x by 1 - alpha + alpha (1 - lr a)^k."""
    a_coef, lr, alpha, k = 0.8, 0.3, 0.6, 4
    x = paddle.to_tensor(np.array([2.0], np.float32), stop_gradient=False)
    x.__class__ = nn.Parameter
    la = paddle.LookAhead(paddle.optimizer.SGD(learning_rate=lr, parameters=[x]), alpha=alpha, k=k,
                          slow_init="construction")
    values = [2.0]
    for _ in range(3 * k):
        (0.5 * a_coef * x * x).sum().backward()
        la.step()
        la.clear_grad()
        values.append(float(x.numpy()[0]))
    factor = 1 - alpha + alpha * (1 - lr * a_coef) ** k
    for s in range(1, 4):
        assert values[s * k] / values[(s - 1) * k] == pytest.approx(factor, rel=1e-5)


def test_inner_state_policies():
    def velocity_after_two_syncs(policy):
        model = make_model()
        inner = INNER["momentum"](model.parameters())
        la = paddle.LookAhead(inner, alpha=0.5, k=3, inner_state=policy)
        train(model, la, 6)
        return inner._state["velocity"].copy(), la

    velocity, _ = velocity_after_two_syncs("reset")
    assert np.all(velocity == 0)
    kept, _ = velocity_after_two_syncs("keep")
    assert np.any(kept != 0)
    pulled, la = velocity_after_two_syncs("pullback")
    # After a pullback sync the cache holds the interpolated buffer, and the buffer differs from "keep".
    np.testing.assert_array_equal(la.state_dict()["cached_states"]["velocity"], pulled)
    assert np.any(pulled != kept)
    with pytest.raises(ValueError, match="momentum buffer"):
        paddle.LookAhead(INNER["sgd"](make_model().parameters()), inner_state="reset")


def test_pullback_formula_on_one_sync():
    model = make_model()
    inner = INNER["momentum"](model.parameters())
    la = paddle.LookAhead(inner, alpha=0.25, k=2, inner_state="pullback")
    train(model, la, 1)
    loss = nn.CrossEntropyLoss()(model(paddle.to_tensor(X[1])), paddle.to_tensor(Y[1]))
    loss.backward()
    v_before = inner._state["velocity"].copy()
    grad = inner._space.grad_buffer.copy()
    la.step()
    expected = 0.25 * (0.9 * v_before + grad) + 0.75 * 0.0
    np.testing.assert_allclose(inner._state["velocity"], expected, rtol=1e-6, atol=1e-7)


def test_slow_weights_context_swaps_and_restores():
    model = make_model()
    la = paddle.LookAhead(INNER["sgd"](model.parameters()), alpha=0.5, k=4)
    train(model, la, 6)
    fast = flat(model)
    slow = la.state_dict()["slow"]
    assert not np.array_equal(fast, slow)
    with la.slow_weights():
        np.testing.assert_array_equal(flat(model), slow)
    np.testing.assert_array_equal(flat(model), fast)
    la.sync()
    np.testing.assert_array_equal(flat(model), la.state_dict()["slow"])
    np.testing.assert_allclose(la.state_dict()["slow"], slow + 0.5 * (fast - slow), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"alpha": -0.1}, ValueError, "alpha"),
        ({"alpha": 1.5}, ValueError, "alpha"),
        ({"alpha": "0.5"}, TypeError, "alpha"),
        ({"alpha": True}, TypeError, "alpha"),
        ({"alpha": float("nan")}, ValueError, "alpha"),
        ({"k": 0}, ValueError, "k"),
        ({"k": -3}, ValueError, "k"),
        ({"k": 2.0}, TypeError, "k"),
        ({"k": True}, TypeError, "k"),
        ({"slow_init": "paper"}, ValueError, "slow_init"),
        ({"inner_state": "interpolate"}, ValueError, "inner_state"),
    ],
)
def test_bad_arguments_raise_and_change_nothing(kwargs, error, message):
    model = make_model()
    inner = INNER["momentum"](model.parameters())
    before = flat(model)
    with pytest.raises(error, match=message):
        paddle.LookAhead(inner, **kwargs)
    np.testing.assert_array_equal(flat(model), before)
    assert not inner._state["velocity"].any() and not inner._step_counts.any()


@pytest.mark.parametrize("inner", [None, "sgd", object(), paddle.optimizer.SGD], ids=["None", "str", "object", "class"])
def test_inner_optimizer_must_be_an_optimizer(inner):
    with pytest.raises(TypeError, match="inner_optimizer"):
        paddle.LookAhead(inner)


def test_set_state_dict_checks_before_writing():
    model = make_model()
    la = paddle.LookAhead(INNER["adam"](model.parameters()), alpha=0.5, k=3)
    train(model, la, 4)
    good = la.state_dict()
    bad = dict(good, slow=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="slow"):
        la.set_state_dict(bad)
    moment1 = next(key for key in good["inner"] if key.endswith("_moment1_0"))
    bad_inner = dict(good, inner=dict(good["inner"], **{moment1: np.zeros(2, np.float32)}))
    with pytest.raises(ValueError, match=moment1):
        la.set_state_dict(bad_inner)
    after = la.state_dict()
    np.testing.assert_array_equal(after["slow"], good["slow"])
    for key, value in good["inner"].items():
        np.testing.assert_array_equal(after["inner"][key].numpy(), value.numpy())
    with pytest.raises(KeyError, match="global_step"):
        la.set_state_dict({"slow": None, "inner": good["inner"]})
    # The options it records must be this LookAhead's (a k=7 checkpoint had resumed at k=3 without a word).
    for key, value in [("k", 7), ("alpha", 5.0), ("slow_init", "zzz"), ("inner_state", "zzz"),
                       ("pullback_states", ["junk"]), ("steps_since_sync", 10)]:
        with pytest.raises(ValueError, match=key):
            la.set_state_dict(dict(good, **{key: value}))
    np.testing.assert_array_equal(la.state_dict()["slow"], good["slow"])
    la.set_state_dict(good)


RESUME_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import lasandbox as paddle
    from lasandbox import nn

    mode, path, inner_name = sys.argv[1], sys.argv[2], sys.argv[3]
    rng = np.random.default_rng(3)
    X = rng.standard_normal((17, 8, 5)).astype(np.float32)
    Y = rng.integers(0, 3, (17, 8, 1))
    paddle.seed(11)
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    if inner_name == "adam":
        inner = paddle.optimizer.Adam(learning_rate=paddle.optimizer.lr.StepDecay(0.01, 2, 0.5),
                                      parameters=model.parameters())
    else:
        inner = paddle.optimizer.Momentum(learning_rate=0.05, momentum=0.9, parameters=model.parameters())
    la = paddle.LookAhead(inner, alpha=0.4, k=5, inner_state="pullback")
    loss_fn = nn.CrossEntropyLoss()

    def run(steps):
        for t in steps:
            loss = loss_fn(model(paddle.to_tensor(X[t])), paddle.to_tensor(Y[t]))
            loss.backward()
            la.step()
            la.clear_grad()
            if t % 4 == 3 and inner_name == "adam":
                inner._learning_rate.step()

    if mode == "straight":
        run(range(17))
    elif mode == "first":
        run(range(8))  # stops mid-cycle (8 % 5 == 3)
        paddle.save({"model": model.state_dict(), "opt": la.state_dict()}, path)
        sys.exit(0)
    else:
        state = paddle.load(path)
        model.set_state_dict(state["model"])
        la.set_state_dict(state["opt"])
        run(range(8, 17))
    np.save(path + "." + mode + ".npy", np.concatenate([p.numpy().ravel() for p in model.parameters()]))
    """
)


@pytest.mark.parametrize("inner", ["momentum", "adam"])
def test_resume_mid_cycle_in_a_new_process_is_bit_identical(tmp_path, inner):
    script = tmp_path / "resume.py"
    script.write_text(RESUME_SCRIPT)
    state = str(tmp_path / "state.pdparams")
    for mode in ("straight", "first", "second"):
        subprocess.run([sys.executable, str(script), mode, state, inner], check=True, timeout=300)
    straight = np.load(state + ".straight.npy")
    resumed = np.load(state + ".second.npy")
    np.testing.assert_array_equal(resumed, straight)
