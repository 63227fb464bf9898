"""The convolution on arrays: chunks of samples through the ``conv_kernels`` and BLAS.

``conv_forward`` and ``conv_backward`` take ``[N, C, H, W]`` arrays and a
``conv_args.Geometry``; the autograd op (``functional_conv``) wraps them.
The layout (tight or flat for stride 1, strided otherwise; row taps or not), the chunk
size and the threads that run the chunks (``_over_chunks``) are chosen here; see
``conv_kernels`` for what each means and why.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from lasandbox.nn import conv_kernels as kernels
from lasandbox.nn.allocator import keep_large_buffers_in_heap

keep_large_buffers_in_heap()  # this module loads on the first convolution; see allocator.py for why

# Bytes of im2col columns and their product per chunk of samples: small enough to stay in cache between
# im2col and the product that reads them, large enough for long BLAS calls. 1-8 MB had measured within
# 10% of each other; on 2026-12-01, with the VM's memory slower (stream 44-50 GB/s), 2 MB ran the 3x3
# 16/32/64-channel convs 5-20% faster than 4 MB (four alternated runs, min and median) and the SmallResNet
# step 10-12%. The product counts from the row-taps layout on (its product is as large as its columns);
# in the other layouts that made the 1->16 stem's chunks 16 samples instead of 32 (its product is 16/9 of
# its columns) and 16->32's 2-3 instead of 4, and cut the others by a sample at most: alternated 40x in one
# process, the two budgets ran the stem's forward 0.89x, its backward 1.02-1.11x, the others 0.96-1.02x.
CHUNK_BYTES = 2 << 20
# Row taps after the product (``_Plan.row_taps``) where the usual product is a poor shape for BLAS (few
# output channels) and the other one is not (enough column rows, few extra padded rows). Measured on the
# 2-core AMD EPYC VM (2026-12-01, the two layouts alternated 40-60x in one process, time of row taps / the
# usual layout, min and median; /tmp scripts in the notes): 3x3 'same' 16->16 at 28x28 forward 0.81-0.90x,
# backward 0.92-0.99x (im2col 3x instead of 9x the input, and a [48x48] @ [48xL] product at 83-88 GFLOP/s
# against [16x144] @ [144xL] at 68-72); at 14x14, 10x10, 8x8, 7x7 and 4x4 (batches 64 and 449) forward
# 0.72-0.94x, backward 0.81-1.00x; 16->8 0.65-0.97x; 8->8 0.76-0.83x at batch 449, 0.88-1.05x at 64; 5x5
# 'same' 16->16 at 16x16 to 8x8 0.71-0.96x. Slower: more output than input channels (8->16 at 28x28
# backward 1.06-1.09x, 8->16 at 4x4-14x14 backward 1.04-1.26x; 16->32 1.02-1.12x; a [32x144] product
# already runs at 83), few column rows (1->16 and 4->16, 3 or 12 rows: 1.15-1.94x), and 'valid' padding,
# whose flat layout gained nothing at 14x14 and 8x8 (0.95-1.16x). So: 'same' (the tight layout) up to half
# as many extra rows as output rows, other stride-1 layouts up to a tenth ('valid' at 28x28, 26 output rows:
# 16->16 forward 0.89-0.93x, backward 0.95-0.98x; 8->8 0.78-0.79x and 0.88-0.91x).
ROW_TAPS_MAX_EXTRA = 0.1  # extra rows (Hp - Ho = (kh - 1)*dh at stride 1) as a fraction of Ho, flat layout
ROW_TAPS_MAX_EXTRA_TIGHT = 0.5  # the same for 'same' padding (tight layout): 3x3 down to 4x4, 5x5 to 8x8
ROW_TAPS_MAX_OUT = 16  # output channels
ROW_TAPS_MAX_GROWTH = 1.0  # output channels per input channel
ROW_TAPS_MIN_ROWS = 24  # column rows (input channels times kernel width)
_scratch = threading.local()  # per thread, so Python threads may run convolutions side by side


def chunk_columns(rows, product_rows, itemsize):
    """Columns a chunk may hold within ``CHUNK_BYTES``: each one ``rows`` values of the columns matrix
    and ``product_rows`` of the product (at least one)."""
    return max(1, CHUNK_BYTES // ((rows + product_rows) * itemsize))


def _buffer(name, size, dtype):
    """A 1-D scratch array of at least ``size`` values, reused between calls (fresh pages cost page faults)."""
    buffers = _scratch.__dict__.setdefault("buffers", {})
    key = (name, np.dtype(dtype).str)
    flat = buffers.get(key)
    if flat is None or flat.size < size:
        flat = np.empty(max(size, 1), dtype=dtype)
        buffers[key] = flat
    return flat[:size]


def _matrix(name, rows, cols, dtype):
    return _buffer(name, rows * cols, dtype).reshape(rows, cols)


class _Plan:
    """How one convolution runs: layout, row width of the output grid, chunks of samples."""

    def __init__(self, x_shape, weight_shape, geom, groups, itemsize, threads=1):
        n, c, h, w = x_shape
        self.c_out = weight_shape[0]
        self.groups = groups
        self.geom = geom
        top, bottom, left, right = geom.pads
        (kh, kw), (_, dw) = geom.kernel, geom.dilation
        # Layout: tight when the output rows are as wide as the input's (stride 1, left + right padding =
        # the kernel's extent - 1: 'same'), flat for other stride-1 convolutions, strided otherwise.
        self.tight = geom.stride == (1, 1) and left + right == (kw - 1) * dw
        self.flat = geom.stride == (1, 1) and not self.tight
        self.hp, self.wp = h + top + bottom, w + left + right
        ho, wo = geom.out_size
        # Row taps after the product (stride 1, one group): the columns hold the kernel's column taps over
        # every padded row, and row tap i is the product's row block i read i*dh rows down (``conv_kernels``).
        max_extra = ROW_TAPS_MAX_EXTRA_TIGHT if self.tight else ROW_TAPS_MAX_EXTRA
        self.row_taps = ((self.tight or self.flat) and groups == 1 and kh > 1 and self.c_out <= ROW_TAPS_MAX_OUT
                         and self.c_out <= ROW_TAPS_MAX_GROWTH * c
                         and c * kw >= ROW_TAPS_MIN_ROWS and self.hp - ho <= max_extra * ho)
        self.col_kernel_rows, self.col_height = (1, self.hp) if self.row_taps else (kh, ho)
        self.rows = c * self.col_kernel_rows * kw
        self.taps_after = kh if self.row_taps else 1  # kernel rows applied after the product
        self.product_rows = self.c_out * self.taps_after
        self.row_width = self.wp if self.flat else wo
        self.span = self.col_height * self.row_width
        samples_in_budget = chunk_columns(self.rows, self.product_rows, itemsize) // self.span
        # Within the byte budget, and at least one chunk per thread when there are enough samples; then as
        # many chunks per thread, of sizes within one sample of each other (64 samples in chunks of 9 had
        # given one thread 36 and the other 28).
        size = int(max(1, min(n, samples_in_budget, -(-n // threads))))
        count = -(-n // size)
        if count >= threads:
            count = min(n, -(-count // threads) * threads)
        self.chunks = [(n * k // count, n * (k + 1) // count) for k in range(count)]
        per_out, per_in = self.product_rows // groups, self.rows // groups
        self.group_slices = [(slice(g * per_out, (g + 1) * per_out), slice(g * per_in, (g + 1) * per_in))
                             for g in range(groups)]

    def columns(self, x, n0, n1):
        """im2col of samples ``n0:n1`` into a scratch matrix ``[rows, (n1-n0)*span]``."""
        g = self.geom
        col = _matrix("col", self.rows, (n1 - n0) * self.span, x.dtype)
        (kh, kw), (sh, sw), (dh, dw) = g.kernel, g.stride, g.dilation
        top, _, left, _ = g.pads
        if self.flat or self.tight:
            row = self.row_width
            padded = _buffer("padded", (n1 - n0) * x.shape[1] * self.hp * row + (kw - 1) * dw, x.dtype)
            kernels.pad_planes(x, n0, n1, top, left, self.hp, row, padded)
            kernels.im2col_runs(padded, x.shape[1], self.hp, row, self.col_kernel_rows, kw, dh, dw, self.col_height,
                                left, self.tight, col)
        else:
            kernels.im2col_strided(x, n0, n1, kh, kw, sh, sw, dh, dw, top, left, *g.out_size, col)
        return col

    def weight_matrix(self, weight, dtype):
        """The weights as the product's left matrix: ``[Co, C/groups*kh*kw]``, or with row taps
        ``[kh*Co, C*kw]`` (row ``i*Co + o``, column ``c*kw + j``)."""
        if self.row_taps:
            weight = weight.transpose(2, 0, 1, 3)
        return np.ascontiguousarray(weight.reshape(self.product_rows, self.rows // self.groups), dtype=dtype)

    def weight_grad(self, rows, shape):
        """``weight_matrix``'s inverse: the ``[product_rows, rows/groups]`` gradient as ``shape``."""
        if self.row_taps:
            co, c, kh, kw = shape
            return np.ascontiguousarray(rows.reshape(kh, co, c, kw).transpose(1, 2, 0, 3))
        return rows.reshape(shape)

    def assemble(self, product, bias, has_bias, n0, out):
        """The chunk's product into ``out[n0:...]`` plus the bias."""
        kernels.assemble_output(product, self.taps_after, self.geom.dilation[0], self.row_width, self.col_height,
                                bias, has_bias, n0, out)

    def gather(self, dout, n0, gathered, dbias):
        """``assemble``'s adjoint: the chunk's output gradient as the product's shape; ``dbias +=`` its sums."""
        kernels.gather_output_grad(dout, n0, self.taps_after, self.geom.dilation[0], self.row_width,
                                   self.col_height, gathered, dbias)

    def scatter(self, dcol, n0, dx):
        """col2im of a chunk's column gradients into ``dx[n0:...]``."""
        g = self.geom
        (kh, kw), (sh, sw), (dh, dw) = g.kernel, g.stride, g.dilation
        top, _, left, _ = g.pads
        if self.flat or self.tight:
            row = self.row_width
            plane = _buffer("plane", self.hp * row + (kw - 1) * dw, dx.dtype)
            kernels.col2im_runs(dcol, self.hp, row, self.col_kernel_rows, kw, dh, dw, self.col_height, g.out_size[1],
                                top, left, self.tight, n0, dx, plane)
        else:
            kernels.col2im_strided(dcol, n0, kh, kw, sh, sw, dh, dw, top, left, *g.out_size, dx)


