"""The public kernel functions: validate, combine the host scalars, dispatch.

Each function updates its arrays in place and returns None. The per-element
math is float32; the scalars it uses (bias corrections, ``1 - beta`` ...) are
computed here once per call in float64 and rounded to float32 by the backend.

``backend`` is ``"numpy"`` (the readable reference), ``"cpu"`` (numba,
multi-threaded above ``cpu_backend.SERIAL_THRESHOLD`` elements), ``"cuda"``
(numba.cuda, on device arrays) or ``"auto"`` (cuda when ``param`` is a device
array, else cpu). ``validate=False`` skips the checks of arrays and
hyperparameters (a few microseconds per call): for an optimizer that checked
its buffers once and calls the same kernel every step.
"""

from __future__ import annotations

import math

import numpy as np

from lasandbox.kernels import checks, cpu_backend, cuda_backend, numpy_backend
from lasandbox.kernels.checks import BACKENDS, flag, is_device_array, real, step_count

_MODULES = {"numpy": numpy_backend, "cpu": cpu_backend, "cuda": cuda_backend}
_cuda_available = None


def available_backends() -> list[str]:
    """``["numpy", "cpu"]``, plus ``"cuda"`` when ``numba.cuda.is_available()``."""
    global _cuda_available
    if _cuda_available is None:
        _cuda_available = cuda_backend.is_available()
    return ["numpy", "cpu", "cuda"] if _cuda_available else ["numpy", "cpu"]


def resolve_backend(name="auto", *arrays) -> str:
    """The concrete backend for ``name``: ``"auto"`` picks cuda for device arrays, else cpu.

    Raises ValueError for an unknown name, or for "cuda" when no GPU (nor the
    simulator) is available.
    """
    if name == "cpu" or name == "numpy":
        return name
    if name == "auto":
        first = arrays[0] if arrays else None
        if type(first) is np.ndarray:  # the common case, decided without the slower attribute probes
            return "cpu"
        first = next((array for array in arrays if array is not None), None)
        return "cuda" if first is not None and is_device_array(first) else "cpu"
    if name == "cuda":
        if "cuda" not in available_backends():
            raise ValueError("backend 'cuda' is not available: numba.cuda.is_available() is False "
                             "(no GPU visible; NUMBA_ENABLE_CUDASIM=1 runs the simulator)")
        return name
    raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {name!r}")


def _checked_backend(backend, named_arrays, written, optional=frozenset()):
    name = resolve_backend(backend, named_arrays[0][1])
    if name == "cuda":
        checks.device_arrays(named_arrays, written, optional)
    else:
        checks.host_arrays(named_arrays, written, optional)
    return _MODULES[name]


def _unchecked_backend(backend, param):
    if backend == "auto":
        return cpu_backend if type(param) is np.ndarray else cuda_backend
    return _MODULES[backend]


_SGD_WRITES = frozenset(("param", "slow"))
_MOMENTUM_WRITES = frozenset(("param", "velocity", "slow"))
_ADAM_WRITES = frozenset(("param", "m", "v", "slow"))
_SYNC_WRITES = frozenset(("fast", "slow"))
_SLOW_IS_OPTIONAL = frozenset(("slow",))  # a step without ``slow`` is a step without the fused sync


def sgd_step(param, grad, lr, *, weight_decay=0.0, slow=None, alpha=0.5, backend="auto", validate=True):
    """``param -= lr * (grad + weight_decay*param)``, in place.

    With ``slow``, the Lookahead sync is fused into the same pass:
    ``slow = alpha*param + (1-alpha)*slow; param = slow``.
    """
    if validate:
        named = (("param", param), ("grad", grad), ("slow", slow))
        impl = _checked_backend(backend, named, _SGD_WRITES, _SLOW_IS_OPTIONAL)
        lr = real("lr", lr)
        weight_decay = real("weight_decay", weight_decay)
        alpha = real("alpha", alpha, 0.0, 1.0)
    else:  # float(): a numpy scalar would make numba compile another specialisation
        impl = _unchecked_backend(backend, param)
        lr, weight_decay, alpha = float(lr), float(weight_decay), float(alpha)
    impl.sgd(param, grad, slow, lr, weight_decay, alpha, 1.0 - alpha)


