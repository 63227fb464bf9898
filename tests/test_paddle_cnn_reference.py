"""Replay the convolution / pooling / batch-norm numbers recorded from PaddlePaddle 3.3.1.

The fixture (``tests/fixtures/paddle_cnn.npz``, written by
``tools/record_paddle_cnn.py``) stores each case's spec, so every case here
is built from the recorded spec, not from a copy of it.

Tolerances. Outputs: 1e-5 relative (elementwise, with a floor of 1e-6 of the
array's largest value for entries near zero). Gradients: the same 1e-5
relative to the array's largest value. Elementwise relative error is not
bounded for gradients: an input gradient of a convolution or batch norm is
a sum of many terms of both signs, and where they nearly cancel both
frameworks round differently (float32 sums in a different order, oneDNN
vs BLAS), so a tiny entry may differ by ~1e-7 absolute, which is 1e-3 of
itself but 1e-7 of the gradient's scale. Training runs: 8 steps through
batch norm amplify those roundings; losses match to 1e-5 relative and the
final parameters to 1e-4 of each array's scale (measured worst cases are in
the test ids' docstrings below).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import models, nn
from lasandbox.autograd.tensor import Tensor
from lasandbox.nn import functional as F

FIXTURE = Path(__file__).parent / "fixtures" / "paddle_cnn.npz"


@pytest.fixture(scope="module")
def recorded():
    with np.load(FIXTURE) as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, json.loads(arrays["meta"].item())


def _meta():
    with np.load(FIXTURE) as data:
        return json.loads(data["meta"].item())


META = _meta()


def assert_matches(ours, ref, rtol, what, scale_floor=1e-6, atol=0.0):
    """Elementwise ``rtol`` with an absolute floor of ``scale_floor`` times the array's largest value (or ``atol``)."""
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} vs Paddle's {ref.shape}"
    finite = np.isfinite(ref)
    np.testing.assert_array_equal(np.isfinite(ours), finite, err_msg=f"{what}: non-finite entries differ")
    np.testing.assert_array_equal(ours[~finite], ref[~finite], err_msg=f"{what}: non-finite values differ")
    scale = np.abs(ref[finite]).max() if finite.any() else 0.0
    np.testing.assert_allclose(ours[finite], ref[finite], rtol=rtol, atol=max(scale_floor * scale, atol),
                               err_msg=what)


def _run_case(case, arrays):
    key = f"ops/{case['name']}"
    x = Tensor(arrays[f"{key}/x"].copy(), stop_gradient=False)
    params = {}
    if case["kind"] == "layer":
        layer = getattr(nn, case["cls"])(*case["args"], **case["kwargs"])
        layer.train() if case["mode"] == "train" else layer.eval()
        for name, p in layer.named_parameters():
            p.set_value(arrays[f"{key}/param/{name}"])
            params[name] = p
        if case["preset_stats"]:
            layer._mean.set_value(arrays[f"{key}/before/_mean"])
            layer._variance.set_value(arrays[f"{key}/before/_variance"])
        result = layer(x, **case.get("forward_kwargs", {}))
        after = {"_mean": layer._mean, "_variance": layer._variance} if case["preset_stats"] else {}
    else:
        extra = {}
        for arg in case["tensors"]:
            trainable = not arg.startswith("running")
            extra[arg] = Tensor(arrays[f"{key}/param/{arg}"].copy(), stop_gradient=not trainable)
            if trainable:
                params[arg] = extra[arg]
        result = getattr(F, case["fn"])(x, **extra, **case["kwargs"])
        after = {a: extra[a] for a in ("running_mean", "running_var") if a in extra}
    out, mask = result if isinstance(result, tuple) else (result, None)
    out.backward(Tensor(arrays[f"{key}/grad_out"]))
    return x, out, mask, params, after


