"""nn.Conv1D / Conv2D and F.conv1d / conv2d: kernels against the numpy reference, gradients, argument checks.

Paddle's numbers for the same layers are replayed in test_paddle_cnn_reference.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import nn
from lasandbox.autograd import gradcheck
from lasandbox.autograd.tensor import Tensor
from lasandbox.nn import conv_args, conv_compute, conv_reference
from lasandbox.nn import functional as F
from lasandbox.nn.functional_conv import pad_spatial

# (x shape, weight shape, stride, pads (top, bottom, left, right), dilation, groups)
GEOMETRIES = [
    ((2, 4, 7, 6), (6, 4, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),  # tight layout ('same': Wo == W)
    ((2, 4, 6, 5), (4, 2, 3, 3), (1, 1), (2, 0, 0, 4), (1, 2), 2),  # tight, asymmetric, dilated, groups
    ((2, 3, 4, 2), (5, 3, 5, 5), (1, 1), (2, 2, 4, 0), (1, 1), 1),  # tight, left padding beyond the width
    ((2, 4, 7, 6), (6, 4, 3, 3), (1, 1), (1, 1, 0, 0), (1, 1), 1),  # flat layout
    ((3, 4, 9, 7), (4, 2, 3, 3), (1, 1), (0, 2, 1, 3), (2, 3), 2),  # flat, asymmetric, dilated, groups
    ((2, 4, 9, 8), (6, 2, 3, 3), (2, 1), (0, 2, 1, 0), (2, 1), 2),  # strided layout
    ((3, 4, 5, 5), (4, 1, 2, 2), (2, 2), (1, 1, 1, 1), (1, 1), 4),  # depthwise, stride 2
    ((2, 3, 1, 9), (4, 3, 1, 3), (1, 3), (0, 0, 2, 1), (1, 2), 1),  # a 1-D convolution seen as 2-D
    ((2, 5, 4, 4), (3, 5, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),  # 1x1
    ((3, 4, 9, 7), (5, 4, 3, 2), (1, 1), (0, 2, 1, 3), (2, 3), 1),  # flat, asymmetric, dilated, one group
]


def _geometry(x_shape, w_shape, stride, pads, dilation):
    return conv_args.make_geometry("conv2d", x_shape[2:], w_shape[2:], stride, dilation, ("explicit", pads),
                                   input_shape=x_shape)


def _force_row_taps(monkeypatch):
    """Row taps for every stride-1, one-group convolution with kernel rows, whatever its shape."""
    monkeypatch.setattr(conv_compute, "ROW_TAPS_MAX_EXTRA", float("inf"))
    monkeypatch.setattr(conv_compute, "ROW_TAPS_MAX_EXTRA_TIGHT", float("inf"))
    monkeypatch.setattr(conv_compute, "ROW_TAPS_MAX_GROWTH", float("inf"))
    monkeypatch.setattr(conv_compute, "ROW_TAPS_MAX_OUT", 10**9)
    monkeypatch.setattr(conv_compute, "ROW_TAPS_MIN_ROWS", 0)


@pytest.mark.parametrize("row_taps", [False, True], ids=["as-chosen", "row-taps-forced"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("spec", GEOMETRIES, ids=[f"geometry{i}" for i in range(len(GEOMETRIES))])
def test_conv_kernels_match_the_numpy_reference(spec, dtype, row_taps, monkeypatch):
    x_shape, w_shape, stride, pads, dilation, groups = spec
    # A tiny chunk size makes every sample its own chunk, so the chunked loops are exercised too.
    monkeypatch.setattr(conv_compute, "CHUNK_BYTES", 1)
    if row_taps:
        _force_row_taps(monkeypatch)
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    geom = _geometry(x_shape, w_shape, stride, pads, dilation)
    tol = {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-4}
    ref = conv_reference.conv_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), geom,
                                      groups)
    np.testing.assert_allclose(conv_compute.conv_forward(x, w, b, geom, groups), ref, **tol)
    np.testing.assert_allclose(conv_compute.direct_conv_forward(x, w, b, geom, groups), ref, **tol)
    dout = rng.standard_normal(ref.shape).astype(dtype)
    expected = conv_reference.conv_backward(dout.astype(np.float64), x.astype(np.float64), w.astype(np.float64),
                                            geom, groups)
    got = conv_compute.conv_backward(dout, x, w, geom, groups)
    for name, ours, theirs in zip(("dx", "dweight", "dbias"), got, expected, strict=True):
        assert ours.dtype == dtype, name
        np.testing.assert_allclose(ours, theirs, err_msg=name, **tol)


@pytest.mark.parametrize("index, layout", [(0, "tight"), (1, "tight"), (2, "tight"), (3, "flat"), (5, "strided"),
                                           (8, "tight")])
def test_each_geometry_runs_the_layout_it_is_listed_for(index, layout):
    x_shape, w_shape, stride, pads, dilation, groups = GEOMETRIES[index]
    plan = conv_compute._Plan(x_shape, w_shape, _geometry(x_shape, w_shape, stride, pads, dilation), groups, 4)
    assert (plan.tight, plan.flat) == (layout == "tight", layout == "flat")


def test_row_taps_are_chosen_where_they_were_measured_faster(monkeypatch):
    """3x3 'same' with 8 or 16 channels (the SmallResNets' blocks, at 28x28 and on 8x8 digits) down to 4x4,
    and 5x5 'same' down to 8x8, take row taps, and 'valid' at 28x28; the 1-channel stem, more output than
    input channels, 32 output channels, 'valid' on small planes, 3x3 'same' at 2x2, grouped and strided
    convolutions keep im2col's layouts (benchmarks/conv_layouts.py); forced, every stride-1 one-group
    geometry with kernel rows takes them."""
    def plan(x_shape, w_shape, stride=(1, 1), pads=(1, 1, 1, 1), groups=1):
        return conv_compute._Plan(x_shape, w_shape, _geometry(x_shape, w_shape, stride, pads, (1, 1)), groups, 4)

    for size in (28, 14, 8, 4):
        assert plan((64, 16, size, size), (16, 16, 3, 3)).row_taps, size
        assert plan((64, 8, size, size), (8, 8, 3, 3)).row_taps, size
    assert plan((64, 16, 8, 8), (8, 16, 3, 3)).row_taps
    assert plan((64, 16, 8, 8), (16, 16, 5, 5), pads=(2, 2, 2, 2)).row_taps
    assert plan((64, 16, 28, 28), (16, 16, 3, 3), pads=(0, 0, 0, 0)).row_taps
    for x_shape, w_shape, pads in [((64, 1, 28, 28), (16, 1, 3, 3), 1), ((64, 16, 28, 28), (32, 16, 3, 3), 1),
                                   ((64, 8, 28, 28), (16, 8, 3, 3), 1), ((64, 16, 14, 14), (16, 16, 3, 3), 0),
                                   ((64, 16, 2, 2), (16, 16, 3, 3), 1), ((64, 16, 6, 6), (16, 16, 5, 5), 2)]:
        assert not plan(x_shape, w_shape, pads=(pads,) * 4).row_taps, (x_shape, w_shape, pads)
    assert not plan((64, 16, 28, 28), (16, 8, 3, 3), groups=2).row_taps
    assert not plan((64, 16, 28, 28), (16, 16, 3, 3), stride=(2, 2)).row_taps
    _force_row_taps(monkeypatch)
    chosen = [plan(*spec[:2], stride=spec[2], pads=spec[3], groups=spec[5]).row_taps for spec in GEOMETRIES]
    assert chosen == [spec[2] == (1, 1) and spec[5] == 1 and spec[1][2] > 1 for spec in GEOMETRIES]
    assert sum(chosen) == 4


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_taps_as_chosen_match_the_reference_with_default_chunks(dtype):
    """The SmallResNet's 16-channel block conv (row taps by the real thresholds, default chunking, several
    samples per chunk) against the numpy reference; its weight gradient C-contiguous like the others."""
    x_shape, w_shape = (7, 16, 28, 28), (16, 16, 3, 3)
    geom = _geometry(x_shape, w_shape, (1, 1), (1, 1, 1, 1), (1, 1))
    assert conv_compute._Plan(x_shape, w_shape, geom, 1, np.dtype(dtype).itemsize).row_taps
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    b, dout = rng.standard_normal(16).astype(dtype), rng.standard_normal(x_shape).astype(dtype)
    tol = {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-3}
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    np.testing.assert_allclose(conv_compute.conv_forward(x, w, b, geom, 1),
                               conv_reference.conv_forward(x64, w64, b.astype(np.float64), geom, 1), **tol)
    got = conv_compute.conv_backward(dout, x, w, geom, 1)
    expected = conv_reference.conv_backward(dout.astype(np.float64), x64, w64, geom, 1)
    for name, ours, theirs in zip(("dx", "dweight", "dbias"), got, expected, strict=True):
        np.testing.assert_allclose(ours, theirs, err_msg=name, **tol)
    assert got[1].flags.c_contiguous


def test_an_empty_batch_convolves_to_an_empty_batch_with_zero_weight_gradients():
    x = Tensor(np.zeros((0, 2, 5, 5), np.float32), stop_gradient=False)
    w = Tensor(np.ones((3, 2, 3, 3), np.float32), stop_gradient=False)
    y = F.conv2d(x, w, padding=1)
    assert y.shape == [0, 3, 5, 5]
    y.sum().backward()
    assert w.grad.shape == [3, 2, 3, 3] and not w.grad.numpy().any()


@pytest.mark.parametrize("n, budget", [(9, 4), (64, 9), (64, 28), (3, 1), (70, 5), (1, 8)])
def test_chunks_share_the_samples_evenly_between_threads(n, budget, monkeypatch):
    geom = conv_args.make_geometry("conv2d", (5, 5), (3, 3), (1, 1), (1, 1), ("explicit", (1, 1, 1, 1)),
                                   input_shape=(n, 1, 5, 5))
    monkeypatch.setattr(conv_compute, "CHUNK_BYTES", 9 * 25 * 4 * budget)  # `budget` samples of columns
    plan = conv_compute._Plan((n, 1, 5, 5), (1, 1, 3, 3), geom, 1, 4, threads=2)
    sizes = [hi - lo for lo, hi in plan.chunks]
    assert plan.chunks[0][0] == 0 and plan.chunks[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(plan.chunks[:-1], plan.chunks[1:], strict=True))
    assert max(sizes) <= budget and max(sizes) - min(sizes) <= 1
    if len(sizes) >= 2:  # as many chunks per thread, unless there are fewer samples than that takes
        assert len(sizes) % 2 == 0 or len(sizes) == n
        assert abs(sum(sizes[0::2]) - sum(sizes[1::2])) <= max(sizes)


def test_conv_backward_skips_what_is_not_needed():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    geom = _geometry(x.shape, w.shape, (1, 1), (1, 1, 1, 1), (1, 1))
    dx, dw, db = conv_compute.conv_backward(np.ones((2, 4, 5, 5)), x, w, geom, 1, need_x=False)
    assert dx is None and dw.shape == w.shape and db.shape == (4,)
    dx, dw, _ = conv_compute.conv_backward(np.ones((2, 4, 5, 5)), x, w, geom, 1, need_weight=False)
    assert dw is None and dx.shape == x.shape


GRAD_CASES = [
    ("conv2d", (2, 4, 5, 6), (4, 2, 3, 2), {"stride": [2, 1], "padding": [1, 0, 2, 1], "groups": 2}),
    ("conv2d", (1, 3, 6, 5), (2, 3, 3, 3), {"padding": "same", "dilation": 1}),
    ("conv2d", (1, 5, 6, 3), (2, 3, 2, 2), {"padding": [[0, 0], [1, 0], [0, 1], [0, 0]], "data_format": "NHWC"}),
    ("conv1d", (2, 3, 9), (4, 3, 3), {"stride": 2, "padding": [1, 2], "dilation": 2}),
    ("conv1d", (2, 8, 3), (4, 3, 3), {"padding": "valid", "data_format": "NLC"}),
]


@pytest.mark.parametrize("row_taps", [False, True], ids=["as-chosen", "row-taps-forced"])
@pytest.mark.parametrize("op, x_shape, w_shape, kwargs", GRAD_CASES)
def test_conv_gradients_match_central_differences(op, x_shape, w_shape, kwargs, row_taps, monkeypatch):
    if row_taps:
        _force_row_taps(monkeypatch)
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    fn = getattr(F, op)
    assert gradcheck(lambda x, w, b: fn(x, w, b, **kwargs), [x, w, b])
    assert gradcheck(lambda x, w: fn(x, w, None, **kwargs), [x, w])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_pad_like_numpy_with_correct_gradients(mode):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 4, 5))
    pads = (1, 2, 2, 1)
    assert gradcheck(lambda x: pad_spatial(x, pads, mode, 2), [x])
    numpy_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    expected = np.pad(x, ((0, 0), (0, 0), (1, 2), (2, 1)), mode=numpy_mode)
    np.testing.assert_array_equal(pad_spatial(Tensor(x), pads, mode, 2).numpy(), expected)
    channel_last = pad_spatial(Tensor(np.moveaxis(x, 1, -1)), pads, mode, 2, channel_last=True).numpy()
    np.testing.assert_array_equal(channel_last, np.moveaxis(expected, 1, -1))
    # The layer pads then convolves without padding.
    layer = nn.Conv2D(2, 3, 3, padding=1, padding_mode=mode, dtype="float64")
    ref = conv_reference.conv_forward(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode=numpy_mode),
                                      layer.weight.numpy(), layer.bias.numpy(),
                                      _geometry((1, 2, 6, 7), (3, 2, 3, 3), (1, 1), (0, 0, 0, 0), (1, 1)), 1)
    np.testing.assert_allclose(layer(Tensor(x)).numpy(), ref, rtol=1e-12)


def test_conv_layers_shapes_init_and_bias_options():
    paddle.seed(0)
    conv = nn.Conv2D(8, 16, (3, 5), stride=2, padding="same", groups=4)
    assert conv.weight.shape == [16, 2, 3, 5] and conv.bias.shape == [16]
    assert np.all(conv.bias.numpy() == 0) and not conv.weight.stop_gradient
    assert conv.weight.name.startswith("conv2d_")
    assert nn.Conv2D(3, 4, 3, bias_attr=False).bias is None
    assert nn.Conv2D(3, 4, 3, bias=False).bias is None
    assert nn.Conv1D(3, 4, 5).weight.shape == [4, 3, 5]
    out = conv(paddle.randn([2, 8, 9, 10]))
    assert out.shape == [2, 16, 5, 5]
    assert "kernel_size=[3, 5]" in repr(conv) and "groups=4" in repr(conv)
    custom = nn.Conv2D(1, 1, 2, weight_attr=nn.ParamAttr(initializer=nn.initializer.Constant(0.5)))
    np.testing.assert_array_equal(custom.weight.numpy(), np.full((1, 1, 2, 2), 0.5, np.float32))
    assert nn.Conv2D(1, 2, 3, dtype="float64").weight.dtype == np.float64


def test_same_padding_output_sizes_and_paddles_dilation_rule():
    x = paddle.randn([1, 2, 7, 8])
    w = paddle.randn([3, 2, 3, 3])
    assert F.conv2d(x, w, stride=2, padding="same").shape == [1, 3, 4, 4]
    # Paddle's SAME ignores the dilation (recorded from Paddle: conv2d_same_dilation2).
    np.testing.assert_array_equal(F.conv2d(x, w, padding="same", dilation=3).numpy(),
                                  F.conv2d(x, w, padding="SAME").numpy())
    assert F.conv1d(paddle.randn([1, 2, 10]), paddle.randn([3, 2, 4]), padding="valid", stride=3).shape == [1, 3, 3]


def test_conv_runs_under_no_grad_and_on_float64():
    x = Tensor(np.random.default_rng(4).standard_normal((2, 3, 6, 6)))
    w = Tensor(np.random.default_rng(5).standard_normal((4, 3, 3, 3)))
    with paddle.no_grad():
        y = F.conv2d(x, w, padding=1)
    assert y.dtype == np.float64 and y.stop_gradient


# ------------------------------------------------------------------ bad input: clear errors, nothing computed
X = Tensor(np.zeros((2, 4, 6, 6), np.float32))
W = Tensor(np.zeros((8, 4, 3, 3), np.float32))


@pytest.mark.parametrize("kwargs, error, words", [
    ({"weight": Tensor(np.zeros((8, 3, 3, 3), np.float32))}, ValueError, ["4 channels", "[8, 3, 3, 3]"]),
    ({"weight": Tensor(np.zeros((8, 4, 7, 3), np.float32))}, ValueError, ["kernel_size [7, 3]", "padded input"]),
    ({"weight": Tensor(np.zeros((8, 4, 3, 3), np.float32)), "padding": "valid", "dilation": 3}, ValueError,
     ["spans 7", "[2, 4, 6, 6]"]),
    ({"weight": Tensor(np.zeros((6, 2, 3, 3), np.float32)), "groups": 3}, ValueError, ["groups=3", "divide"]),
    ({"weight": Tensor(np.zeros((8, 1, 3, 3), np.float32)), "groups": 2}, ValueError, ["expects 2"]),
    ({"groups": 0}, ValueError, ["groups"]),
    ({"stride": 0}, ValueError, ["stride"]),
    ({"stride": [1, 2, 3]}, ValueError, ["stride", "2 ints"]),
    ({"stride": 1.5}, ValueError, ["stride"]),
    ({"dilation": -1}, ValueError, ["dilation"]),
    ({"padding": -1}, ValueError, ["padding", ">= 0"]),
    ({"padding": [1, 2, 3]}, ValueError, ["padding"]),
    ({"padding": "full"}, ValueError, ["padding", "'same'"]),
    ({"padding": [[1, 0], [0, 0], [1, 1], [1, 1]]}, ValueError, ["batch and channel"]),
    ({"data_format": "NWHC"}, ValueError, ["data_format", "'NCHW'"]),
    ({"bias": Tensor(np.zeros(7, np.float32))}, ValueError, ["bias", "[8]"]),
    ({"weight": Tensor(np.zeros((8, 4, 3), np.float32))}, ValueError, ["weight must be 4-D"]),
    ({"weight": Tensor(np.zeros((8, 4, 3, 3)))}, TypeError, ["dtype"]),
    ({"x": Tensor(np.zeros((4, 6, 6), np.float32))}, ValueError, ["4-D input", "[4, 6, 6]"]),
    ({"x": np.zeros((2, 4, 6, 6), np.float32)}, TypeError, ["x must be a Tensor"]),
])
def test_conv2d_rejects_bad_arguments_naming_them(kwargs, error, words):
    args = {"x": X, "weight": W, **kwargs}
    with pytest.raises(error) as info:
        F.conv2d(**args)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_conv1d_and_layers_reject_bad_arguments():
    with pytest.raises(ValueError, match="3-D input"):
        F.conv1d(X, Tensor(np.zeros((8, 4, 3), np.float32)))
    with pytest.raises(ValueError, match="data_format must be one of 'NCL', 'NLC'"):
        F.conv1d(Tensor(np.zeros((2, 4, 6), np.float32)), Tensor(np.zeros((8, 4, 3), np.float32)),
                 data_format="NCHW")
    with pytest.raises(ValueError, match="groups=3 must divide in_channels"):
        nn.Conv2D(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2D(4, 6, 0)
    with pytest.raises(TypeError, match="in_channels"):
        nn.Conv2D(4.0, 6, 3)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2D(4, 6, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="needs an int padding"):
        nn.Conv2D(4, 6, 3, padding="same", padding_mode="reflect")
    with pytest.raises(NotImplementedError, match="device"):
        nn.Conv2D(4, 6, 3, device="gpu")
    with pytest.raises(ValueError, match="padding_mode='reflect' needs padding < the input size"):
        nn.Conv1D(1, 1, 3, padding=4, padding_mode="reflect")(Tensor(np.zeros((1, 1, 3), np.float32)))
    with pytest.raises(ValueError, match="x has 4 channels"):
        nn.Conv2D(3, 2, 3)(X)
    with pytest.raises(ValueError, match="weight_attr=False"):  # Paddle asserts; lasandbox had failed at the call
        nn.Conv2D(4, 6, 3, weight_attr=False)


def test_conv_repr_prints_what_paddle_prints():
    """Defaults left out, data_format always shown (the recorded strings: test_paddle_cnn_reference)."""
    assert repr(nn.Conv2D(3, 4, 3)) == "Conv2D(3, 4, kernel_size=[3, 3], data_format=NCHW)"
    assert repr(nn.Conv1D(3, 4, 3, stride=2, padding="same")) == \
        "Conv1D(3, 4, kernel_size=[3], stride=[2], padding=same, data_format=NCL)"


def test_threaded_chunks_leave_blas_threads_as_they_were(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(conv_compute, "CHUNK_BYTES", 1)  # several chunks: split among threads
    def blas_threads():  # by library file: the first convolution may load another BLAS (numpy's, scipy's)
        return {lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info()
                if lib["user_api"] == "blas"}

    before = blas_threads()
    x = Tensor(np.random.default_rng(6).standard_normal((4, 2, 5, 5)), stop_gradient=False)
    F.conv2d(x, Tensor(np.ones((3, 2, 3, 3))), padding=1).sum().backward()
    with conv_compute.serial_chunks():
        serial = F.conv2d(x, Tensor(np.ones((3, 2, 3, 3))), padding=1).numpy()
    np.testing.assert_allclose(serial, F.conv2d(x, Tensor(np.ones((3, 2, 3, 3))), padding=1).numpy(), rtol=1e-12)
    after = blas_threads()
    assert before and {path: after[path] for path in before} == before


def test_paddles_3d_layers_say_they_are_not_implemented():
    assert not hasattr(nn, "Conv3DTranspose") and not hasattr(F, "conv3d_transpose")
    with pytest.raises(AttributeError, match="Conv3D is not implemented in lasandbox"):
        nn.Conv3D  # noqa: B018
    with pytest.raises(AttributeError, match="conv3d_transpose is not implemented in lasandbox"):
        F.conv3d_transpose  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'Conv2Dd'"):
        nn.Conv2Dd  # noqa: B018
