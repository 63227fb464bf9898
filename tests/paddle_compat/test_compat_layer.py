"""nn.Layer cases: Paddle's Layer unit tests (eager) and the API-doc examples of paddle.nn.Layer.

Sources (PaddlePaddle, test/legacy_test/):
  test_base_layer.py: TestBaseLayer (test_one_level, test_three_level, test_add_parameter_with_error
    -- its two lines on the private ``_loaddict_holder`` cut), TestBuffer (all nine; the
    sub-checks that build a private ``EagerParamBase`` cut), TestLayerTo (func_test_to_api,
    _paddle_dtype, _numpy_dtype, _none_buffer -- the private ``_set_grad_ivar``/``_grad_ivar`` lines,
    the Conv1D sub-layer and the GPU/custom-device branches cut; dtypes compared with
    ``paddle.float64`` instead of the private ``core.VarDesc.VarType.FP64``).
  test_imperative_named_members.py: all of it (cases with nn.Conv2D wait for the conv layers).
  test_imperative_hook_for_layer.py: Test_Forward_Hook (test_forward_hook_return_value, test_forward_hook,
    test_always_called_forward_hooks), TestHookWithKWArgs.test_kwargs_hook (``get_places()`` -> CPU).
  test_imperative_layer_apply.py: TestLayerApply.test_apply_init_weight (needs nn.Conv2D).
Docs (python/paddle/nn/layer/layers.py, 3.3.1): Layer, train, eval, apply, full_name,
  register_forward_post_hook, register_forward_hook, register_forward_pre_hook, create_parameter,
  parameters, children, named_children, sublayers, named_parameters, named_sublayers, register_buffer,
  buffers, named_buffers, clear_gradients, add_sublayer, add_parameter, to_static_state_dict,
  state_dict, set_state_dict / set_dict / load_dict, to (the GPU pinned-memory line cut).
"""

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import base, nn


