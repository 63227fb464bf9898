"""Argument checks for the kernels, cheap enough to run on every call.

A kernel call on 1,000 floats takes about a microsecond, so every check here
has a fast path (the common, valid case costs a few attribute reads) and only
builds a detailed message when something is wrong. Everything is checked
before any array is written, so a rejected call changes nothing.

The memory-overlap check is the exception to "a few attribute reads" when the
arrays are views of one allocation: then numpy's bounds test runs on each pair
that includes a written array (~10 us for Adam with ``slow``). Arrays of
separate allocations, the usual case, are cleared from their ``base`` alone.
"""

from __future__ import annotations

import math

import numpy as np

from lasandbox.utils.validation import check_int, check_real

FLOAT32 = np.dtype(np.float32)


def is_device_array(array) -> bool:
    """True for numba device arrays (also the simulator's) and ``__cuda_array_interface__`` objects."""
    if getattr(array, "__cuda_ndarray__", False):
        return True
    try:
        return hasattr(array, "__cuda_array_interface__")
    except Exception:  # e.g. a PyTorch CUDA tensor that requires grad refuses to export (RuntimeError)
        return True


def real(name, value, low=0.0, high=math.inf, high_open=False, low_open=False) -> float:
    """``float(value)`` checked to lie in ``[low, high]`` (open ends with ``low_open``/``high_open``)."""
    if type(value) is float and (low < value if low_open else low <= value) \
            and (value < high if high_open else value <= high) and value != math.inf:
        return value
    return check_real(name, value, low=low, high=None if high == math.inf else high, high_open=high_open,
                      low_open=low_open)


MAX_STEP = 2**63 - 1  # the optimizers count steps in int64; far beyond it, beta**step cannot be computed


def step_count(value) -> int:
    if type(value) is int and 1 <= value <= MAX_STEP:
        return value
    return check_int("step", value, low=1, high=MAX_STEP)


def flag(name, value) -> bool:
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")


def host_arrays(named_arrays, written, optional=frozenset()) -> None:
    """Check 1-D contiguous float32 numpy arrays of one shape; ``written`` ones must be writeable.

    ``named_arrays`` is a sequence of ``(name, array)``, the first one setting the
    shape; only the ``optional`` ones (a step's ``slow``) may be None. Arrays that
    share memory must be exactly the same elements, and never two that the kernel writes.
    """
    first_name, first = named_arrays[0]
    size = first.size if isinstance(first, np.ndarray) else None
    owners, maybe_shared = set(), False
    for name, array in named_arrays:
        if array is None:
            if name in optional:
                continue
            raise TypeError(f"{name} must be a numpy.ndarray of float32, got None")
        if type(array) is np.ndarray and array.dtype is FLOAT32 and array.ndim == 1 and array.size == size:
            flags = array.flags
            ok = flags.c_contiguous and (flags.writeable or name not in written)
        else:
            ok = False
        if not ok:
            _explain_host(name, array, None if name == first_name else size, name in written)
        # Arrays over distinct numpy allocations cannot share memory: that is the common
        # case, decided here from ``base``. Anything else (views of one allocation, foreign
        # buffers such as np.frombuffer or memmaps) gets the exact address check below.
        base = array.base
        if base is None:
            owner = array
        elif type(base) is np.ndarray and base.base is None:
            owner = base
        else:
            maybe_shared = True
            continue
        if id(owner) in owners:
            maybe_shared = True
        owners.add(id(owner))
    if maybe_shared:
        _host_overlaps([(name, array) for name, array in named_arrays if array is not None], written)


def _host_overlaps(present, written):
    # Views of one allocation (an arena of buffers, say) are legitimate: ask numpy's
    # cheap bounds test first and read exact addresses only for pairs it cannot clear.
    suspects = set()
    for i, (name_a, a) in enumerate(present):
        for name_b, b in present[i + 1:]:
            if (name_a in written or name_b in written) and np.may_share_memory(a, b):
                suspects.update((name_a, name_b))
    if suspects:
        _check_overlaps([(name, array.__array_interface__["data"][0], array.nbytes)
                         for name, array in present if name in suspects], written)


