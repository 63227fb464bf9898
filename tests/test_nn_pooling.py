"""Pooling: kernels against the numpy reference, gradients, masks, Paddle's window rules, argument checks.

Paddle's numbers for the same layers are replayed in test_paddle_cnn_reference.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from lasandbox import nn
from lasandbox.autograd import gradcheck
from lasandbox.autograd.tensor import Tensor
from lasandbox.nn import conv_args, conv_reference, pool_kernels
from lasandbox.nn import functional as F

# (input [H, W], kernel, stride, pads (top, bottom, left, right), ceil_mode)
WINDOWS = [
    ((6, 7), (2, 2), (2, 2), (0, 0, 0, 0), False),
    ((6, 7), (3, 3), (2, 2), (1, 1, 1, 1), False),
    ((6, 7), (3, 3), (2, 2), (0, 0, 0, 0), True),
    ((5, 5), (2, 2), (2, 2), (1, 1, 1, 1), True),  # ceil_mode leaves whole windows in the padding
    ((6, 7), (3, 3), (2, 2), (1, 2, 0, 1), True),  # asymmetric padding: Paddle bounds by size + pad_before
    ((1, 9), (1, 3), (1, 2), (0, 0, 1, 1), False),  # a 1-D pool seen as 2-D
    ((1, 10), (1, 2), (1, 2), (0, 0, 0, 0), False),  # MaxPool1D(2) on an even length: the pairwise kernels
    ((1, 9), (1, 2), (1, 2), (0, 0, 0, 0), False),  # an odd length drops the last value: not pairwise
]


def _geometry(size, kernel, stride, pads, ceil_mode):
    return conv_args.make_geometry("pool", size, kernel, stride, (1, 1), ("explicit", pads), ceil_mode,
                                   input_shape=(2, 3, *size))


@pytest.mark.parametrize("spec", WINDOWS, ids=[f"window{i}" for i in range(len(WINDOWS))])
def test_pool_kernels_match_the_numpy_reference(spec):
    size, kernel, stride, pads, ceil_mode = spec
    geom = _geometry(*spec)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, *size))
    planes = x.reshape(6, *size)
    out_shape = (6, *geom.out_size)
    dout = rng.standard_normal((2, 3, *geom.out_size))
    (kh, kw), (sh, sw), top, left = kernel, stride, pads[0], pads[2]

    out, index = np.empty(out_shape), np.empty(out_shape, np.int32)
    pool_kernels.max_pool_forward(planes, kh, kw, sh, sw, top, left, out, index)
    ref_out, ref_index = conv_reference.max_pool_forward(x, geom)
    np.testing.assert_array_equal(out.reshape(ref_out.shape), ref_out)
    np.testing.assert_array_equal(index.reshape(ref_index.shape), ref_index)
    values = np.empty(out_shape)
    pool_kernels.max_pool_values(planes, kh, kw, sh, sw, top, left, values)  # the no-gradient variant
    np.testing.assert_array_equal(values.reshape(ref_out.shape), ref_out)
    if pool_kernels.is_pairwise(*size, kh, kw, sh, sw, top, left, *geom.out_size):
        pairs, pair_index = np.empty(out_shape), np.empty(out_shape, np.int32)
        pool_kernels.max_pool_pairs(planes.reshape(-1), pairs.reshape(-1))
        np.testing.assert_array_equal(pairs.reshape(ref_out.shape), ref_out)
        pool_kernels.max_pool_pairs_index(planes.reshape(-1), geom.out_size[1], pairs.reshape(-1),
                                          pair_index.reshape(-1))
        np.testing.assert_array_equal(pair_index.reshape(ref_index.shape), ref_index)
    dx = np.empty((6, size[0] * size[1]))
    pool_kernels.max_pool_backward(dout.reshape(out_shape), index, dx)
    np.testing.assert_allclose(dx.reshape(x.shape), conv_reference.max_pool_backward(dout, ref_index, x.shape))

    for exclusive in (True, False):
        out = np.empty(out_shape)
        pool_kernels.avg_pool_forward(planes, kh, kw, sh, sw, top, left, exclusive, out)
        np.testing.assert_allclose(out.reshape(dout.shape), conv_reference.avg_pool_forward(x, geom, exclusive),
                                   rtol=1e-12, equal_nan=True)
        dx = np.empty(planes.shape)
        pool_kernels.avg_pool_backward(dout.reshape(out_shape), kh, kw, sh, sw, top, left, exclusive, dx)
        np.testing.assert_allclose(dx.reshape(x.shape), conv_reference.avg_pool_backward(dout, geom, x.shape,
                                                                                          exclusive), rtol=1e-12)


@pytest.mark.parametrize("size, out_size", [((6, 7), (1, 1)), ((7, 5), (3, 2)), ((3, 3), (4, 4)), ((1, 10), (1, 4))])
def test_adaptive_kernels_match_the_numpy_reference(size, out_size):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, *size))
    got = F.adaptive_avg_pool2d(Tensor(x), list(out_size)).numpy()
    np.testing.assert_allclose(got, conv_reference.adaptive_avg_pool_forward(x, out_size), rtol=1e-12)
    dout = rng.standard_normal(got.shape)
    xt = Tensor(x, stop_gradient=False)
    F.adaptive_avg_pool2d(xt, list(out_size)).backward(Tensor(dout))
    np.testing.assert_allclose(xt.grad.numpy(), conv_reference.adaptive_avg_pool_backward(dout, x.shape),
                               rtol=1e-12)


def _distinct(shape, seed):
    """Values with no ties (max pooling's gradient is not differentiable at a tie)."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 10.0 + rng.uniform(0, 0.01, shape)


@pytest.mark.parametrize("call", [
    lambda x: F.max_pool2d(x, 3, 2, 1),
    lambda x: F.max_pool2d(x, [2, 3], [1, 2], [1, 0, 0, 2], ceil_mode=True),
    lambda x: F.max_pool2d(x, 2, data_format="NHWC"),
    lambda x: F.avg_pool2d(x, 3, 2, 1),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, exclusive=False),
    lambda x: F.avg_pool2d(x, 2, 1, "same", divisor_override=3),
    lambda x: F.adaptive_avg_pool2d(x, [3, 2]),
    lambda x: F.adaptive_avg_pool2d(x, 1, data_format="NHWC"),
    lambda x: F.adaptive_max_pool2d(x, [4, 3]),  # overlapping bins
    lambda x: F.adaptive_max_pool2d(x, [None, 9]),  # more bins than columns: each input feeds several
])
def test_pool2d_gradients_match_central_differences(call):
    assert gradcheck(call, [_distinct((2, 3, 6, 7), 2)])


