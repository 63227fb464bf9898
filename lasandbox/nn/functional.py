"""``nn.functional``: activations, losses, linear and dropout, each one differentiable op.

Losses and softmax are fused ops (one node, one backward rule) rather than
chains of primitives: fewer nodes, and numerically stable log-softmax.
"""

from __future__ import annotations

import numpy as np

from lasandbox.autograd import creation
from lasandbox.autograd.function import ensure_tensor, leaf_gradient, make_result
from lasandbox.autograd.ops_math import add, matmul
from lasandbox.autograd.ops_math import tanh as _tanh
from lasandbox.nn.functional_activation import gelu, leaky_relu, silu, softplus
from lasandbox.nn.functional_common import embedding, layer_norm, one_hot
from lasandbox.nn.functional_loss import (
    cross_entropy,
    label_smooth,
    log_softmax_value,
    mse_loss,
    softmax_with_cross_entropy,
)
from lasandbox.utils.validation import check_choice, check_real

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "dropout", "gelu", "leaky_relu", "silu",
    "softplus", "embedding", "layer_norm", "one_hot", "cross_entropy", "label_smooth", "mse_loss",
    "softmax_with_cross_entropy", "conv1d", "conv2d", "conv1d_transpose", "conv2d_transpose", "batch_norm",
    "dropout2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d",
]


def relu(x, name=None):
    """``max(x, 0)``; one numba pass each way for contiguous float arrays (``activation_kernels``)."""
    xv = x._value
    if xv.dtype.kind != "f" or not xv.flags.c_contiguous:
        mask = xv > 0
        return make_result(xv * mask, (x,), lambda g: (g * mask,))
    from lasandbox.nn import activation_kernels as kernels

    out = np.empty_like(xv)
    kernels.relu_forward(xv, out)

    def backward(g):
        g = np.ascontiguousarray(g, dtype=out.dtype)
        grad_x = np.empty_like(out)
        kernels.relu_backward(g, out, grad_x)
        return (grad_x,)

    return make_result(out, (x,), backward)


def sigmoid(x, name=None):
    xv = x._value
    # Split by sign so exp never overflows.
    z = np.exp(-np.abs(xv))
    out = np.where(xv >= 0, 1 / (1 + z), z / (1 + z)).astype(xv.dtype, copy=False)
    return make_result(out, (x,), lambda g: (g * out * (1 - out),))


def tanh(x, name=None):
    return _tanh(x)


def softmax(x, axis=-1, dtype=None, name=None):
    xv = x._value if dtype is None else x._value.astype(dtype)
    out = np.exp(log_softmax_value(xv, axis))

    def backward(g):
        return ((g - (g * out).sum(axis=axis, keepdims=True)) * out,)

    return make_result(out, (x,), backward)


def log_softmax(x, axis=-1, dtype=None, name=None):
    xv = x._value if dtype is None else x._value.astype(dtype)
    out = log_softmax_value(xv, axis)

    def backward(g):
        return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)

    return make_result(out, (x,), backward)


def linear(x, weight, bias=None, name=None):
    """``x @ weight + bias`` with Paddle's ``[in, out]`` weight layout.

    One graph node for the 2-D case: the bias is added in place to the product (no second
    array), and the backward computes only the gradients needed, writing a parameter's straight
    into its optimizer's flat buffer (``autograd.function.leaf_gradient``).
    """
    x, weight = ensure_tensor(x), ensure_tensor(weight)
    if x._value.dtype != weight._value.dtype:  # as Paddle: no silent promotion (int64 or float64 x -> float64 out)
        raise TypeError(f"linear: x has dtype {x._value.dtype}, the weight {weight._value.dtype}; cast x first "
                        f"(x.astype('{weight._value.dtype}'))")
    if bias is None:
        return matmul(x, weight)
    bias = ensure_tensor(bias)
    if list(bias.shape) != [weight.shape[-1]]:  # numpy would broadcast a wrong-sized one or fail unnamed
        raise ValueError(f"linear: bias has shape {list(bias.shape)}, the weight {list(weight.shape)} needs "
                         f"[{weight.shape[-1]}]")
    if x.ndim != 2 or weight.ndim != 2 or bias.ndim != 1 or bias.shape[0] != weight.shape[1] \
            or x._value.dtype != weight._value.dtype or bias._value.dtype != weight._value.dtype:
        return add(matmul(x, weight), bias)  # the general path (its own shape checks and messages)
    xv, wv, bv = x._value, weight._value, bias._value
    if xv.shape[1] != wv.shape[0]:
        return matmul(x, weight)  # raises matmul's shape error
    out = np.matmul(xv, wv)
    out += bv

    def backward(g):
        gx = None if x.stop_gradient else leaf_gradient(x, lambda o: np.matmul(g, wv.T, out=o))
        gw = None if weight.stop_gradient else leaf_gradient(weight, lambda o: np.matmul(xv.T, g, out=o))
        gb = None if bias.stop_gradient else leaf_gradient(bias, lambda o: np.sum(g, axis=0, out=o))
        return gx, gw, gb

    return make_result(out, (x, weight, bias), backward)


