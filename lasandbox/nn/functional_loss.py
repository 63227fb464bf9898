"""Loss functions of ``nn.functional`` (cross entropy with Paddle's weighting rules, MSE, label smoothing).

Each loss is one fused op (one node, one backward rule). ``cross_entropy``
follows Paddle 3.3.1 number for number, including how it weights and averages:

* the loss of a sample is ``-sum_c T_c log p_c`` for its target distribution ``T``
  (one-hot for a hard label, zero for an ignored one);
* with a class ``weight``, a sample's loss is multiplied by ``w[label]`` (hard) or by
  ``sum_c T_c w_c`` (soft labels, also after label smoothing);
* ``reduction='mean'`` divides by the summed sample weights when a ``weight`` is given,
  by the number of label entries that differ from ``ignore_index`` when
  ``ignore_index >= 0``, and by the number of samples otherwise;
* ``label_smoothing=eps`` turns hard labels into ``(1 - eps) * onehot + eps / C``.
"""

from __future__ import annotations

import numpy as np

from lasandbox.autograd.function import ensure_tensor, make_result, unbroadcast
from lasandbox.autograd.tensor import Tensor
from lasandbox.utils.validation import check_choice, check_int, check_real

REDUCTIONS = ("mean", "sum", "none")


def log_softmax_value(xv, axis):
    """``log(softmax(x))`` along ``axis``, in ``x``'s own precision (as Paddle's kernel)."""
    shifted = xv - xv.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def reduce_value(loss_values, reduction, count=None):
    if reduction == "none":
        return loss_values
    total = loss_values.sum()
    return total / (loss_values.size if count is None else count) if reduction == "mean" else total


def reduce_grad(g, shape, dtype, reduction, count):
    if reduction == "none":
        return g
    scale = g / count if reduction == "mean" else g
    return np.broadcast_to(np.asarray(scale, dtype=dtype), shape)


def _hard_labels(label, logits_shape, axis, ignore_index):
    """Validate int labels of shape [N] or [N, 1] (generally: logits shape with the class axis 1 or gone)."""
    lv = np.asarray(label._value if isinstance(label, Tensor) else label)
    if lv.dtype.kind not in "iu":
        raise TypeError(f"label must hold integers (int64) for hard-label cross_entropy, got {lv.dtype}")
    batch_shape = tuple(s for i, s in enumerate(logits_shape) if i != axis)
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


def _one_hot(labels, valid, shape, axis, dtype):
    onehot = np.zeros(shape, dtype=dtype)
    np.put_along_axis(onehot, np.expand_dims(np.where(valid, labels, 0), axis), 1, axis=axis)
    return onehot * np.expand_dims(valid, axis).astype(dtype)


def _targets(input_value, label, axis, ignore_index, soft_label, label_smoothing):
    """(T, mask, keep_class_axis, hard) with T the target distribution per sample along ``axis``.

    ``mask`` marks the label entries that differ from ``ignore_index`` (Paddle's mean counts them).
    """
    xv = input_value
    lv = np.asarray(label._value if isinstance(label, Tensor) else label)
    if label_smoothing > 0 and lv.dtype.kind == "f" and lv.shape == xv.shape:
        soft_label = True  # Paddle smooths a float (e.g. one-hot) label of the input's shape as a soft label
    if soft_label:
        target = np.asarray(label._value if isinstance(label, Tensor) else label, dtype=xv.dtype)
        if target.shape != xv.shape:
            raise ValueError(f"soft label must have the input's shape {list(xv.shape)}, got {list(target.shape)}")
        hard = None
    else:
        labels, valid = _hard_labels(label, xv.shape, axis, ignore_index)
        target = _one_hot(labels, valid, xv.shape, axis, xv.dtype)
        hard = (labels, valid)
    if label_smoothing > 0:
        classes = xv.shape[axis]
        # Paddle smooths in the label's float dtype -- float32 for the one-hot of hard labels -- and
        # casts to the input's dtype afterwards; so does this.
        label_dtype = lv.dtype if soft_label else np.dtype(np.float32)
        if hard is not None:  # Paddle smooths the one-hot of every label, ignored ones included
            labels = hard[0]
            if np.any((labels < 0) | (labels >= classes)):
                raise ValueError(f"label_smoothing needs every label in [0, {classes - 1}]; labels equal to "
                                 f"ignore_index={ignore_index} cannot be smoothed (Paddle fails on them too)")
            target = _one_hot(labels, np.ones_like(hard[1]), xv.shape, axis, label_dtype)
        else:
            target = lv.astype(label_dtype)
        eps = label_dtype.type(label_smoothing)
        target = ((label_dtype.type(1) - eps) * target + eps / label_dtype.type(classes)).astype(xv.dtype)
        return target, target != ignore_index, True, None
    if hard is None:
        return target, target != ignore_index, True, None
    keep = np.ndim(getattr(label, "_value", label)) == xv.ndim
    return target, np.expand_dims(hard[1], axis), keep, hard


