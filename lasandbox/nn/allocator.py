"""Keep large freed numpy buffers in glibc's heap, so that the next array of that size costs no page faults.

A training step of a conv net allocates and frees dozens of multi-MB arrays
(activations, their gradients). glibc serves each allocation of at least its
mmap threshold (128 KB at first, raised adaptively only up to the largest
chunk freed so far -- and an equal size is still mmapped) with a fresh
``mmap``, whose pages the kernel zero-fills on first touch; on the benchmark
ResNet step that was ~40% of the time (99 ms -> 59 ms per step with the
thresholds below, measured with ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_``).
PyTorch avoids the same cost with its own caching allocator.

``keep_large_buffers_in_heap`` sets the mmap threshold to 32 MB (glibc's own
ceiling for its adaptive threshold) and the trim threshold to 128 MB, once
per process, on the first convolution. It does nothing if the user set
either ``MALLOC_*_THRESHOLD_`` variable, if ``LASANDBOX_MALLOC_TUNING=0``,
or where the C library is not glibc. The cost: up to 128 MB of freed memory
may stay with the process instead of going back to the OS.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers (malloc.h)
MMAP_THRESHOLD, TRIM_THRESHOLD = 32 << 20, 128 << 20
_state = {"done": False, "active": False}


def keep_large_buffers_in_heap():
    """Apply the thresholds (once); True if they are in effect."""
    if _state["done"]:
        return _state["active"]
    _state["done"] = True
    user_set = any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"))
    if user_set or os.environ.get("LASANDBOX_MALLOC_TUNING") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        _state["active"] = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
            libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError):  # not glibc
        _state["active"] = False
    return _state["active"]


def is_active():
    return _state["active"]
