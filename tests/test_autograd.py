"""Autograd: a gradcheck (central differences, float64) for every differentiable op, plus engine behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.autograd import gradcheck
from lasandbox.nn import functional as F

rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape)


def pos(*shape):
    return rng.uniform(0.5, 2.0, shape)


UNARY_AND_BINARY = {
    "add_broadcast": (lambda a, b: a + b, [r(3, 4), r(4)]),
    "radd_scalar": (lambda a: 2.0 + a, [r(3)]),
    "subtract": (lambda a, b: paddle.subtract(a, b), [r(2, 3), r(2, 1)]),
    "rsub": (lambda a: 1.0 - a, [r(3)]),
    "multiply_broadcast": (lambda a, b: a * b, [r(2, 3, 4), r(3, 1)]),
    "divide": (lambda a, b: a / b, [r(3, 2), pos(3, 2)]),
    "rdiv": (lambda a: 1.0 / a, [pos(4)]),
    "pow_scalar": (lambda a: a**3, [r(3, 2)]),
    "pow_tensor": (lambda a, b: paddle.pow(a, b), [pos(3), r(3)]),
    "neg": (lambda a: -a, [r(3)]),
    "exp": (paddle.exp, [r(2, 3)]),
    "log": (paddle.log, [pos(2, 3)]),
    "sqrt": (paddle.sqrt, [pos(4)]),
    "abs": (paddle.abs, [pos(4) * np.array([1, -1, 1, -1])]),
    "tanh": (paddle.tanh, [r(5)]),
    "square": (paddle.square, [r(5)]),
    "matmul_2d": (lambda a, b: a @ b, [r(3, 4), r(4, 2)]),
    "matmul_batched_broadcast": (lambda a, b: paddle.matmul(a, b), [r(2, 3, 4), r(4, 5)]),
    "matmul_vec": (lambda a, b: paddle.matmul(a, b), [r(4), r(4, 3)]),
    "matmul_mat_vec": (lambda a, b: paddle.matmul(a, b), [r(3, 4), r(4)]),
    "matmul_vec_vec": (lambda a, b: paddle.matmul(a, b), [r(4), r(4)]),  # a 0-d result (found by the fuzzer)
    "matmul_transpose": (lambda a, b: paddle.matmul(a, b, transpose_x=True, transpose_y=True), [r(4, 3), r(2, 4)]),
    "where": (lambda a, b: paddle.where(a > b, a, b), [r(3, 4), r(3, 4)]),
    "clip": (lambda a: paddle.clip(a, -0.5, 0.5), [r(10) * 2]),
    "maximum": (lambda a, b: paddle.maximum(a, b), [r(4), r(4)]),
    "minimum": (lambda a, b: paddle.minimum(a, b), [r(4), r(4)]),
    "sum_all": (lambda a: paddle.sum(a), [r(3, 4)]),
    "sum_axis_keepdim": (lambda a: paddle.sum(a, axis=1, keepdim=True), [r(3, 4)]),
    "mean_axes": (lambda a: paddle.mean(a, axis=[0, 2]), [r(2, 3, 4)]),
    "max_axis": (lambda a: paddle.max(a, axis=1), [r(3, 5)]),
    "min_all": (lambda a: paddle.min(a), [r(3, 5)]),
    "logsumexp": (lambda a: paddle.logsumexp(a, axis=-1), [r(3, 5)]),
    "reshape": (lambda a: paddle.reshape(a, [4, 3]), [r(3, 4)]),
    "transpose": (lambda a: paddle.transpose(a, [2, 0, 1]), [r(2, 3, 4)]),
    "T": (lambda a: a.T, [r(2, 3)]),
    "concat": (lambda a, b: paddle.concat([a, b], axis=1), [r(2, 3), r(2, 2)]),
    "stack": (lambda a, b: paddle.stack([a, b], axis=1), [r(2, 3), r(2, 3)]),
    "squeeze": (lambda a: paddle.squeeze(a, axis=1), [r(3, 1, 2)]),
    "unsqueeze": (lambda a: paddle.unsqueeze(a, [0, 2]), [r(3, 2)]),
    "flatten": (lambda a: paddle.flatten(a, 1), [r(2, 3, 4)]),
    "getitem_slice": (lambda a: a[1:, ::2], [r(3, 4)]),
    "getitem_repeated_index": (lambda a: a[np.array([0, 0, 2])], [r(3, 2)]),
    "tile": (lambda a: paddle.tile(a, [2, 3]), [r(2, 2)]),
    "cast": (lambda a: paddle.cast(a, "float64") * a, [r(3)]),
    "relu": (F.relu, [r(10) + 0.05]),
    "sigmoid": (F.sigmoid, [r(6) * 5]),
    "softmax": (lambda a: F.softmax(a, axis=-1), [r(3, 4)]),
    "log_softmax_axis0": (lambda a: F.log_softmax(a, axis=0), [r(3, 4)]),
    "linear": (lambda x, w, b: F.linear(x, w, b), [r(5, 3), r(3, 2), r(2)]),
    "mse_loss": (lambda a, b: F.mse_loss(a, b), [r(4, 3), r(4, 3)]),
    "mse_loss_sum": (lambda a, b: F.mse_loss(a, b, reduction="sum"), [r(4), r(4)]),
    "cross_entropy_n1": (lambda a: F.cross_entropy(a, np.array([[0], [2], [1]])), [r(3, 4)]),
    "cross_entropy_n_sum": (lambda a: F.cross_entropy(a, np.array([3, 1]), reduction="sum"), [r(2, 4)]),
    "cross_entropy_none": (lambda a: F.cross_entropy(a, np.array([3, 1]), reduction="none"), [r(2, 4)]),
    "cross_entropy_weighted": (
        lambda a: F.cross_entropy(a, np.array([0, 1, 1]), weight=np.array([1.0, 2.0, 0.5])), [r(3, 3)]),
    "cross_entropy_ignore": (lambda a: F.cross_entropy(a, np.array([0, 5, 1]), ignore_index=5), [r(3, 3)]),
    "cross_entropy_soft": (
        lambda a: F.cross_entropy(a, np.full((3, 4), 0.25), soft_label=True), [r(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(UNARY_AND_BINARY))
def test_gradcheck(name):
    fn, inputs = UNARY_AND_BINARY[name]
    assert gradcheck(fn, inputs)


def test_dropout_gradient_matches_its_mask():
    paddle.seed(3)
    x = paddle.to_tensor(np.ones((1000,), np.float32), stop_gradient=False)
    y = F.dropout(x, p=0.3)
    y.sum().backward()
    kept = y.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy()[kept], 1 / 0.7, rtol=1e-6)
    assert np.all(x.grad.numpy()[~kept] == 0)
    assert 0.6 < kept.mean() < 0.8
    assert F.dropout(x, p=0.3, training=False) is x


def test_gradcheck_catches_a_wrong_rule():
    from lasandbox.autograd.function import make_result

    def wrong_square(x):
        return make_result(x._value**2, (x,), lambda g: (g * x._value,))  # missing factor 2

    with pytest.raises(AssertionError, match="differs"):
        gradcheck(wrong_square, [r(3)])


def test_gradcheck_perturbs_inputs_of_any_memory_layout():
    """A transposed (non-C-contiguous) input is perturbed too: its numerical gradient had read 0."""
    x = r(3, 4).T
    assert not x.flags.c_contiguous
    assert gradcheck(lambda t: t * t, [x])


def test_gradients_accumulate_until_cleared():
    w = paddle.to_tensor(np.array([1.0, 2.0], np.float32), stop_gradient=False)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [6, 6])
    w.clear_gradient()
    np.testing.assert_array_equal(w.grad.numpy(), [0, 0])
    w.clear_gradient(set_to_zero=False)
    assert w.grad is None


def test_node_used_twice_gets_both_contributions():
    x = paddle.to_tensor(np.array(3.0), stop_gradient=False)
    y = x * x + x
    y.backward()
    assert x.grad.item() == pytest.approx(7.0)


def test_deep_graph_has_no_recursion_limit():
    x = paddle.to_tensor(np.array(1.0, np.float32), stop_gradient=False)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == pytest.approx(1.0)


def test_stop_gradient_and_no_grad():
    a = paddle.to_tensor([1.0, 2.0])
    assert a.stop_gradient and a.dtype == paddle.float32
    b = paddle.to_tensor([1.0, 2.0], stop_gradient=False)
    assert not (a * b).stop_gradient
    with paddle.no_grad():
        assert (a * b).stop_gradient
    # Nothing needs a gradient: backward() does nothing, as in Paddle (checked there by the
    # ReduceOnPlateau dygraph test, which calls it on a constant loss).
    constant = (a * 2).sum()
    constant.backward()
    assert a.grad is None and constant.grad is None


def test_freed_graph_reports_clearly():
    x = paddle.to_tensor([1.0], stop_gradient=False)
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    z = (x * 2).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad.item() == pytest.approx(6.0)


def test_tensor_basics():
    t = paddle.to_tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert t.shape == [2, 3] and t.ndim == 2 and t.size == 6
    assert t[1, 2].item() == 5.0
    assert (t > 2).numpy().sum() == 3
    assert paddle.to_tensor(3).dtype == paddle.int64
    assert paddle.to_tensor(np.zeros(2)).dtype == paddle.float64
    t.set_value(np.ones((2, 3)))
    assert t.numpy().sum() == 6
    with pytest.raises(ValueError, match="shape"):
        t.set_value(np.ones(3))
    assert paddle.zeros([2, 2]).numpy().sum() == 0
    assert paddle.arange(5).dtype == paddle.int64
    assert paddle.full([2], 7.0).numpy().tolist() == [7.0, 7.0]
    paddle.seed(1)
    a = paddle.randn([3]).numpy()
    paddle.seed(1)
    np.testing.assert_array_equal(a, paddle.randn([3]).numpy())


def test_float32_stays_float32_with_python_scalars():
    x = paddle.to_tensor([1.0, 2.0], stop_gradient=False)
    y = (x * 2.5 + 1) / 3 - 0.5
    assert y.dtype == paddle.float32
    y.sum().backward()
    assert x.grad.dtype == paddle.float32


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: paddle.matmul(paddle.ones([2, 3]), paddle.ones([2, 3])), "matmul shape mismatch"),
        (lambda: paddle.reshape(paddle.ones([2, 3]), [4, 2]), "cannot reshape"),
        (lambda: paddle.concat([paddle.ones([2, 3]), paddle.ones([3, 2])], axis=1), "concat"),
        (lambda: paddle.transpose(paddle.ones([2, 3]), [0, 0]), "perm"),
        (lambda: F.cross_entropy(paddle.ones([2, 3]), np.array([0, 3])), "label values"),
        (lambda: F.cross_entropy(paddle.ones([2, 3]), np.array([0, 1, 2])), "label must have shape"),
        (lambda: F.cross_entropy(paddle.ones([2, 3]), np.array([0.0, 1.0])), "integers"),
        (lambda: F.mse_loss(paddle.ones([2, 3]), paddle.ones([3, 2])), "mse_loss"),
        (lambda: paddle.sum(paddle.ones([2]), axis=3), "axis"),
        (lambda: paddle.clip(paddle.ones([2]), 1.0, 0.0), "min <= max"),
    ],
)
def test_bad_input_errors_name_the_problem(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_matches_torch_on_an_mlp():
    torch = pytest.importorskip("torch")
    x = r(5, 4).astype(np.float32)
    w1, b1, w2 = r(4, 6).astype(np.float32), r(6).astype(np.float32), r(6, 3).astype(np.float32)
    labels = np.array([0, 2, 1, 1, 0])
    ours = [paddle.to_tensor(a, stop_gradient=False) for a in (w1, b1, w2)]
    loss = F.cross_entropy(F.relu(paddle.to_tensor(x) @ ours[0] + ours[1]) @ ours[2], labels)
    loss.backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in (w1, b1, w2)]
    tl = torch.nn.functional.cross_entropy(torch.relu(torch.tensor(x) @ theirs[0] + theirs[1]) @ theirs[2],
                                           torch.tensor(labels))
    tl.backward()
    assert loss.item() == pytest.approx(tl.item(), rel=1e-5)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-6)


PADDLE_TIES = json.loads((Path(__file__).parent / "fixtures" / "paddle_autograd_ties.json").read_text())
TIE_OPS = {
    "maximum": paddle.maximum, "minimum": paddle.minimum, "max_all": paddle.max,
    "max_axis1": lambda x: paddle.max(x, axis=1), "min_axis0": lambda x: paddle.min(x, axis=0),
    "amax_all": paddle.amax, "abs": paddle.abs, "relu": F.relu, "clip": lambda x: paddle.clip(x, -1.0, 2.0),
}


@pytest.mark.parametrize("name", sorted(TIE_OPS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gradients_at_ties_and_kinks_are_paddles(name, dtype):
    """At x == y, a repeated extreme, 0 for abs/relu and clip's bounds: the shares Paddle 3.3.1 gives."""
    assert PADDLE_TIES["paddle_version"] == "3.3.1"
    case = PADDLE_TIES["cases"][name]
    inputs = [paddle.to_tensor(np.array(v, dtype=dtype), stop_gradient=False) for v in case["inputs"]]
    TIE_OPS[name](*inputs).sum().backward()
    for tensor, expected in zip(inputs, case["grads"], strict=True):
        assert tensor.grad.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(tensor.grad.numpy(), np.array(expected, dtype=dtype))