def _threads():
    return max(1, os.cpu_count() or 1)


def _pool():
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="lasandbox-conv")
    return _POOL


_POOL = None


def _blas_libraries():
    """threadpoolctl's handles on the loaded BLAS libraries (none without threadpoolctl), found once."""
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # a dependency of scikit-learn, so normally present
            _BLAS = []
        else:
            _BLAS = ThreadpoolController().select(user_api="blas").lib_controllers
    return _BLAS


_BLAS = None


@contextlib.contextmanager
def _single_threaded_blas():
    libs = _blas_libraries()
    previous = [lib.get_num_threads() for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libs, previous, strict=True):
            lib.set_num_threads(n)


def _over_chunks(chunks, work):
    """``work(chunk_indices)`` on the chunks, split among threads when there are several.

    Each thread runs single-threaded BLAS on its own chunks (im2col, product and
    assembly of one chunk stay on one core, in its cache): on two cores that ran
    ~1.5x faster than one thread of numba kernels between two-thread BLAS calls,
    and does not stall when another process holds a core (two BLAS threads meet at
    every product). Only from the main thread: a worker thread (e.g. the folded
    landscape pass, which splits points the same way) runs its chunks itself.
    """
    n_threads = min(_threads(), len(chunks))
    serial = getattr(_scratch, "serial", False) or threading.current_thread() is not threading.main_thread()
    if n_threads < 2 or serial:
        return [work(range(len(chunks)))]
    shares = [range(t, len(chunks), n_threads) for t in range(n_threads)]
    with _single_threaded_blas():
        futures = [_pool().submit(work, share) for share in shares[1:]]
        results = [work(shares[0])]
        results += [future.result() for future in futures]
    return results


