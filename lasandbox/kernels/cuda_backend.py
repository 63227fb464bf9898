"""The ``cuda`` backend: launches each rule's generated kernels (``codegen.py``) on device arrays.

One thread updates one element and one launch does a whole pass, so an
elementwise rule is one launch per step, the Lookahead sync fused in when
``slow`` is given. A segmented rule launches one block per chunk for
each pass, and one small kernel per segment step. Scalars arrive as float32,
so the per-element math is float32 as on the CPU. Kernels compile on first launch.

It takes numba device arrays or anything exposing ``__cuda_array_interface__``
(CuPy arrays, PyTorch CUDA tensors) and works on them where they are: numba
wraps such objects as device-array views, so nothing is copied. Importing this
module does not import ``numba.cuda``; the first kernel call does.

Kernels run on numba's default stream. An array that advertises its stream in
``__cuda_array_interface__`` (CuPy does) is synchronised with it by numba
before the launch. PyTorch exports no stream: work queued on a non-default
``torch.cuda.Stream`` must be synchronised by the caller first. A tensor that
requires grad does not export the interface at all: pass ``tensor.detach()``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from numba import config as numba_config

from lasandbox.kernels.checks import FLOAT32, is_device_array

THREADS_PER_BLOCK = 256
f32 = np.float32

_kernels = None


def kernels():
    """The hand-written kernels (the benchmark's stream), importing ``numba.cuda`` the first time."""
    global _kernels
    if _kernels is None:
        from lasandbox.kernels import cuda_kernels

        _kernels = cuda_kernels
    return _kernels


def is_available() -> bool:
    """Whether ``numba.cuda`` sees a GPU (or runs its simulator, NUMBA_ENABLE_CUDASIM=1)."""
    try:
        from numba import cuda
    except ImportError:  # pragma: no cover - numba always ships numba.cuda here
        return False
    try:
        return bool(cuda.is_available())
    except Exception:  # a broken driver install should read as "no GPU", not crash the caller
        return False


def is_simulator() -> bool:
    """Whether numba.cuda is numba's CPU simulator (NUMBA_ENABLE_CUDASIM=1)."""
    # getattr: numba-cuda keeps its own config, and numba's attribute may go away with it.
    return bool(getattr(numba_config, "ENABLE_CUDASIM", 0))


def _launch(kernel, size, *args):
    if size == 0:  # a grid of zero blocks is an error in CUDA
        return
    blocks = math.ceil(size / THREADS_PER_BLOCK)
    if not is_simulator():
        kernel[blocks, THREADS_PER_BLOCK](*args)
        return
    # The simulator runs the rules on numpy scalars, which warn where a GPU
    # silently overflows to inf. Its threads do not inherit np.errstate (a
    # context variable), so silence the warnings through the global filter.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        kernel[blocks, THREADS_PER_BLOCK](*args)


def _size(array):
    return array.shape[0] if getattr(array, "__cuda_ndarray__", False) else \
        array.__cuda_array_interface__["shape"][0]


def _target():
    return "cudasim" if is_simulator() else "cuda"


def run(rule, chain, arrays, scalars, table=None):
    """One step of ``rule`` on device arrays (dict by name): one launch per pass (a segmented rule
    also launches one small kernel per segment step)."""
    from lasandbox.kernels import compiled

    module = compiled.kernels_for(rule, chain, _target())
    if rule.scratch:
        from lasandbox.kernels import scratch

        arrays = scratch.with_scratch(rule, arrays, _device_scratch)
    if not rule.segmented:
        for spec in module.specs:
            n = _size(arrays[spec.arrays[0]])
            _launch(getattr(module, spec.name), n, *[arrays[a] for a in spec.arrays],
                    *[_scalar(s, spec, scalars) for s in spec.scalars])
        return
    device = _device_table(table, len(rule.reductions), len(rule.segment_values))
    for spec in module.specs:
        if spec.kind == "segment":
            _launch(getattr(module, f"{spec.name}_segments"), table.num_segments, device.first_chunk,
                    device.partials, device.values, *[_segment_scalar(scalars[s]) for s in spec.scalars])
        elif table.num_chunks:
            kernel = getattr(module, f"{spec.name}_chunks")
            _launch_blocks(kernel, table.num_chunks, module.THREADS, device.lo, device.hi, device.segment,
                           device.partials, device.values, *[arrays[a] for a in spec.arrays],
                           *[_scalar(s, spec, scalars) for s in spec.scalars])


def _device_scratch(size, dtype):
    """``scratch.with_scratch``'s allocator on the device. One function for every call: the scratch cache
    is keyed by it, and a new lambda per call had allocated a param-sized array on every step."""
    from numba import cuda

    return cuda.device_array(size, dtype=dtype)


def _segment_scalar(value):
    """Segment steps compute in float64 (bools stay bools)."""
    return value if type(value) is bool else float(value)


def _scalar(name, spec, scalars):
    value = scalars[name]
    return value if name in spec.bools else f32(value)


class _DeviceTable:
    """A chunk table and its scratch arrays on the device, kept while the host table lives."""

    def __init__(self, table, reductions, values):
        from numba import cuda

        self.host = table
        self.lo, self.hi = cuda.to_device(table.lo), cuda.to_device(table.hi)
        self.segment, self.first_chunk = cuda.to_device(table.segment), cuda.to_device(table.first_chunk)
        self.partials = cuda.device_array((table.num_chunks, max(reductions, 1)), dtype=np.float64)
        self.values = cuda.device_array((table.num_segments, max(values, 1)), dtype=np.float32)


_tables: dict = {}


def _device_table(table, reductions, values):
    found = _tables.get(id(table))
    if found is None or found.host is not table:
        if len(_tables) > 64:  # tables of finished calls; an optimizer's stay in use and are rebuilt at once
            _tables.clear()
        found = _tables[id(table)] = _DeviceTable(table, reductions, values)
    return found


def _launch_blocks(kernel, blocks, threads, *args):
    """One block of ``threads`` threads per chunk."""
    if not is_simulator():
        kernel[blocks, threads](*args)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        kernel[blocks, threads](*args)


def stream(a, b, scale):
    """``a += scale*b`` on the device (the benchmark's bandwidth reference)."""
    _launch(kernels().stream, _size(a), a, b, f32(scale))


def to_device(array):
    """Copy a host array to the GPU as a contiguous 1-D-or-more float32 numba device array."""
    from numba import cuda

    if is_device_array(array):
        raise TypeError("to_device() expects a host array; this one is already on the device")
    host = np.ascontiguousarray(array, dtype=FLOAT32)
    return cuda.to_device(host)


def to_host(array):
    """Copy a device array (numba or ``__cuda_array_interface__``) to a new numpy array.

    A numpy array is returned unchanged, so code can call this on either kind.
    """
    if isinstance(array, np.ndarray):
        return array
    if getattr(array, "__cuda_ndarray__", False):
        return array.copy_to_host()
    if hasattr(array, "__cuda_array_interface__"):
        from numba import cuda

        return cuda.as_cuda_array(array).copy_to_host()
    raise TypeError(f"to_host() expects a numpy or device array, got {type(array).__name__}")


run_in_training = run  # an optimizer step runs like any other call here (the cpu backend has a policy of its own)
