"""nn layer cases: containers, Embedding, one_hot, activations, LayerNorm, Identity, losses.

Sources (PaddlePaddle, test/legacy_test/):
  test_imperative_container_sequential.py: test_sequential, test_append_insert_extend,
    test_sequential_list_params.
  test_imperative_container_layerlist.py: TestImperativeContainer.test_test_layer_list.
  test_imperative_layer_children.py: TestLayerChildren.test_func_apply_init_weight (needs nn.Conv2D).
  test_mse_loss.py: TestNNMseLoss / TestNNFunctionalMseLoss (mean, sum, none; dygraph halves),
    TestNNFunctionalMseLoss_ZeroSize, TestMseInvalidInput (its dygraph check).
  test_nn_functional_embedding_dygraph.py: EmbeddingDygraph.test_1, test_2, test_4_renorm.
  test_nn_functional_hot_op.py: TestOneHotOpApi.test_api_with_dygraph.
  test_gelu_op.py: TestGeluOp.test_cases, TestGeluOp_ZeroSize.test_cases (the CUDA halves cut).
  test_activation_op.py: TestSoftplusAPI / TestLeakyReluAPI / TestSiluAPI .test_dygraph_api
    (CPUPlace; the static-graph test_static_api / test_errors cut).
Docs (python/paddle/nn/, 3.3.1): Sequential, LayerList (and .append / .insert / .extend), Linear,
  Embedding, functional.embedding, LayerNorm, functional.layer_norm, GELU, Softplus, LeakyReLU,
  functional.leaky_relu, Silu, functional.silu, Identity, ReLU, Tanh, Sigmoid, Softmax, LogSoftmax,
  Flatten, Dropout, CrossEntropyLoss (both), functional.cross_entropy (both), MSELoss,
  functional.mse_loss, functional.one_hot, functional.relu. The values each example prints are
  asserted (against the numbers printed in the docstring where they do not depend on a random
  generator, else against a numpy computation of the same thing).
"""

import numpy as np
import pytest
from scipy.special import erf

import lasandbox as paddle
import lasandbox.nn.functional as F
from lasandbox import base, nn
from lasandbox.base import dygraph as dg
from lasandbox.nn import Linear


# ------------------------------------------------------------ test_imperative_container_sequential.py
@pytest.mark.parametrize("pairs", ["tuples", "lists"], ids=["test_sequential", "test_sequential_list_params"])
def test_sequential(pairs):
    """test_imperative_container_sequential.py test_sequential / test_sequential_list_params."""
    data = np.random.uniform(-1, 1, [5, 10]).astype("float32")
    with base.dygraph.guard():
        data = paddle.to_tensor(data)
        model1 = paddle.nn.Sequential(Linear(10, 1), Linear(1, 2))
        assert model1(data).shape == [5, 2]
        model1[1] = Linear(1, 3)
        res1 = model1(data)
        assert res1.shape == [5, 3]
        paddle.mean(res1).backward()
        l1, l2 = Linear(10, 1), Linear(1, 3)
        model2 = (paddle.nn.Sequential(("l1", l1), ("l2", l2)) if pairs == "tuples"
                  else paddle.nn.Sequential(["l1", l1], ["l2", l2]))
        assert len(model2) == 2
        res2 = model2(data)
        assert l1 is model2.l1
        assert res2.shape == res1.shape
        assert len(model1.parameters()) == len(model2.parameters())
        del model2["l2"]
        assert len(model2) == 1
        assert model2(data).shape == [5, 1]
        model2.add_sublayer("l3", Linear(1, 3))
        model2.add_sublayer("l4", Linear(3, 4))
        assert len(model2) == 3
        res2 = model2(data)
        assert res2.shape == [5, 4]
        paddle.mean(res2).backward()


def test_append_insert_extend():
    """test_imperative_container_sequential.py test_append_insert_extend."""
    data = np.random.uniform(-1, 1, [5, 10]).astype("float32")
    with base.dygraph.guard():
        data = paddle.to_tensor(data)
        model1 = paddle.nn.Sequential()
        model1.append(Linear(10, 1))
        model1.append(Linear(1, 2))
        assert model1(data).shape == [5, 2]
        model1.insert(0, Linear(10, 10))
        model1(data)
        model2 = paddle.nn.Sequential()
        with pytest.raises(AssertionError):
            model2.insert(0, 1)
        model2 = paddle.nn.Sequential()
        with pytest.raises(IndexError):
            model2.insert(1, Linear(10, 10))
        model2 = paddle.nn.Sequential()
        model2.insert(0, Linear(10, 10))
        assert len(model2) == 1
        model1.extend([Linear(2, 3), Linear(3, 4)])
        res1 = model1(data)
        assert res1.shape == [5, 4]
        paddle.mean(res1).backward()
        model3 = paddle.nn.Sequential(Linear(10, 1), Linear(1, 2))
        output1 = model3(data)
        output2 = data
        for layer in model3:
            output2 = layer(output2)
        assert paddle.allclose(output1, output2).item()


