"""How the backends cut an array into pieces: cache-line-aligned blocks (cpu) and per-segment chunks.

Blocks (cpu, elementwise rules): numpy places large arrays 16 bytes past a
page boundary, so every other 32-byte AVX load straddles two cache lines;
peeling the few elements before the first 64-byte boundary (``aligned_head``)
makes every block aligned, which measured ~8% faster for Adam at 2^24 elements
on the 2-core build VM. The blocks are handed to numba's thread pool and split
statically between the threads (contiguous runs).

Chunks (rules with per-segment reductions, every backend): each segment (a
parameter tensor) is cut into pieces of at most ``CHUNK`` elements starting at
the segment's first element. A reduction sums each chunk in float64 as a
fixed tree of halvings (``tree_sum``), then each segment's chunk sums in order,
the same way on the numpy reference and the cpu backend, which so agree to the
bit (the cuda backend sums a chunk as a tree of its own and agrees to rounding).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Elements per block: a multiple of 16 floats (64 bytes) so that every block
# starts on a cache line, small enough to share 2^16-element calls among threads.
BLOCK = 4096
CHUNK = 4096


@njit(inline="always")
def aligned_head(array):
    """How many leading elements precede the first 64-byte boundary of ``array``."""
    return min(array.size, ((64 - array.ctypes.data % 64) % 64) // 4)


@njit(inline="always")
def block_bounds(size, head, block_index):
    start = head + block_index * BLOCK
    return start, min(size, start + BLOCK)


@njit(inline="always")
def block_count(size, head):
    return (size - head + BLOCK - 1) // BLOCK


TREE_MIN = 16  # a chunk's contributions are padded to at least 16 slots: 8 remain after the first halving


@njit(inline="always")
def tree_width(n):
    """The power of two (at least ``TREE_MIN``) that a chunk of ``n`` contributions is padded to."""
    width = TREE_MIN
    while width < n:
        width *= 2
    return width


@njit(inline="always")
def _slot(values, i, square):
    """Contribution ``i`` in float64: ``values[i]``, or its float32 square (a ``SumOfSquares`` reduction)."""
    value = values[i]
    return np.float64(value * value) if square else np.float64(value)


@njit(inline="always")
def tree_sum(values, work, square):
    """The float64 sum of a chunk's float32 contributions, in a fixed order: padded with 0.0 to
    ``P = tree_width(n)`` slots, halved (slot ``i`` plus slot ``i + P/2``) until 8 slots remain, then
    ``((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7))``. ``work`` holds at least ``P/2`` float64.

    Why a tree: each halving is an elementwise add of two contiguous halves, which vectorises, where
    any running sum is one add at a time (8 interleaved running sums, the order used before, stayed
    scalar and cost the trust-ratio rule ~5 ms per 2^24 elements on the 2-core AMD EPYC VM; the tree, with its buffer
    stores, ~2.7 ms).
    The numpy reference (``numpy_backend._chunk_sums``) halves the same padded rows.

    ``square=True``: the contributions are the float32 squares of ``values`` (summed from the array itself,
    with no buffer of squares; the same bits as summing a buffer of them)."""
    n = values.size
    width = tree_width(n)
    if n == width and width >= FUSED_MIN:
        return _full_tree_sum(values, work, square)
    half = width // 2
    both = max(n - half, 0)
    for i in range(both):
        work[i] = _slot(values, i, square) + _slot(values, i + half, square)
    for i in range(both, min(n, half)):
        work[i] = _slot(values, i, square) + 0.0  # the padding's 0.0, added as the reference adds it
    for i in range(min(n, half), half):
        work[i] = 0.0
    return _finish_tree(work, half)


FUSED_MIN = 128  # the first four halvings fused need 16 slots per output and leave at least 8 outputs


@njit(inline="always")
def _full_tree_sum(values, work, square):
    """``tree_sum`` of a chunk that fills its width (every chunk but a segment's last): the first four
    halvings in one pass, so the buffer is read once and a sixteenth of it written (they are the same
    additions in the same order: output ``i`` of the fourth halving is the tree over ``values[i + k*q]``)."""
    q = values.size // 16
    for i in range(q):
        a0 = _slot(values, i, square) + _slot(values, i + 8 * q, square)
        a1 = _slot(values, i + q, square) + _slot(values, i + 9 * q, square)
        a2 = _slot(values, i + 2 * q, square) + _slot(values, i + 10 * q, square)
        a3 = _slot(values, i + 3 * q, square) + _slot(values, i + 11 * q, square)
        a4 = _slot(values, i + 4 * q, square) + _slot(values, i + 12 * q, square)
        a5 = _slot(values, i + 5 * q, square) + _slot(values, i + 13 * q, square)
        a6 = _slot(values, i + 6 * q, square) + _slot(values, i + 14 * q, square)
        a7 = _slot(values, i + 7 * q, square) + _slot(values, i + 15 * q, square)
        work[i] = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))
    return _finish_tree(work, q)


@njit(inline="always")
def _finish_tree(work, size):
    """Halve ``work[:size]`` in place down to 8 slots, then combine them as a tree."""
    while size > 8:
        size //= 2
        for i in range(size):
            work[i] = work[i] + work[i + size]
    return ((work[0] + work[1]) + (work[2] + work[3])) + ((work[4] + work[5]) + (work[6] + work[7]))


class ChunkTable:
    """The chunks of a segmentation: ``lo``/``hi`` element bounds, ``segment`` of each chunk, and
    ``first_chunk`` (the chunks of segment ``s`` are ``first_chunk[s]:first_chunk[s+1]``)."""

    def __init__(self, offsets, chunk=CHUNK):
        offsets = np.asarray(offsets, dtype=np.int64)
        lengths = np.diff(offsets)
        per_segment = np.maximum((lengths + chunk - 1) // chunk, 1)  # an empty segment keeps one empty chunk
        self.first_chunk = np.concatenate([[0], np.cumsum(per_segment)]).astype(np.int64)
        self.segment = np.repeat(np.arange(lengths.size, dtype=np.int64), per_segment)
        within = np.arange(self.segment.size, dtype=np.int64) - self.first_chunk[self.segment]
        self.lo = offsets[self.segment] + within * chunk
        self.hi = np.minimum(self.lo + chunk, offsets[self.segment + 1])
        self.lo = np.minimum(self.lo, self.hi)
        self.offsets = offsets
        self.lengths = lengths

    @property
    def num_chunks(self) -> int:
        return int(self.segment.size)

    @property
    def num_segments(self) -> int:
        return int(self.lengths.size)


_tables: dict = {}


def chunk_table(offsets) -> ChunkTable:
    """The ``ChunkTable`` of validated int64 ``offsets``, the same object for the same offsets: a step called
    again with the same segments reuses it (and the cuda backend its device copy, which it keeps per table
    object) instead of building and uploading one per call."""
    key = np.ascontiguousarray(offsets, dtype=np.int64).tobytes()
    table = _tables.get(key)
    if table is None:
        if len(_tables) >= 64:  # segmentations of calls long gone
            _tables.clear()
        table = _tables[key] = ChunkTable(np.frombuffer(key, dtype=np.int64).copy())
    return table


def segment_offsets(segments, size) -> np.ndarray:
    """Validated ``segments`` (int offsets from 0 to ``size``, non-decreasing; None = one segment)."""
    if segments is None:
        return np.array([0, size], dtype=np.int64)
    if isinstance(segments, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in segments):
        raise TypeError(f"segments must be int offsets, not bools, got {list(segments)[:4]}")
    offsets = np.asarray(segments)
    if offsets.ndim != 1 or offsets.size < 2 or not np.issubdtype(offsets.dtype, np.integer):
        raise ValueError(f"segments must be a 1-D sequence of int offsets [0, ..., {size}] (segment s is "
                         f"offsets[s]:offsets[s+1]), got {np.asarray(segments).shape} {offsets.dtype}")
    if offsets[0] != 0 or offsets[-1] != size or np.any(np.diff(offsets) < 0):
        raise ValueError(f"segments must start at 0, end at the array size {size} and never decrease, got "
                         f"{offsets[:4].tolist()}{'...' if offsets.size > 4 else ''} ending at {int(offsets[-1])}")
    return offsets.astype(np.int64)
