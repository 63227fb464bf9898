"""optimizer.lr cases: Paddle's test_lr_scheduler.py (dygraph halves) and the schedules' API-doc examples.

Sources (PaddlePaddle, test/legacy_test/test_lr_scheduler.py):
  TestLRScheduler.test_scheduler (argument checks; every (reference, API, kwargs) triple of
  func_api_kwargs through _test_dygraph), TestLRScheduler.test_linear_warmp,
  TestReduceOnPlateauDecay.test_ReduceLR (checks and _test_dygraph for the four mode pairs),
  TestCosineAnnealingWarmRestarts.test_CosineRestartsLR (checks and _test_dygraph).
  Cut from each: the static-graph halves (_test_static, paddle.enable_static, Executor) and the
  CUDAPlace loop (CPU only).
Docs: the "Example1: train on default dynamic graph mode" of every scheduler in
  python/paddle/optimizer/lr.py (3.3.1), and LRScheduler's subclassing example; the
  "Example2: static graph" halves are cut.
The reference formulas below are the tests' own (Python floats), restated; the values are
also checked against numbers recorded from Paddle 3.3.1 in test_compat_recorded.py.
"""

import math

import numpy as np
import pytest

import lasandbox as paddle

lr = paddle.optimizer.lr


# ----------------------------------------------------------------- reference formulas (the test file's)
def noam_ref(epoch, d_model, warmup_steps, learning_rate=1.0, verbose=False):
    a = 1 if epoch == 0 else math.pow(epoch, -0.5)
    b = math.pow(warmup_steps, -1.5) * epoch
    return learning_rate * math.pow(d_model, -0.5) * min(a, b)


def lambda_ref(epoch, learning_rate, lr_lambda, verbose=False):
    return learning_rate * lr_lambda(epoch)


def multiplicative_ref(epoch, learning_rate, lr_lambda, verbose=False):
    value = learning_rate
    for i in range(epoch):
        value = value * lr_lambda(i + 1)
    return value


def piecewise_ref(epoch, boundaries, values, verbose=False):
    for i, b in enumerate(boundaries):
        if epoch < b:
            return values[i]
    return values[len(values) - 1]


def exponential_ref(epoch, learning_rate, gamma, verbose=False):
    return learning_rate * gamma**epoch


def natural_exp_ref(epoch, learning_rate, gamma, verbose=False):
    return learning_rate * math.exp(-1 * gamma * epoch)


def inverse_time_ref(epoch, learning_rate, gamma, verbose=False):
    return learning_rate / (1 + gamma * epoch)


def polynomial_ref(epoch, learning_rate, decay_steps, end_lr=0.0001, power=1.0, cycle=False, verbose=False):
    if cycle:
        div = math.ceil(epoch / float(decay_steps))
        if epoch == 0:
            div = 1
        decay_steps = decay_steps * div
    else:
        epoch = min(epoch, decay_steps)
    return (learning_rate - end_lr) * ((1 - float(epoch) / float(decay_steps)) ** power) + end_lr


_cosine_state = {}


def cosine_ref(epoch, learning_rate, T_max, eta_min=0, verbose=False):  # noqa: N803 - the test's name
    if epoch == 0:
        _cosine_state["lr"] = learning_rate
    elif (epoch - 1 - T_max) % (2 * T_max) == 0:
        _cosine_state["lr"] += (learning_rate - eta_min) * (1 - math.cos(math.pi / float(T_max))) / 2
    else:
        _cosine_state["lr"] = (1 + math.cos(math.pi * epoch / float(T_max))) / (
            1 + math.cos(math.pi * (epoch - 1) / float(T_max))) * (_cosine_state["lr"] - eta_min) + eta_min
    return _cosine_state["lr"]


