"""Convolution kernels: im2col / col2im in numba, the matrix products in BLAS (numpy matmul).

Forward, per chunk of samples: the input windows become the columns of
``col`` ``[C*kh*kw, S*Ho*R]``; each group's output is one product
``W_g [Co/G, Cg*kh*kw] @ col_g``; ``assemble_output`` moves it to
``[N, Co, Ho, Wo]`` and adds the bias. Backward: ``gather_output_grad``
does the reverse move (and sums the bias gradient); ``dW_g += dout_g @
col_g.T``; ``dcol_g = W_g.T @ dout_g`` goes back to ``dx`` through col2im.

Three column layouts (``R`` above is the length of a row of outputs):

* *tight* (stride 1, ``left + right = (kw - 1)*dw``, so ``Wo = W``: 'same'
  padding, the common case): ``R = W``; the planes are padded by rows only,
  so tap ``(i, j)`` is again one contiguous run per sample and channel, and
  the few entries of each row whose read wraps into the neighbouring row
  (``|j*dw - left|`` per row, at most W) are zeroed after the copy (in ``dcol`` before
  col2im). No output is computed and dropped: against *flat*, 1 - W/Wp fewer
  product columns (7% at 28x28, 13% at 14x14, 22% at 7x7);
* *flat* (other stride-1 convolutions, any padding and dilation): outputs are laid out on the
  padded width ``R = Wp``, so the column of tap ``(i, j)`` for one sample
  and channel is one contiguous run of the zero-padded plane, starting at
  ``i*dh*Wp + j*dw``: im2col is ``C*kh*kw`` plain copies per sample and
  col2im as many contiguous adds. The ``Wp - Wo`` extra outputs per row are
  computed and dropped (their output gradients are zero);
* *strided* (any stride): ``R = Wo``, gathered element by element.

*Row taps* (tight or flat, one group; ``conv_compute`` says for which shapes): the columns hold
only the kernel's column taps ``(c, j)``, over all ``Hp`` padded rows, and the weights are stacked
by kernel row, ``[kh*Co, C*kw]``; kernel row ``i`` is then applied after the product, as its row
block ``i`` read ``i*dh`` rows further down (``assemble_output``; ``gather_output_grad`` is the
adjoint). im2col copies the input ``kw`` times instead of ``kh*kw``, and the product has ``kh`` times
the rows and a ``kh``-th of the depth, which BLAS runs faster when there are few output channels,
at the price of ``Hp - Ho`` extra output rows per sample (``(Hp - Ho)*R`` more product columns).
``im2col_runs`` and ``col2im_runs`` serve it with one kernel row and ``Hp`` in place of ``Ho``.

Why this shape (AMD EPYC, 2 cores, batch 64, 16 -> 16 channels, 3x3, 28x28;
``benchmarks/conv_gflops.py`` prints the numbers): chunks of a few MB keep
the columns in cache between im2col and the product that reads them (the
whole-batch matrix, 29 MB here, made both passes memory-bound and ran the
product at half speed); the flat layout made im2col ~8x faster than gathering
rows of 28 outputs one by one, and the tight layout (with equal chunks per thread) ran 14-24% faster
than flat on the 3x3 'same' shapes (fewer product columns; four alternated runs,
2026-12-01); and BLAS beats numba's own loops (``direct_forward``, kept for
that comparison and tested like the rest).

The numba kernels are single-threaded (``parallel=False``) and release the
GIL (``nogil``): ``conv_compute`` runs the chunks on Python threads, each
with its own chunk's im2col, single-threaded BLAS product and assembly.
With numba's own parallel loops (OpenMP workers, which spin while waiting)
between multi-threaded BLAS calls the two pools fought over the cores (a
forward pass took 5x longer), and serial kernels between two-thread BLAS
calls left a core idle in every kernel. Kernels are compiled on first use
(per dtype) and cached on disk, never at import.
"""

from __future__ import annotations

from numba import njit

_JIT = {"cache": True, "nogil": True}


