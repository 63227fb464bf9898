"""The folded pass of ``batched_cnn``: a conv net's parameterised layers applying each point's parameters.

``FoldedPass`` holds one chunk's points (their plane coordinates and each
layer's per-point parameters); ``folded_forwards`` swaps the ``forward`` of
every ``Conv1D``/``Conv2D``, eval-mode batch norm and ``Linear`` for one that
applies point ``p``'s parameters to rows ``p*N:(p+1)*N`` of the folded batch
(the first such layer, which sees the data unfolded, by linearity in the
plane coordinates). ``batched_cnn``'s docstring says why and what it costs.
The points of each layer are split among threads (``each_point``), each
running single-threaded BLAS and numba kernels that release the GIL.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from lasandbox.autograd.tensor import Tensor
from lasandbox.nn import conv_compute, functional_conv, norm_kernels
from lasandbox.nn.conv import _ConvNd
from lasandbox.nn.layers import Linear
from lasandbox.nn.norm import _BatchNormBase

_POOL = {}


def threads():
    return max(1, os.cpu_count() or 1)


def _pool():
    size = threads()
    if size not in _POOL:
        _POOL[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="lasandbox-cnn-grid")
    return _POOL[size]


def each_point(points, work):
    """``work(p0, p1)`` on disjoint ranges of points, one per thread (the work releases the GIL)."""
    if points <= 0:
        return
    n_threads = min(threads(), points)
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


class FoldedPass:
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

    def shared_first_layer(self, layer, product):
        """The first parameterised layer's output at every point, by linearity: ``product(weight, bias)`` of
        the origin's and the two directions' parts (computed once per block of samples and kept for the
        block's other chunks of points), combined with each point's coordinates."""
        products = self.first_layer.get(id(layer))
        if products is None:
            weights, biases = self.parts_of(layer, "weight"), self.parts_of(layer, "bias")
            products = [product(weights[k], biases[k]) for k in range(3)]
            self.first_layer[id(layer)] = products
        return self.combine(*products)

    def combine(self, base, along_a, along_b):
        """``base + a_p*along_a + b_p*along_b`` for every point, stacked point-major: ``[P*N, ...]``."""
        out = np.empty((self.points, base.size), dtype=np.float32)
        flat = [np.ascontiguousarray(v, dtype=np.float32).reshape(-1) for v in (base, along_a, along_b)]
        # Split among the threads like the convolutions: one thread alone took ~9% of a 1-D CNN's grid.
        each_point(self.points, lambda p0, p1: combine_points(*flat, self.a[p0:p1, 0], self.b[p0:p1, 0],
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
            out = state.shared_first_layer(layer, lambda weight, bias: conv_compute.conv_forward(
                xv, weight if ndim == 2 else weight[:, :, None, :], bias if has_bias else None, geom, groups))
        else:
            weights, biases = state.get(layer, "weight"), state.get(layer, "bias")
            out = np.empty((xv.shape[0], weights.shape[1], *geom.out_size), dtype=np.float32)
            xv = np.ascontiguousarray(xv)

            def points(p0, p1):
                for p in range(p0, p1):
                    weight = weights[p] if ndim == 2 else weights[p][:, :, None, :]
                    conv_compute.conv_forward(xv[p * n:(p + 1) * n], weight, biases[p] if has_bias else None, geom,
                                              groups, out=out[p * n:(p + 1) * n])

            each_point(state.points, points)
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
        inv_std = 1.0 / np.sqrt(layer._variance._value.astype(np.float64) + layer._epsilon)
        mean = layer._mean._value.astype(np.float64)
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

        each_point(state.points, points)
        out = out.reshape(xc.shape)
        return Tensor(np.ascontiguousarray(np.moveaxis(out, 1, -1)) if channel_last else out)

    return forward


def _linear_forward(layer, state):
    def forward(x):
        xv = x._value
        has_bias = layer.bias is not None
        if not state.folded(xv.shape[0]):
            out = state.shared_first_layer(layer, lambda weight, bias: xv @ weight + (bias if has_bias else 0))
            return Tensor(out.astype(np.float32, copy=False))
        weights, biases = state.get(layer, "weight"), state.get(layer, "bias")
        per_point = xv.reshape(state.points, -1, xv.shape[-1])
        out = np.matmul(per_point, weights)
        if has_bias:
            out += biases[:, None, :]
        return Tensor(out.reshape(*xv.shape[:-1], weights.shape[-1]))

    return forward


@contextlib.contextmanager
def folded_forwards(plan, state):
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
