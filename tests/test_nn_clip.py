"""nn.clip: the three clippers in both forms (Paddle's clip(params_grads) and the optimizer's clip_(arrays)).

Paddle 3.3.1's numbers: tests/paddle_compat (probes clip/*).
"""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.nn import ClipGradByGlobalNorm, ClipGradByNorm, ClipGradByValue

RNG = np.random.default_rng(3)


def _arrays():
    return [(RNG.standard_normal(s) * 3).astype(np.float32) for s in ((4, 3), (3,), (2, 2))]


def test_global_norm_scales_everything_by_one_factor_in_place():
    grads = _arrays()
    originals = [g.copy() for g in grads]
    total = np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads))
    returned = ClipGradByGlobalNorm(1.0).clip_(grads)
    assert all(r is g for r, g in zip(returned, grads, strict=True))
    for g, o in zip(grads, originals, strict=True):
        np.testing.assert_allclose(g, o / total, rtol=1e-6)
    untouched = _arrays()
    copies = [g.copy() for g in untouched]
    ClipGradByGlobalNorm(1e6).clip_(untouched)
    for g, c in zip(untouched, copies, strict=True):
        np.testing.assert_array_equal(g, c)


def test_norm_clips_each_gradient_alone():
    grads = _arrays()
    grads[1][:] = 0.01  # below the limit: unchanged
    small = grads[1].copy()
    ClipGradByNorm(0.5).clip_(grads)
    assert np.linalg.norm(grads[0]) == pytest.approx(0.5, rel=1e-6)
    np.testing.assert_array_equal(grads[1], small)


def test_value_clips_elements_and_defaults_min_to_minus_max():
    grads = _arrays()
    ClipGradByValue(0.5).clip_(grads)
    assert all(g.min() >= -0.5 and g.max() <= 0.5 for g in grads)
    with pytest.raises(AssertionError):
        ClipGradByValue(-1.0)
    with pytest.raises(ValueError, match="min"):
        ClipGradByValue(max=0.1, min=0.5)


def test_need_clip_mask_and_need_clip_parameters():
    grads = _arrays()
    kept = grads[0].copy()
    ClipGradByValue(0.1).clip_(grads, need_clip=[False, True, True])
    np.testing.assert_array_equal(grads[0], kept)
    with pytest.raises(ValueError, match="need_clip"):
        ClipGradByValue(0.1).clip_(grads, need_clip=[True])
    linear = paddle.nn.Linear(3, 2, bias_attr=paddle.ParamAttr(need_clip=False))
    assert linear.weight.need_clip and not linear.bias.need_clip
    paddle.sum(linear(paddle.ones([4, 3])) * 10.0).backward()
    bias_grad = linear.bias.grad.numpy().copy()
    ClipGradByGlobalNorm(1e-3).clip_([linear.weight._grad, linear.bias._grad])
    np.testing.assert_array_equal(linear.bias.grad.numpy(), bias_grad)
    assert np.linalg.norm(linear.weight.grad.numpy()) == pytest.approx(1e-3, rel=1e-5)


def test_call_form_drops_missing_gradients_and_keeps_unclipped_pairs():
    p = paddle.nn.Linear(2, 2).weight
    q = paddle.nn.Linear(2, 2, weight_attr=paddle.ParamAttr(need_clip=False)).weight
    g = paddle.to_tensor(np.full((2, 2), 5.0, np.float32))
    h = paddle.to_tensor(np.full((2, 2), 5.0, np.float32))
    out = ClipGradByNorm(1.0)([(p, g), (q, h), (p, None)])
    assert len(out) == 2 and out[1][1] is h
    assert np.linalg.norm(out[0][1].numpy()) == pytest.approx(1.0, rel=1e-6)
    assert out[0][1] is not g  # by-norm returns new Tensors; global norm scales in place (as Paddle)
    out = ClipGradByGlobalNorm(1.0)([(p, g)])
    assert out[0][1] is g


def test_bad_arguments():
    with pytest.raises(ValueError, match="clip_norm"):
        ClipGradByGlobalNorm(-1.0)
    with pytest.raises(TypeError, match="clip_norm"):
        ClipGradByNorm("1")
    with pytest.raises(AssertionError, match="auto_skip_clip"):
        ClipGradByGlobalNorm(1.0, auto_skip_clip=1)
