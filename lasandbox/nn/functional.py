"""``nn.functional``: activations, losses, linear and dropout, each one differentiable op.

Losses and softmax are fused ops (one node, one backward rule) rather than
chains of primitives: fewer nodes, and numerically stable log-softmax.
"""

from __future__ import annotations

import numpy as np

from lasandbox.autograd import creation
from lasandbox.autograd.function import ensure_tensor, leaf_gradient, make_result, unbroadcast
from lasandbox.autograd.ops_math import add, matmul
from lasandbox.autograd.ops_math import tanh as _tanh
from lasandbox.autograd.tensor import Tensor
from lasandbox.utils.validation import check_choice, check_real

_REDUCTIONS = ("mean", "sum", "none")


def relu(x, name=None):
    xv = x._value
    mask = xv > 0
    return make_result(xv * mask, (x,), lambda g: (g * mask,))


def sigmoid(x, name=None):
    xv = x._value
    # Split by sign so exp never overflows.
    z = np.exp(-np.abs(xv))
    out = np.where(xv >= 0, 1 / (1 + z), z / (1 + z)).astype(xv.dtype, copy=False)
    return make_result(out, (x,), lambda g: (g * out * (1 - out),))


def tanh(x, name=None):
    return _tanh(x)


def _log_softmax_value(xv, axis):
    shifted = xv - xv.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(x, axis=-1, dtype=None, name=None):
    xv = x._value if dtype is None else x._value.astype(dtype)
    out = np.exp(_log_softmax_value(xv, axis))

    def backward(g):
        return ((g - (g * out).sum(axis=axis, keepdims=True)) * out,)

    return make_result(out, (x,), backward)


def log_softmax(x, axis=-1, dtype=None, name=None):
    xv = x._value if dtype is None else x._value.astype(dtype)
    out = _log_softmax_value(xv, axis)

    def backward(g):
        return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)

    return make_result(out, (x,), backward)


def linear(x, weight, bias=None, name=None):
    """``x @ weight + bias`` with Paddle's ``[in, out]`` weight layout.

    One graph node for the 2-D case: the bias is added in place to the product (no second
    array), and the backward computes only the gradients needed, writing a parameter's straight
    into its optimizer's flat buffer (``autograd.function.leaf_gradient``).
    """
    if bias is None:
        return matmul(x, weight)
    x, weight, bias = (ensure_tensor(t) for t in (x, weight, bias))
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


def _reduce(loss_values, reduction, count=None):
    if reduction == "none":
        return loss_values
    total = loss_values.sum()
    return total / (loss_values.size if count is None else count) if reduction == "mean" else total


def _reduce_grad(g, shape, dtype, reduction, count):
    if reduction == "none":
        return g
    scale = g / count if reduction == "mean" else g
    return np.broadcast_to(np.asarray(scale, dtype=dtype), shape)


def _hard_labels(label, logits_shape, axis, ignore_index):
    """Validate int labels of shape [N] or [N, 1] (generally: logits shape with the class axis 1 or gone)."""
    lv = np.asarray(label._value if isinstance(label, Tensor) else label)
    if lv.dtype.kind not in "iu":
        raise TypeError(f"label must hold integers (int64) for hard-label cross_entropy, got {lv.dtype}")
    batch_shape = tuple(s for i, s in enumerate(logits_shape) if i != axis % len(logits_shape))
    if lv.shape == batch_shape:
        pass
    elif lv.ndim == len(logits_shape) and lv.shape[axis] == 1:
        lv = np.squeeze(lv, axis=axis)
        if lv.shape != batch_shape:
            raise ValueError(f"label shape {list(lv.shape)} does not match input batch shape {list(batch_shape)}")
    else:
        raise ValueError(
            f"label must have shape {list(batch_shape)} or {list(batch_shape) + [1]} for input of shape "
            f"{list(logits_shape)}, got {list(lv.shape)}"
        )
    classes = logits_shape[axis]
    valid = lv != ignore_index
    bad = valid & ((lv < 0) | (lv >= classes))
    if bad.any():
        raise ValueError(
            f"label values must be in [0, {classes - 1}] (or ignore_index={ignore_index}), "
            f"got {lv[bad].ravel()[:5].tolist()}"
        )
    return lv, valid


