"""nn.Conv1DTranspose / Conv2DTranspose and F.conv1d_transpose / conv2d_transpose.

The fast path (conv_compute's input gradient of the ordinary convolution) is
compared with the definition (``conv_reference.conv_transpose_forward``, a
scatter loop), the gradients are checked by finite differences, and the
argument checks refuse what Paddle 3.3.1 refuses. Paddle's own numbers are
replayed in test_paddle_cnn_reference.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import nn
from lasandbox.autograd import gradcheck
from lasandbox.autograd.tensor import Tensor
from lasandbox.nn import conv_compute, conv_reference
from lasandbox.nn import functional as F

# (x shape, weight shape [C, Co/groups, kh, kw], keyword arguments of conv2d_transpose, expected output HxW)
GEOMETRIES = [
    ((2, 3, 4, 5), (3, 2, 3, 3), {}, (6, 7)),
    ((2, 3, 4, 5), (3, 2, 3, 3), {"stride": 2}, (9, 11)),
    ((2, 3, 4, 5), (3, 2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (8, 10)),
    ((2, 4, 3, 4), (4, 3, 3, 2), {"stride": [2, 3], "padding": [1, 0, 2, 1], "output_padding": [1, 2],
                                  "dilation": [1, 2], "groups": 2}, (7, 11)),
    ((2, 4, 5, 4), (4, 1, 2, 2), {"stride": 2, "padding": [1, 0], "groups": 4}, (8, 8)),  # depthwise
    ((1, 2, 4, 4), (2, 3, 3, 3), {"stride": 2, "padding": "same"}, (8, 8)),
    ((1, 2, 4, 4), (2, 3, 3, 3), {"stride": 2, "padding": "valid", "dilation": 2}, (11, 11)),
    ((1, 2, 4, 4), (2, 3, 3, 3), {"stride": 2, "padding": 1, "output_size": [8, 7]}, (8, 7)),
    ((2, 3, 5, 6), (3, 4, 3, 3), {"stride": 1, "padding": 1, "dilation": 2}, (7, 8)),  # stride 1: tight/flat
    ((2, 3, 1, 7), (3, 2, 1, 4), {"stride": [1, 3], "padding": [0, 0, 2, 1], "output_padding": [0, 2]}, (1, 21)),
]


def _reference_args(w_shape, kwargs):
    """Stride, dilation and padding-before of a GEOMETRIES case, from its arguments (explicit ones only)."""
    stride = kwargs.get("stride", 1)
    stride = (stride, stride) if isinstance(stride, int) else tuple(stride)
    dilation = kwargs.get("dilation", 1)
    dilation = (dilation, dilation) if isinstance(dilation, int) else tuple(dilation)
    padding = kwargs.get("padding", 0)
    if padding == "same":  # total (k - 1) + 1 - s split smaller half first (here 3x3, stride 2: 0 before)
        dilation, before = (1, 1), tuple(max(w_shape[2 + d] - stride[d], 0) // 2 for d in range(2))
    elif padding == "valid":
        before = (0, 0)
    elif isinstance(padding, int):
        before = (padding, padding)
    elif len(padding) == 2:
        before = tuple(padding)
    else:
        before = (padding[0], padding[2])
    return stride, dilation, before


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("spec", GEOMETRIES, ids=[f"geometry{i}" for i in range(len(GEOMETRIES))])
def test_conv2d_transpose_matches_the_scatter_definition(spec, dtype, monkeypatch):
    x_shape, w_shape, kwargs, out_hw = spec
    monkeypatch.setattr(conv_compute, "CHUNK_BYTES", 1)  # every sample its own chunk: the chunked loops too
    rng = np.random.default_rng(0)
    groups = kwargs.get("groups", 1)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[1] * groups).astype(dtype)
    out = F.conv2d_transpose(Tensor(x), Tensor(w), Tensor(b), **kwargs).numpy()
    assert out.shape == (x_shape[0], w_shape[1] * groups, *out_hw) and out.dtype == dtype
    stride, dilation, before = _reference_args(w_shape, kwargs)
    expected = conv_reference.conv_transpose_forward(x.astype(np.float64), w.astype(np.float64), b, stride, dilation,
                                                     before, out_hw, groups)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol * np.abs(expected).max())


@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("spec", GEOMETRIES, ids=[f"geometry{i}" for i in range(len(GEOMETRIES))])
def test_conv2d_transpose_gradients(spec, with_bias):
    x_shape, w_shape, kwargs, _ = spec
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    if with_bias:
        b = rng.standard_normal(w_shape[1] * kwargs.get("groups", 1))
        assert gradcheck(lambda x, w, b: F.conv2d_transpose(x, w, b, **kwargs), [x, w, b])
    else:
        assert gradcheck(lambda x, w: F.conv2d_transpose(x, w, **kwargs), [x, w])


def test_conv1d_transpose_is_the_2d_op_of_height_one_and_its_gradients():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 4, 6)), rng.standard_normal((4, 3, 3)), rng.standard_normal(6)
    kwargs = {"stride": 2, "padding": [1, 0], "output_padding": 1, "groups": 2, "dilation": 2}
    out = F.conv1d_transpose(Tensor(x), Tensor(w), Tensor(b), **kwargs).numpy()
    expected = conv_reference.conv_transpose_forward(x[:, :, None], w[:, :, None], b, (1, 2), (1, 2), (0, 1),
                                                     (1, 15), 2)[:, :, 0]
    assert out.shape == (2, 6, 15)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, w, b: F.conv1d_transpose(x, w, b, **kwargs), [x, w, b])
    assert gradcheck(lambda x, w: F.conv1d_transpose(x, w, output_size=17, stride=3, padding=1,
                                                     data_format="NLC"), [x.transpose(0, 2, 1), w])


def test_channel_last_is_the_channel_first_op_transposed():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(2)
    kwargs = {"stride": 2, "padding": [[0, 0], [1, 0], [0, 1], [0, 0]], "output_padding": 1}
    nchw_pads = {**kwargs, "padding": [[0, 0], [0, 0], [1, 0], [0, 1]]}
    expected = F.conv2d_transpose(Tensor(x), Tensor(w), Tensor(b), **nchw_pads).numpy()
    out = F.conv2d_transpose(Tensor(x.transpose(0, 2, 3, 1)), Tensor(w), Tensor(b), data_format="NHWC", **kwargs)
    np.testing.assert_allclose(out.numpy(), expected.transpose(0, 2, 3, 1), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, w, b: F.conv2d_transpose(x, w, b, data_format="NHWC", **kwargs),
                     [x.transpose(0, 2, 3, 1), w, b])


def test_transposed_conv_is_the_adjoint_of_the_conv():
    """<conv2d(y, W), x> == <y, conv2d_transpose(x, W)> for every y: the defining property, at stride 3."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((4, 3, 3, 2))
    kwargs = {"stride": 3, "padding": [1, 2], "dilation": [2, 1], "output_padding": [2, 0]}
    out = F.conv2d_transpose(Tensor(x), Tensor(w), **kwargs).numpy()
    y = rng.standard_normal(out.shape)
    conv = F.conv2d(Tensor(y), Tensor(w), stride=3, padding=[1, 2], dilation=[2, 1]).numpy()
    assert conv.shape == x.shape
    np.testing.assert_allclose(np.sum(conv * x), np.sum(y * out), rtol=1e-12)