# Input gradients that are zero in exact arithmetic but for epsilon's share: with two values per channel
# the normalised values are +-d/sqrt(d^2 + eps), and the gradient's terms (of order weight*dy/std, 1 to 10
# here) cancel to ~eps/d^2 of themselves (1e-6 to 1e-5 of the array), so each framework's float32
# rounding of those terms (measured: 3.0e-7 apart at most) is all that is left to compare.
CANCELLING_INPUT_GRADIENT_ATOL = {"bn2d_two_values": 1e-6, "bn1d_2d_two_samples": 1e-6}


@pytest.mark.parametrize("case", META["cases"], ids=[c["name"] for c in META["cases"]])
def test_op_matches_paddle(case, recorded):
    arrays, _ = recorded
    key = f"ops/{case['name']}"
    x, out, mask, params, after = _run_case(case, arrays)
    assert_matches(out.numpy(), arrays[f"{key}/out"], 1e-5, f"{case['name']} output")
    if mask is not None:
        np.testing.assert_array_equal(mask.numpy(), arrays[f"{key}/mask"])
    assert_matches(x.grad.numpy(), arrays[f"{key}/grad/x"], 1e-5, f"{case['name']} input gradient",
                   scale_floor=1e-5, atol=CANCELLING_INPUT_GRADIENT_ATOL.get(case["name"], 0.0))
    expected_params = sorted(k.rsplit("/", 1)[1] for k in arrays if k.startswith(f"{key}/grad/") and
                             not k.endswith("/grad/x"))
    assert sorted(params) == expected_params
    for name, p in params.items():
        assert_matches(p.grad.numpy(), arrays[f"{key}/grad/{name}"], 1e-5, f"{case['name']} {name} gradient",
                       scale_floor=1e-5)
    for name, buffer in after.items():
        assert_matches(buffer.numpy(), arrays[f"{key}/after/{name}"], 1e-5, f"{case['name']} {name} after")


@pytest.mark.parametrize("name", sorted(META["init_layers"]))
def test_default_initialisation_matches_paddle(name, recorded):
    """Paddle's conv init is Normal(0, sqrt(2 / (in_channels * kernel area))), groups not counted."""
    arrays, meta = recorded
    cls, args, kwargs = meta["init_layers"][name]
    paddle.seed(0)
    weight = getattr(nn, cls)(*args, **kwargs).weight.numpy()
    assert weight.size == int(arrays[f"init/{name}/size"])
    expected = (2.0 / (args[0] * args[2] ** (2 if cls == "Conv2D" else 1))) ** 0.5
    paddle_std = float(arrays[f"init/{name}/std"])
    # Both are samples of ~10^4 values: their std agrees with the formula to ~1% (3 sigma ~ 2.5%).
    assert abs(paddle_std - expected) / expected < 0.03
    assert abs(weight.std() - paddle_std) / paddle_std < 0.04
    assert abs(weight.mean()) < 4 * expected / np.sqrt(weight.size)


@pytest.mark.parametrize("name", sorted(META["transpose_init_layers"]))
def test_transposed_default_initialisation_matches_paddle(name, recorded):
    """Paddle gives the transposed layers no initializer of their own: Xavier-uniform over [C, Co/groups, *k]."""
    arrays, meta = recorded
    cls, args, kwargs = meta["transpose_init_layers"][name]
    paddle.seed(0)
    weight = getattr(nn, cls)(*args, **kwargs).weight.numpy()
    key = f"init_transpose/{name}"
    assert list(weight.shape) == arrays[f"{key}/shape"].tolist()
    paddle_std, paddle_max = float(arrays[f"{key}/std"]), float(arrays[f"{key}/max"])
    # Samples of 9,216-18,432 uniform values: their std agrees within ~1% (3 sigma ~2%), their max within 0.1%.
    assert abs(weight.std() - paddle_std) / paddle_std < 0.03
    assert abs(np.abs(weight).max() - paddle_max) / paddle_max < 2e-3
    assert abs(weight.mean()) < 4 * paddle_std / np.sqrt(weight.size)