def test_zero_dimensional_results_hold_arrays():
    """numpy gives scalars for 0-d operations; a Tensor keeps a 0-d ndarray (``.numpy()`` as in Paddle)."""
    x = paddle.to_tensor(np.float64(2.0), stop_gradient=False)
    for result in (paddle.abs(x), x * x, paddle.exp(x), paddle.matmul(paddle.to_tensor([1.0, 2.0]),
                                                                      paddle.to_tensor([3.0, 4.0]))):
        assert isinstance(result.numpy(), np.ndarray) and result.shape == []


def test_no_grad_decorator_is_reentrant():
    # One decorated function running inside itself (LookAhead.apply over a nested LookAhead) must
    # leave recording on afterwards.
    from lasandbox.autograd.engine import is_grad_enabled, no_grad

    @no_grad()
    def nested(depth):
        assert not is_grad_enabled()
        if depth:
            nested(depth - 1)

    nested(3)
    assert is_grad_enabled()


def test_numpy_and_array_conversions_copy_as_paddles_do():
    """Paddle 3.3.1's Tensor.numpy(), np.asarray(t) and np.array(t) are copies (recorded:
    tensor/numpy_is_a_copy); np.array(t) had shared the tensor's memory, so writing to it wrote the tensor."""
    t = paddle.to_tensor(np.array([1.0, 2.0, 3.0], np.float32))
    for convert in (lambda: t.numpy(), lambda: np.asarray(t), lambda: np.array(t),
                    lambda: np.asarray(t, dtype=np.float64)):
        array = convert()
        array[0] = 9.0
        assert not np.shares_memory(array, t._value)
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 3.0])
    own = np.array(t, copy=False)  # numpy's way to ask for the memory itself
    assert np.shares_memory(own, t._value)
    with pytest.raises(ValueError, match="cannot be viewed as float64 without a copy"):
        np.array(t, dtype=np.float64, copy=False)
