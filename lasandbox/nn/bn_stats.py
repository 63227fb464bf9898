"""Recompute batch-norm running statistics for the current weights (e.g. a Lookahead run's slow weights).

Weights that were never trained themselves -- Lookahead's slow weights, a
Polyak / SWA average -- come with running statistics accumulated under
*other* weights (the fast ones). ``update_bn`` replaces them by statistics of
one pass over a loader with the weights the model holds now, as SWA's
``update_bn`` does (Izmailov et al. 2018).

What the recomputed statistics are: for every batch-norm layer, the plain
(unweighted) average over the loader's batches of each batch's statistics --
the mean of the batch means, and the mean of the batch (biased, Paddle's)
variances. That is a cumulative average: before batch ``t`` (from 1) each
layer's ``momentum`` is set to ``(t - 1) / t`` (``t`` counting the batches that update that layer: one
with a single value per channel passes through untouched, as Paddle's batch norm does), so Paddle's update
``running = momentum*running + (1 - momentum)*batch`` keeps the running
average. With equal batch sizes the running mean is exactly the mean over
the data; the running variance is the average within-batch variance (not
the variance of the whole pass, which would also count the spread of the
batch means).
"""

from __future__ import annotations

import contextlib

import numpy as np

from lasandbox.autograd.engine import no_grad
from lasandbox.autograd.tensor import Tensor
from lasandbox.nn.layer import Layer
from lasandbox.nn.norm import _BatchNormBase


def batch_norm_layers(model):
    """The batch-norm layers of ``model`` (itself included) whose running statistics a pass updates.

    Layers with ``use_global_stats=True`` never update theirs, so they are left out.
    """
    return [layer for layer in model.sublayers(include_self=True)
            if isinstance(layer, _BatchNormBase) and layer._use_global_stats is not True]


def _first_input(batch):
    """The model input in a batch: the batch itself, or the first field of a (x, y, ...) tuple or list."""
    if isinstance(batch, (tuple, list)):
        if not batch:
            raise ValueError("update_bn got an empty batch (an empty tuple or list) from the loader")
        batch = batch[0]
    if isinstance(batch, Tensor):
        return batch
    if isinstance(batch, np.ndarray):
        return Tensor(batch)
    raise TypeError(f"update_bn takes batches that are Tensors, arrays, or (x, ...) tuples of them; got "
                    f"{type(batch).__name__} (pass forward=... to feed the model yourself)")


@no_grad()
def update_bn(model, loader, *, forward=None):
    """Reset and recompute every batch-norm layer's running statistics by one pass over ``loader``.

    ``loader`` yields batches (a Tensor/array, or a tuple/list whose first
    field is the input, like ``lasandbox.io.DataLoader``); ``forward(model,
    batch)`` overrides how a batch is fed. During the pass only the batch-norm
    layers are put in training mode (dropout and the rest keep their mode);
    afterwards every layer's mode and every batch-norm layer's momentum are
    as they were. The weights are not changed. Returns the number of batches.

    An empty loader raises ``ValueError`` and an error during the pass
    restores the old statistics: either way nothing changes.
    """
    if not isinstance(model, Layer):
        raise TypeError(f"model must be a lasandbox nn.Layer, got {type(model).__name__}")
    feed = forward or (lambda m, batch: m(_first_input(batch)))
    layers = batch_norm_layers(model)
    batches = iter(loader)
    try:
        first = next(batches)
    except StopIteration:
        raise ValueError("update_bn: the loader yielded no batches; the running statistics are unchanged") from None
    if not layers:
        return 0
    modes = [(layer, layer.training) for layer in model.sublayers(include_self=True)]
    saved = [(layer, layer._momentum, layer._mean._value.copy(), layer._variance._value.copy())
             for layer in layers]
    count = 0
    # Each layer counts the batches that update its statistics: one with a single value per channel (a last
    # batch of one sample into a BatchNorm1D) passes through unchanged, as in Paddle, and must not dilute the
    # average of the others. The momentum is set just before the layer runs, from its own count.
    updates = {id(layer): 0 for layer in layers}

    def before(layer, inputs):
        x = inputs[0] if inputs else None
        channels = layer._mean.shape[0]
        if x is not None and int(np.prod(x.shape)) > channels:  # more than one value per channel
            updates[id(layer)] += 1
            layer._momentum = (updates[id(layer)] - 1) / updates[id(layer)]

    handles = []
    try:
        for layer in layers:
            layer.training = True
            layer._mean._value[...] = 0.0
            layer._variance._value[...] = 1.0
            handles.append(layer.register_forward_pre_hook(before))
        batch = first
        while True:
            count += 1
            feed(model, batch)
            try:
                batch = next(batches)
            except StopIteration:
                break
    except BaseException:
        for layer, _, mean, variance in saved:
            layer._mean._value[...] = mean
            layer._variance._value[...] = variance
        raise
    finally:
        for handle in handles:
            handle.remove()
        for layer, momentum, _, _ in saved:
            layer._momentum = momentum
        for layer, training in modes:
            layer.training = training
    return count


@contextlib.contextmanager
def kept_statistics(model):
    """Restore every batch-norm layer's running statistics (and momentum) on leaving the block.

    For evaluating other weights with their own statistics and coming back,
    e.g. ``with la.slow_weights(), kept_statistics(model): update_bn(model, loader); evaluate(...)``.
    """
    layers = [layer for layer in model.sublayers(include_self=True) if isinstance(layer, _BatchNormBase)]
    saved = [(layer, layer._momentum, layer._mean._value.copy(), layer._variance._value.copy())
             for layer in layers]
    try:
        yield model
    finally:
        for layer, momentum, mean, variance in saved:
            layer._momentum = momentum
            layer._mean._value[...] = mean
            layer._variance._value[...] = variance
