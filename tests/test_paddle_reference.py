"""lasandbox vs numbers recorded from real PaddlePaddle 3.3.1 (tests/fixtures/paddle_lookahead.npz).

The fixture was written by tools/record_paddle_reference.py; see tests/fixtures/README.md.
Every recorded run is replayed: LookAhead over SGD / Momentum / Adam / AdamW with
alpha in {0, 0.2, 0.5, 1} and k in {1, 3, 5}, through step() and minimize(), on a
Linear and an MLP model, plus each inner optimizer alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import kernels

FIXTURE = Path(__file__).parent / "fixtures" / "paddle_lookahead.npz"
RTOL = 1e-5
ATOL = 1e-6

with np.load(FIXTURE) as _f:
    REF = {key: _f[key] for key in _f.files}
META = json.loads(REF["meta"].item())

O = paddle.optimizer
OPTIMIZERS = {  # name -> make(params, **kw); kw carries backend=
    "sgd": lambda params, **kw: O.SGD(learning_rate=0.1, parameters=params, **kw),
    "momentum": lambda params, **kw: O.Momentum(learning_rate=0.1, momentum=0.9, parameters=params, **kw),
    "adam": lambda params, **kw: O.Adam(learning_rate=0.01, parameters=params, **kw),
    "adamw": lambda params, **kw: O.AdamW(learning_rate=0.01, weight_decay=0.01, parameters=params, **kw),
    "momentum_nesterov_l2": lambda params, **kw: O.Momentum(
        learning_rate=0.1, momentum=0.9, use_nesterov=True, weight_decay=0.001, parameters=params, **kw),
    "adam_l2": lambda params, **kw: O.Adam(learning_rate=0.01, weight_decay=0.001, parameters=params, **kw),
    "sgd_l2": lambda params, **kw: O.SGD(learning_rate=0.1, weight_decay=0.001, parameters=params, **kw),
}


def build_model(name):
    if name == "linear":
        model = paddle.nn.Linear(8, 4)
    else:
        model = paddle.nn.Sequential(paddle.nn.Linear(8, 16), paddle.nn.ReLU(), paddle.nn.Linear(16, 4))
    for pname, param in model.named_parameters():
        param.set_value(REF[f"init/{name}/{pname}"])
    return model


def run_keys():
    keys = sorted({k.rsplit("/losses", 1)[0] for k in REF if k.startswith("runs/") and k.endswith("/losses")})
    return [k.split("/")[1:] for k in keys]


def replay(model_name, opt_name, alpha_key, k_key, api, backend="cpu"):
    model = build_model(model_name)
    inner = OPTIMIZERS[opt_name](model.parameters(), backend=backend)
    if alpha_key == "a_none":
        opt = inner
    else:
        opt = paddle.incubate.LookAhead(inner, alpha=float(alpha_key[1:]), k=int(k_key[1:]))
    loss_fn = paddle.nn.CrossEntropyLoss()
    losses, trace = [], []
    for t in range(REF["data/x"].shape[0]):
        loss = loss_fn(model(paddle.to_tensor(REF["data/x"][t])), paddle.to_tensor(REF["data/y"][t]))
        losses.append(float(loss.numpy()))
        loss.backward()
        if api == "step":
            opt.step()
        else:
            opt.minimize(loss)
        opt.clear_grad()
        trace.append({n: p.numpy().copy() for n, p in model.named_parameters()})
    return np.array(losses), trace


def test_fixture_covers_the_promised_grid():
    runs = run_keys()
    assert len(runs) == 218
    combos = {(m, o, a, k, api) for m, o, a, k, api in runs}
    for model in ("linear", "mlp"):
        for opt in ("sgd", "momentum", "adam", "adamw"):
            for alpha in ("a0.0", "a0.2", "a0.5", "a1.0"):
                for k in ("k1", "k3", "k5"):
                    for api in ("step", "minimize"):
                        assert (model, opt, alpha, k, api) in combos


@pytest.mark.parametrize("run", run_keys(), ids=lambda r: "/".join(r))
def test_matches_paddle(run):
    model_name, opt_name, alpha_key, k_key, api = run
    prefix = "runs/" + "/".join(run)
    losses, trace = replay(model_name, opt_name, alpha_key, k_key, api)
    np.testing.assert_allclose(losses, REF[prefix + "/losses"], rtol=RTOL, atol=ATOL)
    for name, value in trace[-1].items():
        np.testing.assert_allclose(value, REF[f"{prefix}/final/{name}"], rtol=RTOL, atol=ATOL, err_msg=name)


def test_matches_paddle_after_every_step():
    run = META["trace_run"].removeprefix("runs/").split("/")
    prefix = "runs/" + "/".join(run)
    _, trace = replay(*run)
    for name in trace[0]:
        expected = REF[f"{prefix}/trace/{name}"]
        got = np.stack([step[name] for step in trace])
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("backend", ["numpy", "cpu"] + ([pytest.param("cuda", marks=pytest.mark.gpu)]
                                                          if "cuda" in kernels.available_backends() else []))
def test_backends_match_paddle(backend):
    """Training through each kernel backend (cuda: the simulator without a GPU) matches Paddle's losses."""
    run = ["mlp", "adamw", "a0.5", "k3", "minimize"]
    prefix = "runs/" + "/".join(run)
    losses, trace = replay(*run, backend=backend)
    np.testing.assert_allclose(losses, REF[prefix + "/losses"], rtol=RTOL, atol=ATOL)
    for name, value in trace[-1].items():
        np.testing.assert_allclose(value, REF[f"{prefix}/final/{name}"], rtol=RTOL, atol=ATOL)


def test_minimize_returns_what_paddle_returns():
    model = build_model("mlp")
    opt = paddle.incubate.LookAhead(OPTIMIZERS["sgd"](model.parameters()), alpha=0.5, k=3)
    loss = paddle.nn.CrossEntropyLoss()(model(paddle.to_tensor(REF["data/x"][0])),
                                        paddle.to_tensor(REF["data/y"][0]))
    loss.backward()
    ops, params_grads = opt.minimize(loss)
    assert ops == []
    names = [n for n, _ in model.named_parameters()]
    assert len(params_grads) == len(names) == 4
    for (param, grad), (_, expected) in zip(params_grads, model.named_parameters(), strict=True):
        assert param is expected
        assert grad.shape == param.shape
