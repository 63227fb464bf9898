"""The ReLU kernels (nn/activation_kernels.py) against their numpy references, and F.relu's gradient."""

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.autograd.gradcheck import gradcheck
from lasandbox.nn import activation_kernels as k
from lasandbox.nn import functional as F

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 2.5, -2.5]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_match_the_numpy_references_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(1000), SPECIAL]).astype(dtype).reshape(-1, 1)
    out = np.empty_like(x)
    k.relu_forward(x, out)
    ref = k.relu_forward_reference(x)
    assert out.tobytes() == ref.tobytes()  # NaN kept, +0 (not -0) for the rest
    g = rng.standard_normal(x.shape).astype(dtype)
    gx = np.empty_like(x)
    k.relu_backward(g, out, gx)
    assert gx.tobytes() == k.relu_backward_reference(g, out).tobytes()


def test_relu_values_and_gradient():
    x = paddle.to_tensor(np.array([[-1.0, 0.0, 2.0], [np.nan, 3.0, -0.5]], np.float32), stop_gradient=False)
    y = F.relu(x)
    np.testing.assert_array_equal(y.numpy(), [[0, 0, 2], [np.nan, 3, 0]])
    (y * paddle.to_tensor(np.full((2, 3), 2.0, np.float32))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 2], [0, 2, 0]])  # 0 at x = 0, as Paddle


def test_gradcheck_on_the_kernel_path_and_the_strided_fallback():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5))
    x[np.abs(x) < 0.05] = 0.3  # keep central differences away from the kink
    assert gradcheck(F.relu, [x])
    assert gradcheck(lambda t: F.relu(paddle.transpose(t, [1, 0])), [x])  # transposed (if a view: numpy path)


def test_non_contiguous_and_integer_inputs_take_the_numpy_path():
    x = np.arange(-3, 3, dtype=np.float32).reshape(2, 3)
    strided = paddle.Tensor(x.T)  # a Fortran-ordered view
    assert not strided._value.flags.c_contiguous
    np.testing.assert_array_equal(F.relu(strided).numpy(), np.maximum(x.T, 0))
    np.testing.assert_array_equal(F.relu(paddle.to_tensor(np.array([-2, 3]))).numpy(), [0, 3])
