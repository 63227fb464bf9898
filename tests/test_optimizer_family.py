"""Every registered optimizer through the one registry: construction, resume, LookAhead, argument checks.

Parametrised over ``lasandbox.optimizer.registry``: an optimizer added there is
picked up here without edits. Paddle's numbers for each are in test_paddle_family.py.
"""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.optimizer import registry

NAMES = registry.names()
LR = 0.01


def _model(seed=0):
    paddle.seed(seed)
    return paddle.nn.Sequential(paddle.nn.Linear(6, 5), paddle.nn.ReLU(), paddle.nn.Linear(5, 3))


def _batches(steps, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((8, 6)).astype(np.float32), rng.integers(0, 3, (8, 1))) for _ in range(steps)]


def _train(model, opt, batches):
    loss_fn = paddle.nn.CrossEntropyLoss()
    for x, y in batches:
        loss = loss_fn(model(paddle.to_tensor(x)), paddle.to_tensor(y))
        loss.backward()
        opt.step()
        opt.clear_grad()
    return [p.numpy().copy() for p in model.parameters()]


def test_registry_lists_the_paddle_family_and_lion():
    assert set(NAMES) >= {"sgd", "momentum", "adam", "adamw", "adagrad", "adadelta", "adamax", "rmsprop", "lamb",
                          "nadam", "radam", "asgd", "rprop", "lion"}
    for name in NAMES:
        entry = registry.get(name)
        assert getattr(paddle.optimizer, entry.cls.__name__) is entry.cls
        assert entry.cls.registry_name == name