# ------------------------------------------------------------ test_nn_functional_embedding_dygraph.py
def test_embedding_sparse_with_padding():
    """test_nn_functional_embedding_dygraph.py EmbeddingDygraph.test_1."""
    x_data = np.arange(3, 6).reshape((3, 1)).astype(np.int64)
    paddle.disable_static(paddle.CPUPlace())
    x = paddle.to_tensor(x_data, stop_gradient=False)
    embedding = paddle.nn.Embedding(10, 3, sparse=True, padding_idx=9)
    embedding.weight.set_value(np.full(shape=(10, 3), fill_value=2).astype(np.float32))
    adam = paddle.optimizer.Adam(parameters=[embedding.weight], learning_rate=0.01)
    adam.clear_grad()
    out = embedding(x)
    out.backward()
    adam.step()


def test_embedding_bad_arguments():
    """test_nn_functional_embedding_dygraph.py EmbeddingDygraph.test_2."""
    paddle.disable_static(paddle.CPUPlace())
    with pytest.raises(ValueError):
        paddle.nn.Embedding(10, 3, padding_idx=11, sparse=True)
    with pytest.raises(ValueError):
        paddle.nn.Embedding(-1, 3, sparse=True)
    with pytest.raises(ValueError):
        paddle.nn.Embedding(10, -3, sparse=True)


def test_embedding_max_norm():
    """test_nn_functional_embedding_dygraph.py EmbeddingDygraph.test_4_renorm."""
    x = paddle.to_tensor(np.arange(3, 6).reshape((3, 1)).astype(np.int64), stop_gradient=False)
    embedding = paddle.nn.Embedding(10, 3, sparse=True, padding_idx=9, max_norm=0.5, norm_type=3.0)
    embedding.weight.set_value(np.full(shape=(10, 3), fill_value=2).astype(np.float32))
    adam = paddle.optimizer.Adam(parameters=[embedding.weight], learning_rate=0.01)
    adam.clear_grad()
    out = embedding(x)
    out.backward()
    adam.step()


def test_one_hot_dygraph():
    """test_nn_functional_hot_op.py TestOneHotOpApi.test_api_with_dygraph."""
    num_classes = 10
    label = np.array([np.random.randint(0, num_classes - 1) for _ in range(6)]).reshape([6, 1])
    with base.dygraph.guard():
        one_hot_label = F.one_hot(x=paddle.to_tensor(label), num_classes=num_classes)
    assert one_hot_label.shape == [6, 1, 10]
    np.testing.assert_array_equal(one_hot_label.numpy().argmax(-1), label)


# ------------------------------------------------------------------------------ test_gelu_op.py
def gelu_ref(x, approximate):
    if approximate == "tanh":
        approximate = True
    if approximate == "none":
        approximate = False
    if approximate:
        y = 0.5 * x * (1.0 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * np.power(x, 3))))
    else:
        y = 0.5 * x * (1 + erf(x / np.sqrt(2)))
    return y.astype(x.dtype)


@pytest.mark.parametrize("approximate", [True, False, "none", "tanh"])
def test_gelu_cases(approximate):
    """test_gelu_op.py TestGeluOp._test_case1_cpu, through test_cases."""
    x = np.random.uniform(-1, 1, size=(11, 17)).astype(np.float32)
    y_ref = gelu_ref(x, approximate)
    with dg.guard(base.CPUPlace()):
        x_var = paddle.to_tensor(x)
        y_test1 = F.gelu(x_var, approximate).numpy()
        y_test2 = nn.GELU(approximate)(x_var).numpy()
    np.testing.assert_allclose(y_ref, y_test1, rtol=1e-05, atol=1e-08)
    np.testing.assert_allclose(y_ref, y_test2, rtol=1e-05, atol=1e-08)