def cross_entropy(input, label, weight=None, ignore_index=-100, reduction="mean", soft_label=False,  # noqa: A002
                  axis=-1, use_softmax=True, label_smoothing=0.0, name=None):
    """Softmax cross-entropy with Paddle's arguments.

    Hard labels are int64 of shape ``[N]`` or ``[N, 1]``; ``soft_label=True``
    takes a probability per class. ``reduction='mean'`` with hard labels
    divides by the (weighted) number of non-ignored labels, as Paddle does.
    """
    check_choice("reduction", reduction, _REDUCTIONS)
    x = input
    xv = x._value
    if xv.ndim < 1:
        raise ValueError("input of cross_entropy needs at least one dimension (the classes)")
    axis = axis % xv.ndim
    logp = _log_softmax_value(xv, axis) if use_softmax else np.log(xv)
    class_weight = None if weight is None else np.asarray(getattr(weight, "_value", weight), xv.dtype)
    if soft_label:
        target = np.asarray(label._value if isinstance(label, Tensor) else label, dtype=xv.dtype)
        if target.shape != xv.shape:
            raise ValueError(f"soft label must have the input's shape {list(xv.shape)}, got {list(target.shape)}")
        weighted = target if class_weight is None else target * class_weight.reshape(
            [-1 if i == axis else 1 for i in range(xv.ndim)])
        per_sample = -(weighted * logp).sum(axis=axis)
        count = per_sample.size
        onehot = weighted
        sample_weight = weighted.sum(axis=axis)
    else:
        labels, valid = _hard_labels(label, xv.shape, axis, ignore_index)
        safe = np.where(valid, labels, 0)
        picked = np.take_along_axis(logp, np.expand_dims(safe, axis), axis=axis).squeeze(axis)
        sample_weight = valid.astype(xv.dtype)
        if class_weight is not None:
            sample_weight = sample_weight * class_weight[safe]
        per_sample = -picked * sample_weight
        # Paddle's mean: over the weights of the labels when class weights are given, over the
        # non-ignored labels when ignore_index >= 0, else over all N labels.
        if class_weight is not None:
            count = sample_weight.sum()
        else:
            count = valid.sum() if ignore_index >= 0 else valid.size
        onehot = np.zeros_like(xv)
        np.put_along_axis(onehot, np.expand_dims(safe, axis), 1, axis=axis)
        onehot *= np.expand_dims(sample_weight, axis)
    count = max(float(count), 1.0) if reduction == "mean" else count
    out = np.asarray(_reduce(per_sample.astype(xv.dtype), reduction, count), dtype=xv.dtype)
    # Paddle keeps the class axis (size 1) in unreduced output for [N, 1] and soft labels.
    keep_class_axis = soft_label or np.ndim(getattr(label, "_value", label)) == xv.ndim
    if reduction == "none" and keep_class_axis:
        out = np.expand_dims(out, axis)

    def backward(g):
        g = np.asarray(g, dtype=xv.dtype)
        if reduction == "none" and keep_class_axis:
            g = np.squeeze(g, axis)
        gs = np.expand_dims(_reduce_grad(g, per_sample.shape, xv.dtype, reduction, count), axis)
        if use_softmax:
            probs = np.exp(logp)
            grad = gs * (probs * np.expand_dims(sample_weight, axis) - onehot)
        else:
            grad = -gs * onehot / xv
        return (grad.astype(xv.dtype, copy=False),)

    return make_result(out, (x,), backward)


def mse_loss(input, label, reduction="mean", name=None):  # noqa: A002 - Paddle's name
    check_choice("reduction", reduction, _REDUCTIONS)
    label = ensure_tensor(label, like=input)
    xv, yv = input._value, label._value
    if xv.shape != yv.shape:
        raise ValueError(f"mse_loss needs input and label of one shape, got {list(xv.shape)} and {list(yv.shape)}")
    diff = xv - yv
    out = np.asarray(_reduce(diff * diff, reduction), dtype=xv.dtype)

    def backward(g):
        gd = 2 * _reduce_grad(g, diff.shape, xv.dtype, reduction, diff.size) * diff
        return unbroadcast(gd, xv.shape), unbroadcast(-gd, yv.shape)

    return make_result(out, (input, label), backward)


def dropout(x, p=0.5, axis=None, training=True, mode="upscale_in_train", name=None):
    """Zero each element with probability ``p`` (``upscale_in_train`` rescales kept ones by 1/(1-p))."""
    p = check_real("p", p, low=0.0, high=1.0)
    check_choice("mode", mode, ("upscale_in_train", "downscale_in_infer"))
    xv = x._value
    if not training:
        return x if mode == "upscale_in_train" else make_result(xv * (1 - p), (x,), lambda g: (g * (1 - p),))
    if p == 1.0:
        return make_result(np.zeros_like(xv), (x,), lambda g: (np.zeros_like(g),))
    keep = creation.get_generator().random(xv.shape) >= p
    factor = keep / (1 - p) if mode == "upscale_in_train" else keep
    factor = factor.astype(xv.dtype)
    return make_result(xv * factor, (x,), lambda g: (g * factor,))


# Convolution, pooling and batch norm live in their own modules; re-exported here under Paddle's names.
from lasandbox.nn.functional_conv import conv1d, conv2d  # noqa: E402, F401
from lasandbox.nn.functional_norm import batch_norm, dropout2d  # noqa: E402, F401
from lasandbox.nn.functional_pool import (  # noqa: E402, F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
