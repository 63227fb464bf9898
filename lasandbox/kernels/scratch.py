"""Working arrays of a step (``Rule.scratch``): allocated once per size and thread, reused every call.

A rule's scratch array is written by one pass and read by a later one within
the same step (a two-pass rule's update direction), so its contents never outlive the
call; reusing it saves an allocation (and, for large arrays, the page faults
of touching fresh memory) on every step. One cache per thread, so two threads
stepping at once never share one.
"""

from __future__ import annotations

import threading

import numpy as np

_local = threading.local()


def aligned(allocate, size, dtype=np.float32):
    """A 1-D host array of ``size`` values from ``allocate`` (``np.zeros``/``np.empty``) whose data starts on
    a 64-byte (cache-line) boundary. numpy places large arrays 16 bytes past one, so every other vector
    load or store of a cpu kernel would straddle two cache lines."""
    itemsize = np.dtype(dtype).itemsize
    if 64 % itemsize or size < 0:
        raise ValueError(f"aligned: size must be >= 0 and the item size divide 64, got {size} of {np.dtype(dtype)}")
    padded = allocate(size + 64 // itemsize, dtype=dtype)
    offset = (-padded.ctypes.data % 64) // itemsize
    return padded[offset:offset + size]


def host_scratch(size, dtype):
    """``with_scratch``'s allocator for host backends: uninitialised and cache-line aligned."""
    return aligned(np.empty, size, dtype)


def _size(array):
    return array.size if isinstance(array, np.ndarray) else array.shape[0]


def with_scratch(rule, arrays, allocate):
    """``arrays`` plus the rule's scratch arrays (``allocate(size, dtype)`` on first use of a size)."""
    if not rule.scratch:
        return arrays
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    size = _size(arrays["param"])
    out = dict(arrays)
    for name in rule.scratch:
        key = (allocate, name, size)
        if key not in cache:
            if len(cache) > 32:  # sizes of calls long gone
                cache.clear()
            cache[key] = allocate(size, dtype=np.float32)
        out[name] = cache[key]
    return out