@pytest.mark.parametrize("approximate", [True, False, "none", "tanh"])
def test_gelu_zero_size(approximate):
    """test_gelu_op.py TestGeluOp_ZeroSize._test_case1_cpu, through test_cases."""
    x = np.random.uniform(-1, 1, size=(0, 17)).astype(np.float32)
    y_ref = gelu_ref(x, approximate)
    with dg.guard(base.CPUPlace()):
        x_var1, x_var2 = paddle.to_tensor(x), paddle.to_tensor(x)
        x_var1.stop_gradient = False
        x_var2.stop_gradient = False
        y_var1 = F.gelu(x_var1, approximate)
        y_var2 = nn.GELU(approximate)(x_var2)
        paddle.sum(y_var1).backward()
        paddle.sum(y_var2).backward()
    np.testing.assert_allclose(y_ref, y_var1.numpy(), rtol=1e-05, atol=1e-08)
    np.testing.assert_allclose(x_var1.grad.shape, x_var1.shape)
    np.testing.assert_allclose(y_ref, y_var2.numpy(), rtol=1e-05, atol=1e-08)
    np.testing.assert_allclose(x_var2.grad.shape, x_var2.shape)


# ------------------------------------------------------------------------ test_activation_op.py
def ref_softplus(x, beta=1, threshold=20):
    x_beta = beta * x
    return np.select([x_beta <= threshold, x_beta > threshold], [np.log(1 + np.exp(x_beta)) / beta, x])


def ref_leaky_relu(x, alpha=0.01):
    out = np.copy(x)
    out[out < 0] *= alpha
    return out


def ref_silu(x):
    return x / (1 + np.exp(-x))


def test_softplus_dygraph_api():
    """test_activation_op.py TestSoftplusAPI.test_dygraph_api."""
    np.random.seed(1024)
    x_np = np.random.uniform(-1, 1, [10, 12]).astype(np.float64)
    paddle.disable_static(paddle.CPUPlace())
    x = paddle.to_tensor(x_np)
    out1 = F.softplus(x, 2, 15)
    out2 = paddle.nn.Softplus(2, 15)(x)
    out_ref = ref_softplus(x_np, 2, 15)
    for r in [out1, out2]:
        np.testing.assert_allclose(out_ref, r.numpy(), rtol=1e-05)


def test_leaky_relu_dygraph_api():
    """test_activation_op.py TestLeakyReluAPI.test_dygraph_api."""
    x_np = np.random.uniform(-1, 1, [10, 12]).astype("float32")
    paddle.disable_static(paddle.CPUPlace())
    x = paddle.to_tensor(x_np)
    out1 = F.leaky_relu(x)
    out2 = paddle.nn.LeakyReLU()(x)
    out_ref = ref_leaky_relu(x_np)
    for r in [out1, out2]:
        np.testing.assert_allclose(out_ref, r.numpy(), rtol=1e-05)
    out1 = F.leaky_relu(x, 0.6)
    out2 = paddle.nn.LeakyReLU(0.6)(x)
    out_ref = ref_leaky_relu(x_np, 0.6)
    for r in [out1, out2]:
        np.testing.assert_allclose(out_ref, r.numpy(), rtol=1e-05)


def test_silu_dygraph_api():
    """test_activation_op.py TestSiluAPI.test_dygraph_api."""
    x_np = np.random.uniform(-1, 1, [11, 17]).astype("float32")
    paddle.disable_static(paddle.CPUPlace())
    x = paddle.to_tensor(x_np)
    out1 = F.silu(x)
    out2 = paddle.nn.Silu()(x)
    out_ref = ref_silu(x_np)
    for r in [out1, out2]:
        np.testing.assert_allclose(out_ref, r.numpy(), rtol=1e-05)


# ---------------------------------------------------------------------------------- API docs
def test_doc_sequential():
    """python/paddle/nn/layer/container.py Sequential docstring."""
    data = paddle.uniform(shape=[30, 10], dtype="float32")
    model1 = paddle.nn.Sequential(paddle.nn.Linear(10, 1), paddle.nn.Linear(1, 2))
    assert isinstance(model1[0], paddle.nn.Linear)
    assert model1(data).shape == [30, 2]
    model2 = paddle.nn.Sequential(("l1", paddle.nn.Linear(10, 2)), ("l2", paddle.nn.Linear(2, 3)))
    assert model2["l1"].weight.shape == [10, 2]
    model2.add_sublayer("l3", paddle.nn.Linear(3, 3))
    assert model2(data).shape == [30, 3]
    model2 = paddle.nn.Sequential(paddle.nn.Linear(10, 20))
    model2.append(paddle.nn.Linear(20, 30))
    assert model2(data).shape == [30, 30]
    model2 = paddle.nn.Sequential(paddle.nn.Linear(20, 30))
    model2.insert(0, paddle.nn.Linear(10, 20))
    assert model2(data).shape == [30, 30]
    model2 = paddle.nn.Sequential()
    model2.extend([paddle.nn.Linear(10, 20), paddle.nn.Linear(20, 30)])
    assert model2(data).shape == [30, 30]