@pytest.mark.parametrize("call", [
    lambda x: F.max_pool1d(x, 3, 2, 1),
    lambda x: F.max_pool1d(x, 2),  # an even length: the pairwise kernels
    lambda x: F.avg_pool1d(x, 3, 2, 1, exclusive=False, ceil_mode=True),
    lambda x: F.adaptive_avg_pool1d(x, 4),
    lambda x: F.adaptive_max_pool1d(x, 4),
])
def test_pool1d_gradients_match_central_differences(call):
    assert gradcheck(call, [_distinct((2, 3, 10), 3)])


def test_max_pool_without_gradient_gives_the_same_values():
    x = Tensor(_distinct((2, 3, 7, 6), 5).astype(np.float32), stop_gradient=False)
    tracked = F.max_pool2d(x, 3, 2, 1, ceil_mode=True)
    from lasandbox.autograd.engine import no_grad

    with no_grad():
        untracked = F.max_pool2d(x, 3, 2, 1, ceil_mode=True)
    assert untracked.stop_gradient and not tracked.stop_gradient
    np.testing.assert_array_equal(untracked.numpy(), tracked.numpy())


def test_max_pool_mask_and_paddles_all_padding_windows():
    x = Tensor(np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5))
    out, mask = F.max_pool2d(x, 3, 2, 1, return_mask=True)
    np.testing.assert_array_equal(mask.numpy()[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
    assert mask.dtype == np.int32
    # As recorded from Paddle: with ceil_mode a window can lie in the padding only.
    ceil = F.max_pool2d(x, 2, 2, 1, ceil_mode=True).numpy()[0, 0]
    assert ceil.shape == (4, 4) and ceil[3, 0] == np.finfo(np.float32).min and ceil[0, 0] == 0
    assert np.isnan(F.avg_pool2d(x, 2, 2, 1, ceil_mode=True).numpy()[0, 0, 3, 3])
    assert F.avg_pool2d(x, 2, 2, 1, ceil_mode=True, exclusive=False).numpy()[0, 0, 3, 3] == 0
    _, mask1 = nn.MaxPool1D(3, 2, 1, return_mask=True)(Tensor(np.arange(7, dtype=np.float32).reshape(1, 1, 7)))
    np.testing.assert_array_equal(mask1.numpy()[0, 0], [1, 3, 5, 6])


def test_pool_layers_defaults():
    x = Tensor(np.random.default_rng(4).standard_normal((2, 3, 7, 6)).astype(np.float32))
    assert nn.MaxPool2D(2)(x).shape == [2, 3, 3, 3]  # stride defaults to the kernel, floor mode
    assert nn.MaxPool2D(2, ceil_mode=True)(x).shape == [2, 3, 4, 3]
    assert nn.AvgPool2D(3, 1, 1)(x).shape == [2, 3, 7, 6]
    assert nn.AdaptiveAvgPool2D([2, None])(x).shape == [2, 3, 2, 6]
    global_mean = x.numpy().mean(axis=(2, 3), dtype=np.float64)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2D(1)(x).numpy()[..., 0, 0], global_mean, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(nn.AvgPool2D(2)(x).numpy(), x.numpy()[:, :, :6].reshape(2, 3, 3, 2, 3, 2)
                               .mean(axis=(3, 5), dtype=np.float64), rtol=1e-6, atol=1e-7)
    x1 = Tensor(np.random.default_rng(5).standard_normal((2, 3, 9)).astype(np.float32))
    assert nn.MaxPool1D(2)(x1).shape == [2, 3, 4]
    assert nn.AvgPool1D(3, 2, 1)(x1).shape == [2, 3, 5]
    assert nn.AdaptiveAvgPool1D(3)(x1).shape == [2, 3, 3]


X = Tensor(np.zeros((2, 3, 6, 6), np.float32))


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.max_pool2d(X, 0), ValueError, ["kernel_size", ">= 1"]),
    (lambda: F.max_pool2d(X, 2, stride=0), ValueError, ["stride"]),
    (lambda: F.max_pool2d(X, 2, padding=2), ValueError, ["padding", "smaller than kernel_size"]),
    (lambda: F.max_pool2d(X, 2, padding=-1), ValueError, ["padding", ">= 0"]),
    (lambda: F.avg_pool2d(X, 2, padding="valid", ceil_mode=True), ValueError, ["valid", "ceil_mode"]),
    (lambda: F.avg_pool2d(X, 7), ValueError, ["kernel_size [7, 7]", "padded input"]),
    (lambda: F.avg_pool2d(X, 2, divisor_override=0), ValueError, ["divisor_override"]),
    (lambda: F.avg_pool2d(X, 2, data_format="NCWH"), ValueError, ["data_format"]),
    (lambda: F.max_pool1d(X, 2), ValueError, ["3-D input"]),
    (lambda: F.max_pool2d(X, 2, ceil_mode=1), TypeError, ["ceil_mode"]),
    (lambda: F.adaptive_avg_pool2d(X, 0), ValueError, ["output_size"]),
    (lambda: F.adaptive_avg_pool2d(X, [1, 2, 3]), ValueError, ["output_size", "2 ints"]),
    (lambda: F.adaptive_avg_pool1d(Tensor(np.zeros((2, 3, 5), np.float32)), None), ValueError, ["output_size"]),
    (lambda: nn.MaxPool2D(2, stride=[1, 2, 3]), ValueError, ["stride"]),
    (lambda: nn.AvgPool1D(0), ValueError, ["kernel_size"]),
    (lambda: nn.AdaptiveAvgPool2D(-1), ValueError, ["output_size"]),
    (lambda: F.max_pool2d(Tensor(np.zeros((2, 6, 6, 3), np.float32)), 2, return_mask=True, data_format="NHWC"),
     ValueError, ["return_mask", "NCHW"]),
    (lambda: nn.MaxPool2D(2, return_mask=True, data_format="NHWC"), ValueError, ["return_mask", "NCHW"]),
    (lambda: F.adaptive_max_pool2d(X, 0), ValueError, ["output_size"]),
    (lambda: F.adaptive_max_pool2d(Tensor(np.zeros((2, 3, 0, 4), np.float32)), 2), ValueError, ["empty"]),
    (lambda: F.adaptive_max_pool1d(X, 2), ValueError, ["3-D input"]),
    (lambda: nn.AdaptiveMaxPool1D(2, return_mask=1), TypeError, ["return_mask"]),
])
def test_pools_reject_bad_arguments_naming_them(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), str(info.value)