def linear_warmup_ref(epoch, learning_rate, warmup_steps, start_lr, end_lr, verbose=False):
    # The wrapped schedule in the dygraph test is PiecewiseDecay([3, 6], [0.5, 0.2, 0.1]).
    tmp = epoch - warmup_steps
    if tmp < 0:
        return start_lr + (end_lr - start_lr) * (float(epoch) / float(warmup_steps))
    return 0.5 if tmp < 3 else 0.2 if tmp < 6 else 0.1


def multi_step_ref(epoch, learning_rate, milestones, gamma=0.1, verbose=False):
    for i, m in enumerate(milestones):
        if epoch < m:
            return learning_rate * (gamma**i)
    return learning_rate * (gamma ** len(milestones))


def step_ref(epoch, learning_rate, step_size, gamma=0.1, verbose=False):
    return learning_rate * math.pow(gamma, epoch // step_size)


def one_cycle_ref(epoch, max_learning_rate, total_steps, divide_factor=25, end_learning_rate=0.0001,
                  phase_pct=0.3, anneal_strategy="cos", three_phase=False, verbose=False):
    initial = max_learning_rate / divide_factor
    if three_phase:
        ends = [float(phase_pct * total_steps) - 1, float(2 * phase_pct * total_steps) - 2, total_steps - 1]
        phases = [(initial, max_learning_rate), (max_learning_rate, initial), (initial, end_learning_rate)]
    else:
        ends = [float(phase_pct * total_steps) - 1, total_steps - 1]
        phases = [(initial, max_learning_rate), (max_learning_rate, end_learning_rate)]

    def anneal(start, end, pct):
        if anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    start_step = 0
    for i, (start, end) in enumerate(phases):
        if epoch <= ends[i] or i == len(phases) - 1:
            return anneal(start, end, (epoch - start_step) / (ends[i] - start_step))
        start_step = ends[i]
    raise AssertionError


def cyclic_ref(epoch, base_learning_rate, max_learning_rate, step_size_up, step_size_down, mode, exp_gamma=0.1,
               scale_fn=None, scale_mode="cycle", verbose=False):
    total = step_size_up + step_size_down
    ratio = step_size_up / total
    if scale_fn is None:
        scale_fn, scale_mode = {
            "triangular": (lambda x: 1.0, "cycle"),
            "triangular2": (lambda x: 1 / (2.0 ** (x - 1)), "cycle"),
            "exp_range": (lambda x: exp_gamma**x, "iterations"),
        }[mode]
    cycle = math.floor(1 + epoch / total)
    x = 1.0 + epoch / total - cycle
    scale = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    height = (max_learning_rate - base_learning_rate) * scale
    return base_learning_rate + height * scale_fn(cycle if scale_mode == "cycle" else epoch)


FUNC_API_KWARGS = [
    (noam_ref, "NoamDecay", {"d_model": 0.01, "warmup_steps": 100, "verbose": False}),
    (piecewise_ref, "PiecewiseDecay", {"boundaries": [3, 6, 9, 15, 20], "values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
                                       "verbose": False}),
    (natural_exp_ref, "NaturalExpDecay", {"learning_rate": 0.5, "gamma": 0.1, "verbose": True}),
    (inverse_time_ref, "InverseTimeDecay", {"learning_rate": 0.5, "gamma": 0.1, "verbose": False}),
    (polynomial_ref, "PolynomialDecay", {"learning_rate": 0.5, "decay_steps": 20, "end_lr": 0, "power": 1.0,
                                         "cycle": False}),
    (polynomial_ref, "PolynomialDecay", {"learning_rate": 0.5, "decay_steps": 20, "end_lr": 0, "power": 1.0,
                                         "cycle": True, "verbose": False}),
    (linear_warmup_ref, "LinearWarmup", {"learning_rate": 0.5, "warmup_steps": 10, "start_lr": 0, "end_lr": 0.5}),
    (exponential_ref, "ExponentialDecay", {"learning_rate": 0.5, "gamma": 0.9, "verbose": False}),
    (multi_step_ref, "MultiStepDecay", {"learning_rate": 0.5, "milestones": [3, 6, 9, 15, 20], "gamma": 0.8}),
    (step_ref, "StepDecay", {"learning_rate": 0.5, "step_size": 2, "gamma": 0.8, "verbose": False}),
    (lambda_ref, "LambdaDecay", {"learning_rate": 0.5, "lr_lambda": lambda x: 0.95**x, "verbose": True}),
    (multiplicative_ref, "MultiplicativeDecay", {"learning_rate": 0.5, "lr_lambda": lambda x: 0.95, "verbose": True}),
    (cosine_ref, "CosineAnnealingDecay", {"learning_rate": 0.5, "T_max": 10, "verbose": False}),
    (one_cycle_ref, "OneCycleLR", {"max_learning_rate": 0.1, "total_steps": 20, "divide_factor": 5,
                                   "end_learning_rate": 0.0001, "anneal_strategy": "cos", "phase_pct": 0.3,
                                   "three_phase": False}),
    (one_cycle_ref, "OneCycleLR", {"max_learning_rate": 0.5, "total_steps": 20, "divide_factor": 10,
                                   "end_learning_rate": 0.001, "anneal_strategy": "linear", "phase_pct": 0.4,
                                   "three_phase": False}),
    (one_cycle_ref, "OneCycleLR", {"max_learning_rate": 1.0, "total_steps": 20, "divide_factor": 9,
                                   "end_learning_rate": 0.0001, "anneal_strategy": "cos", "phase_pct": 0.3,
                                   "three_phase": True}),
    (one_cycle_ref, "OneCycleLR", {"max_learning_rate": 0.3, "total_steps": 20, "divide_factor": 25,
                                   "end_learning_rate": 0.0005, "anneal_strategy": "linear", "phase_pct": 0.2,
                                   "three_phase": True}),
    (cyclic_ref, "CyclicLR", {"base_learning_rate": 0.5, "max_learning_rate": 1.0, "step_size_up": 15,
                              "step_size_down": 5, "mode": "triangular", "exp_gamma": 1.0, "scale_fn": None,
                              "scale_mode": "cycle", "verbose": False}),
    (cyclic_ref, "CyclicLR", {"base_learning_rate": 0.5, "max_learning_rate": 1.0, "step_size_up": 15,
                              "step_size_down": 5, "mode": "triangular2", "exp_gamma": 1.0, "scale_fn": None,
                              "scale_mode": "cycle", "verbose": False}),
    (cyclic_ref, "CyclicLR", {"base_learning_rate": 0.5, "max_learning_rate": 1.0, "step_size_up": 15,
                              "step_size_down": 5, "mode": "exp_range", "exp_gamma": 0.8, "scale_fn": None,
                              "scale_mode": "cycle", "verbose": False}),
    (cyclic_ref, "CyclicLR", {"base_learning_rate": 0.5, "max_learning_rate": 1.0, "step_size_up": 15,
                              "step_size_down": 5, "mode": "exp_range", "exp_gamma": 1.0,
                              "scale_fn": lambda x: 0.95**x, "scale_mode": "cycle", "verbose": False}),
    (cyclic_ref, "CyclicLR", {"base_learning_rate": 0.5, "max_learning_rate": 1.0, "step_size_up": 15,
                              "step_size_down": 5, "mode": "exp_range", "exp_gamma": 1.0,
                              "scale_fn": lambda x: 0.95, "scale_mode": "iterations", "verbose": False}),
]


@pytest.mark.parametrize("python_func, api_name, kwarg", FUNC_API_KWARGS,
                         ids=[f"{i:02d}-{name}" for i, (_, name, _) in enumerate(FUNC_API_KWARGS)])
def test_scheduler_dygraph(python_func, api_name, kwarg):
    """test_lr_scheduler.py TestLRScheduler._test_dygraph, once per func_api_kwargs entry."""
    kwarg = dict(kwarg)
    x = np.random.uniform(-1, 1, [10, 10]).astype("float32")
    linear = paddle.nn.Linear(10, 10)
    if api_name == "LinearWarmup":
        kwarg["learning_rate"] = paddle.optimizer.lr.PiecewiseDecay([3, 6], [0.5, 0.2, 0.1])
    scheduler = getattr(paddle.optimizer.lr, api_name)(**kwarg)
    adam = paddle.optimizer.Adam(learning_rate=scheduler, parameters=linear.parameters())
    for epoch in range(20):
        for _ in range(2):
            out = linear(paddle.to_tensor(x))
            loss = paddle.mean(out)
            loss.backward()
            adam.step()
            adam.clear_grad()
        current_lr = adam.get_lr()
        expected_lr = python_func(epoch, **kwarg)
        if api_name == "CosineAnnealingDecay":
            assert current_lr == pytest.approx(expected_lr, abs=1e-7)
            scheduler.step(epoch + 1)
        elif api_name == "LinearWarmup":
            assert current_lr == pytest.approx(expected_lr, abs=1e-7)
            state_dict = adam.state_dict()
            scheduler1 = paddle.optimizer.lr.LinearWarmup(**kwarg)
            adam1 = paddle.optimizer.Adam(learning_rate=scheduler1, parameters=linear.parameters())
            adam1.set_state_dict(state_dict)
            assert scheduler.last_epoch == scheduler1.last_epoch
            assert scheduler.last_lr == scheduler1.last_lr
            assert scheduler.learning_rate.last_lr == scheduler1.learning_rate.last_lr
            assert scheduler.learning_rate.last_epoch == scheduler1.learning_rate.last_epoch
            scheduler.step()
        else:
            assert current_lr == expected_lr
            scheduler.step()


def test_scheduler_argument_checks():
    """test_lr_scheduler.py TestLRScheduler.test_scheduler: the assertRaises block."""
    with pytest.raises(NotImplementedError):
        paddle.optimizer.lr.LRScheduler().step()
    with pytest.raises(TypeError):
        lr.MultiStepDecay(learning_rate="test", milestones=[1, 2, 3])
    with pytest.raises(TypeError):
        lr.MultiStepDecay(learning_rate=0.5, milestones="test")
    with pytest.raises(ValueError):
        lr.MultiStepDecay(learning_rate=0.5, milestones=[3, 2, 1])
    with pytest.raises(ValueError):
        lr.MultiStepDecay(learning_rate=0.5, milestones=[1, 2, 3], gamma=2)
    with pytest.raises(TypeError):
        lr.OneCycleLR(max_learning_rate="test", total_steps=20)
    with pytest.raises(ValueError):
        lr.OneCycleLR(max_learning_rate=-1.5, total_steps=20)
    with pytest.raises(TypeError):
        lr.OneCycleLR(max_learning_rate=0.1, total_steps=20, end_learning_rate="test")
    with pytest.raises(ValueError):
        lr.OneCycleLR(max_learning_rate=0.1, total_steps=20, end_learning_rate=-1)
    with pytest.raises(TypeError):
        lr.OneCycleLR(max_learning_rate=0.1, total_steps="test")
    with pytest.raises(ValueError):
        lr.OneCycleLR(max_learning_rate=0.1, total_steps=-10)
    with pytest.raises(ValueError):
        lr.OneCycleLR(max_learning_rate=0.1, total_steps=20, anneal_strategy="test")
    with pytest.raises(ValueError):
        lr.OneCycleLR(max_learning_rate=0.1, total_steps=20, phase_pct=0.6, three_phase=True)
    with pytest.raises(TypeError):
        lr.CyclicLR(base_learning_rate=0.5, max_learning_rate="test", step_size_up=10)
    with pytest.raises(ValueError):
        lr.CyclicLR(base_learning_rate=0.5, max_learning_rate=-1, step_size_up=10)
    with pytest.raises(TypeError):
        lr.CyclicLR(base_learning_rate=0.5, max_learning_rate=1.0, step_size_up="test")
    with pytest.raises(ValueError):
        lr.CyclicLR(base_learning_rate=0.5, max_learning_rate=1.0, step_size_up=-1)
    with pytest.raises(TypeError):
        lr.CyclicLR(base_learning_rate=0.5, max_learning_rate=1.0, step_size_up=500, step_size_down="test")
    with pytest.raises(ValueError):
        lr.CyclicLR(base_learning_rate=0.5, max_learning_rate=1.0, step_size_up=500, step_size_down=-1)
    with pytest.raises(ValueError):
        lr.CyclicLR(base_learning_rate=0.5, max_learning_rate=1.0, step_size_up=500, step_size_down=500,
                    mode="test")
    with pytest.raises(ValueError):
        lr.CyclicLR(base_learning_rate=0.5, max_learning_rate=1.0, step_size_up=500, step_size_down=-1,
                    scale_mode="test")
    with pytest.raises(ValueError):
        lr.PiecewiseDecay(boundaries=[], values=[])
    with pytest.raises(ValueError):
        lr.PiecewiseDecay(boundaries=[100, 200], values=[])
    with pytest.raises(ValueError):
        lr.PiecewiseDecay(boundaries=[100, 200], values=[0.5, 0.1])


def test_linear_warmup_wrapping_natural_exp():
    """test_lr_scheduler.py TestLRScheduler.test_linear_warmp."""
    natural_lr = lr.NaturalExpDecay(learning_rate=0.5, gamma=0.1)
    natural_lr_warmup = lr.LinearWarmup(learning_rate=natural_lr, warmup_steps=10, start_lr=0.0, end_lr=0.1)
    for idx in range(30):
        if idx >= 10:
            assert natural_lr_warmup.get_lr() == natural_lr.get_lr()
            natural_lr.step()
        natural_lr_warmup.step()


def _plateau_ref(decay_rate, threshold, cooldown, patience, m, n, loss, state):
    def is_better(current, best):
        if m == "min" and n == "rel":
            return current < best - best * threshold
        if m == "min" and n == "abs":
            return current < best - threshold
        if m == "max" and n == "rel":
            return current > best + best * threshold
        return current > best + threshold

    if state[2] > 0:
        state[2] -= 1
        return state[1]
    if is_better(loss, state[0]):
        state[0] = loss
        state[3] = 0
    else:
        state[3] += 1
        if state[3] > patience:
            state[2] = cooldown
            state[3] = 0
            new_lr = state[1] * decay_rate
            state[1] = new_lr if state[1] - new_lr > 1e-8 else state[1]
    return state[1]


def test_reduce_on_plateau_argument_checks():
    """test_lr_scheduler.py TestReduceOnPlateauDecay.test_ReduceLR: the assertRaises block."""
    with pytest.raises(ValueError):
        lr.ReduceOnPlateau(learning_rate=1.0, factor=2.0)
    with pytest.raises(ValueError):
        lr.ReduceOnPlateau(learning_rate=1.0, mode="test")
    with pytest.raises(ValueError):
        lr.ReduceOnPlateau(learning_rate=1.0, threshold_mode="test")
    with pytest.raises(TypeError):
        lr.ReduceOnPlateau(learning_rate="test")
    with pytest.raises(TypeError):
        lr.ReduceOnPlateau(learning_rate=0.5).step("test")


@pytest.mark.parametrize("m, n", [("min", "rel"), ("max", "rel"), ("min", "abs"), ("max", "abs")])
def test_reduce_on_plateau_dygraph(m, n):
    """test_lr_scheduler.py TestReduceOnPlateauDecay._test_dygraph (CPUPlace), for each mode pair."""
    kwargs = {"learning_rate": 1.0, "mode": m, "factor": 0.5, "patience": 3, "threshold": 1e-4,
              "threshold_mode": n, "cooldown": 1, "min_lr": 0, "epsilon": 1e-8, "verbose": False}
    state = [float("-10000") if m == "max" else float("10000"), 1.0, 0, 0]
    linear = paddle.nn.Linear(10, 10)
    scheduler = lr.ReduceOnPlateau(**kwargs)
    adam = paddle.optimizer.Adam(learning_rate=scheduler, parameters=linear.parameters())
    for epoch in range(20):
        x = paddle.to_tensor(epoch).astype("float32")
        loss = paddle.sin(x)
        loss.backward()
        adam.step()
        adam.clear_grad()
        scheduler.step(loss)
        current_lr = adam.get_lr()
        expected_lr = _plateau_ref(kwargs["factor"], kwargs["threshold"], kwargs["cooldown"], kwargs["patience"],
                                   m, n, loss, state)
        assert current_lr == expected_lr
    state_dict = adam.state_dict()
    scheduler1 = lr.ReduceOnPlateau(**kwargs)
    adam1 = paddle.optimizer.Adam(learning_rate=scheduler1, parameters=linear.parameters())
    adam1.set_state_dict(state_dict)
    assert scheduler.cooldown_counter == scheduler1.cooldown_counter
    assert scheduler.best == scheduler1.best
    assert scheduler.num_bad_epochs == scheduler1.num_bad_epochs
    assert scheduler.last_epoch == scheduler1.last_epoch
    assert scheduler.last_lr == scheduler1.last_lr


def _warm_restarts_ref(epoch, v):
    if epoch is None and v["last_epoch"] < 0:
        epoch = 0
    value = v["eta_min"] + (v["base_lr"] - v["eta_min"]) * (1 + math.cos(math.pi * v["T_cur"] / v["T_i"])) / 2
    if v["last_epoch"] == -1:
        value = v["base_lr"]
    if epoch is None:
        epoch = v["last_epoch"] + 1
        v["T_cur"] += 1
        if v["T_cur"] >= v["T_i"]:
            v["T_cur"] -= v["T_i"]
            v["T_i"] *= v["T_mult"]
    elif epoch >= v["T_0"]:
        if v["T_mult"] == 1:
            v["T_cur"] = epoch % v["T_0"]
        else:
            k = int(math.log((epoch / v["T_0"] * (v["T_mult"] - 1) + 1), v["T_mult"]))
            v["T_cur"] = epoch - v["T_0"] * (v["T_mult"] ** k - 1) / (v["T_mult"] - 1)
            v["T_i"] = v["T_0"] * v["T_mult"] ** k
    else:
        v["T_i"], v["T_cur"] = v["T_0"], epoch
    v["last_epoch"] = math.floor(epoch)
    return value


def test_cosine_warm_restarts_argument_checks():
    """test_lr_scheduler.py TestCosineAnnealingWarmRestarts.test_CosineRestartsLR: the assertRaises block."""
    with pytest.raises(ValueError):
        lr.CosineAnnealingWarmRestarts(learning_rate=0.5, T_0=-1, T_mult=1)
    with pytest.raises(ValueError):
        lr.CosineAnnealingWarmRestarts(learning_rate=0.5, T_0=1.0, T_mult=1)
    with pytest.raises(ValueError):
        lr.CosineAnnealingWarmRestarts(learning_rate=0.5, T_0=1, T_mult=-1)
    with pytest.raises(ValueError):
        lr.CosineAnnealingWarmRestarts(learning_rate=0.5, T_0=1, T_mult=1.0)


def test_cosine_warm_restarts_dygraph():
    """test_lr_scheduler.py TestCosineAnnealingWarmRestarts._test_dygraph (CPUPlace)."""
    kwargs = {"learning_rate": 0.5, "T_0": 1, "T_mult": 2, "eta_min": 0, "last_epoch": -1, "verbose": False}
    x = np.random.uniform(-1, 1, [10, 10]).astype("float32")
    linear = paddle.nn.Linear(10, 10)
    v = {"base_lr": 0.5, "T_0": 1, "T_i": 1, "T_mult": 2, "eta_min": 0, "T_cur": -1, "last_epoch": -1}
    scheduler = lr.CosineAnnealingWarmRestarts(**kwargs)
    adam = paddle.optimizer.Adam(learning_rate=scheduler, parameters=linear.parameters())
    for epoch in range(10):
        for _ in range(2):
            loss = paddle.mean(linear(paddle.to_tensor(x)))
            loss.backward()
            adam.step()
            adam.clear_grad()
        assert adam.get_lr() == _warm_restarts_ref(epoch, v)
        scheduler.step(epoch)
    for _ in range(10):
        for _ in range(2):
            loss = paddle.mean(linear(paddle.to_tensor(x)))
            loss.backward()
            adam.step()
            adam.clear_grad()
        assert scheduler.get_lr() == _warm_restarts_ref(None, v)
        scheduler.step()


# ------------------------------------------------------------------------------- API-doc examples
DOC_SCHEDULERS = {
    "NoamDecay": lambda: lr.NoamDecay(d_model=100, warmup_steps=100, verbose=True),
    "PiecewiseDecay": lambda: lr.PiecewiseDecay(boundaries=[3, 6, 9], values=[0.1, 0.2, 0.3, 0.4], verbose=True),
    "NaturalExpDecay": lambda: lr.NaturalExpDecay(learning_rate=0.5, gamma=0.1, verbose=True),
    "InverseTimeDecay": lambda: lr.InverseTimeDecay(learning_rate=0.5, gamma=0.1, verbose=True),
    "PolynomialDecay": lambda: lr.PolynomialDecay(learning_rate=0.5, decay_steps=20, verbose=True),
    "LinearWarmup": lambda: lr.LinearWarmup(learning_rate=0.5, warmup_steps=20, start_lr=0, end_lr=0.5,
                                            verbose=True),
    "ExponentialDecay": lambda: lr.ExponentialDecay(learning_rate=0.5, gamma=0.9, verbose=True),
    "MultiStepDecay": lambda: lr.MultiStepDecay(learning_rate=0.5, milestones=[2, 4, 6], gamma=0.8, verbose=True),
    "StepDecay": lambda: lr.StepDecay(learning_rate=0.5, step_size=5, gamma=0.8, verbose=True),
    "LambdaDecay": lambda: lr.LambdaDecay(learning_rate=0.5, lr_lambda=lambda x: 0.95**x, verbose=True),
    "CosineAnnealingDecay": lambda: lr.CosineAnnealingDecay(learning_rate=0.5, T_max=10, verbose=True),
    "MultiplicativeDecay": lambda: lr.MultiplicativeDecay(learning_rate=0.5, lr_lambda=lambda x: 0.95, verbose=True),
    "OneCycleLR": lambda: lr.OneCycleLR(max_learning_rate=1.0, total_steps=100, verbose=True),
    "CyclicLR": lambda: lr.CyclicLR(base_learning_rate=0.5, max_learning_rate=1.0, step_size_up=15,
                                    step_size_down=5, verbose=True),
    "LinearLR": lambda: lr.LinearLR(learning_rate=0.5, total_steps=5, verbose=True),
}
# Epochs x batches of each doc example (OneCycleLR's and LinearLR's run 5 epochs, the others 20).
DOC_EPOCHS = {"OneCycleLR": 5, "LinearLR": 5}


@pytest.mark.parametrize("name", sorted(DOC_SCHEDULERS))
def test_doc_example_dygraph(name, capsys):
    """python/paddle/optimizer/lr.py <name> docstring, Example1 (dygraph): SGD with the scheduler,
    stepped every batch; verbose=True prints each new rate."""
    linear = paddle.nn.Linear(10, 10)
    scheduler = DOC_SCHEDULERS[name]()
    sgd = paddle.optimizer.SGD(learning_rate=scheduler, parameters=linear.parameters())
    steps = 0
    for _ in range(DOC_EPOCHS.get(name, 20)):
        for _ in range(5):
            x = paddle.uniform([10, 10])
            out = linear(x)
            loss = paddle.mean(out)
            loss.backward()
            sgd.step()
            sgd.clear_gradients()
            scheduler.step()
            steps += 1
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == steps + 1  # the constructor's first step prints too
    assert printed[-1] == f"Epoch {steps}: {name} set learning rate to {scheduler.last_lr}."
    assert scheduler.last_epoch == steps


def test_doc_reduce_on_plateau_dygraph(capsys):
    """python/paddle/optimizer/lr.py ReduceOnPlateau docstring, Example1 (dygraph)."""
    linear = paddle.nn.Linear(10, 10)
    scheduler = lr.ReduceOnPlateau(learning_rate=1.0, factor=0.5, patience=5, verbose=True)
    sgd = paddle.optimizer.SGD(learning_rate=scheduler, parameters=linear.parameters())
    for _ in range(20):
        for _ in range(5):
            x = paddle.uniform([10, 10])
            out = linear(x)
            loss = paddle.mean(out)
            loss.backward()
            sgd.step()
            sgd.clear_gradients()
            scheduler.step(loss)
    assert scheduler.last_epoch == 100
    assert 0 < scheduler.last_lr <= 1.0
    assert capsys.readouterr().out.count("ReduceOnPlateau set learning rate to") == round(
        math.log(scheduler.last_lr, 0.5))


def test_doc_cosine_warm_restarts_dygraph():
    """python/paddle/optimizer/lr.py CosineAnnealingWarmRestarts docstring, Example1 (dygraph, Adam, 10x5)."""
    linear = paddle.nn.Linear(10, 10)
    scheduler = lr.CosineAnnealingWarmRestarts(learning_rate=0.5, T_0=1, T_mult=2, verbose=True)
    adam = paddle.optimizer.Adam(learning_rate=scheduler, parameters=linear.parameters())
    for _ in range(10):
        for _ in range(5):
            x = paddle.uniform([10, 10])
            loss = paddle.mean(linear(x))
            loss.backward()
            adam.step()
            adam.clear_gradients()
            scheduler.step()
    # 50 steps: restarts after 1, 2, 4, 8, 16 epochs (1+2+4+8+16 = 31), so epoch 50 is 19 of 32.
    assert scheduler.T_i == 32 and scheduler.T_cur == 19
    assert scheduler.last_lr == pytest.approx(0.5 * (1 + math.cos(math.pi * 19 / 32)) / 2)


def test_doc_lrscheduler_subclass():
    """python/paddle/optimizer/lr.py LRScheduler docstring: a user-defined StepDecay as a subclass."""

    class StepDecay(paddle.optimizer.lr.LRScheduler):
        def __init__(self, learning_rate, step_size, gamma=0.1, last_epoch=-1, verbose=False):
            if not isinstance(step_size, int):
                raise TypeError(f"The type of 'step_size' must be 'int', but received {type(step_size)}.")
            if gamma >= 1.0:
                raise ValueError("gamma should be < 1.0.")
            self.step_size = step_size
            self.gamma = gamma
            super().__init__(learning_rate, last_epoch, verbose)

        def get_lr(self):
            i = self.last_epoch // self.step_size
            return self.base_lr * (self.gamma**i)

    sched = StepDecay(0.5, step_size=2, gamma=0.5)
    seen = []
    for _ in range(6):
        seen.append(sched())
        sched.step()
    assert seen == [0.5, 0.5, 0.25, 0.25, 0.125, 0.125]
