"""nn.Layer: Paddle's registration rules, buffers, hooks, dtype conversion; containers; new layers."""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
import lasandbox.nn as nn


def test_tensor_attributes_become_non_persistable_buffers():
    layer = nn.Layer()
    layer.running = paddle.zeros([2])
    layer.register_buffer("kept", paddle.ones([2]))
    assert [n for n, _ in layer.named_buffers()] == ["running", "kept"]
    assert list(layer.state_dict()) == ["kept"] and "running" in layer.to_static_state_dict()
    layer.kept = None
    assert layer.buffers() == [layer.running]
    with pytest.raises(TypeError, match="buffer"):
        layer.running = 3
    del layer.running
    assert not hasattr(layer, "running")


def test_state_dict_order_is_paddles_and_keeps_shared_names():
    class Net(nn.Layer):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(2, 2)
            self.scale = self.create_parameter([1])
            self.register_buffer("steps", paddle.zeros([1]))
            self.tied = self.inner.weight

    net = Net()
    assert list(net.state_dict()) == ["scale", "tied", "steps", "inner.weight", "inner.bias"]
    assert [n for n, _ in net.named_parameters()] == ["scale", "tied", "inner.bias"]
    assert len(list(net.named_parameters(remove_duplicate=False))) == 4


def test_full_name_and_parameter_names():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    index = int(a.full_name().rsplit("_", 1)[1])
    assert b.full_name() == f"linear_{index + 1}"
    assert a.weight.name == f"{a.full_name()}.w_0" and a.bias.name == f"{a.full_name()}.b_0"

    class TwoWords(nn.Layer):
        pass

    assert TwoWords().full_name().startswith("two_words_")


def test_hooks_run_in_order_and_can_be_removed():
    calls = []
    layer = nn.Identity()
    first = layer.register_forward_pre_hook(lambda m, x: calls.append("pre1"))
    layer.register_forward_pre_hook(lambda m, x: calls.append("pre0"), prepend=True)
    layer.register_forward_post_hook(lambda m, x, y: y * 2)
    assert layer(paddle.ones([1])).item() == 2.0
    assert calls == ["pre0", "pre1"]
    first.remove()
    calls.clear()
    layer(paddle.ones([1]))
    assert calls == ["pre0"]
    layer.register_forward_pre_hook(lambda m, args, kwargs: "wrong", with_kwargs=True)
    with pytest.raises(RuntimeError, match="args, kwargs"):
        layer(paddle.ones([1]))
    with pytest.raises(TypeError, match="callable"):
        layer.register_forward_post_hook(3)


def test_apply_visits_children_before_parent():
    seen = []
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    model.apply(lambda layer: seen.append(type(layer).__name__))
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_to_and_astype_convert_in_place_with_gradients():
    linear = nn.Linear(2, 2)
    weight = linear.weight
    paddle.sum(linear(paddle.ones([1, 2]))).backward()
    linear.to(dtype="float64")
    assert linear.weight is weight and weight.dtype == paddle.float64 and weight.grad.dtype == paddle.float64
    linear.float()
    assert weight.dtype == paddle.float32
    linear.astype("float16")
    assert weight.dtype == paddle.float16
    with pytest.raises(ValueError, match="dtype"):
        linear.astype("int4")
    with pytest.raises(ValueError, match="device"):
        linear.to(device="gpu")
    with pytest.raises(TypeError, match="blocking"):
        linear.to(blocking=1)


def test_layer_name_and_registration_errors():
    layer = nn.Layer()
    with pytest.raises(TypeError, match="Parameter"):
        layer.add_parameter("w", paddle.ones([1]))
    with pytest.raises(KeyError, match="can not contain"):
        layer.register_buffer("a.b", paddle.ones([1]))
    with pytest.raises(TypeError, match="Layer"):
        layer.add_sublayer("x", 3)

    class Broken(nn.Layer):
        def __init__(self):
            self.w = paddle.ones([1])

    with pytest.raises(ValueError, match="super"):
        Broken()


def test_sequential_and_layer_list_editing():
    seq = nn.Sequential(("a", nn.ReLU()), ("b", nn.Tanh()))
    assert seq["a"] is seq[0] and len(seq[0:1]) == 1
    del seq["a"]
    assert list(seq._sub_layers) == ["b"]
    with pytest.raises(ValueError, match="named by position"):
        seq.insert(0, nn.ReLU())
    with pytest.raises(IndexError):
        nn.Sequential(nn.ReLU())[3]
    layers = nn.LayerList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    popped = layers.pop(1)
    assert isinstance(popped, nn.Tanh) and list(layers._sub_layers) == ["0", "1"]
    layers.insert(0, nn.Identity())
    assert isinstance(layers[0], nn.Identity) and len(layers) == 3
    del layers[0:2]
    assert len(layers) == 1 and isinstance(layers[0], nn.Sigmoid)


def test_get_sublayer_parameter_buffer():
    model = nn.Sequential(nn.Linear(2, 3))
    model[0].register_buffer("count", paddle.zeros([1]))
    assert model.get_sublayer("0") is model[0]
    assert model.get_parameter("0.weight") is model[0].weight
    assert model.get_buffer("0.count") is model[0].count
    with pytest.raises(AttributeError, match="no parameter"):
        model.get_parameter("0.nope")


def test_new_layers_forward():
    x = paddle.to_tensor(np.array([[-1.0, 0.5, 2.0]], np.float32))
    ln = nn.LayerNorm(3, weight_attr=False)
    assert ln.weight is None and ln(x).numpy().mean() == pytest.approx(0.0, abs=1e-6)
    emb = nn.Embedding(4, 2, padding_idx=-1)
    np.testing.assert_array_equal(emb.weight.numpy()[3], [0, 0])
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)
    table = paddle.ones([4, 2])
    frozen = nn.Embedding(4, 2, _weight=table, _freeze=True)
    assert frozen.weight is table and frozen.weight.stop_gradient
    paddle.seed(0)
    shared = nn.Dropout(0.5, axis=1)(paddle.ones([64, 8])).numpy()
    assert (shared == shared[:1]).all() and set(np.unique(shared)) <= {0.0, 2.0}  # one mask value per column
    with pytest.raises(TypeError, match="axis"):
        nn.Dropout(0.5, axis="rows")
    with pytest.raises(ValueError, match="out of range"):
        nn.Dropout(0.5, axis=2)(paddle.ones([2, 2]))