def test_layers_build_paddles_parameters_and_call_the_op():
    layer = nn.Conv2DTranspose(4, 6, [3, 2], stride=2, padding=1, output_padding=1, groups=2)
    assert layer.weight.shape == [4, 3, 3, 2] and layer.bias.shape == [6]
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    x = Tensor(np.random.default_rng(5).standard_normal((2, 4, 5, 5)).astype(np.float32))
    out = layer(x)
    expected = F.conv2d_transpose(x, layer.weight, layer.bias, stride=2, padding=1, output_padding=1, groups=2)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert out.shape == [2, 6, 10, 9]
    assert layer(x, output_size=[9, 8]).shape == [2, 6, 9, 8]  # output_padding dropped, as Paddle's layer does
    assert nn.Conv2DTranspose(3, 4, 3, bias_attr=False).bias is None
    one_d = nn.Conv1DTranspose(4, 6, 3, 2, 0, 1, 2)  # Paddle's order: stride, padding, output_padding, groups
    assert one_d.weight.shape == [4, 3, 3] and one_d._groups == 2
    assert one_d(Tensor(np.ones((1, 4, 5), np.float32))).shape == [1, 6, 12]
    with pytest.raises(ValueError, match="exclude each other"):  # Paddle's Conv1DTranspose passes both
        one_d(Tensor(np.ones((1, 4, 5), np.float32)), output_size=11)