# --------------------------------------------------------------------------- test_base_layer.py
class L1(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self._param_attr = base.ParamAttr(initializer=paddle.nn.initializer.Constant(value=0.1))
        self.w1 = self.create_parameter(attr=self._param_attr, shape=[2, 2], dtype="float32", is_bias=False)
        self.w2 = self.create_parameter(attr=self._param_attr, shape=[2, 2], dtype="float32", is_bias=False)

    def forward(self):
        return self.w1 + self.w2


class L2(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.layer1 = L1()
        self.layer2 = L1()

    def forward(self):
        return self.layer1() + self.layer2()


class L3(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.layer1 = L2()
        self.layer2 = L2()

    def forward(self):
        return self.layer1() + self.layer2()


def test_one_level():
    """test_base_layer.py TestBaseLayer.test_one_level."""
    layer = L1()
    ret = layer()
    assert [name for name, _ in layer.named_parameters(prefix="l1")] == ["l1.w1", "l1.w2"]
    np.testing.assert_allclose(ret.numpy(), 0.2 * np.ones([2, 2]), rtol=1e-05)


def test_three_level():
    """test_base_layer.py TestBaseLayer.test_three_level."""
    layer = L3()
    expected = [f"l3.layer{a}.layer{b}.w{c}" for a in (1, 2) for b in (1, 2) for c in (1, 2)]
    assert [name for name, _ in layer.named_parameters(prefix="l3")] == expected
    np.testing.assert_allclose(layer().numpy(), 0.8 * np.ones([2, 2]), rtol=1e-05)


def test_add_parameter_with_error():
    """test_base_layer.py TestBaseLayer.test_add_parameter_with_error (the _loaddict_holder lines cut)."""
    net = paddle.nn.Layer()
    param = net.create_parameter(shape=[1])
    with pytest.raises(TypeError):
        net.add_parameter(10, param)
    with pytest.raises(KeyError):
        net.add_parameter("param.name", param)
    with pytest.raises(KeyError):
        net.add_parameter("", param)
    with pytest.raises(KeyError):
        net.test_param = 10
        net.add_parameter("test_param", param)
    with pytest.raises(TypeError):
        net.add_parameter("no_param", 10)


class BufferLayer(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.register_buffer("layer_buffer", paddle.to_tensor(np.zeros([2, 4]).astype("int32")))

    def forward(self):
        pass


class BufferNet(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.buffer_layer = BufferLayer()
        self.w1 = self.create_parameter(shape=[2, 2], dtype="float32", is_bias=False)
        self.register_buffer("net_buffer", paddle.to_tensor(np.ones([2, 4]).astype("int32")))
        self.new_buffer = paddle.to_tensor(np.ones([4, 2]).astype("int32"))

    def forward(self):
        pass


def test_buffers_and_named_buffers():
    """test_base_layer.py TestBuffer.test_buffers_and_named_buffers."""

    def names(named_buffers):
        return [name for name, _ in named_buffers]

    layer, net = BufferLayer(), BufferNet()
    assert len(layer.buffers()) == 1
    assert names(layer.named_buffers()) == ["layer_buffer"]
    assert len(net.buffers()) == 3
    assert names(net.named_buffers()) == ["net_buffer", "new_buffer", "buffer_layer.layer_buffer"]
    assert len(net.buffers(include_sublayers=False)) == 2
    assert names(net.named_buffers(include_sublayers=False)) == ["net_buffer", "new_buffer"]


def test_register_buffer_with_error():
    """test_base_layer.py TestBuffer.test_register_buffer_with_error (the two EagerParamBase sub-checks cut)."""
    net = paddle.nn.Layer()
    var = paddle.to_tensor(np.zeros([1]))
    with pytest.raises(TypeError, match="name of buffer should be a string"):
        net.register_buffer(12, var)
    with pytest.raises(KeyError, match="name of buffer can not contain"):
        net.register_buffer("buffer.name", var)
    with pytest.raises(KeyError, match="name of buffer can not be empty"):
        net.register_buffer("", var)
    net.attr_name = 10
    with pytest.raises(KeyError, match="already exists"):
        net.register_buffer("attr_name", var)


def _equal(a, b):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_register_buffer_same_name():
    """test_base_layer.py TestBuffer.test_register_buffer_same_name."""
    net = paddle.nn.Layer()
    for var in (paddle.to_tensor(np.zeros([1])), paddle.to_tensor(np.zeros([2])), paddle.to_tensor(np.zeros([3]))):
        net.register_buffer("buffer_name", var)
        _equal(net.buffer_name, var)


def test_buffer_not_persistable():
    """test_base_layer.py TestBuffer.test_buffer_not_persistable."""
    net = paddle.nn.Layer()
    net.register_buffer("buffer_name", paddle.to_tensor(np.zeros([1])), persistable=False)
    assert len(net.buffers()) == 1
    assert len(net.state_dict()) == 0


def test_buffer_not_persistable_del():
    """test_base_layer.py TestBuffer.test_buffer_not_persistable_del."""
    net = paddle.nn.Layer()
    net.register_buffer("buffer_name", paddle.to_tensor(np.zeros([1])), persistable=False)
    del net.buffer_name
    assert len(net.buffers()) == 0


def test_buffer_not_persistable_overwrite():
    """test_base_layer.py TestBuffer.test_buffer_not_persistable_overwrite."""
    net = paddle.nn.Layer()
    var1, var2 = paddle.to_tensor(np.zeros([1])), paddle.to_tensor(np.zeros([2]))
    net.register_buffer("buffer_name", var1, persistable=False)
    net.register_buffer("buffer_name", var2)
    assert len(net.buffers()) == 1 and len(net.state_dict()) == 1
    net.register_buffer("buffer_name", var1, persistable=False)
    assert len(net.buffers()) == 1 and len(net.state_dict()) == 0


def test_buffer_not_persistable_assign():
    """test_base_layer.py TestBuffer.test_buffer_not_persistable_assign (the final EagerParamBase block cut)."""
    net = paddle.nn.Layer()
    var1 = paddle.to_tensor(np.zeros([1]))
    net.register_buffer("buffer_name", var1, persistable=False)
    net.buffer_name = None
    assert len(net.buffers()) == 0 and len(net.state_dict()) == 0
    net.buffer_name = var1
    assert len(net.buffers()) == 1 and len(net.state_dict()) == 0


def test_buffer_not_persistable_load():
    """test_base_layer.py TestBuffer.test_buffer_not_persistable_load."""
    net = paddle.nn.Layer()
    net.register_buffer("buffer_name", paddle.to_tensor(np.zeros([1])), persistable=False)
    net.load_dict({})


def test_buffer_state_dict():
    """test_base_layer.py TestBuffer.test_buffer_state_dict."""
    net = paddle.nn.Layer()
    var1, var2 = paddle.to_tensor(np.zeros([2, 3])), paddle.to_tensor(np.zeros([3, 2]))
    net.register_buffer("buffer_var1", var1)
    net.register_buffer("buffer_var2", var2, persistable=False)
    assert len(net.state_dict()) == 1
    assert [name for name, _ in net.state_dict().items()] == ["buffer_var1"]
    net_load = paddle.nn.Layer()
    net_load.register_buffer("buffer_var1", paddle.to_tensor(np.ones([2, 3])))
    net_load.load_dict(net.state_dict())
    _equal(net_load.buffer_var1, var1)


def _linear_with_buffer():
    linear = paddle.nn.Linear(2, 2)
    linear.register_buffer("buf_name", paddle.to_tensor([0.0], dtype="float32"), persistable=True)
    return linear


@pytest.mark.parametrize("dtype", ["double", "paddle.float64", "np.float64"],
                         ids=["func_test_to_api", "func_test_to_api_paddle_dtype", "func_test_to_api_numpy_dtype"])
def test_layer_to(dtype):
    """test_base_layer.py TestLayerTo.func_test_to_api / _paddle_dtype / _numpy_dtype (see the module docstring)."""
    linear = _linear_with_buffer()
    linear.to(dtype={"double": "double", "paddle.float64": paddle.float64, "np.float64": np.float64}[dtype])
    assert linear.weight.dtype == paddle.float64 and linear.buf_name.dtype == paddle.float64
    linear.to()
    assert linear.weight.dtype == paddle.float64 and linear.buf_name.dtype == paddle.float64
    if dtype == "double":
        linear.to(device=paddle.CPUPlace())
        assert linear.weight.place.is_cpu_place() and linear.buf_name.place.is_cpu_place()
        linear.to(device="cpu")
        assert linear.weight.place.is_cpu_place() and linear.buf_name.place.is_cpu_place()
        with pytest.raises(ValueError):
            linear.to(device=1)


def test_layer_to_none_buffer():
    """test_base_layer.py TestLayerTo.func_test_to_api_none_buffer."""
    model = paddle.nn.Linear(2, 4)
    model.register_buffer("buf_name", None, persistable=True)
    model.to(dtype="float64")
    assert model._buffers["buf_name"] is None


# --------------------------------------------------------------------- test_imperative_named_members.py
class MyLayer(paddle.nn.Layer):
    def __init__(self, num_channel, dim, num_filter=5):
        super().__init__()
        self.fc = paddle.nn.Linear(dim, dim)
        self.conv = paddle.nn.Conv2D(num_channel, num_channel, num_filter)

    def forward(self, x):
        return self.conv(self.fc(x))


class MyLayerDuplicatedParameters(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = paddle.nn.Linear(1, 1)
        w_tmp = self.create_parameter([2, 3])
        self.add_parameter("w_tmp1", w_tmp)
        self.add_parameter("w_tmp2", w_tmp)

    def forward(self, x):
        return self.fc(x)


class MyLayerDuplicatedBuffers(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = paddle.nn.Linear(1, 1)
        buffer_tmp = paddle.ones([2, 3])
        self.register_buffer("buffer1", buffer_tmp)
        self.register_buffer("buffer2", buffer_tmp)

    def forward(self, x):
        return self.fc(x)


def test_named_sublayers():
    """test_imperative_named_members.py TestImperativeNamedSubLayers.test_named_sublayers."""
    with base.dygraph.guard():
        fc1 = paddle.nn.Linear(10, 3)
        fc2 = paddle.nn.Linear(3, 10, bias_attr=False)
        custom = MyLayer(3, 10)
        model = paddle.nn.Sequential(fc1, fc2, custom)
        named = list(model.named_sublayers())
        expected = [fc1, fc2, custom, custom.fc, custom.conv]
        assert [layer for _, layer in named] == expected
        assert [layer for _, layer in named] == list(model.sublayers())
        assert [layer for _, layer in model.named_sublayers(include_self=True)] == [model, *expected]


@pytest.mark.parametrize("remove_duplicate, expected", [(False, 2), (True, 1)],
                         ids=["test_not_remove_duplicate", "test_remove_duplicate"])
def test_named_sublayers_duplicated(remove_duplicate, expected):
    """test_imperative_named_members.py TestImperativeNamedSublayersDuplicated."""
    with base.dygraph.guard():
        layer = paddle.nn.Linear(10, 3)
        model = paddle.nn.Sequential(layer, layer)
        named = list(model.named_sublayers(remove_duplicate=remove_duplicate))
        assert len(named) == expected and all(sub is layer for _, sub in named)


def test_named_parameters():
    """test_imperative_named_members.py TestImperativeNamedParameters.test_named_parameters."""
    with base.dygraph.guard():
        model = paddle.nn.Sequential(paddle.nn.Linear(10, 3), paddle.nn.Linear(3, 10, bias_attr=False),
                                     MyLayer(3, 10))
        expected = []
        for prefix, layer in model.named_sublayers():
            for name, param in layer.named_parameters(include_sublayers=False):
                expected.append((prefix + ("." if prefix else "") + name, param))
        assert expected == list(model.named_parameters())


def test_dir_layer():
    """test_imperative_named_members.py TestImperativeNamedParameters.test_dir_layer."""
    with base.dygraph.guard():

        class Mymodel(paddle.nn.Layer):
            def __init__(self):
                super().__init__()
                self.linear1 = paddle.nn.Linear(10, 10)
                self.linear2 = paddle.nn.Linear(5, 5)
                self.conv2d = paddle.nn.Conv2D(3, 2, 3)
                self.embedding = paddle.nn.Embedding(128, 16)
                self.h_0 = paddle.to_tensor(np.zeros([10, 10]).astype("float32"))
                self.weight = self.create_parameter(shape=[2, 3], attr=base.ParamAttr(), dtype="float32",
                                                    is_bias=False)

        members = dir(Mymodel())
        for name in ("linear1", "linear2", "conv2d", "embedding", "h_0", "weight"):
            assert name in members


@pytest.mark.parametrize("remove_duplicate, expected", [(False, 4), (True, 3)],
                         ids=["test_not_remove_duplicate", "test_remove_duplicate"])
def test_named_parameters_duplicated(remove_duplicate, expected):
    """test_imperative_named_members.py TestImperativeNamedParametersDuplicated."""
    with base.dygraph.guard():
        model = MyLayerDuplicatedParameters()
        assert len(list(model.named_parameters(remove_duplicate=remove_duplicate))) == expected


@pytest.mark.parametrize("remove_duplicate, expected", [(False, 2), (True, 1)],
                         ids=["test_not_remove_duplicate", "test_remove_duplicate"])
def test_named_buffers_duplicated(remove_duplicate, expected):
    """test_imperative_named_members.py TestImperativeNamedBuffersDuplicated."""
    with base.dygraph.guard():
        model = MyLayerDuplicatedBuffers()
        assert len(list(model.named_buffers(remove_duplicate=remove_duplicate))) == expected


# ---------------------------------------------------------------- test_imperative_hook_for_layer.py
class SimpleNet(paddle.nn.Layer):
    def __init__(self, hidden_size, vocab_size, num_steps=20, init_scale=0.1, is_sparse=False, dtype="float32"):
        super().__init__()
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        self.init_scale = init_scale
        self.num_steps = num_steps
        paddle.set_default_dtype(dtype)
        self.embedding = paddle.nn.Embedding(
            vocab_size, hidden_size, sparse=is_sparse,
            weight_attr=base.ParamAttr(name="embedding_para",
                                       initializer=paddle.nn.initializer.Uniform(low=-init_scale, high=init_scale)))
        self.softmax_bias = self.create_parameter(
            attr=base.ParamAttr(), shape=[self.vocab_size], dtype=dtype,
            default_initializer=paddle.nn.initializer.Uniform(low=-self.init_scale, high=self.init_scale))

    def forward(self, input, label):
        x_emb = self.embedding(input)
        projection = paddle.matmul(x_emb, paddle.transpose(self.embedding.weight, perm=[1, 0]))
        projection = paddle.add(projection, self.softmax_bias)
        projection = paddle.reshape(projection, shape=[-1, self.vocab_size])
        loss = paddle.nn.functional.softmax_with_cross_entropy(logits=projection, label=label, soft_label=False)
        loss = paddle.reshape(loss, shape=[-1, self.num_steps])
        loss = paddle.mean(loss, axis=[0])
        return paddle.sum(loss)


def _hook_inputs():
    words = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8]).reshape(6, 3).astype("int64")
    labels = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]).reshape(6, 3).astype("int64")
    return words, labels.reshape((-1, 1))


def test_forward_hook_return_value():
    """test_imperative_hook_for_layer.py Test_Forward_Hook.test_forward_hook_return_value (CPU)."""

    def forward_post_hook1(layer, input, output):
        return output * 2

    def forward_pre_hook1(layer, input):
        return (input[0] * 2, input[1])

    with base.dygraph.guard(paddle.CPUPlace()):
        paddle.seed(90)
        base.set_flags({"FLAGS_sort_sum_gradient": True})
        words, labels = _hook_inputs()
        input = paddle.to_tensor(words.reshape((-1, 3, 1)))
        input1 = paddle.to_tensor((words * 2).reshape((-1, 3, 1)))
        y = paddle.to_tensor(labels)
        simplenet = SimpleNet(hidden_size=20, vocab_size=32, num_steps=3, init_scale=0.1, is_sparse=False,
                              dtype="float32")
        outs_origin = simplenet(input, y)
        outs_origin1 = simplenet(input1, y)
        handle = simplenet.register_forward_pre_hook(forward_pre_hook1)
        np.testing.assert_array_equal(simplenet(input, y).numpy(), outs_origin1.numpy())
        handle.remove()
        np.testing.assert_array_equal(simplenet(input, y).numpy(), outs_origin.numpy())
        handle = simplenet.register_forward_post_hook(forward_post_hook1)
        np.testing.assert_array_equal(simplenet(input, y).numpy(), outs_origin.numpy() * 2)
        handle.remove()
        np.testing.assert_array_equal(simplenet(input, y).numpy(), outs_origin.numpy())


def test_forward_hook():
    """test_imperative_hook_for_layer.py Test_Forward_Hook.test_forward_hook (CPU)."""
    called = {"post": False, "pre": False}

    def forward_post_hook(layer, input, output):
        called["post"] = True

    def forward_pre_hook(layer, input):
        called["pre"] = True

    with base.dygraph.guard(paddle.CPUPlace()):
        paddle.seed(90)
        base.set_flags({"FLAGS_sort_sum_gradient": True})
        words, labels = _hook_inputs()
        input, y = paddle.to_tensor(words.reshape((-1, 3, 1))), paddle.to_tensor(labels)
        simplenet = SimpleNet(hidden_size=20, vocab_size=32, num_steps=3, init_scale=0.1, is_sparse=False,
                              dtype="float32")
        simplenet(input, y)
        assert called == {"post": False, "pre": False}
        post_handle = simplenet.register_forward_post_hook(forward_post_hook)
        pre_handle = simplenet.register_forward_pre_hook(forward_pre_hook)
        simplenet(input, y)
        assert called == {"post": True, "pre": True}
        simplenet(input, y)
        assert called == {"post": True, "pre": True}
        post_handle.remove()
        called.update(post=False, pre=False)
        simplenet(input, y)
        assert called == {"post": False, "pre": True}
        pre_handle.remove()
        called.update(post=False, pre=False)
        simplenet(input, y)
        assert called == {"post": False, "pre": False}


class FailsNetInForward(paddle.nn.Layer):
    def __init__(self):
        super().__init__()

    def forward(self, x, fail: bool = True):
        if fail:
            raise RuntimeError("failing in forward")
        return x


def test_always_called_forward_hooks():
    """test_imperative_hook_for_layer.py Test_Forward_Hook.test_always_called_forward_hooks."""
    x = paddle.ones((10, 10))
    stack = []
    ctx = {}

    class DummyContextManager:
        def __init__(self, inp):
            self.input = inp

        def __enter__(self, *args, **kwargs):
            self.input.append(2)

        def __exit__(self, *args, **kwargs):
            self.input.append(-1)

    def ctx_setup_hook(m, i):
        ctx["cm"] = DummyContextManager(stack)
        ctx["cm"].__enter__()

    def ctx_setup_failure_hook(m, i):
        ctx["cm"] = DummyContextManager(stack)
        ctx["cm"].__enter__()
        raise RuntimeError("failing in ctx setup")

    def ctx_shutdown_hook(m, i, o):
        ctx["cm"].__exit__()

    def ctx_shutdown_failure_hook(m, i, o):
        ctx["cm"].__exit__()
        raise RuntimeError("failing in ctx shutdown")

    def throw_hook(m, i, o):
        raise RuntimeError("failing in throw")

    net = FailsNetInForward()
    pre_handle = net.register_forward_pre_hook(ctx_setup_hook)
    post_handle = net.register_forward_post_hook(ctx_shutdown_hook, always_call=True)
    assert len(net._forward_post_hooks_always_called) == 1
    with pytest.raises(RuntimeError, match="failing in forward"):
        net(x=x)
    assert stack == [2, -1]
    net(x, fail=False)
    assert stack == [2, -1, 2, -1]
    pre_handle.remove()
    net.register_forward_pre_hook(ctx_setup_failure_hook)
    with pytest.raises(RuntimeError, match="failing in ctx setup"):
        net(x, fail=False)
    assert stack == [2, -1, 2, -1, 2, -1]
    post_handle2 = net.register_forward_post_hook(throw_hook, prepend=True, always_call=True)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="failing in ctx setup"):
        net(x, fail=False)
    assert stack == [2, -1, 2, -1, 2, -1, 2, -1]
    post_handle.remove()
    post_handle2.remove()
    assert len(net._forward_post_hooks_always_called) == 0
    net.register_forward_post_hook(ctx_shutdown_failure_hook, always_call=True)
    with pytest.raises(RuntimeError, match="failing in ctx setup"):
        net(x, fail=False)
    assert stack == [2, -1, 2, -1, 2, -1, 2, -1, 2, -1]


def test_kwargs_hook():
    """test_imperative_hook_for_layer.py TestHookWithKWArgs.test_kwargs_hook."""

    class SimpleNetWithKWArgs(paddle.nn.Layer):
        def __init__(self):
            super().__init__()

        def forward(self, x, y):
            return x + y

    def forward_pre_hook_with_kwargs(layer, args, kwargs):
        kwargs["x"] = kwargs["x"] * 2
        return (args, kwargs)

    def forward_post_hook_with_kwargs(layer, inputs, kwargs, outputs):
        return outputs + kwargs["x"]

    x, y = paddle.randn((2, 3)), paddle.randn((2, 3))
    net = SimpleNetWithKWArgs()
    handle = net.register_forward_pre_hook(forward_pre_hook_with_kwargs, with_kwargs=True)
    np.testing.assert_allclose(net(x=x, y=y).numpy(), (x * 2 + y).numpy())
    handle.remove()
    np.testing.assert_allclose(net(x=x, y=y).numpy(), (x + y).numpy())
    net = SimpleNetWithKWArgs()
    net.register_forward_post_hook(forward_post_hook_with_kwargs, with_kwargs=True)
    net.register_forward_pre_hook(forward_pre_hook_with_kwargs, with_kwargs=True)
    np.testing.assert_allclose(net(x=x, y=y).numpy(), (x * 4 + y).numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ test_imperative_layer_apply.py
def test_apply_init_weight():
    """test_imperative_layer_apply.py TestLayerApply.test_apply_init_weight."""

    class LeNetDygraph(paddle.nn.Layer):
        def __init__(self, num_classes=10):
            super().__init__()
            self.num_classes = num_classes
            self.features = nn.Sequential(nn.Conv2D(1, 6, 3, stride=1, padding=1), nn.ReLU(),
                                          paddle.nn.MaxPool2D(2, 2), nn.Conv2D(6, 16, 5, stride=1, padding=0),
                                          nn.ReLU(), paddle.nn.MaxPool2D(2, 2))
            if num_classes > 0:
                self.fc = nn.Sequential(nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10), nn.Softmax())

        def forward(self, inputs):
            x = self.features(inputs)
            if self.num_classes > 0:
                x = self.fc(paddle.flatten(x, 1, -1))
            return x

    def init_weights(layer):
        if type(layer) == nn.Linear:
            layer.weight.set_value(paddle.tensor.fill_constant(layer.weight.shape, layer.weight.dtype, value=0.9))
            layer.bias.set_value(paddle.tensor.fill_constant(layer.bias.shape, layer.bias.dtype, value=-0.1))
        elif type(layer) == nn.Conv2D:
            layer.weight.set_value(paddle.tensor.fill_constant(layer.weight.shape, layer.weight.dtype, value=0.7))
            layer.bias.set_value(paddle.tensor.fill_constant(layer.bias.shape, layer.bias.dtype, value=-0.2))

    with base.dygraph.guard():
        net = LeNetDygraph()
        net.apply(init_weights)
        for layer in net.sublayers():
            if type(layer) == nn.Linear:
                np.testing.assert_allclose(layer.weight.numpy(), 0.9)
                np.testing.assert_allclose(layer.bias.numpy(), -0.1)
            elif type(layer) == nn.Conv2D:
                np.testing.assert_allclose(layer.weight.numpy(), 0.7)
                np.testing.assert_allclose(layer.bias.numpy(), -0.2)


# ---------------------------------------------------------------------------------- API docs
class DocLayer(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self._linear = paddle.nn.Linear(1, 1)
        self._dropout = paddle.nn.Dropout(p=0.5)

    def forward(self, input):
        return self._dropout(self._linear(input))


@pytest.mark.parametrize("doc", ["Layer", "Layer.train", "Layer.eval"])
def test_doc_train_eval(doc):
    """python/paddle/nn/layer/layers.py Layer / Layer.train / Layer.eval docstrings."""
    paddle.seed(100)
    x = paddle.randn([10, 1], "float32")
    mylayer = DocLayer()
    mylayer.eval()
    out_eval = mylayer(x)
    np.testing.assert_allclose(out_eval.numpy(), mylayer._linear(x).numpy())
    assert not mylayer.training and not mylayer._dropout.training
    if doc != "Layer.eval":
        mylayer.train()
        out = mylayer(x)
        assert mylayer._dropout.training
        kept = out.numpy() != 0
        np.testing.assert_allclose(out.numpy()[kept], 2 * out_eval.numpy()[kept], rtol=1e-6)


def test_doc_apply():
    """python/paddle/nn/layer/layers.py Layer.apply docstring."""
    paddle.seed(2023)
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))

    def init_weights(layer):
        if type(layer) == nn.Linear:
            layer.weight.set_value(paddle.full(shape=layer.weight.shape, dtype=layer.weight.dtype, fill_value=0.9))

    net.apply(init_weights)
    state = net.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    np.testing.assert_allclose(state["0.weight"].numpy(), 0.9)
    np.testing.assert_allclose(state["1.weight"].numpy(), 0.9)


def test_doc_full_name():
    """python/paddle/nn/layer/layers.py Layer.full_name docstring (prints demo_linear_net_0)."""

    class LinearNet(paddle.nn.Layer):
        def __init__(self):
            super().__init__(name_scope="demo_linear_net")
            self._linear = paddle.nn.Linear(1, 1)

        def forward(self, x):
            return self._linear(x)

    first, second = LinearNet(), LinearNet()
    prefix, number = first.full_name().rsplit("_", 1)
    assert prefix == "demo_linear_net" and second.full_name() == f"demo_linear_net_{int(number) + 1}"


@pytest.mark.parametrize("register", ["register_forward_post_hook", "register_forward_hook"])
def test_doc_forward_post_hook(register):
    """python/paddle/nn/layer/layers.py Layer.register_forward_post_hook and .register_forward_hook docstrings."""

    def forward_post_hook(layer, input, output):
        return output * 2

    linear = paddle.nn.Linear(13, 5)
    handle = getattr(linear, register)(forward_post_hook)
    in1 = paddle.to_tensor(np.arange(26).reshape(2, 13).astype("float32"))
    out0 = linear(in1)
    handle.remove()
    out1 = linear(in1)
    assert (out0.numpy() == (out1.numpy()) * 2).any()
    np.testing.assert_allclose(out0.numpy(), out1.numpy() * 2)


def test_doc_forward_pre_hook():
    """python/paddle/nn/layer/layers.py Layer.register_forward_pre_hook docstring."""

    def forward_pre_hook(layer, input):
        return input[0] * 2

    linear = paddle.nn.Linear(13, 5)
    handle = linear.register_forward_pre_hook(forward_pre_hook)
    value0 = np.arange(26).reshape(2, 13).astype("float32")
    out0 = linear(paddle.to_tensor(value0))
    handle.remove()
    out1 = linear(paddle.to_tensor(value0 * 2))
    assert (out0.numpy() == out1.numpy()).any()
    np.testing.assert_allclose(out0.numpy(), out1.numpy())


@pytest.mark.parametrize("doc", ["create_parameter", "add_parameter"])
def test_doc_create_and_add_parameter(doc):
    """python/paddle/nn/layer/layers.py Layer.create_parameter / Layer.add_parameter docstrings
    (print w_tmp, _linear.weight, _linear.bias)."""
    paddle.seed(2023 if doc == "create_parameter" else 100)

    class MyLayer(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self._linear = paddle.nn.Linear(1, 1)
            w_tmp = self.create_parameter([1, 1])
            self.add_parameter("w_tmp", w_tmp)

        def forward(self, input):
            return self._linear(input)

    assert [name for name, _ in MyLayer().named_parameters()] == ["w_tmp", "_linear.weight", "_linear.bias"]


def test_doc_parameters():
    """python/paddle/nn/layer/layers.py Layer.parameters docstring."""
    paddle.seed(100)
    linear = paddle.nn.Linear(1, 1)
    params = linear.parameters()
    assert [p.shape for p in params] == [[1, 1], [1]] and params[0] is linear.weight


def test_doc_children_and_named_children():
    """python/paddle/nn/layer/layers.py Layer.children and Layer.named_children docstrings."""
    linear1 = paddle.nn.Linear(10, 3)
    linear2 = paddle.nn.Linear(3, 10, bias_attr=False)
    model = paddle.nn.Sequential(linear1, linear2)
    assert list(model.children()) == [linear1, linear2]
    assert [(prefix, layer) for prefix, layer in model.named_children()] == [("0", linear1), ("1", linear2)]


def test_doc_sublayers():
    """python/paddle/nn/layer/layers.py Layer.sublayers docstring."""
    mylayer = DocLayer()
    assert mylayer.sublayers() == [mylayer._linear, mylayer._dropout]


def test_doc_named_parameters():
    """python/paddle/nn/layer/layers.py Layer.named_parameters docstring."""
    paddle.seed(100)
    model = paddle.nn.Sequential(paddle.nn.Linear(10, 3), paddle.nn.Linear(3, 10, bias_attr=False))
    assert [(name, p.shape) for name, p in model.named_parameters()] == [
        ("0.weight", [10, 3]), ("0.bias", [3]), ("1.weight", [3, 10])]


def test_doc_named_sublayers():
    """python/paddle/nn/layer/layers.py Layer.named_sublayers docstring (three loops)."""
    fc1, fc2 = paddle.nn.Linear(10, 3), paddle.nn.Linear(3, 10, bias_attr=False)
    model = paddle.nn.Sequential(fc1, fc2)
    assert list(model.named_sublayers()) == [("0", fc1), ("1", fc2)]
    layer = paddle.nn.Linear(10, 3)
    model = paddle.nn.Sequential(layer, layer)
    assert list(model.named_sublayers(include_self=True, remove_duplicate=True)) == [("", model), ("0", layer)]
    assert list(model.named_sublayers(include_self=True, remove_duplicate=False)) == [
        ("", model), ("0", layer), ("1", layer)]


def test_doc_register_buffer_and_buffers():
    """python/paddle/nn/layer/layers.py Layer.register_buffer and Layer.buffers docstrings."""
    linear = paddle.nn.Linear(10, 3)
    buffer = paddle.to_tensor(np.array([0]).astype("float32"))
    linear.register_buffer("buf_name", buffer, persistable=True)
    assert linear.buf_name is buffer
    assert linear.buffers() == [buffer]
    assert "buf_name" in linear.state_dict()


def test_doc_named_buffers():
    """python/paddle/nn/layer/layers.py Layer.named_buffers docstring."""
    fc1 = paddle.nn.Linear(10, 3)
    buffer1 = paddle.to_tensor(np.array([0]).astype("float32"))
    fc1.register_buffer("buf_name_1", buffer1, persistable=True)
    fc2 = paddle.nn.Linear(3, 10)
    buffer2 = paddle.to_tensor(np.array([1]).astype("float32"))
    fc2.buf_name_2 = buffer2
    model = paddle.nn.Sequential(fc1, fc2)
    assert [(name, b) for name, b in model.named_buffers()] == [("0.buf_name_1", buffer1), ("1.buf_name_2", buffer2)]
    assert "1.buf_name_2" not in model.state_dict() and "0.buf_name_1" in model.state_dict()


def test_doc_clear_gradients():
    """python/paddle/nn/layer/layers.py Layer.clear_gradients docstring."""
    a = paddle.to_tensor(np.arange(26).reshape(2, 13).astype("float32"))
    linear = paddle.nn.Linear(13, 5)
    adam = paddle.optimizer.Adam(learning_rate=0.01, parameters=linear.parameters())
    out = linear(a)
    out.backward()
    adam.step()
    linear.clear_gradients()
    assert all(not p.grad.numpy().any() for p in linear.parameters())


def test_doc_add_sublayer():
    """python/paddle/nn/layer/layers.py Layer.add_sublayer docstring (MySequential)."""

    class MySequential(paddle.nn.Layer):
        def __init__(self, *layers):
            super().__init__()
            if len(layers) > 0 and isinstance(layers[0], tuple):
                for name, layer in layers:
                    self.add_sublayer(name, layer)
            else:
                for idx, layer in enumerate(layers):
                    self.add_sublayer(str(idx), layer)

        def forward(self, input):
            for layer in self._sub_layers.values():
                input = layer(input)
            return input

    fc1, fc2 = paddle.nn.Linear(10, 3), paddle.nn.Linear(3, 10, bias_attr=False)
    model = MySequential(fc1, fc2)
    assert list(model.named_sublayers()) == [("0", fc1), ("1", fc2)]
    assert model(paddle.ones([2, 10])).shape == [2, 10]


@pytest.mark.parametrize("doc", ["state_dict", "to_static_state_dict"])
def test_doc_state_dict(doc, tmp_path):
    """python/paddle/nn/layer/layers.py Layer.state_dict / Layer.to_static_state_dict docstrings."""
    emb = paddle.nn.Embedding(10, 10)
    state_dict = getattr(emb, doc)()
    assert list(state_dict) == ["weight"]
    paddle.save(state_dict, str(tmp_path / "paddle_dy.pdparams"))


@pytest.mark.parametrize("method", ["set_state_dict", "set_dict", "load_dict"])
def test_doc_set_state_dict(method, tmp_path):
    """python/paddle/nn/layer/layers.py Layer.set_state_dict / set_dict / load_dict docstrings."""
    emb = paddle.nn.Embedding(10, 10)
    path = str(tmp_path / "paddle_dy.pdparams")
    paddle.save(emb.state_dict(), path)
    saved = emb.weight.numpy().copy()
    emb.weight.set_value(np.zeros([10, 10], "float32"))
    getattr(emb, method)(paddle.load(path))
    np.testing.assert_array_equal(emb.weight.numpy(), saved)


def test_doc_to():
    """python/paddle/nn/layer/layers.py Layer.to docstring (the CUDAPinnedPlace line cut: GPU only)."""
    paddle.seed(2023)
    linear = paddle.nn.Linear(2, 2)
    assert linear.weight.dtype == paddle.float32
    linear.to(dtype="float64")
    assert linear.weight.dtype == paddle.float64
    linear.to(device="cpu")
    assert linear.weight.dtype == paddle.float64 and linear.weight.place.is_cpu_place()