@pytest.mark.parametrize("name", sorted(META["transpose_calls"]))
def test_conv2d_transpose_accepts_and_refuses_what_paddle_does(name, recorded):
    """Output shapes where Paddle computes, a ValueError where it raised; an output size below 1 (Paddle
    returns a shape with 0 or negative sizes) is refused here."""
    arrays, meta = recorded
    kwargs = meta["transpose_calls"][name]
    x, w = Tensor(np.ones((1, 2, 4, 4), np.float32)), Tensor(np.ones((2, 3, 3, 3), np.float32))
    if f"calls/{name}/error" in arrays:
        with pytest.raises(ValueError):
            F.conv2d_transpose(x, w, **kwargs)
        return
    shape = arrays[f"calls/{name}/shape"].tolist()
    if min(shape) < 1:
        with pytest.raises(ValueError, match="the output would have spatial size"):
            F.conv2d_transpose(x, w, **kwargs)
    else:
        assert F.conv2d_transpose(x, w, **kwargs).shape == shape


@pytest.mark.parametrize("name", sorted(META["repr_layers"]))
def test_layer_repr_matches_paddle(name, recorded):
    arrays, meta = recorded
    cls, args, kwargs = meta["repr_layers"][name]
    assert repr(getattr(nn, cls)(*args, **kwargs)) == arrays[f"repr/{name}"].item()


def test_state_dict_names_match_paddle(recorded):
    """Same keys as Paddle's state_dict (running statistics included, under _mean/_variance)."""
    arrays, meta = recorded
    kwargs = meta["train_models"]["resnet"]["kwargs"]
    model = models.SmallResNet(**kwargs)
    assert sorted(model.state_dict()) == sorted(arrays["names/resnet/state_dict"].tolist())
    # Paddle also lists _mean/_variance in named_parameters (non-trainable); here they are buffers.
    paddle_params = [n for n in arrays["names/resnet/named_parameters"].tolist()
                     if not n.endswith(("._mean", "._variance"))]
    assert [n for n, _ in model.named_parameters()] == paddle_params


def _build(name, meta):
    spec = meta["train_models"][name]
    if name == "plain_cnn":
        return nn.Sequential(*[getattr(nn, cls)(*args, **kwargs) for cls, args, kwargs in spec["spec"]])
    if name == "resnet":
        return models.SmallResNet(**spec["kwargs"])
    return models.MNIST1DCNN(**spec["kwargs"])


@pytest.mark.parametrize("name", sorted(META["train_models"]))
def test_cnn_trained_in_lookahead_matches_paddle(name, recorded):
    """8 steps of LookAhead(Momentum) on a small CNN: per-step losses, final weights, running stats, eval logits."""
    arrays, meta = recorded
    key = f"train/{name}"
    model = _build(name, meta)
    init = {k.split("/init/", 1)[1]: arrays[k] for k in arrays if k.startswith(f"{key}/init/")}
    assert sorted(init) == sorted(model.state_dict())
    missing, unexpected = model.set_state_dict(init)
    assert not missing and not unexpected
    model.train()
    inner = paddle.optimizer.Momentum(parameters=model.parameters(), **meta["optimizer"])
    opt = paddle.incubate.LookAhead(inner, **meta["lookahead"])
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for t in range(meta["train_steps"]):
        loss = loss_fn(model(Tensor(arrays[f"{key}/x"][t])), Tensor(arrays[f"{key}/y"][t]))
        losses.append(float(loss.numpy()))
        loss.backward()
        opt.step()
        opt.clear_grad()
    np.testing.assert_allclose(losses, arrays[f"{key}/losses"], rtol=1e-5)
    for pname, value in model.state_dict().items():
        # atol: a conv bias followed by batch norm has a zero gradient in exact arithmetic, so it
        # ends as rounding noise (~1e-9 in both frameworks) that no relative tolerance can match.
        assert_matches(value.numpy(), arrays[f"{key}/final/{pname}"], 1e-4, f"{name} final {pname}",
                       scale_floor=1e-4, atol=1e-7)
    model.eval()
    assert_matches(model(Tensor(arrays[f"{key}/x_eval"])).numpy(), arrays[f"{key}/eval_logits"], 1e-4,
                   f"{name} eval logits", scale_floor=1e-4)