@njit(inline="always")
def _valid_range(size, out_len, stride, offset):
    """Outputs ``o`` with ``0 <= o*stride + offset < size``, as ``[lo, hi)``."""
    lo = 0
    if offset < 0:
        lo = (-offset + stride - 1) // stride
    hi = 0
    if size - offset > 0:
        hi = (size - offset + stride - 1) // stride
    return lo, min(max(hi, lo), out_len)


# ------------------------------------------------------------ flat and tight layouts (stride 1)
@njit(**_JIT)
def pad_planes(x, n0, n1, top, left, hp, wp, padded):
    """Write ``x[n0:n1]`` framed by zeros into ``padded`` (``S*C`` planes of ``Hp*Wp``, then a zero tail;
    the tight layout passes ``Wp = W``, so each row's ``left`` leading zeros are the previous row's end)."""
    channels, h, w = x.shape[1], x.shape[2], x.shape[3]
    size = hp * wp
    padded[:] = 0
    for n in range(n1 - n0):
        for c in range(channels):
            start = (n * channels + c) * size
            src = x[n0 + n, c]
            for r in range(h):
                dst = padded[start + (top + r) * wp + left:start + (top + r) * wp + left + w]
                row = src[r]
                for q in range(w):
                    dst[q] = row[q]


@njit(inline="always")
def _zero_outside(run, rows, w, lo, hi):
    """Zero ``run[r*w + q]`` for ``q < lo`` and ``q >= hi`` in each of ``rows`` rows (indexing, not slices:
    a slice per row costs more than the few stores it makes)."""
    lo, hi = min(lo, w), max(hi, lo)
    if lo > 0:
        for r in range(rows):
            for q in range(r * w, r * w + lo):
                run[q] = 0
    if hi < w:
        for r in range(rows):
            for q in range(r * w + hi, (r + 1) * w):
                run[q] = 0


@njit(inline="always")
def _row_wraps(j, dw, left, row):
    """The outputs ``[lo, hi)`` of a row whose tap-``j`` read stays in the row (tight layout)."""
    offset = j * dw - left
    return max(0, -offset), min(row, row - offset)


@njit(**_JIT)
def im2col_runs(padded, channels, hp, row, kh, kw, dh, dw, ho, left, tight, col):
    """``col[c*kh*kw + i*kw + j, n*Ho*R + q] = padded[(n*C + c)*Hp*R + i*dh*R + j*dw + q]`` for ``q < Ho*R``
    (``R = row``: ``Wp`` flat, ``W`` tight).

    Flat: a run may go past its plane's end by up to ``(kw - 1)*dw`` values;
    only dropped outputs read those (the next plane's first values, or the zero
    tail after the last plane). Tight (``tight=True``): where ``ow - left + j*dw``
    leaves the row, the read is the neighbouring row's end, so those entries
    are zeroed after the copy (``min(|j*dw - left|, W)`` per row).
    """
    span = ho * row
    taps = kh * kw
    n_samples = col.shape[1] // span
    for c in range(channels):
        for i in range(kh):
            for j in range(kw):
                dst_row = col[c * taps + i * kw + j]
                lo, hi = _row_wraps(j, dw, left, row) if tight else (0, row)
                for n in range(n_samples):
                    start = (n * channels + c) * hp * row + i * dh * row + j * dw
                    src = padded[start:start + span]
                    dst = dst_row[n * span:(n + 1) * span]
                    for q in range(span):
                        dst[q] = src[q]
                    if lo > 0 or hi < row:
                        _zero_outside(dst, ho, row, lo, hi)