def test_pairwise_max_pool_keeps_the_first_maximum_and_ignores_nan_as_the_window_loop_does():
    x = np.array([[[1.0, 1.0, np.nan, 2.0, 3.0, np.nan, np.nan, np.nan]]], dtype=np.float32)
    out, index = np.empty((1, 1, 4), np.float32), np.empty((1, 1, 4), np.int32)
    pool_kernels.max_pool_forward(x, 1, 2, 1, 2, 0, 0, out, index)
    pairs, pair_index = np.empty(4, np.float32), np.empty(4, np.int32)
    pool_kernels.max_pool_pairs_index(x.reshape(-1), 4, pairs, pair_index)
    np.testing.assert_array_equal(pairs, out.reshape(-1))
    np.testing.assert_array_equal(pair_index, index.reshape(-1))
    assert list(pair_index) == [0, 3, 4, -1]
    values = np.empty(4, np.float32)
    pool_kernels.max_pool_pairs(x.reshape(-1), values)
    np.testing.assert_array_equal(values, out.reshape(-1))


def test_pairwise_max_pool1d_with_and_without_gradient_gives_the_window_loops_values():
    x = Tensor(_distinct((2, 3, 10), 7).astype(np.float32), stop_gradient=False)
    tracked, mask = F.max_pool1d(x, 2, return_mask=True)
    from lasandbox.autograd.engine import no_grad

    with no_grad():
        untracked = F.max_pool1d(x, 2)
    planes = x.numpy().reshape(6, 1, 10)
    out, index = np.empty((6, 1, 5), np.float32), np.empty((6, 1, 5), np.int32)
    pool_kernels.max_pool_forward(planes, 1, 2, 1, 2, 0, 0, out, index)
    np.testing.assert_array_equal(tracked.numpy().reshape(out.shape), out)
    np.testing.assert_array_equal(untracked.numpy().reshape(out.shape), out)
    np.testing.assert_array_equal(mask.numpy().reshape(index.shape), index)