@contextlib.contextmanager
def serial_chunks():
    """Inside the block this thread runs its convolutions' chunks itself (its caller splits the work)."""
    previous = getattr(_scratch, "serial", False)
    _scratch.serial = True
    try:
        yield
    finally:
        _scratch.serial = previous


def conv_forward(x, weight, bias, geom, groups, out=None):
    """The convolution of ``x`` ``[N, C, H, W]`` by ``weight`` ``[Co, C/groups, kh, kw]`` plus ``bias`` (or None).

    ``out``: a C-contiguous ``[N, Co, Ho, Wo]`` array to write into (a new one by default).
    """
    x = np.ascontiguousarray(x)
    plan = _Plan(x.shape, weight.shape, geom, groups, x.itemsize, _threads())
    weight_rows = plan.weight_matrix(weight, x.dtype)
    has_bias = bias is not None
    bias_arg = np.ascontiguousarray(bias, dtype=x.dtype) if has_bias else np.zeros(1, dtype=x.dtype)
    if out is None:
        out = np.empty((x.shape[0], plan.c_out, *geom.out_size), dtype=x.dtype)

    def work(indices):
        for i in indices:
            n0, n1 = plan.chunks[i]
            col = plan.columns(x, n0, n1)
            product = _matrix("product", plan.product_rows, col.shape[1], x.dtype)
            for o, r in plan.group_slices:
                np.matmul(weight_rows[o], col[r], out=product[o])
            plan.assemble(product, bias_arg, has_bias, n0, out)

    _over_chunks(plan.chunks, work)
    return out


