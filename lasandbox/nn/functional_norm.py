"""``F.batch_norm`` and ``F.dropout2d`` with Paddle's arguments and numerics.

Batch norm, as Paddle 3.3.1 computes it (checked against recorded numbers,
``tests/fixtures/paddle_cnn.npz``):

* the batch statistics are the per-channel mean and the *biased* variance
  (divided by ``N*H*W``); the running variance is updated with that same
  biased variance (PyTorch uses the unbiased one there);
* ``running = momentum * running + (1 - momentum) * batch`` (``momentum=0.9``
  keeps 90% of the old value, the opposite of PyTorch's convention);
* ``use_global_stats=None``: batch statistics (and a running update) when
  ``training``, running statistics otherwise; ``True``: always the running
  statistics, never updated; ``False``: always batch statistics, with the
  running update, even in eval mode;
* the backward pass differentiates through the batch statistics only in
  training mode. In eval mode with ``use_global_stats=False`` Paddle's
  gradient treats the statistics as constants and takes them from the
  running ones *after* the update (recorded: ``bn2d_eval_batch_stats``), so
  there the gradient is not the derivative of the forward pass; replicated;
* fewer than two values per channel (``N * H * W`` is 1 or 0) where batch
  statistics would be used: Paddle's CPU kernel skips the normalisation.
  With one value, ``y = x`` (a copy) and the running statistics stay as they
  were; in training mode the gradient is that of the identity (``dx = dy``,
  zero weight and bias gradients), in eval mode with
  ``use_global_stats=False`` it is the eval-mode one above (running
  statistics, unchanged). An empty batch gives an empty output, unchanged
  statistics and zero weight and bias gradients in every mode (recorded:
  the ``*_one_value*`` and ``*_empty*`` cases).
"""

from __future__ import annotations

import numpy as np

from lasandbox.autograd import creation
from lasandbox.autograd.function import make_result
from lasandbox.nn import conv_args
from lasandbox.nn.functional_conv import _check_tensor
from lasandbox.utils.validation import check_choice, check_real

BATCH_NORM_FORMATS = ("NC", "NCL", "NCHW", "NCDHW", "NLC", "NHWC", "NDHWC")


