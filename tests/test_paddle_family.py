"""Paddle's optimizer family against numbers recorded from real PaddlePaddle 3.3.1 (tests/fixtures/paddle_family.npz).

Written by tools/record_paddle_family.py: Adagrad, Adadelta, Adamax, RMSProp
(plain, momentum, centered), Lamb (incl. exclude_from_weight_decay_fn and
always_adapt), NAdam, RAdam, ASGD and Rprop, with weight decay where Paddle takes
it, each alone and inside LookAhead (alpha 0.5, k 3 and alpha 0.8, k 5), through
step() and minimize(), 13 steps of an MLP. The fixture's meta holds the exact
keyword arguments; lasandbox's class of the same name gets the same ones.

Tolerance: Paddle's CPU kernels take an approximate square root in 8-wide vector
lanes (up to 3 ulp) for Adagrad, Adadelta, RMSProp, NAdam and RAdam, which
lasandbox, with a correctly rounded one, cannot reproduce bit for bit; so
parameters are compared at 1e-5 relative to each tensor's scale (normwise),
losses at 1e-5 relative.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import kernels

FIXTURE = Path(__file__).parent / "fixtures" / "paddle_family.npz"
RTOL = 1e-5

with np.load(FIXTURE) as _f:
    REF = {key: _f[key] for key in _f.files}
META = json.loads(REF["meta"].item())
RUNS = [(key, wrapper, api) for key in META["family"] for wrapper in META["wrappers"] for api in META["apis"]]


def _kwargs(kwargs):
    out = dict(kwargs)
    if out.get("exclude_from_weight_decay_fn") in META["exclude_placeholder"]:
        out["exclude_from_weight_decay_fn"] = lambda p: len(p.shape) == 1
    for key in ("learning_rate_range", "etas"):
        if key in out:
            out[key] = tuple(out[key])
    return out


def replay(key, wrapper, api, backend="cpu"):
    model = paddle.nn.Sequential(paddle.nn.Linear(8, 16), paddle.nn.ReLU(), paddle.nn.Linear(16, 4))
    for name, param in model.named_parameters():
        param.set_value(REF[f"init/mlp/{name}"])
    cls_name, kwargs = META["family"][key]
    opt = getattr(paddle.optimizer, cls_name)(parameters=model.parameters(), backend=backend, **_kwargs(kwargs))
    if META["wrappers"][wrapper] is not None:
        alpha, k = META["wrappers"][wrapper]
        opt = paddle.incubate.LookAhead(opt, alpha=alpha, k=k)
    loss_fn = paddle.nn.CrossEntropyLoss()
    losses = []
    for t in range(REF["data/x"].shape[0]):
        loss = loss_fn(model(paddle.to_tensor(REF["data/x"][t])), paddle.to_tensor(REF["data/y"][t]))
        losses.append(float(loss.numpy()))
        loss.backward()
        if api == "step":
            opt.step()
        else:
            opt.minimize(loss)
        opt.clear_grad()
    return np.array(losses), {name: p.numpy().copy() for name, p in model.named_parameters()}


def _check(key, wrapper, api, losses, final):
    prefix = f"runs/{key}/{wrapper}/{api}"
    np.testing.assert_allclose(losses, REF[f"{prefix}/losses"], rtol=RTOL, err_msg="losses")
    for name, value in final.items():
        expected = REF[f"{prefix}/final/{name}"]
        scale = max(1.0, float(np.max(np.abs(expected))))
        np.testing.assert_allclose(value, expected, rtol=RTOL, atol=RTOL * scale, err_msg=name)


def test_fixture_covers_every_paddle_optimizer_but_lbfgs():
    classes = {cls for cls, _ in META["family"].values()}
    assert classes == {"Adagrad", "Adadelta", "Adamax", "RMSProp", "Lamb", "NAdam", "RAdam", "ASGD", "Rprop"}
    assert META["paddle_version"] == "3.3.1" and len(RUNS) == META["n_runs"] == 120


@pytest.mark.parametrize("key,wrapper,api", RUNS, ids=["/".join(r) for r in RUNS])
def test_matches_paddle(key, wrapper, api):
    _check(key, wrapper, api, *replay(key, wrapper, api))


@pytest.mark.parametrize("backend", ["numpy"] + ([pytest.param("cuda", marks=pytest.mark.gpu)]
                                                 if "cuda" in kernels.available_backends() else []))
@pytest.mark.parametrize("key", ["lamb_exclude", "rmsprop_centered_l2", "asgd", "radam", "rprop_range"])
def test_other_backends_match_paddle(key, backend):
    _check(key, "la0.5k3", "minimize", *replay(key, "la0.5k3", "minimize", backend=backend))
