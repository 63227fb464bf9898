"""Loss and accuracy of a conv net at many points of a plane: the model's own forward, once per chunk of points.

How. The points of a chunk are folded into the batch dimension (``[P*N, ...]``,
point-major: rows ``p*N:(p+1)*N`` belong to point ``p``) and, for the length
of the pass, every layer that holds parameters -- ``Conv1D``/``Conv2D``,
``BatchNorm1D``/``2D`` in eval mode, ``Linear`` -- has its ``forward``
replaced by one that applies point ``p``'s parameters to point ``p``'s rows
(``folded_layers``).
All other layers (activations, pooling, ``Flatten``, residual additions,
reshapes) have no parameters and act per sample, so the model's own forward
code runs unchanged on the folded batch: one pass of the model per chunk of
points instead of one per point, and no copy of the architecture here.

The first parameterised layer receives the data unfolded (only
parameter-free, per-sample code runs before it) and uses linearity in the
plane coordinates, as ``batched_mlp`` does for an MLP's first layer::

    conv(x, W0 + a*D1 + b*D2) = conv(x, W0) + a*conv(x, D1) + b*conv(x, D2)

three convolutions per block of data for all the points of a chunk.

Where the time goes, and what that means for the speed: the convolutions
after the first are as many, and as large, as in the per-point loop (each
point has its own weights and activations), and so are the passes of batch
norm, activations and pooling over them; only the first layer is shared
(computed once per block of samples for all the chunks of points). The gain
is what the loop spends around that work -- a Python pass through the model
and the autograd per point. A chunk's points (at least one per thread) are
split among threads, each running single-threaded BLAS on its own points
(``conv_compute`` splits a single convolution's samples the same way, so the
loop is parallel too), with BLAS limited to one thread for the evaluation.
Measured on 2 shared cores (``benchmarks/landscape_cnn.py``, 25x25 grids):
0.8-1.2x the loop on 1,000 MNIST-1D or 449 digits samples, where both do the
same convolutions at 27-46 GFLOP/s; the benchmark also prints the ceiling of
any method doing the same FLOPs: at the bare BLAS product rate of those
shapes (~160-170 GFLOP/s on both cores) 3.8x (ResNet) and 5.8x (1-D CNN) the
loop, with no im2col, batch-norm, activation or pooling pass left. Fused
per-point kernels (batch norm folded into the convolution, the activation
and pooling in its output pass) would close part of that gap; this module
does not have them.

Requirements (``cnn_structure``; ``method='auto'`` falls back to the per-point
loop otherwise): a convolution somewhere; parameters only in the layer types
above, all of them in the layout; batch norm using running statistics (eval
mode: in training mode its output depends on the batch, and the evaluation
must not update the statistics; ``evaluate_points`` and ``evaluate_grid`` put
the model in eval mode for the evaluation); no dropout in training mode. Before the
first chunk, ``probe_agrees`` evaluates two points on a few samples both ways
(forward code that mixes samples, e.g. a skip connection from the raw input
around the first layer, shows up there) and the loop is used if they differ.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from lasandbox.autograd.engine import no_grad
from lasandbox.autograd.tensor import Tensor
from lasandbox.landscape import folded_layers
from lasandbox.landscape.layout import LabelRangeError, check_labels_fit
from lasandbox.nn import conv_compute
from lasandbox.nn.conv import _ConvNd
from lasandbox.nn.layer import Layer
from lasandbox.nn.layers import Dropout, Linear
from lasandbox.nn.norm import Dropout2D, _BatchNormBase

PARAMETER_LAYERS = (_ConvNd, _BatchNormBase, Linear)
# Values per chunk of folded activations (points x samples x widest layer): bounds the memory.
CHUNK_VALUES = 1 << 21


@dataclass(frozen=True)
class ConvNetPlan:
    """The parameterised layers of a batchable conv net, with the layout slot of each parameter."""

    layers: tuple  # ((layer, {attribute: ParameterSlot}), ...)


def _uses_batch_statistics(layer):
    return layer._use_global_stats is False or (layer._use_global_stats is None and layer.training)


def cnn_structure(model, layout):
    """A ``ConvNetPlan`` if ``model`` can be evaluated this way (see the module docstring), else ``None``."""
    if not isinstance(model, Layer):
        return None
    layers = list(model.sublayers(include_self=True))
    if not any(isinstance(layer, _ConvNd) for layer in layers):
        return None
    entries = []
    for layer in layers:
        if isinstance(layer, _BatchNormBase) and _uses_batch_statistics(layer):
            return None
        if isinstance(layer, (Dropout, Dropout2D)) and layer.training and layer.p > 0:
            return None
        own = {name: p for name, p in layer._parameters.items() if p is not None}
        if not own:
            continue
        if not isinstance(layer, PARAMETER_LAYERS):
            return None
        slots = {name: layout.slot_of(p) for name, p in own.items()}
        if any(slot is None for slot in slots.values()):
            return None
        entries.append((layer, slots))
    return ConvNetPlan(tuple(entries))


def _loss_and_hits(logits, labels, points):
    """Summed cross-entropy (float64) and hit count per point of folded ``[P*N, classes]`` logits."""
    check_labels_fit(labels, logits.shape[-1])
    logits = logits.reshape(points, -1, logits.shape[-1]).astype(np.float64)
    shifted = logits - logits.max(axis=2, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=2))
    picked = np.take_along_axis(shifted, np.broadcast_to(labels[None, :, None], (points, labels.size, 1)), axis=2)
    loss = (log_norm - picked[..., 0]).sum(axis=1)
    hits = (logits.argmax(axis=2) == labels[None]).sum(axis=1)
    return loss, hits


@contextlib.contextmanager
def _single_threaded_blas():
    """BLAS at one thread inside the block (the module docstring says why); a no-op without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # a dependency of scikit-learn, so normally present
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@no_grad()
def _evaluate_chunk(model, plan, origin, d1, d2, a, b, xb, yb, first_layer):
    """Summed loss and hits of the points ``(a, b)`` on one block of samples (``first_layer``: that block's
    cache of first-layer products, shared by its chunks of points)."""
    state = folded_layers.FoldedPass(plan, origin, d1, d2, a, b, xb.shape[0], first_layer)
    with folded_layers.folded_forwards(plan, state):
        logits = model(Tensor(np.ascontiguousarray(xb, dtype=np.float32)))._value
    if logits.shape[0] != a.size * xb.shape[0]:
        raise RuntimeError("the model's output does not have one row per point and sample")
    return _loss_and_hits(logits, yb, a.size)