def test_adaptive_max_pool_with_even_bins_is_max_pool_with_its_rule_for_nan_and_empty_windows():
    """6x6 into 3x3 bins is MaxPool2D(2): the same values and masks as the window kernel, ties, NaN and
    all -inf windows included (first maximum, NaN never wins, nothing above the lowest float: index -1)."""
    rng = np.random.default_rng(6)
    x = rng.integers(0, 3, (2, 3, 6, 6)).astype(np.float32)  # many ties
    x[0, 0, 0, 0] = x[1, 2, 3, 3] = np.nan
    x[0, 1, :2, :2] = -np.inf
    out, mask = F.adaptive_max_pool2d(Tensor(x), 3, return_mask=True)
    ref_out, ref_mask = F.max_pool2d(Tensor(x), 2, return_mask=True)
    np.testing.assert_array_equal(out.numpy(), ref_out.numpy())
    np.testing.assert_array_equal(mask.numpy(), ref_mask.numpy())
    assert mask.numpy()[0, 1, 0, 0] == -1 and out.numpy()[0, 1, 0, 0] == np.finfo(np.float32).min
    out1, mask1 = nn.AdaptiveMaxPool1D(3, return_mask=True)(Tensor(x[:, :, 0]))
    ref1, refmask1 = F.max_pool1d(Tensor(x[:, :, 0]), 2, return_mask=True)
    np.testing.assert_array_equal(out1.numpy(), ref1.numpy())
    np.testing.assert_array_equal(mask1.numpy(), refmask1.numpy())
