"""One bad batch cannot poison the weights: ``nonfinite="raise" | "skip"`` on optimizers and LookAhead."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from kernel_cases import CUDA, SIMULATED, gpu

import lasandbox as paddle
from lasandbox.kernels import finite
from lasandbox.optimizer import NonFiniteGradientWarning, registry


def _model():
    paddle.seed(0)
    return paddle.nn.Sequential(paddle.nn.Linear(5, 6), paddle.nn.Tanh(), paddle.nn.Linear(6, 3))


def _batches(poison_at=None):
    rng = np.random.default_rng(4)
    batches = [(rng.standard_normal((8, 5)).astype(np.float32), rng.integers(0, 3, (8, 1))) for _ in range(9)]
    if poison_at is not None:
        bad = batches[poison_at][0].copy()
        bad[2, 1] = np.nan  # one bad value in one batch
        batches.insert(poison_at, (bad, batches[poison_at][1]))
    return batches


def _run(make, batches):
    model = _model()
    opt = make(model.parameters())
    loss_fn = paddle.nn.CrossEntropyLoss()
    for x, y in batches:
        loss_fn(model(paddle.to_tensor(x)), paddle.to_tensor(y)).backward()
        opt.step()
        opt.clear_grad()
    return [p.numpy().copy() for p in model.parameters()], opt


def _skipping_lookahead(make_inner):
    return lambda ps: paddle.LookAhead(make_inner(ps), alpha=0.5, k=3, nonfinite="skip")


MAKERS = {
    "adam-skip": lambda ps: paddle.optimizer.Adam(0.01, parameters=ps, nonfinite="skip"),
    "rmsprop-skip": lambda ps: paddle.optimizer.RMSProp(0.01, parameters=ps, nonfinite="skip", momentum=0.9),
    "lookahead-skip": lambda ps: paddle.LookAhead(paddle.optimizer.Adam(0.01, parameters=ps), alpha=0.5, k=3,
                                                  nonfinite="skip"),
    "lookahead-over-skipping-inner": lambda ps: paddle.LookAhead(
        paddle.optimizer.Momentum(0.05, parameters=ps, nonfinite="skip"), alpha=0.5, k=2),
    # The rules whose state is more than moments (Lamb's trust ratio, ASGD's ring of past gradients, Rprop's
    # signs and step sizes, centered RMSProp's mean gradient) inside LookAhead, and the step's other parts.
    **{f"lookahead-{name}-skip": _skipping_lookahead(make) for name, make in {
        "lamb": lambda ps: paddle.optimizer.Lamb(0.01, parameters=ps),
        "asgd": lambda ps: paddle.optimizer.ASGD(0.01, batch_num=3, parameters=ps),
        "rprop": lambda ps: paddle.optimizer.Rprop(0.01, parameters=ps),
        "rmsprop-centered": lambda ps: paddle.optimizer.RMSProp(0.01, centered=True, momentum=0.9,
                                                                parameters=ps)}.items()},
    "adam-global-norm-clip-skip": lambda ps: paddle.optimizer.Adam(
        0.01, parameters=ps, nonfinite="skip", grad_clip=paddle.nn.ClipGradByGlobalNorm(0.5)),
    "momentum-l1-decay-skip": lambda ps: paddle.optimizer.Momentum(
        0.05, parameters=ps, nonfinite="skip", weight_decay=paddle.regularizer.L1Decay(0.01)),
    "adam-groups-skip": lambda ps: (lambda ps: paddle.optimizer.Adam(
        0.01, nonfinite="skip", parameters=[{"params": ps[:2], "learning_rate": 0.5},
                                            {"params": ps[2:], "beta1": 0.8}]))(list(ps)),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_a_skipped_nan_batch_leaves_the_run_bit_identical_to_one_without_it(name):
    clean, _ = _run(MAKERS[name], _batches())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        poisoned, opt = _run(MAKERS[name], _batches(poison_at=4))
    for a, b in zip(clean, poisoned, strict=True):
        np.testing.assert_array_equal(a, b)
    skipped = opt.skipped_steps + getattr(getattr(opt, "inner_optimizer", None), "skipped_steps", 0)
    assert skipped == 1
    found = [w for w in caught if issubclass(w.category, NonFiniteGradientWarning)]
    assert len(found) == 1 and "skipped step 5" in str(found[0].message) and "inf or NaN" in str(found[0].message)
    assert found[0].filename == __file__  # the user's step() call (here _run's), not a line inside lasandbox


def test_without_a_policy_the_nan_propagates_as_in_paddle():
    poisoned, _ = _run(lambda ps: paddle.LookAhead(paddle.optimizer.Adam(0.01, parameters=ps), k=3),
                       _batches(poison_at=4))
    assert all(np.isnan(p).all() for p in poisoned)


@pytest.mark.parametrize("wrap", [False, True])
def test_raise_names_the_parameter_and_the_step_and_writes_nothing(wrap):
    model = _model()
    inner = paddle.optimizer.Adam(0.01, parameters=model.parameters(), nonfinite="propagate" if wrap else "raise")
    opt = paddle.LookAhead(inner, k=2, nonfinite="raise", slow_init="construction") if wrap else inner
    loss_fn = paddle.nn.CrossEntropyLoss()
    for x, y in _batches()[:3]:
        loss_fn(model(paddle.to_tensor(x)), paddle.to_tensor(y)).backward()
        opt.step()
        opt.clear_grad()
    before = [p.numpy().copy() for p in model.parameters()]
    moments = inner.state_buffer("moment1").copy()
    slow = opt.slow_buffer().copy() if wrap else None
    x, y = _batches()[3]
    x[0, 0] = np.inf
    with np.errstate(invalid="ignore", over="ignore"):  # inf*0 in the forward pass is what a bad batch does
        loss_fn(model(paddle.to_tensor(x)), paddle.to_tensor(y)).backward()
    with pytest.raises(FloatingPointError, match=r"parameter linear_\d+\.w_0 \(#0\).*step 4"):
        opt.step()
    for a, b in zip(before, model.parameters(), strict=True):
        np.testing.assert_array_equal(a, b.numpy())
    np.testing.assert_array_equal(moments, inner.state_buffer("moment1"))
    assert inner.global_step == 3 and (not wrap or opt.global_step == 3)
    if wrap:
        np.testing.assert_array_equal(slow, opt.slow_buffer())


def test_every_optimizer_takes_the_policy_and_rejects_a_bad_one():
    for name in registry.names():
        opt = registry.make(name, _model().parameters(), 0.01, nonfinite="skip")
        assert opt.nonfinite == "skip" and opt.skipped_steps == 0
    with pytest.raises(ValueError, match="nonfinite"):
        paddle.optimizer.SGD(0.1, parameters=_model().parameters(), nonfinite="ignore")
    with pytest.raises(ValueError, match="nonfinite"):
        paddle.LookAhead(paddle.optimizer.SGD(0.1, parameters=_model().parameters()), nonfinite=True)


@pytest.mark.parametrize("size", [1, 7, 4096, 4097, 3 * 4096 + 11, 2**17 + 3])
@pytest.mark.parametrize("backend", ["numpy", "cpu"] + ([pytest.param("cuda", marks=gpu)] if CUDA else []))
def test_first_nonfinite_matches_the_numpy_reference(size, backend):
    rng = np.random.default_rng(size)
    if backend == "cuda" and SIMULATED and size > 5000:
        size = 300  # the simulator runs a Python thread per element (a real GPU takes every size)
    for bad in (None, np.inf, -np.inf, np.nan):
        array = rng.standard_normal(size).astype(np.float32)
        positions = sorted(rng.choice(size, size=min(3, size), replace=False)) if bad is not None else []
        for i in positions:
            array[i] = bad
        expected = positions[0] if positions else -1
        data = paddle.kernels.to_device(array) if backend == "cuda" else array
        assert finite.first_nonfinite(data, backend) == expected == finite.first_nonfinite(array, "numpy")
    big = np.full(size, np.finfo(np.float32).max, np.float32)  # the largest finite value is finite
    assert finite.first_nonfinite(big, "cpu" if backend == "cuda" else backend) == -1
