"""Shared by the kernel tests: random inputs, one call per rule, the float64 formulas, backend flags."""

from __future__ import annotations

import numpy as np
import pytest

from lasandbox import kernels
from lasandbox.kernels import cuda_backend
from lasandbox.kernels.cpu_backend import SERIAL_THRESHOLD

CUDA = "cuda" in kernels.available_backends()
SIMULATED = CUDA and cuda_backend.is_simulator()
REAL_GPU = CUDA and not SIMULATED
HOST_SIZES = [1, 7, 1000, 2**15 + 3, SERIAL_THRESHOLD + 3]  # below and above the serial threshold
SIM_SIZES = [1, 7, 300]  # the simulator runs one Python thread per element
gpu = pytest.mark.gpu  # every cuda test carries it: `pytest -m gpu` on a GPU machine runs them all
BACKEND_SIZES = [("numpy", n) for n in HOST_SIZES] + [("cpu", n) for n in HOST_SIZES] + (
    [pytest.param("cuda", n, marks=gpu) for n in (SIM_SIZES if SIMULATED else HOST_SIZES + [2**20 + 1])]
    if CUDA else [])
HOST_AND_CUDA = ["numpy", "cpu"] + ([pytest.param("cuda", marks=gpu)] if CUDA else [])
needs_real_gpu = pytest.mark.skipif(not REAL_GPU, reason="needs a real CUDA GPU (numba.cuda.is_available() is "
                                    "False, or only the simulator is on)")

# (case, fused) -> how to call it; each case picks hyperparameters away from the defaults.
CASES = ["sgd", "sgd_wd", "momentum", "momentum_nesterov_wd", "adam", "adam_wd", "adamw", "sync"]
LR, MU, WD, ALPHA, STEP = 0.05, 0.9, 0.01, 0.3, 3
B1, B2, EPS = 0.8, 0.95, 1e-6


def random_arrays(size, seed=0, offset=0):
    """param, grad, state1, state2 (>= 0), slow; ``offset`` elements shift them off 64-byte alignment."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(5):
        base = np.empty(size + offset, dtype=np.float32)[offset:]
        base[:] = rng.standard_normal(size).astype(np.float32)
        if k == 3:
            np.abs(base, out=base)
        out.append(base)
    return out


def call(case, arrays, backend, fused, **extra):
    p, g, s1, s2, slow = arrays
    # The fused sync's arguments: slow and its weight, or neither (alpha= without slow= is refused).
    sync = {"slow": slow, "alpha": ALPHA} if fused else {}
    if case == "sgd":
        kernels.sgd_step(p, g, LR, **sync, backend=backend, **extra)
    elif case == "sgd_wd":
        kernels.sgd_step(p, g, LR, weight_decay=WD, **sync, backend=backend, **extra)
    elif case == "momentum":
        kernels.momentum_step(p, g, s1, LR, MU, **sync, backend=backend, **extra)
    elif case == "momentum_nesterov_wd":
        kernels.momentum_step(p, g, s1, LR, MU, nesterov=True, weight_decay=WD, **sync,
                              backend=backend, **extra)
    elif case in ("adam", "adam_wd", "adamw"):
        kernels.adam_step(p, g, s1, s2, LR, STEP, beta1=B1, beta2=B2, eps=EPS,
                          weight_decay=0.0 if case == "adam" else WD, decoupled=case == "adamw", **sync,
                          backend=backend, **extra)
    else:
        kernels.lookahead_sync(p, arrays[4], ALPHA, backend=backend, **extra)


def reference64(case, arrays, fused):
    """The rules written from the issue's formulas in float64, independently of the package."""
    p, g, s1, s2, slow = (a.astype(np.float64) for a in arrays)
    if case == "sync":
        slow = ALPHA * p + (1 - ALPHA) * slow
        return [slow, g, s1, s2, slow]
    if case.startswith("sgd"):
        wd = WD if case == "sgd_wd" else 0.0
        p = p - LR * (g + wd * p)
    elif case.startswith("momentum"):
        wd = WD if "wd" in case else 0.0
        grad = g + wd * p
        s1 = MU * s1 + grad
        p = p - LR * (grad + MU * s1) if "nesterov" in case else p - LR * s1
    else:
        grad = g + (WD * p if case == "adam_wd" else 0.0)
        if case == "adamw":
            p = p * (1 - LR * WD)
        s1 = B1 * s1 + (1 - B1) * grad
        s2 = B2 * s2 + (1 - B2) * grad * grad
        lr_t = LR * np.sqrt(1 - B2**STEP) / (1 - B1**STEP)
        p = p - lr_t * s1 / (np.sqrt(s2) + EPS * np.sqrt(1 - B2**STEP))
    if fused:
        slow = slow + ALPHA * (p - slow)  # the form; the kernels use alpha*p + (1-alpha)*slow
        p = slow
    return [p, g, s1, s2, slow]


def run_on(backend, case, arrays, fused, **extra):
    """Run on copies (moved to the device for cuda); return the five arrays on the host."""
    work = [a.copy() for a in arrays]
    if backend == "cuda":
        work = [kernels.to_device(a) for a in work]
    call(case, work, backend, fused, **extra)
    return [kernels.to_host(a) for a in work]


def assert_close(actual, expected, rtol, what):
    for name, a, e in zip(("param", "grad", "state1", "state2", "slow"), actual, expected, strict=True):
        scale = max(1.0, float(np.max(np.abs(e)))) if e.size else 1.0
        np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * scale, err_msg=f"{what}: {name}")
