"""Kernels: every rule on every backend against the numpy reference and a float64 formula.

The cuda backend runs on numba's simulator when no GPU is present (tests/conftest.py
sets NUMBA_ENABLE_CUDASIM before numba is imported), at small sizes only. Shared
inputs and formulas: tests/kernel_cases.py; edge values: test_kernels_edge.py; bad input and
dispatch: test_kernels_api.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from kernel_cases import (  # tests/kernel_cases.py, beside this file
    ALPHA,
    BACKEND_SIZES,
    CASES,
    HOST_AND_CUDA,
    LR,
    assert_close,
    random_arrays,
    reference64,
    run_on,
)

from lasandbox import kernels

CASE_VARIANTS = [pytest.param(case, fused, id=f"{case}-{'fused' if fused else 'plain'}")
                 for case in CASES for fused in (False, True) if not (case == "sync" and fused)]


@pytest.mark.parametrize("backend,size", BACKEND_SIZES)
@pytest.mark.parametrize("case,fused", CASE_VARIANTS)
def test_parity_with_numpy_reference_and_float64(backend, size, case, fused):
    arrays = random_arrays(size, seed=size, offset=1 if size > 100 else 0)
    got = run_on(backend, case, arrays, fused)
    reference = run_on("numpy", case, arrays, fused)
    # Same float32 operations in the same order: the backends agree to rounding.
    assert_close(got, reference, 1e-6, f"{backend} vs numpy")
    assert_close(got, reference64(case, arrays, fused), 2e-5, f"{backend} vs float64 formula")
    assert got[1].tobytes() == arrays[1].tobytes(), "grad must not be written"


@pytest.mark.parametrize("backend", HOST_AND_CUDA)
def test_several_steps_with_periodic_sync_match_reference(backend):
    size = 257
    arrays = random_arrays(size, seed=5)
    work = [a.copy() for a in arrays]
    ref = [a.astype(np.float64) for a in arrays]
    if backend == "cuda":
        work = [kernels.to_device(a) for a in work]
    for step in range(1, 7):
        fused = step % 3 == 0
        kernels.adam_step(*work[:4], LR, step, slow=work[4] if fused else None, alpha=ALPHA if fused else None,
                          backend=backend)
        p, g, m, v, slow = ref
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - LR * np.sqrt(1 - 0.999**step) / (1 - 0.9**step) * m / (np.sqrt(v) + 1e-8 * np.sqrt(1 - 0.999**step))
        if fused:
            slow = ALPHA * p + (1 - ALPHA) * slow
            p = slow
        ref = [p, g, m, v, slow]
    assert_close([kernels.to_host(a) for a in work], ref, 2e-5, backend)


@pytest.mark.parametrize("backend", ["numpy", "cpu"])
def test_validate_false_gives_the_same_result(backend):
    arrays = random_arrays(1000, seed=9)
    for case in CASES:
        checked = run_on(backend, case, arrays, fused=case != "sync")
        unchecked = run_on(backend, case, arrays, fused=case != "sync", validate=False)
        for a, b in zip(checked, unchecked, strict=True):
            np.testing.assert_array_equal(a, b)


def test_lookahead_sync_is_exact_at_alpha_0_and_1():
    p, _, _, _, slow = random_arrays(1000, seed=3)
    for backend in ("numpy", "cpu"):
        fast, s = p.copy(), slow.copy()
        kernels.lookahead_sync(fast, s, 1.0, backend=backend)
        np.testing.assert_array_equal(s, p)
        fast, s = p.copy(), slow.copy()
        kernels.lookahead_sync(fast, s, 0.0, backend=backend)
        np.testing.assert_array_equal(fast, slow)
