"""``nn.functional``'s lookup and normalisation ops: one_hot, embedding, layer_norm.

``embedding`` gives dense gradients: ``sparse=True`` is accepted and gives the
same numbers with every optimizer that treats absent rows as zero gradients
(all of lasandbox's; Paddle's ``lazy_mode`` Adam is the exception and is not
offered here).
"""

from __future__ import annotations

import numbers

import numpy as np

from lasandbox.autograd.engine import no_grad
from lasandbox.autograd.function import make_result
from lasandbox.autograd.tensor import Tensor, float32
from lasandbox.utils.validation import check_real


def _int_ids(x, op):
    ids = np.asarray(getattr(x, "_value", x))
    if ids.dtype.kind not in "iu":
        raise TypeError(f"x of {op} must hold integer ids (int32/int64), got {ids.dtype}")
    return ids


def one_hot(x, num_classes=-1, name=None):
    """float32 one-hot vectors: shape ``x.shape + [num_classes]`` (-1: ``max(x) + 1``)."""
    ids = _int_ids(x, "one_hot")
    classes = int(getattr(num_classes, "_value", num_classes))
    if classes == -1:
        classes = int(ids.max()) + 1 if ids.size else 0
    if classes < 0:
        raise ValueError(f"num_classes must be -1 or >= 0, got {num_classes}")
    if ids.size and (ids.min() < 0 or ids.max() >= classes):
        raise ValueError(f"values of x must be in [0, {classes - 1}] for num_classes={classes}, "
                         f"got min {int(ids.min())} and max {int(ids.max())}")
    out = np.zeros(ids.shape + (classes,), dtype=float32)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return Tensor(out)


def _padding_index(padding_idx, rows):
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral):
        raise TypeError(f"padding_idx must be an int or None, got {padding_idx!r}")
    if not -rows <= padding_idx < rows:
        raise ValueError(f"padding_idx must be within [-{rows}, {rows}), got {padding_idx}")
    return int(padding_idx) % rows


@no_grad()
def embedding_renorm_(x, weight, max_norm, norm_type=2.0):
    """Scale, in place, the rows of ``weight`` used by ``x`` whose ``norm_type``-norm exceeds ``max_norm``."""
    ids = np.unique(_int_ids(x, "embedding_renorm_"))
    rows = weight._value[ids]
    norms = np.linalg.norm(rows.astype(np.float64), ord=norm_type, axis=1, keepdims=True)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    weight._value[ids] = (rows * scale).astype(weight.dtype)
    return weight


def embedding(x, weight, padding_idx=None, max_norm=None, norm_type=2.0, sparse=False, scale_grad_by_freq=False,
              name=None):
    """Rows of ``weight`` picked by the ids in ``x`` (shape ``x.shape + [dim]``).

    ``padding_idx`` rows come out as zeros and get no gradient; ``max_norm`` renormalises the
    used rows first (in place); ``scale_grad_by_freq`` divides each row's gradient by how often
    its id occurs in ``x``.
    """
    ids = _int_ids(x, "embedding")
    rows = weight.shape[0]
    pad = _padding_index(padding_idx, rows)
    if ids.size and (ids.min() < 0 or ids.max() >= rows):
        raise ValueError(f"ids of embedding must be in [0, {rows - 1}], got min {int(ids.min())}, max {int(ids.max())}")
    if scale_grad_by_freq and sparse:
        raise ValueError("scale_grad_by_freq=True cannot be combined with sparse=True (as in Paddle)")
    if max_norm:
        embedding_renorm_(ids, weight, check_real("max_norm", max_norm, low=0.0), norm_type)
    table = weight._value
    keep = np.ones(ids.shape, dtype=bool) if pad is None else ids != pad
    out = table[ids] * keep[..., None].astype(table.dtype)

    def backward(g):
        grad = np.zeros_like(table)
        contributions = g * keep[..., None]
        if scale_grad_by_freq:
            counts = np.bincount(ids.ravel(), minlength=rows).astype(table.dtype)
            contributions = contributions / counts[ids][..., None]
        np.add.at(grad, ids.reshape(-1), contributions.reshape(-1, table.shape[1]))
        return (grad,)

    return make_result(out, (weight,), backward)


def layer_norm(x, normalized_shape, weight=None, bias=None, epsilon=1e-05, name=None):
    """``(x - mean) / sqrt(var + epsilon) * weight + bias`` over the trailing ``normalized_shape`` dims."""
    shape = [normalized_shape] if isinstance(normalized_shape, numbers.Integral) else list(normalized_shape)
    xv = x._value
    k = len(shape)
    if k == 0 or list(xv.shape[xv.ndim - k:]) != [int(s) for s in shape]:
        raise ValueError(f"normalized_shape {shape} must match the last dims of the input, shape {list(xv.shape)}")
    epsilon = check_real("epsilon", epsilon, low=0.0)
    axes = tuple(range(xv.ndim - k, xv.ndim))
    wide = xv.astype(np.float64)
    mean = wide.mean(axis=axes, keepdims=True)
    centred = wide - mean
    inv_std = 1 / np.sqrt((centred * centred).mean(axis=axes, keepdims=True) + epsilon)
    normed = centred * inv_std
    params = [t for t in (weight, bias) if t is not None]
    w = None if weight is None else weight._value.astype(np.float64).reshape(shape)
    out = normed * w if w is not None else normed
    if bias is not None:
        out = out + bias._value.astype(np.float64).reshape(shape)
    n = int(np.prod(shape))

    def backward(g):
        g = g.astype(np.float64)
        lead = tuple(range(xv.ndim - k))
        g_normed = g * w if w is not None else g
        gx = inv_std * (g_normed - g_normed.mean(axis=axes, keepdims=True)
                        - normed * (g_normed * normed).sum(axis=axes, keepdims=True) / n)
        grads = [gx.astype(xv.dtype)]
        if weight is not None:
            grads.append((g * normed).sum(axis=lead).reshape(weight._value.shape).astype(weight.dtype))
        if bias is not None:
            grads.append(g.sum(axis=lead).reshape(bias._value.shape).astype(bias.dtype))
        return tuple(grads)

    return make_result(out.astype(xv.dtype), (x, *params), backward)
