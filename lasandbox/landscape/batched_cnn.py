"""Loss and accuracy of a conv net at many points of a plane: the model's own forward, once per chunk of points.

How. The points of a chunk are folded into the batch dimension (``[P*N, ...]``,
point-major: rows ``p*N:(p+1)*N`` belong to point ``p``) and, for the length
of the pass, every layer that holds parameters -- ``Conv1D``/``Conv2D``,
``BatchNorm1D``/``2D`` in eval mode, ``Linear`` -- has its ``forward``
replaced by one that applies point ``p``'s parameters to point ``p``'s rows.
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
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit

from lasandbox.autograd.engine import no_grad
from lasandbox.autograd.tensor import Tensor
from lasandbox.landscape.layout import LabelRangeError, check_labels_fit
from lasandbox.nn import conv_compute, functional_conv, norm_kernels
from lasandbox.nn.conv import _ConvNd
from lasandbox.nn.layer import Layer
from lasandbox.nn.layers import Dropout, Linear
from lasandbox.nn.norm import Dropout2D, _BatchNormBase

PARAMETER_LAYERS = (_ConvNd, _BatchNormBase, Linear)
_POOL = {}


def _threads():
    return max(1, os.cpu_count() or 1)


def _pool():
    size = _threads()
    if size not in _POOL:
        _POOL[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="lasandbox-cnn-grid")
    return _POOL[size]


def _each_point(points, work):
    """``work(p0, p1)`` on disjoint ranges of points, one per thread (the work releases the GIL)."""
    if points <= 0:
        return
    n_threads = min(_threads(), points)
    bounds = [points * t // n_threads for t in range(n_threads + 1)]
    futures = [_pool().submit(work, bounds[t], bounds[t + 1]) for t in range(1, n_threads)]
    work(bounds[0], bounds[1])
    for future in futures:
        future.result()


@njit(cache=True, nogil=True)
def combine_points(base, along_a, along_b, a, b, out):
    """``out[p] = base + a[p]*along_a + b[p]*along_b`` (flat float32 rows; the first layer by linearity)."""
    for p in range(out.shape[0]):
        ap, bp = a[p], b[p]
        row = out[p]
        for k in range(base.size):
            row[k] = base[k] + ap * along_a[k] + bp * along_b[k]
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


class _Pass:
    """The state of one folded pass: the chunk's points and each layer's per-point parameters."""

    def __init__(self, plan, origin, d1, d2, a, b, samples, first_layer=None):
        self.points, self.samples = a.size, samples
        # The first layer's three products of this block of samples, kept for the block's other chunks of
        # points: they depend on the samples only, not on the points.
        self.first_layer = {} if first_layer is None else first_layer
        self.a = a.astype(np.float32)[:, None]
        self.b = b.astype(np.float32)[:, None]
        self.params = {}
        self.parts = {}
        for layer, slots in plan.layers:
            for name, slot in slots.items():
                sl = slice(slot.start, slot.stop)
                # Rounded to float32 from float64 exactly as the per-point loop rounds plane.point(a, b).
                values = (origin[None, sl] + a[:, None] * d1[None, sl] + b[:, None] * d2[None, sl])
                self.params[(id(layer), name)] = values.astype(np.float32).reshape(a.size, *slot.shape)
                self.parts[(id(layer), name)] = tuple(v[sl].astype(np.float32).reshape(slot.shape)
                                                      for v in (origin, d1, d2))

    def get(self, layer, name):
        return self.params.get((id(layer), name))

    def parts_of(self, layer, name):
        return self.parts.get((id(layer), name), (None, None, None))

    def folded(self, rows):
        """True for a folded batch, False for the unfolded data (only before the first parameterised layer)."""
        if rows == self.points * self.samples:
            return True
        if rows == self.samples:
            return False
        raise RuntimeError(f"the folded evaluation saw a batch of {rows} rows, expected {self.samples} or "
                           f"{self.points} x {self.samples}: this model's forward mixes samples")

    def combine(self, base, along_a, along_b):
        """``base + a_p*along_a + b_p*along_b`` for every point, stacked point-major: ``[P*N, ...]``."""
        out = np.empty((self.points, base.size), dtype=np.float32)
        flat = [np.ascontiguousarray(v, dtype=np.float32).reshape(-1) for v in (base, along_a, along_b)]
        # Split among the threads like the convolutions: one thread alone took ~9% of a 1-D CNN's grid.
        _each_point(self.points, lambda p0, p1: combine_points(*flat, self.a[p0:p1, 0], self.b[p0:p1, 0],
                                                               out[p0:p1]))
        return out.reshape(self.points * base.shape[0], *base.shape[1:])


def _conv_forward(layer, state):
    ndim = layer._ndim

    def forward(x):
        padding = layer._padding
        if layer._padding_mode != "zeros":
            x = functional_conv.pad_spatial(x, layer._padding_spec[1], layer._padding_mode, ndim,
                                            layer._channel_last)
            padding = 0
        geom, channel_last, groups = functional_conv._check_conv_args(
            layer._op, x, layer.weight, layer.bias, layer._stride, padding, layer._dilation, layer._groups,
            layer._data_format, ndim)
        if channel_last:
            x = functional_conv._to_channel_first(x, ndim)
        xv = x._value if ndim == 2 else x._value[:, :, None, :]
        n = state.samples
        has_bias = layer.bias is not None
        if not state.folded(xv.shape[0]):
            convs = state.first_layer.get(id(layer))
            if convs is None:
                w_parts, b_parts = state.parts_of(layer, "weight"), state.parts_of(layer, "bias")
                convs = []
                for k in range(3):
                    weight = w_parts[k] if ndim == 2 else w_parts[k][:, :, None, :]
                    convs.append(conv_compute.conv_forward(xv, weight, b_parts[k] if has_bias else None, geom,
                                                           groups))
                state.first_layer[id(layer)] = convs
            out = state.combine(*convs)
        else:
            weights, biases = state.get(layer, "weight"), state.get(layer, "bias")
            out = np.empty((xv.shape[0], weights.shape[1], *geom.out_size), dtype=np.float32)
            xv = np.ascontiguousarray(xv)

            def points(p0, p1):
                for p in range(p0, p1):
                    weight = weights[p] if ndim == 2 else weights[p][:, :, None, :]
                    conv_compute.conv_forward(xv[p * n:(p + 1) * n], weight, biases[p] if has_bias else None, geom,
                                              groups, out=out[p * n:(p + 1) * n])

            _each_point(state.points, points)
        result = Tensor(out if ndim == 2 else out[:, :, 0, :])
        return functional_conv._to_channel_last(result, ndim) if channel_last else result

    return forward


def _batch_norm_forward(layer, state):
    def forward(x):
        layer._check_input(x)
        xv = x._value
        if not state.folded(xv.shape[0]):
            xv = np.concatenate([xv] * state.points)
        channel_last = layer._data_format in ("NHWC", "NLC") and xv.ndim > 2
        xc = np.moveaxis(xv, -1, 1) if channel_last else xv
        inv_std = 1.0 / np.sqrt(layer._variance.numpy().astype(np.float64) + layer._epsilon)
        mean = layer._mean.numpy().astype(np.float64)
        gamma, beta = state.get(layer, "weight"), state.get(layer, "bias")
        channels = xc.shape[1]
        gamma = np.ones((state.points, channels)) if gamma is None else gamma.astype(np.float64)
        beta = np.zeros((state.points, channels)) if beta is None else beta.astype(np.float64)
        # The per-point scale and shift rounded as functional_norm.batch_norm rounds them.
        scale = gamma * inv_std
        shift = (beta - mean * scale).astype(np.float32)
        scale = scale.astype(np.float32)
        folded = np.ascontiguousarray(xc).reshape(state.points, -1, channels,
                                                  int(np.prod(xc.shape[2:], dtype=np.int64)))
        out = np.empty_like(folded)

        def points(p0, p1):
            for p in range(p0, p1):
                norm_kernels.affine_channels(folded[p], scale[p], shift[p], out[p])

        _each_point(state.points, points)
        out = out.reshape(xc.shape)
        return Tensor(np.ascontiguousarray(np.moveaxis(out, 1, -1)) if channel_last else out)

    return forward


def _linear_forward(layer, state):
    def forward(x):
        xv = x._value
        has_bias = layer.bias is not None
        if not state.folded(xv.shape[0]):
            products = state.first_layer.get(id(layer))
            if products is None:
                w_parts, b_parts = state.parts_of(layer, "weight"), state.parts_of(layer, "bias")
                products = [xv @ w_parts[k] + (b_parts[k] if has_bias else 0) for k in range(3)]
                state.first_layer[id(layer)] = products
            return Tensor(state.combine(*products).astype(np.float32, copy=False))
        weights, biases = state.get(layer, "weight"), state.get(layer, "bias")
        per_point = xv.reshape(state.points, -1, xv.shape[-1])
        out = np.matmul(per_point, weights)
        if has_bias:
            out += biases[:, None, :]
        return Tensor(out.reshape(*xv.shape[:-1], weights.shape[-1]))

    return forward


@contextlib.contextmanager
def _folded_forwards(plan, state):
    """Swap the parameterised layers' forwards for the folded ones; put them back afterwards."""
    makers = ((_ConvNd, _conv_forward), (_BatchNormBase, _batch_norm_forward), (Linear, _linear_forward))
    swapped = []
    try:
        for layer, _ in plan.layers:
            for kind, make in makers:
                if isinstance(layer, kind):
                    layer.forward = make(layer, state)  # an instance attribute shadows the class's method
                    swapped.append(layer)
                    break
        yield
    finally:
        for layer in swapped:
            del layer.forward


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
    state = _Pass(plan, origin, d1, d2, a, b, xb.shape[0], first_layer)
    with _folded_forwards(plan, state):
        logits = model(Tensor(np.ascontiguousarray(xb, dtype=np.float32)))._value
    if logits.shape[0] != a.size * xb.shape[0]:
        raise RuntimeError("the model's output does not have one row per point and sample")
    return _loss_and_hits(logits, yb, a.size)


def _chunk_sizes(n_samples, n_points, widest):
    """Samples per block (at most 1024: enough for long BLAS calls), then as many points as fit, and at
    least one per thread (the threads split a chunk's points; one point per chunk would leave them idle)."""
    sample_block = int(min(n_samples, 1024, max(1, CHUNK_VALUES // max(widest, 1))))
    fit = CHUNK_VALUES // max(widest * sample_block, 1)
    points = int(max(1, min(n_points, max(fit, _threads()))))
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