def test_doc_layer_list():
    """python/paddle/nn/layer/container.py LayerList docstring (MyLayer) and .append / .insert / .extend."""

    class MyLayer(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.linears = paddle.nn.LayerList([paddle.nn.Linear(10, 10) for _ in range(10)])

        def forward(self, x):
            for i, layer in enumerate(self.linears):
                x = self.linears[i // 2](x) + layer(x)
            return x

    net = MyLayer()
    assert net(paddle.ones([2, 10])).shape == [2, 10] and len(net.parameters()) == 20
    linears = paddle.nn.LayerList([paddle.nn.Linear(10, 10) for _ in range(10)])
    linears.append(paddle.nn.Linear(10, 10))
    assert len(linears) == 11
    linears = paddle.nn.LayerList([paddle.nn.Linear(10, 10) for _ in range(10)])
    another = paddle.nn.Linear(10, 10)
    linears.insert(3, another)
    assert linears[3] is another
    another = paddle.nn.Linear(10, 10)
    linears.insert(-1, another)
    assert linears[-2] is another
    linears = paddle.nn.LayerList([paddle.nn.Linear(10, 10) for _ in range(10)])
    another_list = paddle.nn.LayerList([paddle.nn.Linear(10, 10) for _ in range(5)])
    linears.extend(another_list)
    assert len(linears) == 15 and another_list[0] is linears[10]


def test_doc_linear():
    """python/paddle/nn/layer/common.py Linear docstring: constant 0.5 weight, 1.0 bias."""
    paddle.seed(100)
    weight_attr = paddle.ParamAttr(name="weight", initializer=paddle.nn.initializer.Constant(value=0.5))
    bias_attr = paddle.ParamAttr(name="bias", initializer=paddle.nn.initializer.Constant(value=1.0))
    linear = paddle.nn.Linear(2, 4, weight_attr=weight_attr, bias_attr=bias_attr)
    np.testing.assert_array_equal(linear.weight.numpy(), np.full([2, 4], 0.5, "float32"))
    np.testing.assert_array_equal(linear.bias.numpy(), np.ones([4], "float32"))
    assert linear.weight.name == "weight" and linear.bias.name == "bias"
    x = paddle.randn((3, 2), dtype="float32")
    y = linear(x)
    np.testing.assert_allclose(y.numpy(), 0.5 * x.numpy().sum(1, keepdims=True) + np.ones([3, 4]), rtol=1e-6)


def test_doc_embedding():
    """python/paddle/nn/layer/common.py Embedding docstring (prints rows 0, 1, 3 of w0)."""
    x = paddle.to_tensor([[0], [1], [3]], dtype="int64", stop_gradient=False)
    embedding = paddle.nn.Embedding(4, 3, sparse=True)
    w0 = paddle.to_tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [3.0, 3.0, 3.0]], dtype="float32")
    embedding.weight.set_value(w0)
    adam = paddle.optimizer.Adam(parameters=[embedding.weight], learning_rate=0.01)
    adam.clear_grad()
    out = embedding(x)
    np.testing.assert_array_equal(out.numpy(), np.array([[[0.0] * 3], [[1.0] * 3], [[3.0] * 3]], "float32"))
    out.backward()
    adam.step()
    assert (embedding.weight.numpy()[[0, 1, 3]] < w0.numpy()[[0, 1, 3]]).all()
    np.testing.assert_array_equal(embedding.weight.numpy()[2], w0.numpy()[2])


def test_doc_functional_embedding():
    """python/paddle/nn/functional/input.py embedding docstring (prints a [3, 1, 3] block of 2s)."""
    x0 = paddle.arange(3, 6).reshape((3, 1)).astype(paddle.int64)
    w0 = paddle.full(shape=(10, 3), fill_value=2).astype(paddle.float32)
    x = paddle.to_tensor(x0, stop_gradient=False)
    assert x.shape == [3, 1]
    w = paddle.to_tensor(w0, stop_gradient=False)
    assert w.shape == [10, 3]
    emb = nn.functional.embedding(x=x, weight=w, sparse=True, name="embedding")
    assert emb.shape == [3, 1, 3]
    np.testing.assert_array_equal(emb.numpy(), np.full([3, 1, 3], 2.0, "float32"))


def _layer_norm_ref(x, axes):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5)