def conv_backward(dout, x, weight, geom, groups, need_x=True, need_weight=True, x_shape=None):
    """``(dx, dweight, dbias)`` for the output gradient ``dout`` (``dx``/``dweight`` None when not needed).

    The columns are recomputed chunk by chunk rather than kept from the forward
    pass: gathering them again (from ``x``, in cache) costs less than storing
    and re-reading the whole-batch matrix. ``x`` may be None when the weight
    gradient is not needed (``dx`` depends on ``x``'s shape only, given as
    ``x_shape``; the dtype is then the weight's): the transposed convolution's
    forward pass is this ``dx``.
    """
    if x is None:
        if need_weight or x_shape is None:
            raise ValueError("conv_backward: x=None needs need_weight=False and x_shape")
        shape, dtype = tuple(x_shape), np.dtype(weight.dtype)
    else:
        x = np.ascontiguousarray(x)
        shape, dtype = x.shape, x.dtype
    dout = np.ascontiguousarray(dout, dtype=dtype)
    plan = _Plan(shape, weight.shape, geom, groups, dtype.itemsize, _threads())
    weight_rows = plan.weight_matrix(weight, dtype)
    dx = np.empty(shape, dtype=dtype) if need_x else None

    def work(indices):
        """This thread's chunks; returns its sums of the bias and weight gradients (float64)."""
        dbias = np.zeros(plan.c_out, dtype=np.float64)
        dweight = np.zeros((plan.product_rows, plan.rows // groups), dtype=np.float64) if need_weight else None
        for i in indices:
            n0, n1 = plan.chunks[i]
            gathered = _matrix("gathered", plan.product_rows, (n1 - n0) * plan.span, dtype)
            plan.gather(dout, n0, gathered, dbias)
            if need_weight:
                col = plan.columns(x, n0, n1)
                # dW_g^T = col_g @ dout_g^T: BLAS ran this orientation ~1.8x faster than dout_g @ col_g^T.
                partial = _matrix("dweight", plan.rows // groups, plan.product_rows, dtype)
                for o, r in plan.group_slices:
                    np.matmul(col[r], gathered[o].T, out=partial[:, o])
                dweight += partial.T
            if need_x:
                dcol = _matrix("dcol", plan.rows, gathered.shape[1], dtype)
                for o, r in plan.group_slices:
                    np.matmul(weight_rows[o].T, gathered[o], out=dcol[r])
                plan.scatter(dcol, n0, dx)
        return dbias, dweight

    sums = _over_chunks(plan.chunks, work)
    dbias = sum(part[0] for part in sums)
    dweight = plan.weight_grad(sum(part[1] for part in sums).astype(dtype), weight.shape) if need_weight else None
    return dx, dweight, dbias.astype(dtype)


def direct_conv_forward(x, weight, bias, geom, groups):
    """The same convolution by ``conv_kernels.direct_forward`` (the measured alternative to im2col + BLAS)."""
    out = np.empty((x.shape[0], weight.shape[0], *geom.out_size), dtype=x.dtype)
    has_bias = bias is not None
    bias_arg = np.ascontiguousarray(bias, dtype=x.dtype) if has_bias else np.zeros(1, dtype=x.dtype)
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    kernels.direct_forward(np.ascontiguousarray(x), np.ascontiguousarray(weight, dtype=x.dtype), bias_arg,
                           has_bias, groups, sh, sw, dh, dw, geom.pads[0], geom.pads[2], out)
    return out