def _channel_first(xv, channel_last):
    return np.moveaxis(xv, -1, 1) if channel_last else xv


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.9, epsilon=1e-05,
               data_format="NCHW", use_global_stats=None, name=None):
    """Normalise each channel of ``x`` by batch or running statistics, then scale by ``weight``, shift by ``bias``.

    Updates ``running_mean``/``running_var`` in place when batch statistics are
    used (see the module docstring for when).
    """
    from lasandbox.nn import norm_kernels

    check_choice("data_format", data_format, BATCH_NORM_FORMATS)
    _check_tensor("x", x, "batch_norm")
    if x.ndim < 2:
        raise ValueError(f"batch_norm expects an input [N, C, ...] of at least 2 dims, got shape {x.shape}")
    momentum = check_real("momentum", momentum, low=0.0, high=1.0)
    epsilon = check_real("epsilon", epsilon, low=0.0)
    if use_global_stats is not None and not isinstance(use_global_stats, (bool, np.bool_)):
        raise TypeError(f"use_global_stats must be None or a bool, got {use_global_stats!r}")
    channel_last = data_format[1] != "C"
    channels = x.shape[-1] if channel_last else x.shape[1]
    for label, tensor in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                          ("bias", bias)):
        if tensor is None and label.startswith("running"):
            raise TypeError(f"batch_norm: {label} must be a Tensor, got None")
        if tensor is not None:
            _check_tensor(label, tensor, "batch_norm")
            if tensor.shape != [channels]:
                raise ValueError(f"batch_norm: {label} must have shape [{channels}] (the channels of x, shape "
                                 f"{x.shape}, data_format={data_format!r}), got {tensor.shape}")
            # Paddle's kernel takes the running statistics in any float dtype, weight and bias in x's only.
            if not label.startswith("running") and tensor.dtype != x.dtype:
                raise TypeError(f"batch_norm: {label} must have x's dtype {x.dtype}, got {tensor.dtype} "
                                f"(a float32 layer takes float32 input, as in Paddle)")
    use_batch = bool(training) if use_global_stats is None else not use_global_stats
    grad_through_stats = use_batch and bool(training)

    xv = x._value
    x3 = norm_kernels.as_channels_view(_channel_first(xv, channel_last))
    count = x3.shape[0] * x3.shape[2]
    # Paddle's rule for fewer than two values per channel (module docstring): no batch statistics at all.
    skip_batch = use_batch and count <= 1
    if use_batch and not skip_batch:
        mean, var = np.empty(channels), np.empty(channels)
        norm_kernels.batch_statistics(x3, mean, var)
        rm, rv = running_mean._value, running_var._value
        rm[...] = momentum * rm + (1.0 - momentum) * mean
        rv[...] = momentum * rv + (1.0 - momentum) * var
    else:
        mean = running_mean._value.astype(np.float64)
        var = running_var._value.astype(np.float64)
    inv_std = 1.0 / np.sqrt(var + epsilon)
    gamma = np.ones(channels) if weight is None else weight._value.astype(np.float64)
    beta = np.zeros(channels) if bias is None else bias._value.astype(np.float64)
    scale = gamma * inv_std
    if skip_batch:
        out = xv.copy()
    else:
        out3 = np.empty_like(x3)
        norm_kernels.affine_channels(x3, scale.astype(xv.dtype), (beta - mean * scale).astype(xv.dtype), out3)
        out = out3.reshape(_channel_first(xv, channel_last).shape)
        if channel_last:
            out = np.ascontiguousarray(np.moveaxis(out, 1, -1))
    if use_batch and not grad_through_stats:  # Paddle's eval-mode gradient (module docstring)
        mean = running_mean._value.astype(np.float64)
        inv_std = 1.0 / np.sqrt(running_var._value.astype(np.float64) + epsilon)
        scale = gamma * inv_std

    def identity_backward(g):
        grads = [None if x.stop_gradient else np.array(g, dtype=xv.dtype)]
        grads += [np.zeros(channels, t.dtype) for t in (weight, bias) if t is not None]
        return tuple(grads)

    def backward(g):
        g3 = norm_kernels.as_channels_view(_channel_first(np.asarray(g, dtype=xv.dtype), channel_last))
        sum_g, sum_gc = np.empty(channels), np.empty(channels)
        norm_kernels.gradient_sums(g3, x3, mean, sum_g, sum_gc)
        dx = None
        if not x.stop_gradient:
            dx3 = np.empty_like(x3)
            if grad_through_stats:
                slope = sum_gc * inv_std * inv_std / count
                norm_kernels.batch_stats_input_grad(g3, x3, mean, scale, sum_g / count, slope, dx3)
            else:
                norm_kernels.affine_channels(g3, scale.astype(xv.dtype), np.zeros(channels, xv.dtype), dx3)
            dx = dx3.reshape(_channel_first(xv, channel_last).shape)
            if channel_last:
                dx = np.moveaxis(dx, 1, -1)
        grads = [dx]
        if weight is not None:
            grads.append((sum_gc * inv_std).astype(weight.dtype))
        if bias is not None:
            grads.append(sum_g.astype(bias.dtype))
        return tuple(grads)

    parents = (x, *(t for t in (weight, bias) if t is not None))
    return make_result(out, parents, identity_backward if skip_batch and grad_through_stats else backward)


def dropout2d(x, p=0.5, training=True, data_format="NCHW", name=None):
    """Zero whole channels with probability ``p``, scaling the kept ones by ``1/(1-p)`` (Paddle's upscale_in_train)."""
    channel_last = conv_args.check_data_format(data_format, 2)
    _check_tensor("x", x, "dropout2d")
    conv_args.check_input_rank("dropout2d", x.shape, 2, data_format)
    p = check_real("p", p, low=0.0, high=1.0)
    if not training or p == 0.0:
        return x
    xv = x._value
    n, c = xv.shape[0], xv.shape[-1] if channel_last else xv.shape[1]
    if p == 1.0:
        factor = np.zeros((n, c), dtype=xv.dtype)
    else:
        keep = creation.get_generator().random((n, c)) >= p
        factor = (keep / (1.0 - p)).astype(xv.dtype)
    factor = factor.reshape((n, 1, 1, c) if channel_last else (n, c, 1, 1))
    return make_result(xv * factor, (x,), lambda g: (g * factor,))