def test_default_weight_init_is_xavier_uniform_over_the_transposed_shape():
    paddle.seed(0)
    weight = nn.Conv2DTranspose(64, 32, 3).weight.numpy()
    limit = (6.0 / ((64 + 32) * 9)) ** 0.5
    assert weight.shape == (64, 32, 3, 3) and np.abs(weight).max() <= limit
    assert abs(weight.std() - limit / 3**0.5) < 0.02 * limit


@pytest.mark.parametrize("kwargs, match", [
    ({"stride": 2, "output_padding": 2}, "output_padding .* must be less than the stride"),
    ({"stride": 1, "dilation": 2, "output_padding": 1}, "output_padding .* must be less than the stride"),
    ({"output_padding": -1}, "output_padding must be >= 0"),
    ({"stride": 2, "output_size": [8, 9]}, r"output_size \[8, 9\] must lie in \[inferred, inferred \+ stride\)"),
    ({"stride": 2, "output_size": [11, 10]}, "output_size .* must lie in"),
    ({"stride": 2, "output_size": [9, 9, 9]}, "output_size must be an int or a list of 2 ints"),
    ({"stride": 2, "output_size": 10, "output_padding": 1}, "exclude each other"),
    ({"groups": 3}, "groups=3 must divide the input channels"),
    ({"padding": 3}, "the output would have spatial size"),
    ({"padding": "full"}, "padding must be 'same', 'valid'"),
    ({"data_format": "NCL"}, "data_format"),
    ({"stride": 0}, "stride must be >= 1"),
])
def test_bad_arguments_are_refused_before_anything_is_computed(kwargs, match, monkeypatch):
    def no_compute(*args, **kw):
        raise AssertionError("computed before the arguments were checked")

    monkeypatch.setattr(conv_compute, "conv_backward", no_compute)
    x, w = Tensor(np.ones((1, 2, 4, 4))), Tensor(np.ones((2, 3, 3, 3)))
    with pytest.raises(ValueError, match=match):
        F.conv2d_transpose(x, w, **kwargs)


def test_bad_tensors_are_refused():
    x, w = Tensor(np.ones((1, 2, 4, 4))), Tensor(np.ones((2, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"weight.shape\[0\]"):
        F.conv2d_transpose(x, Tensor(np.ones((3, 3, 3, 3))))
    with pytest.raises(ValueError, match=r"bias must have shape \[6\]"):
        F.conv2d_transpose(x, w, Tensor(np.ones(3)), groups=2)
    with pytest.raises(ValueError, match="weight must be 4-D"):
        F.conv2d_transpose(x, Tensor(np.ones((2, 3, 3))))
    with pytest.raises(ValueError, match="expects a 4-D input"):
        F.conv2d_transpose(Tensor(np.ones((2, 4, 4))), w)
    with pytest.raises(TypeError, match="one dtype"):
        F.conv2d_transpose(x, Tensor(np.ones((2, 3, 3, 3), np.float32)))
    with pytest.raises(TypeError, match="x must be a Tensor"):
        F.conv2d_transpose(np.ones((1, 2, 4, 4)), w)


def test_bad_layer_arguments_are_refused_at_construction():
    with pytest.raises(ValueError, match="groups=2 must divide"):
        nn.Conv2DTranspose(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="output_padding .* must be less than the stride"):
        nn.Conv2DTranspose(4, 4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="weight_attr=False"):
        nn.Conv2DTranspose(4, 4, 3, weight_attr=False)
    with pytest.raises(ValueError, match="data_format"):
        nn.Conv1DTranspose(4, 4, 3, data_format="NCHW")
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2DTranspose(4, 4, 3, padding=[1, 2, 3])


def test_layer_parameters_follow_the_default_dtype():
    previous = paddle.get_default_dtype()
    paddle.set_default_dtype("float64")
    try:
        layer = nn.Conv1DTranspose(2, 4, 3)
    finally:
        paddle.set_default_dtype(previous)
    assert layer.weight.dtype == paddle.float64 and layer.bias.dtype == paddle.float64
    assert nn.Conv2DTranspose(2, 4, 3).weight.dtype == paddle.float32
