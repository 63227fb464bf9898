"""The training step's fused paths: one-node linear, only the needed gradients, gradients written straight
into an optimizer's flat buffer. Each against the unfused composition (numpy reference) and central
differences (gradcheck)."""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.autograd import gradcheck
from lasandbox.autograd.ops_math import add, matmul
from lasandbox.nn import functional as F


def test_linear_gradcheck_every_input():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), [x, w, b])
    assert gradcheck(lambda x, w: F.linear(x, w), [x, w])


@pytest.mark.parametrize("transpose_x, transpose_y", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_gradcheck_with_transposes(transpose_x, transpose_y):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5) if transpose_x else (5, 4))
    y = rng.standard_normal((3, 4) if transpose_y else (4, 3))
    assert gradcheck(lambda a, b: matmul(a, b, transpose_x=transpose_x, transpose_y=transpose_y), [x, y])


def _grads(fused, x_needs_grad):
    rng = np.random.default_rng(2)
    x = paddle.to_tensor(rng.standard_normal((6, 4)).astype(np.float32), stop_gradient=not x_needs_grad)
    w = paddle.nn.Parameter(rng.standard_normal((4, 3)).astype(np.float32))
    b = paddle.nn.Parameter(rng.standard_normal(3).astype(np.float32))
    out = F.linear(x, w, b) if fused else add(matmul(x, w), b)
    paddle.sum(out * out).backward()
    return [None if t._grad is None else t._grad.copy() for t in (x, w, b)]


@pytest.mark.parametrize("x_needs_grad", [False, True])
def test_fused_linear_equals_matmul_plus_add(x_needs_grad):
    for fused, plain in zip(_grads(True, x_needs_grad), _grads(False, x_needs_grad), strict=True):
        if plain is None:
            assert fused is None  # the data's gradient is neither needed nor computed
        else:
            np.testing.assert_array_equal(fused, plain)


def test_gradients_go_straight_into_the_flat_buffer_and_add_when_a_weight_is_shared():
    rng = np.random.default_rng(3)
    w = paddle.nn.Parameter(rng.standard_normal((4, 4)).astype(np.float32))
    b = paddle.nn.Parameter(np.zeros(4, np.float32))
    opt = paddle.optimizer.SGD(0.1, parameters=[w, b])
    x = paddle.to_tensor(rng.standard_normal((5, 4)).astype(np.float32))
    expected = None
    for _ in range(3):
        paddle.sum(F.linear(F.linear(x, w, b), w, b) ** 2).backward()  # w used twice: written, then added
        assert np.shares_memory(w._grad, opt.flat_gradients())
        got = w._grad.copy()
        if expected is not None:
            np.testing.assert_array_equal(got, expected)  # after clear_grad, written again, not added
        w_ref = paddle.to_tensor(w.numpy(), stop_gradient=False)
        b_ref = paddle.to_tensor(b.numpy(), stop_gradient=False)
        paddle.sum(add(matmul(add(matmul(x, w_ref), b_ref), w_ref), b_ref) ** 2).backward()
        np.testing.assert_allclose(got, w_ref._grad, rtol=1e-5, atol=1e-6)
        expected = got
        opt.clear_grad()
        assert not w._grad.any()
        w.set_value(w.numpy())  # the same weights again: the same gradient


def test_gradients_accumulate_across_backward_calls_without_clearing():
    rng = np.random.default_rng(4)
    w = paddle.nn.Parameter(rng.standard_normal((3, 2)).astype(np.float32))
    paddle.optimizer.SGD(0.1, parameters=[w])
    x = paddle.to_tensor(rng.standard_normal((4, 3)).astype(np.float32))
    paddle.sum(F.linear(x, w)).backward()
    once = w._grad.copy()
    paddle.sum(F.linear(x, w)).backward()
    np.testing.assert_allclose(w._grad, 2 * once, rtol=1e-6)