@pytest.mark.parametrize("doc", ["LayerNorm", "functional.layer_norm"])
def test_doc_layer_norm(doc):
    """python/paddle/nn/layer/norm.py LayerNorm and python/paddle/nn/functional/norm.py layer_norm docstrings."""
    paddle.seed(100 if doc == "LayerNorm" else 2023)
    x = paddle.rand((2, 2, 2, 3))
    if doc == "LayerNorm":
        out = paddle.nn.LayerNorm(x.shape[1:])(x)
    else:
        out = paddle.nn.functional.layer_norm(x, x.shape[1:])
    assert out.shape == [2, 2, 2, 3]
    np.testing.assert_allclose(out.numpy(), _layer_norm_ref(x.numpy().astype(np.float64), (1, 2, 3)),
                               rtol=1e-4, atol=1e-5)


def test_doc_gelu():
    """python/paddle/nn/layer/activation.py GELU docstring (printed values)."""
    x = paddle.to_tensor([[-1, 0.5], [1, 1.5]])
    exact = np.array([[-0.15865529, 0.34573123], [0.84134471, 1.39978933]])
    tanh = np.array([[-0.15880796, 0.34571400], [0.84119201, 1.39957154]])
    for args, expected in (((), exact), ((False,), exact), (("none",), exact), (("tanh",), tanh), ((True,), tanh)):
        np.testing.assert_allclose(paddle.nn.GELU(*args)(x).numpy(), expected, rtol=1e-6)


def test_doc_softplus():
    """python/paddle/nn/layer/activation.py Softplus docstring (printed values)."""
    x = paddle.to_tensor([-0.4, -0.2, 0.1, 0.3], dtype="float32")
    np.testing.assert_allclose(paddle.nn.Softplus()(x).numpy(), [0.51301527, 0.59813893, 0.74439669, 0.85435522],
                               rtol=1e-6)


@pytest.mark.parametrize("doc", ["LeakyReLU", "functional.leaky_relu"])
def test_doc_leaky_relu(doc):
    """python/paddle/nn LeakyReLU and functional.leaky_relu docstrings (print [-0.02, 0, 1])."""
    x = paddle.to_tensor([-2.0, 0, 1])
    out = paddle.nn.LeakyReLU()(x) if doc == "LeakyReLU" else F.leaky_relu(x)
    np.testing.assert_allclose(out.numpy(), [-0.02, 0.0, 1.0], rtol=1e-6)


@pytest.mark.parametrize("doc", ["Silu", "functional.silu"])
def test_doc_silu(doc):
    """python/paddle/nn Silu and functional.silu docstrings (the in-place form overwrites x)."""
    expected = [0.73105860, 1.76159406, 2.85772228, 3.92805505]
    x = paddle.to_tensor([1.0, 2.0, 3.0, 4.0])
    out = paddle.nn.Silu()(x) if doc == "Silu" else F.silu(x)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    out = paddle.nn.Silu(True)(x) if doc == "Silu" else F.silu(x, True)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6)


def test_doc_identity():
    """python/paddle/nn/layer/common.py Identity docstring."""
    paddle.seed(100)
    input_tensor = paddle.randn(shape=[3, 2])
    out = paddle.nn.Identity()(input_tensor)
    np.testing.assert_array_equal(out.numpy(), input_tensor.numpy())


@pytest.mark.parametrize("doc", ["ReLU", "functional.relu"])
def test_doc_relu(doc):
    """python/paddle/nn ReLU and functional.relu docstrings (print [0, 0, 1])."""
    x = paddle.to_tensor([-2.0, 0.0, 1.0]) if doc == "ReLU" else paddle.to_tensor([-2, 0, 1], dtype="float32")
    out = paddle.nn.ReLU()(x) if doc == "ReLU" else F.relu(x)
    np.testing.assert_array_equal(out.numpy(), [0.0, 0.0, 1.0])