def momentum_step(param, grad, velocity, lr, momentum, *, nesterov=False, weight_decay=0.0, slow=None,
                  alpha=0.5, backend="auto", validate=True):
    """Paddle's Momentum, in place: ``velocity = momentum*velocity + g``; ``param -= lr*velocity``.

    ``g = grad + weight_decay*param`` (L2). Nesterov: ``param -= lr*(g + momentum*velocity)``.
    With ``slow``, the Lookahead sync is fused in (see ``sgd_step``).
    """
    if validate:
        named = (("param", param), ("grad", grad), ("velocity", velocity), ("slow", slow))
        impl = _checked_backend(backend, named, _MOMENTUM_WRITES, _SLOW_IS_OPTIONAL)
        lr = real("lr", lr)
        momentum = real("momentum", momentum)
        nesterov = flag("nesterov", nesterov)
        weight_decay = real("weight_decay", weight_decay)
        alpha = real("alpha", alpha, 0.0, 1.0)
    else:
        impl = _unchecked_backend(backend, param)
        lr, momentum, weight_decay, alpha = float(lr), float(momentum), float(weight_decay), float(alpha)
        nesterov = bool(nesterov)
    impl.momentum(param, grad, velocity, slow, lr, momentum, weight_decay, nesterov, alpha, 1.0 - alpha)


def adam_step(param, grad, m, v, lr, step, *, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
              decoupled=False, slow=None, alpha=0.5, backend="auto", validate=True):
    """Paddle's Adam (AdamW with ``decoupled=True``), in place; ``step`` counts from 1.

    ``m = beta1*m + (1-beta1)*g``; ``v = beta2*v + (1-beta2)*g*g``;
    ``param -= lr_t * m / (sqrt(v) + eps*sqrt(1-beta2^step))`` with
    ``lr_t = lr*sqrt(1-beta2^step)/(1-beta1^step)``. Adam adds ``weight_decay*param``
    to the gradient; AdamW instead first scales ``param *= 1 - lr*weight_decay``
    (the un-corrected lr, as Paddle does). With ``slow``, the Lookahead sync is
    fused in (see ``sgd_step``).
    """
    if validate:
        named = (("param", param), ("grad", grad), ("m", m), ("v", v), ("slow", slow))
        impl = _checked_backend(backend, named, _ADAM_WRITES, _SLOW_IS_OPTIONAL)
        lr = real("lr", lr)
        step = step_count(step)
        beta1 = real("beta1", beta1, 0.0, 1.0, high_open=True)
        beta2 = real("beta2", beta2, 0.0, 1.0, high_open=True)
        eps = real("eps", eps)
        weight_decay = real("weight_decay", weight_decay)
        decoupled = flag("decoupled", decoupled)
        alpha = real("alpha", alpha, 0.0, 1.0)
    else:
        impl = _unchecked_backend(backend, param)
        lr, beta1, beta2, eps = float(lr), float(beta1), float(beta2), float(eps)
        weight_decay, alpha, step = float(weight_decay), float(alpha), int(step)
    bias_correction1 = 1.0 - beta1**step
    sqrt_bias_correction2 = math.sqrt(1.0 - beta2**step)
    lr_t = lr * sqrt_bias_correction2 / bias_correction1
    eps_hat = eps * sqrt_bias_correction2
    if decoupled:
        l2, decay_keep = 0.0, 1.0 - lr * weight_decay
    else:
        l2, decay_keep = weight_decay, 1.0
    impl.adam(param, grad, m, v, slow, lr_t, beta1, 1.0 - beta1, beta2, 1.0 - beta2, eps_hat, l2, decay_keep,
              alpha, 1.0 - alpha)


def lookahead_sync(fast, slow, alpha, *, backend="auto", validate=True):
    """The Lookahead "step back", in place: ``slow = alpha*fast + (1-alpha)*slow; fast = slow``."""
    if validate:
        impl = _checked_backend(backend, (("fast", fast), ("slow", slow)), _SYNC_WRITES)
        alpha = real("alpha", alpha, 0.0, 1.0)
    else:
        impl = _unchecked_backend(backend, fast)
        alpha = float(alpha)
    impl.lookahead_sync(fast, slow, alpha, 1.0 - alpha)


def aligned_zeros(size: int) -> np.ndarray:
    """A zeroed 1-D float32 array whose data starts on a 64-byte (cache-line) boundary.

    numpy puts large arrays 16 bytes past a page start; the cpu kernels cope
    (they peel the unaligned head), but aligned flat buffers let every backend,
    and PyTorch on the same memory, use aligned vector loads from the first element.
    """
    size = int(size)
    padded = np.zeros(size + 16, dtype=np.float32)
    offset = (-padded.ctypes.data % 64) // 4
    return padded[offset:offset + size]


def to_device(array):
    """Copy a host array to the GPU (a numba device array of float32)."""
    return cuda_backend.to_device(array)


def to_host(array):
    """Copy a device array back to a numpy array (numpy arrays are returned as they are)."""
    return cuda_backend.to_host(array)