def cross_entropy(input, label, weight=None, ignore_index=-100, reduction="mean", soft_label=False,  # noqa: A002
                  axis=-1, use_softmax=True, label_smoothing=0.0, name=None):
    """Softmax cross-entropy with Paddle's arguments and numerics (see the module docstring).

    Hard labels are int64 of shape ``[N]`` or ``[N, 1]``; ``soft_label=True`` takes a
    probability per class; ``use_softmax=False`` takes probabilities as ``input``.
    """
    check_choice("reduction", reduction, REDUCTIONS)
    label_smoothing = check_real("label_smoothing", label_smoothing, low=0.0, high=1.0)
    if ignore_index > 0 and soft_label:
        raise ValueError(f"ignore_index must be -100 with soft_label=True, got {ignore_index}")
    x = input
    xv = x._value
    if xv.ndim < 1:
        raise ValueError("input of cross_entropy needs at least one dimension (the classes)")
    if xv.dtype.kind != "f":  # integer logits would give an integer loss (1 where float32 gives 1.139)
        raise TypeError(f"input of cross_entropy must be float logits (float32/float64), got {xv.dtype}")
    axis = check_int("axis", axis, low=-xv.ndim, high=xv.ndim - 1) % xv.ndim  # out of range: refused, not wrapped
    logp = log_softmax_value(xv, axis) if use_softmax else np.log(xv)
    target, mask, keep_class_axis, hard = _targets(xv, label, axis, ignore_index, soft_label, label_smoothing)
    per_sample = -(target * logp).sum(axis=axis)
    if weight is None:
        sample_weight = None
    else:
        class_weight = np.asarray(getattr(weight, "_value", weight), dtype=xv.dtype)
        if class_weight.shape != (xv.shape[axis],):
            raise ValueError(f"weight must have one entry per class ({xv.shape[axis]}), got shape "
                             f"{list(class_weight.shape)}")
        shape = [-1 if i == axis else 1 for i in range(xv.ndim)]
        sample_weight = (target * class_weight.reshape(shape)).sum(axis=axis) if hard is None else (
            class_weight[np.where(hard[1], hard[0], 0)] * hard[1])
        per_sample = per_sample * sample_weight
    count = None
    if reduction == "mean":
        if ignore_index >= 0:
            counted = mask if sample_weight is None else mask * np.expand_dims(sample_weight, axis)
            count = float(counted.sum())
            count = count + (count == 0.0)
        elif sample_weight is not None:
            count = float(sample_weight.sum())
            count = count + (count == 0.0)
    out = np.asarray(reduce_value(per_sample.astype(xv.dtype), reduction, count), dtype=xv.dtype)
    if reduction == "none" and keep_class_axis:
        out = np.expand_dims(out, axis)
    divisor = per_sample.size if count is None else count

    def backward(g):
        g = np.asarray(g, dtype=xv.dtype)
        if reduction == "none" and keep_class_axis:
            g = np.squeeze(g, axis)
        gs = reduce_grad(g, per_sample.shape, xv.dtype, reduction, divisor)
        if sample_weight is not None:
            gs = gs * sample_weight
        gs = np.expand_dims(gs, axis)
        if use_softmax:
            grad = gs * (np.exp(logp) * target.sum(axis=axis, keepdims=True) - target)
        else:
            grad = -gs * target / xv
        return (grad.astype(xv.dtype, copy=False),)

    return make_result(out, (x,), backward)


def softmax_with_cross_entropy(logits, label, soft_label=False, ignore_index=-100, numeric_stable_mode=True,
                               return_softmax=False, axis=-1):
    """Paddle's per-sample softmax cross-entropy: the loss keeps the class axis (size 1)."""
    lv = np.asarray(getattr(label, "_value", label))
    if not soft_label and lv.ndim != logits.ndim:
        raise ValueError(f"label of softmax_with_cross_entropy must have the logits' rank {logits.ndim} "
                         f"(class axis of size 1), got shape {list(lv.shape)}")
    loss = cross_entropy(logits, label, ignore_index=ignore_index, reduction="none", soft_label=soft_label,
                         axis=axis)
    if return_softmax:
        from lasandbox.nn.functional import softmax

        return loss, softmax(logits.detach(), axis=axis)
    return loss


def label_smooth(label, prior_dist=None, epsilon=0.1, name=None):
    """``(1 - epsilon) * label + epsilon * prior`` (uniform prior ``1/C`` by default); differentiable in ``label``."""
    epsilon = check_real("epsilon", epsilon, low=0.0, high=1.0)
    label = ensure_tensor(label)
    lv = label._value
    if lv.dtype.kind != "f":
        raise TypeError(f"label of label_smooth must be float (a one-hot or soft label), got {lv.dtype}")
    prior = (1.0 / lv.shape[-1]) if prior_dist is None else np.asarray(getattr(prior_dist, "_value", prior_dist))
    out = ((1 - epsilon) * lv + epsilon * prior).astype(lv.dtype)
    return make_result(out, (label,), lambda g: ((1 - epsilon) * g,))


def mse_loss(input, label, reduction="mean", name=None):  # noqa: A002 - Paddle's name
    check_choice("reduction", reduction, REDUCTIONS)
    if not isinstance(input, Tensor):  # Paddle: ValueError
        raise ValueError(f"input of mse_loss must be a Tensor, got {type(input).__name__}")
    label = ensure_tensor(label, like=input)
    xv, yv = input._value, label._value
    if xv.shape != yv.shape:
        raise ValueError(f"mse_loss needs input and label of one shape, got {list(xv.shape)} and {list(yv.shape)}")
    diff = xv - yv
    with np.errstate(invalid="ignore", divide="ignore"):  # the mean of no elements is NaN, as in Paddle
        out = np.asarray(reduce_value(diff * diff, reduction), dtype=xv.dtype)

    def backward(g):
        with np.errstate(invalid="ignore", divide="ignore"):
            gd = 2 * reduce_grad(g, diff.shape, xv.dtype, reduction, diff.size) * diff
        return unbroadcast(gd, xv.shape), unbroadcast(-gd, yv.shape)

    return make_result(out, (input, label), backward)
