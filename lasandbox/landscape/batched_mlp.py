"""Loss and accuracy of an MLP at many points of a plane, in batched passes.

For ``Sequential(Linear, act, Linear, act, ..., Linear)`` the first layer is
linear in the plane coordinates: with ``W1(a, b) = W1_0 + a*D1 + b*D2``,

    x @ W1(a, b) = x @ W1_0 + a * (x @ D1) + b * (x @ D2),

so the three products are computed once and every grid point costs only a
weighted sum of three ``[N, h]`` arrays instead of an ``[N, in] @ [in, h]``
product (for the digits MLP 64-32-10 that removes ~85% of the arithmetic).
One numba kernel then runs the rest for a block of rows at a chunk of grid
points: activation, the later layers with each point's own weights, and the
cross-entropy with the accuracy count, without writing activations to
memory. Python threads run disjoint row ranges (the kernel releases the GIL).

Why it looks the way it does (each measured on the digits MLP): the inner
loops run over rows on transposed ``[width, rows]`` buffers and 1-D slices,
which numba vectorises (2-D indexing in the inner loop was 6x slower);
ReLU and the row maximum are written without branches; ``exp`` is a
polynomial (``exp_nonpositive``) because numba has no vectorised ``exp``
without Intel's SVML and a libm call per logit dominated the kernel.

Precision: the per-point weights of later layers are formed in float64 and
rounded to float32 exactly as the naive path rounds them when it loads a
point into the model; activations are float32 like the autograd's; losses are
summed in float64. Batched and naive losses agree to ~1e-7 relative.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit

from lasandbox import nn
from lasandbox.landscape.layout import check_labels_fit

_JIT = {"cache": True, "error_model": "numpy"}
ACTIVATION_CODES = {None: 0, "relu": 1, "tanh": 2, "sigmoid": 3}
_ACTIVATION_LAYERS = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}
# Rows of data per kernel call: bounds the three first-layer products held at once.
SAMPLE_BLOCK = 16384


@dataclass(frozen=True)
class DenseLayer:
    weight: object  # ParameterSlot
    bias: object  # ParameterSlot or None
    activation: str | None


def mlp_structure(model, layout):
    """The dense layers of ``model`` if it is a plain MLP over ``layout``'s parameters, else ``None``.

    A plain MLP is an ``nn.Sequential`` of ``Linear`` layers, each optionally
    followed by one ReLU/Tanh/Sigmoid, ending with a ``Linear``.
    """
    if not isinstance(model, nn.Sequential) or len(model) == 0:
        return None
    layers, pending = [], None
    for layer in model:
        if isinstance(layer, nn.Linear):
            if pending is not None:
                layers.append(pending)
            weight = layout.slot_of(layer.weight)
            bias = None if layer.bias is None else layout.slot_of(layer.bias)
            if weight is None or (layer.bias is not None and bias is None):
                return None
            pending = DenseLayer(weight, bias, None)
        elif type(layer) in _ACTIVATION_LAYERS and pending is not None and pending.activation is None:
            pending = DenseLayer(pending.weight, pending.bias, _ACTIVATION_LAYERS[type(layer)])
        else:
            return None
    if pending is None or pending.activation is not None:
        return None
    return layers + [pending]


# ---------------------------------------------------------------- kernels
# Rows of data a thread keeps in its scratch buffers at once (activations [width, ROWS] stay in L1/L2).
ROWS = 256


@njit(inline="always")
def exp_nonpositive(x):
    """``exp(x)`` for ``x <= 0`` to ~1e-10 relative, written so that LLVM vectorises it.

    numba has no vectorised ``exp`` without Intel's SVML, and the scalar libm
    call would dominate the grid evaluation (one exp per class, row and grid
    point). ``exp(x) = exp(x/1024)^1024``: a degree-7 Taylor polynomial on
    ``|x/1024| <= 0.1`` (error < 3e-13) squared ten times (error x1024), in
    float64. Below -100 the result (< 4e-44) only ever meets a sum that
    already holds ``exp(0) = 1``, so clamping there changes nothing.
    """
    y = np.maximum(np.float64(x), -100.0) * (1.0 / 1024.0)
    e = 1.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0 + y * (
        1.0 / 720.0 + y * (1.0 / 5040.0)))))))
    # Ten squarings written out: a loop here keeps LLVM from vectorising the caller's loop (3x slower).
    e = e * e
    e = e * e
    e = e * e
    e = e * e
    e = e * e
    e = e * e
    e = e * e
    e = e * e
    e = e * e
    e = e * e
    return e


@njit(**_JIT)
def _activate_rows(buffer, width, count, code):
    """Apply the activation ``code`` in place to ``buffer[:width, :count]`` (one branch per call, not per value)."""
    for k in range(width):
        row = buffer[k]
        if code == 1:
            for r in range(count):
                # (v + |v|) / 2 is exactly max(v, 0) and vectorises; a conditional or np.maximum
                # measured 6x slower here.
                value = row[r]
                row[r] = (value + abs(value)) * np.float32(0.5)
        elif code == 2:
            # tanh|v| = (1 - e)/(1 + e) with e = exp(-2|v|): the vectorised exp instead of a libm call per value.
            for r in range(count):
                value = np.float64(row[r])
                e = exp_nonpositive(-2.0 * abs(value))
                row[r] = np.copysign((1.0 - e) / (1.0 + e), value)
        elif code == 3:
            # sigmoid(v) = 1/(1 + e) for v >= 0 and e/(1 + e) below, with e = exp(-|v|) (never overflows).
            for r in range(count):
                value = np.float64(row[r])
                e = exp_nonpositive(-abs(value))
                row[r] = (1.0 if value >= 0 else e) / (1.0 + e)


@njit(nogil=True, **_JIT)
def rows_cross_entropy(base, along_a, along_b, first_bias, a, b, codes, dims, offsets, packed, labels,
                       row_start, row_stop, loss_out, hits_out):
    """Add the summed cross-entropy and the hit count of rows ``row_start:row_stop`` at every point p.

    Features are transposed (``base[k, i]`` is unit k of row i) so that every
    inner loop runs over rows, contiguous and vectorisable. Row i's first
    pre-activation at point p is ``base[:, i] + a[p]*along_a[:, i] +
    b[p]*along_b[:, i] + first_bias[p]``; layer l (``dims[l] = (in, out)``)
    of point p has its ``[in, out]`` weight then its bias at
    ``packed[p, offsets[l]:]``. A row is a hit when its *first* maximal logit
    is the label's (as ``np.argmax`` decides ties).

    Rows go in blocks of ``ROWS`` and each block walks all points, so the
    block's slices of base/along_a/along_b are read from memory once and then
    stay in cache. ``nogil``: threads run disjoint row ranges in parallel.
    """
    width0 = base.shape[0]
    n_rest = dims.shape[0]
    widest = width0
    for layer in range(n_rest):
        widest = max(widest, dims[layer, 1])
    h = np.empty((widest, ROWS), dtype=np.float32)
    z = np.empty((widest, ROWS), dtype=np.float32)
    best = np.empty(ROWS, dtype=np.float32)
    sum_exp = np.empty(ROWS, dtype=np.float64)
    for r0 in range(row_start, row_stop, ROWS):
        count = min(ROWS, row_stop - r0)
        _block_cross_entropy(base, along_a, along_b, first_bias, a, b, codes, dims, offsets, packed, labels,
                             r0, count, h, z, best, sum_exp, loss_out, hits_out)


@njit(**_JIT)
def _block_cross_entropy(base, along_a, along_b, first_bias, a, b, codes, dims, offsets, packed, labels,
                         r0, count, h, z, best, sum_exp, loss_out, hits_out):
    n_points = a.size
    width0 = base.shape[0]
    n_rest = dims.shape[0]
    for p in range(n_points):
        ap, bp = np.float32(a[p]), np.float32(b[p])
        total, correct = 0.0, 0
        # Inner loops index 1-D row slices: numba vectorises those, not 2-D indexing (6x apart here).
        for k in range(width0):
            c = first_bias[p, k]
            hk, base_k = h[k], base[k, r0:r0 + count]
            a_k, b_k = along_a[k, r0:r0 + count], along_b[k, r0:r0 + count]
            for r in range(count):
                hk[r] = base_k[r] + ap * a_k[r] + bp * b_k[r] + c
        _activate_rows(h, width0, count, codes[0])
        width = width0
        for layer in range(n_rest):
            n_in, n_out, start = dims[layer, 0], dims[layer, 1], offsets[layer]
            weights = packed[p, start:start + n_in * n_out]
            for j in range(n_out):
                zj, bias = z[j], packed[p, start + n_in * n_out + j]
                for r in range(count):
                    zj[r] = bias
            # Four inputs per pass over z[j]: a quarter of the loads and stores of z.
            quads = n_in // 4
            for q in range(quads):
                k = 4 * q
                h0, h1, h2, h3 = h[k], h[k + 1], h[k + 2], h[k + 3]
                for j in range(n_out):
                    zj = z[j]
                    w0, w1 = weights[k * n_out + j], weights[(k + 1) * n_out + j]
                    w2, w3 = weights[(k + 2) * n_out + j], weights[(k + 3) * n_out + j]
                    for r in range(count):
                        zj[r] += (h0[r] * w0 + h1[r] * w1) + (h2[r] * w2 + h3[r] * w3)
            for k in range(4 * quads, n_in):
                hk = h[k]
                for j in range(n_out):
                    zj, w = z[j], weights[k * n_out + j]
                    for r in range(count):
                        zj[r] += hk[r] * w
            for j in range(n_out):
                hj, zj = h[j], z[j]
                for r in range(count):
                    hj[r] = zj[r]
            _activate_rows(h, n_out, count, codes[layer + 1])
            width = n_out
        h0 = h[0]
        for r in range(count):
            best[r] = h0[r]
            sum_exp[r] = 0.0
        for j in range(1, width):
            hj = h[j]
            for r in range(count):
                best[r] = np.maximum(hj[r], best[r])  # np.maximum vectorises, a conditional does not
        for j in range(width):
            hj = h[j]
            for r in range(count):
                sum_exp[r] += exp_nonpositive(hj[r] - best[r])
        # sum_r log(s_r) as the log of products of 16 rows (1 <= s_r <= classes): 16x fewer scalar logs.
        for g in range(0, count, 16):
            product = 1.0
            for r in range(g, min(g + 16, count)):
                product *= sum_exp[r]
            total += np.log(product)
        for r in range(count):
            label = labels[r0 + r]
            label_logit = h[label, r]
            total -= np.float64(label_logit) - best[r]
            if label_logit == best[r]:
                # A hit unless an earlier class ties with it (np.argmax takes the first maximum).
                hit = 1
                for j in range(label):
                    if h[j, r] == label_logit:
                        hit = 0
                correct += hit
        loss_out[p] += total
        hits_out[p] += correct


# ------------------------------------------------------------- evaluation
def _layer_arrays(layer, vectors):
    """The layer's weight and bias out of each flat vector in ``vectors`` (zeros for no bias)."""
    w_slot, b_slot = layer.weight, layer.bias
    weights = [v[w_slot.start:w_slot.stop].reshape(w_slot.shape) for v in vectors]
    width = w_slot.shape[1]
    biases = [np.zeros(width) if b_slot is None else v[b_slot.start:b_slot.stop] for v in vectors]
    return weights, biases