def test_doc_tanh_and_sigmoid():
    """python/paddle/nn/layer/activation.py Tanh and Sigmoid docstrings (printed values)."""
    x = paddle.to_tensor([-0.4, -0.2, 0.1, 0.3])
    np.testing.assert_allclose(paddle.nn.Tanh()(x).numpy(), [-0.37994894, -0.19737533, 0.09966800, 0.29131261],
                               rtol=1e-6)
    x = paddle.to_tensor([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(paddle.nn.Sigmoid()(x).numpy(), [0.7310586, 0.880797, 0.95257413, 0.98201376],
                               rtol=1e-6)


def test_doc_softmax_and_log_softmax():
    """python/paddle/nn/layer/activation.py Softmax and LogSoftmax docstrings (first row of the printed output)."""
    x = paddle.to_tensor([[[2.0, 3.0, 4.0, 5.0], [3.0, 4.0, 5.0, 6.0], [7.0, 8.0, 8.0, 9.0]],
                          [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [6.0, 7.0, 8.0, 9.0]]], dtype="float32")
    out = paddle.nn.Softmax()(x)
    np.testing.assert_allclose(out.numpy()[0, 0], [0.0320586, 0.08714432, 0.23688282, 0.64391426], rtol=1e-6)
    np.testing.assert_allclose(out.numpy()[0, 2], [0.07232949, 0.19661193, 0.19661193, 0.53444665], rtol=1e-6)
    x = paddle.to_tensor([[[-2.0, 3.0, -4.0, 5.0], [3.0, -4.0, 5.0, -6.0], [-7.0, -8.0, 8.0, 9.0]],
                          [[1.0, -2.0, -3.0, 4.0], [-5.0, 6.0, 7.0, -8.0], [6.0, 7.0, 8.0, 9.0]]])
    out = paddle.nn.LogSoftmax()(x)
    np.testing.assert_allclose(out.numpy()[0, 0], [-7.1278392, -2.1278392, -9.1278392, -0.12783923], rtol=1e-5)


def test_doc_flatten():
    """python/paddle/nn/layer/common.py Flatten docstring (prints [5, 6, 4])."""
    inp = paddle.ones([5, 2, 3, 4]).astype("float32")
    assert paddle.nn.Flatten(start_axis=1, stop_axis=2)(inp).shape == [5, 6, 4]


def test_doc_dropout():
    """python/paddle/nn/layer/common.py Dropout docstring: kept values doubled in training, identity in eval."""
    paddle.seed(2023)
    x = paddle.to_tensor([[1, 2, 3], [4, 5, 6]], dtype="float32")
    m = paddle.nn.Dropout(p=0.5)
    y_train = m(x).numpy()
    assert set(np.unique(y_train / x.numpy())) <= {0.0, 2.0}
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), x.numpy())


def _softmax_ce(logits, target):
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return -(target * logp).sum(-1)


@pytest.mark.parametrize("doc, seed", [("CrossEntropyLoss", 2023), ("functional.cross_entropy", 99999)])
def test_doc_cross_entropy_hard_labels(doc, seed):
    """python/paddle/nn CrossEntropyLoss docstring [0] and functional.cross_entropy docstring [0]:
    weighted mean = sum(w[y] * loss) / sum(w[y])."""
    paddle.seed(seed)
    n, c = 100, 200
    input = paddle.rand([n, c], dtype="float64")
    label = paddle.randint(0, c, shape=[n], dtype="int64")
    weight = paddle.rand([c], dtype="float64")
    dy_ret = paddle.nn.loss.CrossEntropyLoss(weight=weight, reduction="mean")(input, label)
    w = weight.numpy()[label.numpy()]
    per_sample = _softmax_ce(input.numpy(), np.eye(c)[label.numpy()])
    np.testing.assert_allclose(dy_ret.numpy(), (w * per_sample).sum() / w.sum(), rtol=1e-10)


@pytest.mark.parametrize("doc, seed", [("CrossEntropyLoss", 2023), ("functional.cross_entropy", 99999)])
def test_doc_cross_entropy_soft_labels(doc, seed):
    """python/paddle/nn CrossEntropyLoss docstring [1] and functional.cross_entropy docstring [1]:
    soft labels, then label smoothing 0.4 of integer and one-hot labels (which agree)."""
    paddle.seed(seed)
    n, c, axis = 4, 3, -1
    logits = paddle.uniform([n, c], dtype="float64", min=0.1, max=1.0)
    labels = paddle.uniform([n, c], dtype="float64", min=0.1, max=1.0)
    labels /= paddle.sum(labels, axis=axis, keepdim=True)
    if doc == "CrossEntropyLoss":
        ret = paddle.nn.loss.CrossEntropyLoss(weight=None, reduction="mean", soft_label=True,
                                              label_smoothing=0.0)(logits, labels)
    else:
        ret = paddle.nn.functional.cross_entropy(logits, labels, soft_label=True, axis=axis, weight=None,
                                                 reduction="mean")
    np.testing.assert_allclose(ret.numpy(), _softmax_ce(logits.numpy(), labels.numpy()).mean(), rtol=1e-10)
    integer_labels = paddle.randint(low=0, high=c, shape=[n], dtype="int64")
    one_hot_labels = paddle.nn.functional.one_hot(integer_labels, c).astype("float32")
    if doc == "CrossEntropyLoss":
        loss = paddle.nn.loss.CrossEntropyLoss(weight=None, reduction="mean", label_smoothing=0.4)
        integer_ret, one_hot_ret = loss(logits, integer_labels), loss(logits, one_hot_labels)
    else:
        kwargs = {"axis": axis, "weight": None, "label_smoothing": 0.4, "reduction": "mean"}
        integer_ret = paddle.nn.functional.cross_entropy(logits, integer_labels, **kwargs)
        one_hot_ret = paddle.nn.functional.cross_entropy(logits, one_hot_labels, **kwargs)
    smoothed = 0.6 * np.eye(c)[integer_labels.numpy()] + 0.4 / c
    np.testing.assert_allclose(integer_ret.numpy(), _softmax_ce(logits.numpy(), smoothed).mean(), rtol=1e-6)
    np.testing.assert_allclose(one_hot_ret.numpy(), integer_ret.numpy(), rtol=1e-6)


