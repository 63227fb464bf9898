"""The ``cuda`` backend: launches the kernels of ``cuda_kernels.py`` on device arrays.

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
    """The compiled-on-first-launch kernels (importing ``numba.cuda`` the first time)."""
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


def sgd(param, grad, slow, lr, l2, alpha, one_minus_alpha):
    k, n = kernels(), _size(param)
    if slow is None:
        _launch(k.sgd, n, param, grad, f32(lr), f32(l2))
    else:
        _launch(k.sgd_sync, n, param, grad, slow, f32(lr), f32(l2), f32(alpha), f32(one_minus_alpha))


def momentum(param, grad, velocity, slow, lr, mu, l2, nesterov, alpha, one_minus_alpha):
    k, n = kernels(), _size(param)
    if slow is None:
        _launch(k.momentum, n, param, grad, velocity, f32(lr), f32(mu), f32(l2), nesterov)
    else:
        _launch(k.momentum_sync, n, param, grad, velocity, slow, f32(lr), f32(mu), f32(l2), nesterov,
                f32(alpha), f32(one_minus_alpha))


def adam(param, grad, m, v, slow, lr_t, beta1, omb1, beta2, omb2, eps_hat, l2, decay_keep, alpha,
         one_minus_alpha):
    k, n = kernels(), _size(param)
    scalars = (f32(lr_t), f32(beta1), f32(omb1), f32(beta2), f32(omb2), f32(eps_hat), f32(l2), f32(decay_keep))
    if slow is None:
        _launch(k.adam, n, param, grad, m, v, *scalars)
    else:
        _launch(k.adam_sync, n, param, grad, m, v, slow, *scalars, f32(alpha), f32(one_minus_alpha))


def lookahead_sync(fast, slow, alpha, one_minus_alpha):
    _launch(kernels().lookahead_sync, _size(fast), fast, slow, f32(alpha), f32(one_minus_alpha))


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
