"""The fixed summation order of per-segment reductions: ``loops.tree_sum`` (cpu) and its numpy mirror."""

import math

import numpy as np
import pytest

from lasandbox.kernels import loops, numpy_backend


def _tree_by_definition(values):
    """Pad with 0.0 to a power of two >= 16, add the two halves until 8 slots remain, combine as a tree."""
    slots = [float(np.float64(v)) for v in values]
    width = 16
    while width < len(slots):
        width *= 2
    slots += [0.0] * (width - len(slots))
    while len(slots) > 8:
        half = len(slots) // 2
        slots = [slots[i] + slots[i + half] for i in range(half)]
    s = slots
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 15, 16, 17, 64, 100, 127, 128, 129, 256, 2047, 2048, 2049, 4095, 4096])
def test_tree_sum_follows_its_definition(n):
    values = np.random.default_rng(n).standard_normal(n).astype(np.float32) * np.float32(1e3)
    work = np.full(max(loops.TREE_MIN, 4096) // 2, np.nan)  # stale contents must not leak into the sum
    assert loops.tree_sum(values, work, False) == _tree_by_definition(values)
    # SumOfSquares: the tree of the float32 squares, summed from the array itself
    assert loops.tree_sum(values, work, True) == _tree_by_definition(values * values)


def test_numpy_chunk_sums_mirror_the_tree():
    # Uneven segments: full chunks, tails of every padded width, an empty segment.
    offsets = [0, 5000, 5000, 5017, 9200, 9201, 13000]
    table = loops.ChunkTable(offsets)
    values = np.random.default_rng(1).standard_normal(offsets[-1]).astype(np.float32)
    expected = [_tree_by_definition(values[lo:hi]) for lo, hi in zip(table.lo, table.hi, strict=True)]
    np.testing.assert_array_equal(numpy_backend._chunk_sums(values, table), expected)


def test_tree_sum_has_float64_accuracy():
    values = np.full(4096, 0.1, dtype=np.float32)
    values[::7] = np.float32(3e4)
    exact = math.fsum(values.astype(np.float64).tolist())
    assert abs(loops.tree_sum(values, np.empty(2048), False) - exact) <= 1e-13 * exact
    assert abs(float(np.cumsum(values)[-1]) - exact) > 1e-5 * exact  # an in-order float32 sum is not close