def _chunk_sizes(n_samples, n_points, widest):
    """Samples per block (at most 1024: enough for long BLAS calls), then as many points as fit, and at
    least one per thread (the threads split a chunk's points; one point per chunk would leave them idle)."""
    sample_block = int(min(n_samples, 1024, max(1, CHUNK_VALUES // max(widest, 1))))
    fit = CHUNK_VALUES // max(widest * sample_block, 1)
    points = int(max(1, min(n_points, max(fit, folded_layers.threads()))))
    return sample_block, points


def widest_activation(model, x):
    """The most values per sample among the model's layer outputs, from a forward of one sample."""
    widest = [int(np.prod(np.shape(x)[1:]))]
    layers = list(model.sublayers(include_self=False))
    originals = {}
    for layer in layers:
        originals[id(layer)] = layer.forward

        def recording(*args, layer=layer, **kwargs):
            out = originals[id(layer)](*args, **kwargs)
            if isinstance(out, Tensor):
                widest.append(int(np.prod(out.shape[1:])))
            return out

        layer.forward = recording
    try:
        with no_grad():
            model(Tensor(np.ascontiguousarray(x[:1], dtype=np.float32)))
    finally:
        for layer in layers:
            del layer.forward
    return max(widest)


def evaluate_plane_points_cnn(model, plan, origin, d1, d2, coords, x, y, on_chunk=None, sample_block=None,
                              points_per_chunk=None):
    """Mean cross-entropy and accuracy at each ``coords[p] = (a, b)`` of the plane ``origin + a*d1 + b*d2``.

    ``plan`` comes from ``cnn_structure``; ``origin``, ``d1``, ``d2`` are float64
    flat vectors in the model's parameter layout; ``on_chunk(n)`` is called after
    each chunk of points. ``sample_block`` / ``points_per_chunk`` override the
    sizes chosen from ``CHUNK_VALUES``. The model's parameters are not touched.
    """
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    auto_block, auto_points = _chunk_sizes(x.shape[0], coords.shape[0], widest_activation(model, x))
    sample_block = sample_block or auto_block
    per_chunk = points_per_chunk or auto_points
    loss, hits = np.zeros(coords.shape[0]), np.zeros(coords.shape[0], dtype=np.int64)
    blocks = range(0, x.shape[0], sample_block)
    with _single_threaded_blas(), conv_compute.serial_chunks():
        # Blocks of samples outside, chunks of points inside: each block's first-layer products are computed once.
        for block, first in enumerate(blocks):
            xb, yb = x[first:first + sample_block], y[first:first + sample_block]
            first_layer = {}
            for start in range(0, coords.shape[0], per_chunk):
                a, b = coords[start:start + per_chunk, 0].copy(), coords[start:start + per_chunk, 1].copy()
                part_loss, part_hits = _evaluate_chunk(model, plan, origin, d1, d2, a, b, xb, yb, first_layer)
                loss[start:start + a.size] += part_loss
                hits[start:start + a.size] += part_hits
                if on_chunk is not None and block == len(blocks) - 1:
                    on_chunk(a.size)
    return loss / x.shape[0], hits / x.shape[0]


def probe_agrees(model, plan, layout, origin, d1, d2, x, y, evaluate_loaded):
    """Two points on up to 8 samples, folded and by ``evaluate_loaded(vector, x, y)``: do they agree?"""
    coords = np.array([[0.3, -0.2], [-0.4, 0.5]])
    xs, ys = x[:8], y[:8]
    try:
        loss, accuracy = evaluate_plane_points_cnn(model, plan, origin, d1, d2, coords, xs, ys)
    except LabelRangeError:
        raise
    except (RuntimeError, ValueError):
        return False
    for p, (a, b) in enumerate(coords):
        ref_loss, ref_accuracy = evaluate_loaded(origin + a * d1 + b * d2, xs, ys)
        if not np.isclose(loss[p], ref_loss, rtol=1e-4, atol=1e-6) or accuracy[p] != ref_accuracy:
            return False
    return True