@pytest.mark.parametrize("doc", ["MSELoss", "functional.mse_loss"])
def test_doc_mse_loss(doc):
    """python/paddle/nn MSELoss and functional.mse_loss docstrings (print 0.04)."""
    mse_loss = paddle.nn.loss.MSELoss()
    if doc == "MSELoss":
        output = mse_loss(paddle.to_tensor([1.5]), paddle.to_tensor([1.7]))
    else:
        output = mse_loss(paddle.to_tensor(1.5), paddle.to_tensor(1.7))
        assert output.shape == []
    np.testing.assert_allclose(output.numpy(), 0.04, rtol=1e-5)


def test_doc_one_hot():
    """python/paddle/nn/functional/input.py one_hot docstring (prints [4], [4, 4] and the matrix)."""
    label = paddle.to_tensor([1, 1, 3, 0], dtype="int64")
    assert label.shape == [4]
    one_hot_label = paddle.nn.functional.one_hot(label, num_classes=4)
    assert one_hot_label.shape == [4, 4]
    np.testing.assert_array_equal(one_hot_label.numpy(), np.eye(4, dtype="float32")[[1, 1, 3, 0]])


# -------------------------------------------------------- test_imperative_container_layerlist.py
def test_layer_list():
    """test_imperative_container_layerlist.py TestImperativeContainer.test_test_layer_list (its two calls
    differ only in an unused argument: run once)."""

    class MyLayer(paddle.nn.Layer):
        def __init__(self, layerlist):
            super().__init__()
            self.layerlist = layerlist

        def forward(self, x):
            for layer in self.layerlist:
                x = layer(x)
            return x

    data_np = np.random.uniform(-1, 1, [5, 1]).astype("float32")
    with base.dygraph.guard():
        x = paddle.to_tensor(data_np)
        layerlist = paddle.nn.LayerList([paddle.nn.Linear(2**i, 2 ** (i + 1)) for i in range(6)])
        size = len(layerlist)
        model = MyLayer(layerlist)
        assert model(x).shape == [5, 2**size]
        model.layerlist[size - 1] = paddle.nn.Linear(2 ** (size - 1), 5)
        assert model(x).shape == [5, 5]
        del model.layerlist[size - 1]
        assert model(x).shape == [5, 2 ** (size - 1)]
        model.layerlist.append(paddle.nn.Linear(2 ** (size - 1), 3))
        res4 = model(x)
        assert res4.shape == [5, 3]
        res4.backward()
        model2 = MyLayer(layerlist[:-1])
        assert model2(x).shape == [5, 2 ** (size - 1)]
        del model2.layerlist[1:]
        res6 = model2(x)
        assert res6.shape == [5, 2 ** (0 + 1)]
        res6.backward()
        model3 = MyLayer(layerlist[:-2])
        model3.layerlist.append(paddle.nn.Linear(3, 1))
        model3.layerlist.insert(size - 2, paddle.nn.Linear(2 ** (size - 2), 3))
        assert model3(x).shape == [5, 1]
        model3.layerlist.extend([paddle.nn.Linear(3**i, 3 ** (i + 1)) for i in range(3)])
        res8 = model3(x)
        assert res8.shape == [5, 3**3]
        res8.backward()
        model4 = MyLayer(layerlist[:3])
        model4.layerlist[-1] = paddle.nn.Linear(4, 5)
        assert model4(x).shape == [5, 5]
        del model4.layerlist[-1]
        assert model4(x).shape == [5, 4]
        model4.layerlist.insert(-1, paddle.nn.Linear(2, 2))
        res11 = model4(x)
        assert res11.shape == [5, 4]
        res11.backward()