def _check_overlaps(intervals, written):
    """Reject overlapping ``(name, address, nbytes)`` unless they are the same elements and one is only read.

    The kernels are element-wise, so reading ``grad`` from the memory of ``param``
    is well defined; two outputs on one memory, or arrays shifted against each
    other, would give results that depend on the loop order (and differ between backends).
    """
    for i, (name_a, start_a, nbytes_a) in enumerate(intervals):
        for name_b, start_b, nbytes_b in intervals[i + 1:]:
            if name_a not in written and name_b not in written:
                continue
            if start_a == start_b and nbytes_a:
                if name_a in written and name_b in written:
                    raise ValueError(f"{name_a} and {name_b} are the same memory; the kernel writes both")
            elif start_a < start_b + nbytes_b and start_b < start_a + nbytes_a:
                both = name_a in written and name_b in written
                what = "both" if both else f"{name_a if name_a in written else name_b} while reading the other"
                raise ValueError(f"{name_a} and {name_b} overlap in memory (shifted by {abs(start_b - start_a)} "
                                 f"bytes): the kernel writes {what}")


def _explain_host(name, array, size, must_write):
    if is_device_array(array):
        raise TypeError(f"{name} is a device array, but this call runs on the host (backend 'numpy' or 'cpu', "
                        f"or 'auto' with a host param): pass every array on the same side, with to_host() "
                        f"or to_device()")
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32, got {type(array).__name__}")
    if array.dtype != FLOAT32:
        raise TypeError(f"{name} must have dtype float32 (native byte order), got {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (flatten it, e.g. with .reshape(-1)), got shape {array.shape}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be contiguous, got strides {array.strides}: use np.ascontiguousarray")
    if size is not None and array.size != size:
        raise ValueError(f"{name} has shape {array.shape}, but param has shape ({size},): they must match")
    if must_write and not array.flags.writeable:
        raise ValueError(f"{name} is read-only, but the kernel updates it in place")
    # Otherwise the array is fine and only missed the fast path (an equal but not
    # identical float32 dtype object, for instance).


def device_arrays(named_arrays, written, optional=frozenset()) -> None:
    """The device-array counterpart of ``host_arrays`` (numba or ``__cuda_array_interface__`` arrays)."""
    size = None
    intervals = []
    for name, array in named_arrays:
        if array is None:
            if name in optional:
                continue
            raise TypeError(f"{name} must be a device array for backend 'cuda', got None")
        if not is_device_array(array):
            raise TypeError(f"{name} must be a device array for backend 'cuda' (numba device array or an "
                            f"object with __cuda_array_interface__), got {type(array).__name__}: "
                            f"copy it with to_device() or use backend='cpu'")
        try:
            dtype, shape, contiguous, readonly, address = _device_layout(array)
        except (AttributeError, KeyError, TypeError) as err:
            raise TypeError(f"{name}: its __cuda_array_interface__ is unusable ({err})") from None
        except RuntimeError as err:  # PyTorch: "Can't get __cuda_array_interface__ on Variable that requires grad"
            raise TypeError(f"{name} cannot be shared with the kernel ({err}); pass tensor.detach()") from None
        if dtype != FLOAT32:
            raise TypeError(f"{name} must have dtype float32, got {dtype}")
        if len(shape) != 1:
            raise ValueError(f"{name} must be 1-D, got shape {tuple(shape)}")
        if not contiguous:
            raise ValueError(f"{name} must be contiguous")
        if size is not None and shape[0] != size:
            raise ValueError(f"{name} has shape {tuple(shape)}, but param has shape ({size},): they must match")
        if readonly and name in written:
            raise ValueError(f"{name} is read-only, but the kernel updates it in place")
        if size is None:
            size = shape[0]
        intervals.append((name, address, shape[0] * FLOAT32.itemsize))
    _check_overlaps(intervals, written)


def _device_layout(array):
    """(dtype, shape, is contiguous, is read-only, address) of a device array."""
    if getattr(array, "__cuda_ndarray__", False):
        # numba's device arrays: their __cuda_array_interface__ property costs ~1.7 us; these reads ~0.1 us.
        return np.dtype(array.dtype), tuple(array.shape), array.is_c_contiguous(), False, _numba_address(array)
    desc = array.__cuda_array_interface__
    shape = tuple(desc["shape"])
    strides = desc.get("strides")
    dtype = np.dtype(desc["typestr"])
    contiguous = strides is None or len(shape) != 1 or shape[0] <= 1 or tuple(strides) == (dtype.itemsize,)
    return dtype, shape, contiguous, bool(desc["data"][1]), desc["data"][0]


def _numba_address(array):
    simulated = getattr(array, "_ary", None)  # the simulator's arrays wrap a host ndarray
    if simulated is not None:
        return simulated.__array_interface__["data"][0]
    pointer = array.device_ctypes_pointer
    value = getattr(pointer, "value", pointer)  # ctypes c_void_p, or a CUdeviceptr with the NVIDIA bindings
    return int(value) if value is not None else 0

