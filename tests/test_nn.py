"""nn: Layer registration, Linear (Paddle layout and init), containers, losses, state dicts."""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
import lasandbox.nn as nn


class SharedBias(nn.Layer):
    """Seed example 1's pattern: one parameter registered under two names."""

    def __init__(self):
        super().__init__()
        self._linear = nn.Linear(4, 3)
        self.bias = self._linear.bias

    def forward(self, x):
        return self._linear(x)


def test_parameters_lists_a_shared_parameter_once():
    layer = SharedBias()
    params = layer.parameters()
    assert len(params) == 2
    assert {id(p) for p in params} == {id(layer._linear.weight), id(layer._linear.bias)}
    assert [n for n, _ in layer.named_parameters()] == ["bias", "_linear.weight"]
    assert set(layer.state_dict()) == {"bias", "_linear.weight", "_linear.bias"}


def test_linear_layout_and_default_init():
    paddle.seed(0)
    layer = nn.Linear(300, 100)
    assert layer.weight.shape == [300, 100] and layer.bias.shape == [100]
    limit = np.sqrt(6 / 400)
    w = layer.weight.numpy()
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    assert abs(w.std() - limit / np.sqrt(3)) < 0.01 * limit / np.sqrt(3) * 10
    assert np.all(layer.bias.numpy() == 0)
    assert not layer.weight.stop_gradient
    x = np.random.default_rng(0).standard_normal((5, 300)).astype(np.float32)
    np.testing.assert_allclose(layer(paddle.to_tensor(x)).numpy(), x @ w, rtol=1e-5, atol=1e-5)
    assert nn.Linear(3, 2, bias_attr=False).bias is None


def test_linear_rejects_bad_sizes():
    with pytest.raises(TypeError, match="in_features"):
        nn.Linear(2.0, 3)
    with pytest.raises(ValueError, match="out_features"):
        nn.Linear(2, 0)
    linear = nn.Linear(3, 2)
    for dtype in ("int64", "float64"):  # Paddle 3.3.1 refuses both (float32 weights); numpy would promote
        for layer in (linear, nn.Linear(3, 2, bias_attr=False)):
            with pytest.raises(TypeError, match=f"x has dtype {dtype}"):
                layer(paddle.to_tensor(np.ones((1, 3), dtype)))


def test_set_state_dict_refuses_a_non_dict_and_warns_for_what_it_skips():
    linear = nn.Linear(2, 3)
    before = linear.weight.numpy().copy()
    for bad in ([1, 2], None, "weights"):
        with pytest.raises(TypeError, match="state_dict must be a dict"):
            linear.set_state_dict(bad)
    with pytest.warns(UserWarning, match="Skip loading for bias"):  # Paddle's warning, per missing entry
        missing, unexpected = linear.set_state_dict({"weight": np.zeros((2, 3), np.float32), "weightt": 1})
    assert (missing, unexpected) == (["bias"], ["weightt"])
    assert not linear.weight.numpy().any() and before.any()
    opt = paddle.optimizer.Adam(0.1, parameters=linear.parameters())
    for bad in ([1, 2], None):
        with pytest.raises(TypeError, match="state_dict must be a dict"):
            opt.set_state_dict(bad)


def test_sequential_indexing_and_sublayers():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    assert len(model) == 3 and isinstance(model[1], nn.ReLU)
    assert isinstance(model[-1], nn.Linear) and len(model[:2]) == 2
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(model.sublayers()) == 3
    model.eval()
    assert not any(layer.training for layer in model.sublayers(include_self=True))
    model.train()
    assert all(layer.training for layer in model.sublayers(include_self=True))
    with pytest.raises(TypeError, match="Sequential takes Layers"):
        nn.Sequential(nn.ReLU(), "relu")


def test_state_dict_roundtrip_and_bad_input_leaves_layer_untouched(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    other = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    before = {k: v.numpy().copy() for k, v in other.state_dict().items()}
    broken = dict(state)
    broken["2.weight"] = np.zeros((5, 5), np.float32)
    with pytest.raises(ValueError, match="2.weight"):
        other.set_state_dict(broken)
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    paddle.save(model.state_dict(), tmp_path / "m.pdparams")
    missing, unexpected = other.set_state_dict(paddle.load(tmp_path / "m.pdparams"))
    assert missing == [] and unexpected == []
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), state[k])


def _reference_ce(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(labels)), labels]


@pytest.mark.parametrize("label_shape", ["N", "N1"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss(label_shape, reduction):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((6, 5)).astype(np.float32)
    labels = rng.integers(0, 5, 6)
    lab = labels if label_shape == "N" else labels[:, None]
    out = nn.CrossEntropyLoss(reduction=reduction)(paddle.to_tensor(logits), paddle.to_tensor(lab))
    expected = _reference_ce(logits.astype(np.float64), labels)
    if reduction == "mean":
        np.testing.assert_allclose(out.numpy(), expected.mean(), rtol=1e-5)
    elif reduction == "sum":
        np.testing.assert_allclose(out.numpy(), expected.sum(), rtol=1e-5)
    else:
        assert out.shape == ([6] if label_shape == "N" else [6, 1])
        np.testing.assert_allclose(out.numpy().ravel(), expected, rtol=1e-5)


def test_cross_entropy_rejects_bad_reduction_and_labels():
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"label values must be in \[0, 4\]"):
        nn.CrossEntropyLoss()(paddle.ones([2, 5]), paddle.to_tensor(np.array([[1], [7]])))
    labels = paddle.to_tensor(np.array([0, 1]))
    for axis in (2, -3, 100):  # not wrapped around to another axis
        with pytest.raises(ValueError, match="axis"):
            nn.CrossEntropyLoss(axis=axis)(paddle.ones([2, 5]), labels)
    with pytest.raises(TypeError, match="float logits"):  # an int64 loss of 1 where float32 gives 1.139
        nn.CrossEntropyLoss()(paddle.to_tensor(np.eye(2, 5, dtype=np.int64) * 3), labels)


def test_mse_loss_and_flatten_and_dropout_layer():
    a, b = np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)
    assert nn.MSELoss()(paddle.to_tensor(a), paddle.to_tensor(b)).item() == pytest.approx(1.0)
    assert nn.MSELoss(reduction="sum")(paddle.to_tensor(a), paddle.to_tensor(b)).item() == pytest.approx(6.0)
    assert nn.Flatten()(paddle.ones([2, 3, 4])).shape == [2, 12]
    for start, stop, axis in [(1, 5, "stop_axis"), (-4, -1, "start_axis"), (3, -1, "start_axis")]:
        with pytest.raises(ValueError, match=f"{axis} must be an int in \\[-3, 3\\)"):  # as Paddle (had clamped)
            nn.Flatten(start, stop)(paddle.ones([2, 3, 4]))
    with pytest.raises(ValueError, match="start_axis"):
        paddle.flatten(paddle.ones([2, 3]), 1.0)
    drop = nn.Dropout(0.5)
    drop.eval()
    x = paddle.ones([10])
    assert drop(x) is x
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(1.5)


def test_layer_must_call_super_init():
    class Broken(nn.Layer):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(RuntimeError, match="super"):
        Broken()