@pytest.mark.parametrize("name", NAMES)
def test_resume_from_state_dict_is_bit_identical(name):
    batches = _batches(7)
    model = _model()
    straight = _train(model, registry.make(name, model.parameters(), LR), batches)
    model = _model()
    opt = registry.make(name, model.parameters(), LR)
    _train(model, opt, batches[:4])
    buffer = io.BytesIO()  # through a real checkpoint, as a new process would read it
    paddle.save({"model": model.state_dict(), "opt": opt.state_dict()}, buffer)
    buffer.seek(0)
    state = paddle.load(buffer)
    resumed_model = _model(seed=5)
    resumed_model.set_state_dict(state["model"])
    resumed = registry.make(name, resumed_model.parameters(), LR)
    resumed.set_state_dict(state["opt"])
    after = _train(resumed_model, resumed, batches[4:])
    for a, b in zip(straight, after, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_lookahead_over_each_syncs_every_k_steps(name):
    model = _model()
    inner = registry.make(name, model.parameters(), LR)
    la = paddle.LookAhead(inner, alpha=0.5, k=3)
    _train(model, la, _batches(6))
    np.testing.assert_array_equal(la.slow_buffer(), inner.flat_parameters())  # step 6 synced
    assert la.global_step == 6


def test_momentum_knob_sets_each_optimizers_own_argument():
    params = _model().parameters()
    assert registry.make("adam", params, LR, momentum=0.8).rule.hyper("beta1")  # sets beta1 ...
    adam = registry.make("adam", _model().parameters(), LR, momentum=0.8)
    assert adam._groups[0].hypers["beta1"] == 0.8
    assert registry.make("momentum", _model().parameters(), LR, momentum=0.7)._groups[0].hypers["momentum"] == 0.7
    with pytest.raises(ValueError, match="no momentum-like argument"):
        registry.make("sgd", _model().parameters(), LR, momentum=0.9)
    with pytest.raises(ValueError, match="either momentum or 'beta1'"):
        registry.make("adam", _model().parameters(), LR, momentum=0.9, beta1=0.8)
    with pytest.raises(ValueError, match="registered optimizers"):
        registry.make("lbfgs", _model().parameters(), LR)


def test_adamw_keeps_paddles_default_decay_through_the_registry():
    assert registry.make("adamw", _model().parameters(), LR)._groups[0].weight_decay == 0.01
    assert registry.make("adam", _model().parameters(), LR)._groups[0].weight_decay == 0.0


@pytest.mark.parametrize("kwargs, error, words", [
    ({"learning_rate_range": (0.0, 1.0)}, ValueError, "learning_rate_range"),
    ({"learning_rate": 100.0}, ValueError, "learning_rate_range"),
    ({"etas": (1.2, 0.5)}, ValueError, "etas"),
    ({"etas": 0.5}, TypeError, "etas"),
    ({"learning_rate": paddle.optimizer.lr.StepDecay(0.01, 2)}, TypeError, "LRScheduler"),
])  # fmt: skip
def test_rprop_checks_its_ranges_like_paddle(kwargs, error, words):
    with pytest.raises(error, match=words):
        paddle.optimizer.Rprop(parameters=_model().parameters(), **{"learning_rate": 0.01, **kwargs})


@pytest.mark.parametrize("cls, kwargs, words", [
    ("RMSProp", {"learning_rate": 0.1, "rho": -0.1}, "rho"),
    ("RMSProp", {"learning_rate": 0.1, "epsilon": -1.0}, "epsilon"),
    ("Adamax", {"beta1": 1.0}, "beta1"),
    ("NAdam", {"momentum_decay": -1.0}, "momentum_decay"),
    ("RAdam", {"beta2": 1.5}, "beta2"),
    ("Adagrad", {"learning_rate": 0.1, "epsilon": "small"}, "epsilon"),
    ("ASGD", {"batch_num": 0}, "batch_num"),
    ("ASGD", {"batch_num": 2.5}, "batch_num"),
    ("Lamb", {"epsilon": -1e-6}, "epsilon"),
    ("Adadelta", {"rho": 1.5}, "rho"),
])  # fmt: skip
def test_hyperparameters_are_checked_in_paddles_names_before_anything_moves(cls, kwargs, words):
    params = _model().parameters()
    values = [p._value for p in params]
    with pytest.raises((ValueError, TypeError), match=words):
        getattr(paddle.optimizer, cls)(parameters=params, **kwargs)
    assert all(p._value is v for p, v in zip(params, values, strict=True))  # not moved into a flat buffer


def test_asgd_averages_the_last_batch_num_gradients():
    p = paddle.nn.Parameter(np.zeros(3, np.float32))
    opt = paddle.optimizer.ASGD(learning_rate=1.0, batch_num=2, parameters=[p])
    grads = [np.array([1, 2, 3], np.float32), np.array([3, 2, 1], np.float32), np.array([5, 5, 5], np.float32)]
    expected = np.zeros(3)
    window = []
    for g in grads:
        paddle.sum(p * paddle.to_tensor(g)).backward()  # gradient g
        opt.step()
        opt.clear_grad()
        window = (window + [g])[-2:]
        expected = expected - np.mean(window, axis=0)  # lr / min(t, batch_num) * sum of the window
        np.testing.assert_allclose(p.numpy(), expected, rtol=1e-6)
    assert opt.state_buffer("y").shape == (2, 3)


def test_lamb_excludes_what_its_function_accepts_called_with_the_parameter():
    model = _model()
    seen = []
    opt = paddle.optimizer.Lamb(parameters=model.parameters(),
                                exclude_from_weight_decay_fn=lambda p: seen.append(p) or len(p.shape) == 1)
    assert all(isinstance(p, paddle.Tensor) for p in seen) and len(seen) == 4
    assert sorted(g.weight_decay for g in opt._groups) == [0.0, 0.01]


def test_lion_follows_the_papers_formula():
    rng = np.random.default_rng(3)
    p0, m0 = rng.standard_normal(50).astype(np.float32), rng.standard_normal(50).astype(np.float32)
    g = rng.standard_normal(50).astype(np.float32)
    p, m = p0.copy(), m0.copy()
    paddle.kernels.lion_step(p, g, m, 0.01, beta1=0.9, beta2=0.99, weight_decay=0.1, backend="cpu")
    b1, b2 = 0.9, 0.99
    update = np.sign(b1 * m0.astype(np.float64) + (1 - b1) * g)
    np.testing.assert_allclose(p, p0 - 0.01 * (update + 0.1 * p0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(m, b2 * m0 + (1 - b2) * g.astype(np.float64), rtol=1e-6, atol=1e-7)


def test_cli_lists_and_describes_the_registry():
    done = subprocess.run([sys.executable, "-m", "lasandbox.cli", "optimizers"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and all(name in done.stdout for name in NAMES)
    done = subprocess.run([sys.executable, "-m", "lasandbox.cli", "optimizers", "lamb"], capture_output=True,
                          text=True, timeout=120)
    assert "lamb_weight_decay" in done.stdout and "bytes per element" in done.stdout
    done = subprocess.run([sys.executable, "-m", "lasandbox.cli", "optimizers", "lbfgs"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "unknown optimizer" in done.stderr


def test_demo_takes_any_registered_optimizer(tmp_path):
    from lasandbox import demo

    results = demo.run(epochs=1, seeds=1, out_dir=tmp_path, optimizers="rmsprop:0.01,nadam:0.002")
    assert set(results) == {"RMSProp lr 0.01", "LookAhead(RMSProp lr 0.01)", "NAdam lr 0.002",
                            "LookAhead(NAdam lr 0.002)"}
    with pytest.raises(ValueError, match="registered optimizers"):
        demo.parse_optimizers("lbfgs:0.1")