def dropout_axes(axis):
    """``axis`` of dropout as a list of ints (None stays None); a TypeError naming it otherwise."""
    if axis is None:
        return None
    axes = [axis] if isinstance(axis, int) and not isinstance(axis, bool) else axis
    if not isinstance(axes, (list, tuple)) or not axes or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in axes):
        raise TypeError(f"axis must be an int or a list/tuple of ints, got {axis!r}")
    return list(axes)


def _dropout_mask_shape(shape, axis):
    """The mask's shape: the input's along ``axis``, 1 elsewhere, as Paddle draws it (one mask value
    shared along the other axes); the whole shape when ``axis`` is None."""
    axes = dropout_axes(axis)
    if axes is None:
        return shape
    ndim = len(shape)
    if any(not -ndim <= a < ndim for a in axes):
        raise ValueError(f"axis {axis!r} is out of range for an input of {ndim} dimensions")
    kept = {a % ndim for a in axes}
    return tuple(n if i in kept else 1 for i, n in enumerate(shape))


def dropout(x, p=0.5, axis=None, training=True, mode="upscale_in_train", name=None):
    """Zero each element with probability ``p`` (``upscale_in_train`` rescales kept ones by 1/(1-p)).

    ``axis``: draw the mask only along these axes and share it along the others (Paddle's meaning).
    """
    p = check_real("p", p, low=0.0, high=1.0)
    check_choice("mode", mode, ("upscale_in_train", "downscale_in_infer"))
    xv = x._value
    mask_shape = _dropout_mask_shape(xv.shape, axis)
    if not training:
        return x if mode == "upscale_in_train" else make_result(xv * (1 - p), (x,), lambda g: (g * (1 - p),))
    if p == 1.0:
        return make_result(np.zeros_like(xv), (x,), lambda g: (np.zeros_like(g),))
    keep = creation.get_generator().random(mask_shape) >= p
    factor = keep / (1 - p) if mode == "upscale_in_train" else keep
    factor = factor.astype(xv.dtype)
    return make_result(xv * factor, (x,), lambda g: (g * factor,))


# Convolution, pooling and batch norm live in their own modules; re-exported here under Paddle's names.
from lasandbox.nn.functional_conv import conv1d, conv2d  # noqa: E402, F401
from lasandbox.nn.functional_conv_transpose import conv1d_transpose, conv2d_transpose  # noqa: E402, F401
from lasandbox.nn.functional_norm import batch_norm, dropout2d  # noqa: E402, F401
from lasandbox.nn.functional_pool import (  # noqa: E402, F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)

_NOT_IMPLEMENTED = frozenset({
    "conv3d", "conv3d_transpose", "max_pool3d", "avg_pool3d",
    "adaptive_avg_pool3d", "adaptive_max_pool3d", "dropout3d", "alpha_dropout", "max_unpool1d", "max_unpool2d",
    "max_unpool3d", "lp_pool1d", "lp_pool2d", "instance_norm", "group_norm", "local_response_norm", "interpolate",
    "upsample", "pixel_shuffle", "unfold", "fold", "pad",
})


def __getattr__(name):
    # Paddle's names lasandbox lacks say so (hasattr stays False), as lasandbox.nn's do.
    if name in _NOT_IMPLEMENTED:
        raise AttributeError(f"paddle.nn.functional.{name} is not implemented in lasandbox")
    raise AttributeError(f"module 'lasandbox.nn.functional' has no attribute {name!r}")
