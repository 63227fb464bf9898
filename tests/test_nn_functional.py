"""nn.functional: gradient checks of every op added for Paddle compatibility, and their argument checks.

Paddle's own numbers for these ops are checked in tests/paddle_compat/test_compat_recorded.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
import lasandbox.nn.functional as F
from lasandbox.autograd import gradcheck

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 5)) * 2  # float64: gradcheck's central differences are exact enough


@pytest.mark.parametrize("fn", [
    lambda x: F.gelu(x),
    lambda x: F.gelu(x, approximate=True),
    lambda x: F.gelu(x, "tanh"),
    lambda x: F.softplus(x),
    lambda x: F.softplus(x, beta=2, threshold=3),  # both branches
    lambda x: F.leaky_relu(x, 0.2),
    lambda x: F.silu(x),
    lambda x: paddle.nn.Identity()(x) * 3.0,
    lambda x: paddle.sin(x) * paddle.cos(x),
], ids=["gelu", "gelu_tanh_bool", "gelu_tanh_str", "softplus", "softplus_threshold", "leaky_relu", "silu",
        "identity", "sin_cos"])
def test_activation_gradients(fn):
    assert gradcheck(fn, [X])


def test_layer_norm_gradients_wrt_input_weight_and_bias():
    x = RNG.standard_normal((2, 3, 4))
    w, b = RNG.standard_normal(12), RNG.standard_normal(12)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, [3, 4], weight=w, bias=b), [x, w, b])
    assert gradcheck(lambda x: F.layer_norm(x, 4), [x])


def test_embedding_gradient_wrt_weight():
    ids = np.array([[1, 2, 2], [0, 4, 1]])
    table = RNG.standard_normal((6, 3))
    assert gradcheck(lambda w: F.embedding(paddle.to_tensor(ids), w), [table])
    assert gradcheck(lambda w: F.embedding(paddle.to_tensor(ids), w, padding_idx=2), [table])


def test_embedding_padding_and_frequency_scaling():
    w = paddle.to_tensor(np.ones((5, 2)), stop_gradient=False)
    ids = paddle.to_tensor(np.array([1, 1, 1, 3, 4]))
    out = F.embedding(ids, w, padding_idx=4, scale_grad_by_freq=True)
    np.testing.assert_array_equal(out.numpy()[-1], [0, 0])
    out.sum().backward()
    # id 1 occurs three times: its gradient is divided by 3; the padding row gets none.
    np.testing.assert_allclose(w.grad.numpy()[:, 0], [0, 1, 0, 1, 0])


@pytest.mark.parametrize("kwargs", [
    {"label_smoothing": 0.2},
    {"label_smoothing": 0.2, "reduction": "sum"},
    {"label_smoothing": 0.1, "reduction": "none", "weight": "w"},
    {"soft_label": True, "weight": "w"},
    {"soft_label": True, "weight": "w", "reduction": "none"},
    {"weight": "w", "ignore_index": 2},
], ids=["smooth_mean", "smooth_sum", "smooth_weighted_none", "soft_weighted_mean", "soft_weighted_none",
        "weighted_ignore"])
def test_cross_entropy_gradients(kwargs):
    logits = RNG.standard_normal((4, 5))
    weight = np.array([0.5, 1.0, 2.0, 1.5, 0.25])
    kwargs = {k: (paddle.to_tensor(weight) if v == "w" else v) for k, v in kwargs.items()}
    if kwargs.get("soft_label"):
        target = RNG.random((4, 5))
        label = paddle.to_tensor(target / target.sum(1, keepdims=True))
    else:
        label = paddle.to_tensor(np.array([0, 2, 4, 1]))
    assert gradcheck(lambda x: F.cross_entropy(x, label, **kwargs), [logits])


def test_soft_label_weights_follow_paddle():
    """Paddle: a sample's loss times sum_c T_c w_c; the mean divides by the summed sample weights."""
    logits = RNG.standard_normal((3, 4))
    target = RNG.random((3, 4))
    target /= target.sum(1, keepdims=True)
    w = np.array([1.0, 2.0, 0.5, 3.0])
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    per_sample = -(target * logp).sum(1) * (target @ w)
    out = F.cross_entropy(paddle.to_tensor(logits), paddle.to_tensor(target), soft_label=True,
                          weight=paddle.to_tensor(w))
    np.testing.assert_allclose(out.numpy(), per_sample.sum() / (target @ w).sum(), rtol=1e-12)


def test_label_smooth():
    onehot = paddle.to_tensor(np.eye(3)[[0, 2]], stop_gradient=False)
    out = F.label_smooth(onehot, epsilon=0.3)
    np.testing.assert_allclose(out.numpy(), 0.7 * np.eye(3)[[0, 2]] + 0.1)
    assert gradcheck(lambda x: F.label_smooth(x, epsilon=0.3), [np.eye(3)[[0, 2]]])


def test_one_hot():
    out = F.one_hot(paddle.to_tensor(np.array([[2], [0]])), 3)
    assert out.shape == [2, 1, 3] and out.dtype == paddle.float32
    np.testing.assert_array_equal(out.numpy()[:, 0], np.eye(3)[[2, 0]])


def test_bad_arguments_are_named():
    x = paddle.to_tensor(X)
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, "tan")
    with pytest.raises(TypeError, match="approximate"):
        F.gelu(x, 1234)
    with pytest.raises(ValueError, match="beta"):
        F.softplus(x, beta=0)
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, paddle.to_tensor(np.zeros(3, np.int64)), label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index"):
        F.cross_entropy(x, paddle.to_tensor(np.array([0, -100, 1])), label_smoothing=0.1)
    with pytest.raises(ValueError, match="weight"):
        F.cross_entropy(x, paddle.to_tensor(np.zeros(3, np.int64)), weight=paddle.ones([4]))
    with pytest.raises(ValueError, match=r"num_classes=2"):
        F.one_hot(paddle.to_tensor(np.array([0, 3])), 2)
    with pytest.raises(TypeError, match="integer ids"):
        F.one_hot(paddle.to_tensor([1.0]), 2)
    with pytest.raises(ValueError, match="padding_idx"):
        F.embedding(paddle.to_tensor(np.array([0])), paddle.ones([3, 2]), padding_idx=3)
    with pytest.raises(ValueError, match="ids of embedding"):
        F.embedding(paddle.to_tensor(np.array([5])), paddle.ones([3, 2]))
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(x, [4])
    with pytest.raises(ValueError, match="inplace"):
        F.silu(paddle.to_tensor(X, stop_gradient=False), inplace=True)
