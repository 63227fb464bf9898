"""Paths and top-level calls Paddle code uses: module paths, devices, flags, dynamic mode, Tensor.gradient.

Sources: the import paths of Paddle's own tests and docs (paddle.incubate.optimizer.LookAhead in
test_lookahead.py; paddle.nn.loss.CrossEntropyLoss / MSELoss in the nn.CrossEntropyLoss / MSELoss docs;
paddle.ParamAttr in the nn.Linear and clip docs); and the 3.3.1 API docs of paddle.CPUPlace,
paddle.device.set_device (its GPU lines cut), paddle.device.get_device, paddle.set_flags,
paddle.get_flags, paddle.in_dynamic_mode (its enable_static lines cut: static graph), paddle.Tensor.gradient,
paddle.seed, paddle.no_grad.
"""

import numpy as np

import lasandbox as paddle


def test_paths():
    """The module paths Paddle's tests and docs import from."""
    from lasandbox.incubate.optimizer import LookAhead

    assert paddle.incubate.optimizer.LookAhead is LookAhead is paddle.incubate.LookAhead
    # Paddle's docs reach the loss layers as attributes (paddle.nn.loss is not importable as a module there).
    assert paddle.nn.loss.CrossEntropyLoss is paddle.nn.CrossEntropyLoss
    assert paddle.nn.loss.MSELoss is paddle.nn.MSELoss
    assert paddle.ParamAttr is paddle.base.ParamAttr
    assert paddle.nn.clip.ClipGradByGlobalNorm is paddle.nn.ClipGradByGlobalNorm
    assert paddle.optimizer.lr.LRScheduler is not None and paddle.io.DataLoader is not None


def test_doc_cpu_place():
    """python/paddle/... CPUPlace docstring."""
    cpu_place = paddle.CPUPlace()
    assert repr(cpu_place) == "Place(cpu)" and cpu_place == paddle.CPUPlace()


def test_doc_set_device():
    """python/paddle/device/__init__.py set_device docstring (the gpu:0 lines cut: GPU only)."""
    paddle.device.set_device("cpu")
    x1 = paddle.ones(name="x1", shape=[1, 2], dtype="int32")
    assert repr(x1.place) == "Place(cpu)"


def test_doc_get_device():
    """python/paddle/device/__init__.py get_device docstring (-1 for a CPU tensor)."""
    device = paddle.device.get_device()
    assert device == "cpu"
    x_cpu = paddle.to_tensor([1, 2, 3], place=paddle.CPUPlace())
    assert paddle.get_device(x_cpu) == -1


def test_doc_set_and_get_flags():
    """python/paddle/base/framework.py set_flags and get_flags docstrings."""
    paddle.set_flags({"FLAGS_eager_delete_tensor_gb": 1.0})
    flags = ["FLAGS_eager_delete_tensor_gb", "FLAGS_check_nan_inf"]
    res = paddle.get_flags(flags)
    assert res == {"FLAGS_eager_delete_tensor_gb": 1.0, "FLAGS_check_nan_inf": False}
    paddle.set_flags({"FLAGS_eager_delete_tensor_gb": 0.0})


def test_doc_in_dynamic_mode():
    """python/paddle/base/framework.py in_dynamic_mode docstring (the enable_static lines cut)."""
    assert paddle.in_dynamic_mode() is True
    paddle.disable_static()
    assert paddle.in_dynamic_mode() is True


def test_doc_tensor_gradient():
    """python/paddle/base/dygraph/tensor_patch_methods.py gradient docstring (prints 500.)."""
    x = paddle.to_tensor(5.0, stop_gradient=False)
    y = paddle.pow(x, 4.0)
    y.backward()
    grad = x.gradient()
    assert isinstance(grad, np.ndarray) and float(grad) == 500.0


def test_doc_seed():
    """python/paddle/framework/random.py seed docstring."""
    paddle.seed(102)
    first = paddle.rand([3]).numpy()
    paddle.seed(102)
    np.testing.assert_array_equal(first, paddle.rand([3]).numpy())


def test_doc_no_grad():
    """python/paddle/base/dygraph/base.py no_grad docstring (context manager and decorator)."""
    data = np.array([[2, 3], [4, 5]]).astype("float32")
    l0 = paddle.nn.Linear(2, 2)
    l1 = paddle.nn.Linear(2, 2)
    with paddle.no_grad():
        tmp = l1.weight * 2
    x = paddle.to_tensor(data)
    y = l0(x) + tmp
    o = l1(y)
    o.backward()
    assert tmp.gradient() is None
    assert l0.weight.gradient() is not None

    @paddle.no_grad()
    def test_layer():
        t = paddle.to_tensor(np.ones([3, 1024], dtype="float32"))
        linear1 = paddle.nn.Linear(1024, 4, bias_attr=False)
        linear2 = paddle.nn.Linear(4, 4)
        return linear2(linear1(t))

    assert test_layer().stop_gradient