def test_layer_children():
    """test_imperative_layer_children.py TestLayerChildren.test_func_apply_init_weight (fluid.dygraph.guard,
    gone from Paddle 3.3.1, as base.dygraph.guard)."""

    class LeNetDygraph(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2D(1, 6, 3, stride=1, padding=1), nn.ReLU(),
                                          paddle.nn.MaxPool2D(2, 2), nn.Conv2D(6, 16, 5, stride=1, padding=0),
                                          nn.ReLU(), paddle.nn.MaxPool2D(2, 2))

        def forward(self, inputs):
            return self.features(inputs)

    def run():
        with base.dygraph.guard():
            net = LeNetDygraph()
            net.eval()
            net_layers = nn.Sequential(*list(net.children()))
            net_layers.eval()
            x = paddle.rand([2, 1, 28, 28])
            y1, y2 = net(x), net_layers(x)
            np.testing.assert_allclose(y1.numpy(), y2.numpy())
            return y1, y2

    paddle.seed(102)
    new_y1, new_y2 = run()
    paddle.seed(102)
    ori_y1, ori_y2 = run()
    np.testing.assert_array_equal(ori_y1.numpy(), new_y1.numpy())
    np.testing.assert_array_equal(ori_y2.numpy(), new_y2.numpy())


# ------------------------------------------------------------------------------ test_mse_loss.py
_MSE_DIMS = [[10, 10], [2, 10, 10], [3, 3, 10, 10]]
_MSE_EXPECTED = {"mean": lambda d: np.mean(d * d), "sum": lambda d: np.sum(d * d), "none": lambda d: d * d}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nn_mse_loss(reduction):
    """test_mse_loss.py TestNNMseLoss.test_NNMseLoss_<reduction> (the static-graph half cut)."""
    for dim in _MSE_DIMS:
        input_np = np.random.uniform(0.1, 0.5, dim).astype("float32")
        label_np = np.random.uniform(0.1, 0.5, dim).astype("float32")
        with base.dygraph.guard():
            dy_result = paddle.nn.loss.MSELoss(reduction=reduction)(paddle.to_tensor(input_np),
                                                                    paddle.to_tensor(label_np)).numpy()
        expected = _MSE_EXPECTED[reduction](input_np - label_np)
        np.testing.assert_allclose(dy_result, expected, rtol=1e-05)
        assert dy_result.shape == (tuple(dim) if reduction == "none" else ())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_functional_mse_loss(reduction):
    """test_mse_loss.py TestNNFunctionalMseLoss.test_NNFunctionalMseLoss_<reduction> (static half cut)."""
    for dim in _MSE_DIMS:
        input_np = np.random.uniform(0.1, 0.5, dim).astype("float32")
        target_np = np.random.uniform(0.1, 0.5, dim).astype("float32")
        paddle.disable_static()
        dy_result = paddle.nn.functional.mse_loss(paddle.to_tensor(input_np), paddle.to_tensor(target_np),
                                                  reduction).numpy()
        np.testing.assert_allclose(dy_result, _MSE_EXPECTED[reduction](input_np - target_np), rtol=1e-05)
        assert dy_result.shape == (tuple(dim) if reduction == "none" else ())


def test_functional_mse_loss_zero_size():
    """test_mse_loss.py TestNNFunctionalMseLoss_ZeroSize.test_dygraph_and_grad (the mean of nothing is NaN)."""
    for dim in [[0, 0], [2, 0, 10]]:
        input_np = np.random.uniform(0.1, 0.5, dim).astype("float32")
        target_np = np.random.uniform(0.1, 0.5, dim).astype("float32")
        paddle.disable_static()
        x = paddle.to_tensor(input_np)
        x.stop_gradient = False
        dy_ret = paddle.nn.functional.mse_loss(x, paddle.to_tensor(target_np), "mean")
        dy_result = dy_ret.numpy()
        sub = input_np - target_np
        expected = np.mean(sub * sub)
        np.testing.assert_allclose(dy_result, expected, rtol=1e-05)
        assert dy_result.shape == ()
        paddle.sum(dy_ret).backward()
        np.testing.assert_allclose(x.grad.shape, x.shape)


def test_mse_loss_invalid_tuple_input():
    """test_mse_loss.py TestMseInvalidInput.test_error, its dygraph check (the static ones cut)."""
    with pytest.raises(ValueError):
        paddle.nn.functional.mse_loss((paddle.randn(shape=[256, 3], dtype="float32"),), [256, 3])