@njit(**_JIT)
def col2im_runs(dcol, hp, row, kh, kw, dh, dw, ho, wo, top, left, tight, n0, dx, plane):
    """``dx[n0:n0+S]`` = the adjoint of ``im2col_runs`` (flat: dropped outputs have zero gradient, not added;
    tight: the entries im2col zeroed add nothing, so they are zeroed in ``dcol``, a scratch matrix, and
    the rest are contiguous adds). ``plane``: scratch for one padded plane (``Hp*R`` values, plus
    ``(kw - 1)*dw`` where a tight run ends past it).
    """
    channels, h, w = dx.shape[1], dx.shape[2], dx.shape[3]
    span = ho * row
    length = (ho - 1) * row + wo  # up to the last kept output, so a flat run never leaves its plane
    taps = kh * kw
    for n in range(dcol.shape[1] // span):
        for c in range(channels):
            plane[:] = 0
            for i in range(kh):
                for j in range(kw):
                    src = dcol[c * taps + i * kw + j, n * span:n * span + length]
                    lo, hi = _row_wraps(j, dw, left, row) if tight else (0, row)
                    if lo > 0 or hi < row:
                        _zero_outside(src, ho, row, lo, hi)
                    dst = plane[i * dh * row + j * dw:i * dh * row + j * dw + length]
                    for q in range(length):
                        dst[q] += src[q]
            target = dx[n0 + n, c]
            for r in range(h):
                out_row = target[r]
                src = plane[(top + r) * row + left:(top + r) * row + left + w]
                for q in range(w):
                    out_row[q] = src[q]


# ------------------------------------------------------------ strided layout (any stride)
@njit(**_JIT)
def im2col_strided(x, n0, n1, kh, kw, sh, sw, dh, dw, top, left, ho, wo, col):
    """``col[c*kh*kw + i*kw + j, (n-n0)*Ho*Wo + oh*Wo + ow] = x[n, c, oh*sh - top + i*dh, ow*sw - left + j*dw]``
    (0 where that is padding)."""
    channels, h, w = x.shape[1], x.shape[2], x.shape[3]
    taps = kh * kw
    plane = ho * wo
    for c in range(channels):
        for i in range(kh):
            for j in range(kw):
                dst_row = col[c * taps + i * kw + j]
                offset = j * dw - left
                lo, hi = _valid_range(w, wo, sw, offset)
                for n in range(n1 - n0):
                    for oh in range(ho):
                        ih = oh * sh - top + i * dh
                        dst = dst_row[n * plane + oh * wo:n * plane + (oh + 1) * wo]
                        if ih < 0 or ih >= h:
                            dst[:] = 0
                            continue
                        src = x[n0 + n, c, ih]
                        dst[:lo] = 0
                        for ow in range(lo, hi):
                            dst[ow] = src[ow * sw + offset]
                        dst[hi:] = 0


@njit(**_JIT)
def col2im_strided(dcol, n0, kh, kw, sh, sw, dh, dw, top, left, ho, wo, dx):
    """The adjoint of ``im2col_strided``: ``dx[n0:n0+S]`` (zeroed here) gets every column entry that read it."""
    channels, h, w = dx.shape[1], dx.shape[2], dx.shape[3]
    taps = kh * kw
    plane = ho * wo
    n_samples = dcol.shape[1] // plane
    for n in range(n_samples):
        for c in range(channels):
            target = dx[n0 + n, c]
            target[:, :] = 0
            for i in range(kh):
                for j in range(kw):
                    src_row = dcol[c * taps + i * kw + j]
                    offset = j * dw - left
                    lo, hi = _valid_range(w, wo, sw, offset)
                    for oh in range(ho):
                        ih = oh * sh - top + i * dh
                        if ih < 0 or ih >= h:
                            continue
                        dst = target[ih]
                        start = n * plane + oh * wo
                        for ow in range(lo, hi):
                            dst[ow * sw + offset] += src_row[start + ow]


# ------------------------------------------------------------ the output and its gradient, every layout
@njit(**_JIT)
def assemble_output(product, kh, dh, row_width, height, bias, has_bias, n0, out):
    """``out[n0 + n, o, oh, ow] = sum_i product[i*Co + o, n*height*R + (oh + i*dh)*R + ow] + bias[o]``
    (``R = row_width >= Wo``; ``i < kh``).

    The usual layouts pass ``kh = 1`` and ``height = Ho``: the product is the output, laid out on rows
    of ``R``. With row taps the columns held only the kernel's column taps, over all ``height = Hp``
    padded rows, and kernel row ``i`` is the product's row block ``i`` read ``i*dh`` rows further down."""
    channels, ho, wo = out.shape[1], out.shape[2], out.shape[3]
    span = height * row_width
    down = dh * row_width
    for n in range(product.shape[1] // span):
        for o in range(channels):
            # Without a bias, ``bias`` is a one-element zero array: its element keeps the sums in the arrays'
            # dtype (an integer 0 makes them float64, and the one-pass sum below would round differently).
            b = bias[o] if has_bias else bias[0]
            for oh in range(ho):
                dst = out[n0 + n, o, oh]
                start = n * span + oh * row_width
                first = product[o, start:start + wo]
                if kh == 3:  # the common kernel in one pass (half the time of the loops below, same additions)
                    second = product[channels + o, start + down:start + down + wo]
                    third = product[2 * channels + o, start + 2 * down:start + 2 * down + wo]
                    for ow in range(wo):
                        dst[ow] = ((first[ow] + b) + second[ow]) + third[ow]
                    continue
                for ow in range(wo):
                    dst[ow] = first[ow] + b
                for i in range(1, kh):
                    src = product[i * channels + o, start + i * down:start + i * down + wo]
                    for ow in range(wo):
                        dst[ow] += src[ow]


@njit(fastmath={"reassoc"}, **_JIT)  # reassociating the bias sum lets it vectorise
def gather_output_grad(dout, n0, kh, dh, row_width, height, gathered, dbias):
    """The adjoint of ``assemble_output``: ``gathered[i*Co + o, n*height*R + (oh + i*dh)*R + ow] = dout[n0 + n,
    o, oh, ow]``, 0 where no output lands (``ow >= Wo``; with row taps the rows above and below each
    block's outputs); ``dbias[o] +=`` the sum of ``dout``. The usual layouts pass ``kh = 1``, ``height = Ho``."""
    channels, ho, wo = dout.shape[1], dout.shape[2], dout.shape[3]
    span = height * row_width
    down = dh * row_width
    for o in range(channels):
        total = 0.0
        for n in range(gathered.shape[1] // span):
            for i in range(kh):
                block = gathered[i * channels + o, n * span:(n + 1) * span]
                block[:i * down] = 0
                block[i * down + ho * row_width:] = 0
            for oh in range(ho):
                src = dout[n0 + n, o, oh]
                for i in range(kh):
                    start = n * span + oh * row_width + i * down
                    dst = gathered[i * channels + o, start:start + row_width]
                    if i == 0:
                        for ow in range(wo):
                            dst[ow] = src[ow]
                            total += src[ow]
                    else:
                        for ow in range(wo):
                            dst[ow] = src[ow]
                    for ow in range(wo, row_width):
                        dst[ow] = 0
        dbias[o] += total


@njit(**_JIT)
def direct_forward(x, weight, bias, has_bias, groups, sh, sw, dh, dw, top, left, out):
    """The convolution as plain loops (no im2col, no BLAS): one ``(sample, output channel)`` plane at a time.

    Kept for the im2col-vs-direct measurement in ``benchmarks/conv_gflops.py``;
    the layers use im2col + BLAS (see the module docstring).
    """
    n_samples, channels, h, w = x.shape
    c_out, c_group, kh, kw = weight.shape
    ho, wo = out.shape[2], out.shape[3]
    per_group = c_out // groups
    for n in range(n_samples):
        for o in range(c_out):
            g = o // per_group
            acc = out[n, o]
            acc[:, :] = bias[o] if has_bias else 0
            for cl in range(c_group):
                c = g * c_group + cl
                for i in range(kh):
                    for j in range(kw):
                        wv = weight[o, cl, i, j]
                        offset = j * dw - left
                        lo, hi = _valid_range(w, wo, sw, offset)
                        for oh in range(ho):
                            ih = oh * sh - top + i * dh
                            if ih < 0 or ih >= h:
                                continue
                            src = x[n, c, ih]
                            dst = acc[oh]
                            for ow in range(lo, hi):
                                dst[ow] += wv * src[ow * sw + offset]