def _in_threads(kernel, args, n_rows, n_points):
    """Run ``kernel(*args, row_start, row_stop, loss, hits)`` on disjoint row ranges, one per thread; sum them.

    Python threads around a ``nogil`` kernel rather than ``prange``: numba's
    parallel compilation of this kernel took 15 s more (cold cache), the
    threads cost ~0.1 ms per call. The thread count is numba's
    (``NUMBA_NUM_THREADS`` / ``numba.set_num_threads``).
    """
    blocks = -(-n_rows // ROWS)
    n_threads = max(1, min(numba.get_num_threads(), blocks))
    bounds = [min(n_rows, ROWS * (blocks * t // n_threads)) for t in range(n_threads + 1)]
    loss = np.zeros((n_threads, n_points))
    hits = np.zeros((n_threads, n_points), dtype=np.int64)
    jobs = [(*args, bounds[t], bounds[t + 1], loss[t], hits[t]) for t in range(n_threads)]
    if n_threads == 1:
        kernel(*jobs[0])
    else:
        futures = [_thread_pool(n_threads).submit(kernel, *job) for job in jobs[1:]]
        kernel(*jobs[0])
        for future in futures:
            future.result()
    return loss.sum(axis=0), hits.sum(axis=0)


_POOL = {}


def _thread_pool(size):
    if size not in _POOL:
        _POOL[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="lasandbox-grid")
    return _POOL[size]


def _packed_later_layers(layers, origin, d1, d2, a, b):
    """Float32 weights and biases of layers 2..L at each point, one row per point (see the kernel)."""
    dims = np.array([layer.weight.shape for layer in layers], dtype=np.int64).reshape(-1, 2)
    sizes = dims[:, 0] * dims[:, 1] + dims[:, 1]
    offsets = np.concatenate([[0], np.cumsum(sizes)])[:-1].astype(np.int64)
    packed = np.empty((a.size, int(sizes.sum())), dtype=np.float32)
    for layer, start in zip(layers, offsets, strict=True):
        (w0, wa, wb), (b0, ba, bb) = _layer_arrays(layer, (origin, d1, d2))
        # float64 then rounded, exactly as plane.point(a, b) is rounded when the naive path loads it.
        flat0 = np.concatenate([w0.ravel(), b0])
        flat_a = np.concatenate([wa.ravel(), ba])
        flat_b = np.concatenate([wb.ravel(), bb])
        packed[:, start:start + flat0.size] = flat0[None] + a[:, None] * flat_a[None] + b[:, None] * flat_b[None]
    return dims, offsets, packed


def evaluate_plane_points(layers, origin, d1, d2, coords, x, y, on_chunk=None, points_per_chunk=64):
    """Mean cross-entropy and accuracy at each ``coords[p] = (a, b)`` of the plane ``origin + a*d1 + b*d2``.

    ``layers`` comes from ``mlp_structure``; ``origin``, ``d1``, ``d2`` are
    float64 flat vectors; ``on_chunk(n)`` is called after each chunk of points.
    """
    check_labels_fit(y, layers[-1].weight.shape[1])
    if x.ndim != 2 or x.shape[1] != layers[0].weight.shape[0]:
        raise ValueError(f"x must be [samples, {layers[0].weight.shape[0]}] (the MLP's inputs), got shape "
                         f"{list(x.shape)}")
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    n_points = coords.shape[0]
    loss_sum = np.zeros(n_points)
    hits = np.zeros(n_points, dtype=np.int64)
    first, rest = layers[0], layers[1:]
    (w0, wa, wb), (b0, ba, bb) = _layer_arrays(first, (origin, d1, d2))
    codes = np.array([ACTIVATION_CODES[layer.activation] for layer in layers], dtype=np.int64)
    blocks = []
    for start in range(0, x.shape[0], SAMPLE_BLOCK):
        xb = np.asarray(x[start:start + SAMPLE_BLOCK], dtype=np.float64)
        # The three first-layer products, once per block of samples (float64, stored as float32).
        products = [np.ascontiguousarray(xb @ w, dtype=np.float32) for w in (w0, wa, wb)]
        # Transposed ([width, rows]) so the kernel's inner loops run over rows.
        products = [np.ascontiguousarray(q.T) for q in products]
        blocks.append((products, np.ascontiguousarray(y[start:start + SAMPLE_BLOCK], dtype=np.int64)))
    for p_start in range(0, n_points, points_per_chunk):
        a = coords[p_start:p_start + points_per_chunk, 0].copy()
        b = coords[p_start:p_start + points_per_chunk, 1].copy()
        first_bias = (b0[None] + a[:, None] * ba[None] + b[:, None] * bb[None]).astype(np.float32)
        dims, offsets, packed = _packed_later_layers(rest, origin, d1, d2, a, b)
        for (base, along_a, along_b), labels in blocks:
            args = (base, along_a, along_b, first_bias, a, b, codes, dims, offsets, packed, labels)
            loss_part, hits_part = _in_threads(rows_cross_entropy, args, labels.size, a.size)
            loss_sum[p_start:p_start + a.size] += loss_part
            hits[p_start:p_start + a.size] += hits_part
        if on_chunk is not None:
            on_chunk(a.size)
    return loss_sum / x.shape[0], hits / x.shape[0]
