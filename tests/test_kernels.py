"""Kernels: every rule on every backend against the numpy reference and a float64 formula.

The cuda backend runs on numba's simulator when no GPU is present (tests/conftest.py
sets NUMBA_ENABLE_CUDASIM before numba is imported), at small sizes only. Shared
inputs and formulas: tests/kernel_cases.py; bad input and dispatch: test_kernels_api.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel_cases import (  # tests/kernel_cases.py, beside this file
    ALPHA,
    B1,
    B2,
    BACKEND_SIZES,
    CASES,
    CUDA,
    EPS,
    LR,
    MU,
    WD,
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


def test_scalar_rules_run_as_plain_python_and_match_the_numpy_mirror():
    # rules.py is the single source of truth; the numpy reference restates it on arrays.
    from lasandbox.kernels import numpy_backend, rules

    p, g, m, v, slow = random_arrays(50, seed=4)
    f32 = np.float32
    scalars = [f32(x) for x in (0.01, B1, 1 - B1, B2, 1 - B2, EPS, WD, 1.0)]
    by_rule = np.array([rules.adam_rule(*args, *scalars) for args in zip(p, g, m, v, strict=True)], np.float32)
    mirrored = [a.copy() for a in (p, g, m, v)]
    numpy_backend.adam(*mirrored, None, 0.01, B1, 1 - B1, B2, 1 - B2, EPS, WD, 1.0, ALPHA, 1 - ALPHA)
    np.testing.assert_allclose(by_rule[:, 0], mirrored[0], rtol=1e-6)
    np.testing.assert_allclose(by_rule[:, 1], mirrored[2], rtol=1e-6)
    np.testing.assert_allclose(by_rule[:, 2], mirrored[3], rtol=1e-6)
    by_rule = [rules.momentum_rule(a, b, c, f32(LR), f32(MU), f32(WD), True) for a, b, c in zip(p, g, m, strict=True)]
    mirrored = [a.copy() for a in (p, g, m)]
    numpy_backend.momentum(*mirrored, None, LR, MU, WD, True, ALPHA, 1 - ALPHA)
    np.testing.assert_allclose(np.array(by_rule, np.float32)[:, 0], mirrored[0], rtol=1e-6)
    synced = [rules.lookahead_rule(a, b, f32(ALPHA), f32(1 - ALPHA)) for a, b in zip(p, slow, strict=True)]
    fast, s = p.copy(), slow.copy()
    numpy_backend.lookahead_sync(fast, s, ALPHA, 1 - ALPHA)
    np.testing.assert_allclose(np.array(synced, np.float32), s, rtol=1e-6)
    assert rules.sgd_rule(f32(1.0), f32(2.0), f32(0.5), f32(0.0)) == 0.0


@pytest.mark.parametrize("backend", ["numpy", "cpu"] + (["cuda"] if CUDA else []))
def test_several_steps_with_periodic_sync_match_reference(backend):
    size = 257
    arrays = random_arrays(size, seed=5)
    work = [a.copy() for a in arrays]
    ref = [a.astype(np.float64) for a in arrays]
    if backend == "cuda":
        work = [kernels.to_device(a) for a in work]
    for step in range(1, 7):
        fused = step % 3 == 0
        kernels.adam_step(*work[:4], LR, step, slow=work[4] if fused else None, alpha=ALPHA, backend=backend)
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


# ------------------------------------------------------------------ edge values (hypothesis)
EDGE = st.sampled_from([0.0, -0.0, 1e-38, -1e-30, 1e-20, 3e-8, 1.0, -2.5, 1e10, -1e19, 1e20, 3e38])
HYPOTHESIS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _edge_arrays(grads, params, ms, vs):
    n = min(len(grads), len(params), len(ms), len(vs))
    as32 = [np.array(x[:n], dtype=np.float32) for x in (params, grads, ms, vs)]
    as32[3] = np.abs(as32[3])
    return [*as32, np.linspace(-1, 1, n, dtype=np.float32)]


@HYPOTHESIS
@given(grads=st.lists(EDGE, min_size=1, max_size=9), params=st.lists(EDGE, min_size=1, max_size=9),
       ms=st.lists(EDGE, min_size=1, max_size=9), vs=st.lists(EDGE, min_size=1, max_size=9),
       case=st.sampled_from(CASES), fused=st.booleans())
def test_cpu_matches_reference_on_edge_values(grads, params, ms, vs, case, fused):
    arrays = _edge_arrays(grads, params, ms, vs)
    got, want = run_on("cpu", case, arrays, fused), run_on("numpy", case, arrays, fused)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=0, equal_nan=True)  # inf/nan in the same places


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grads=st.lists(EDGE, min_size=1, max_size=4), params=st.lists(EDGE, min_size=1, max_size=4),
       case=st.sampled_from(CASES))
def test_cuda_matches_reference_on_edge_values(grads, params, case):
    if not CUDA:
        pytest.skip("no cuda backend (numba.cuda.is_available() is False)")
    arrays = _edge_arrays(grads, params, params, grads)
    got, want = run_on("cuda", case, arrays, True), run_on("numpy", case, arrays, True)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=0, equal_nan=True)


@HYPOTHESIS
@given(params=st.lists(EDGE, min_size=1, max_size=9), backend=st.sampled_from(["numpy", "cpu"]))
def test_zero_gradient_and_zero_state_leave_params_unchanged(params, backend):
    p = np.array(params, dtype=np.float32)
    zeros = [np.zeros_like(p) for _ in range(3)]
    for step_fn in (lambda q, z: kernels.sgd_step(q, z[0], LR, backend=backend),
                    lambda q, z: kernels.momentum_step(q, z[0], z[1], LR, MU, nesterov=True, backend=backend),
                    lambda q, z: kernels.adam_step(q, z[0], z[1], z[2], LR, 1, backend=backend)):
        q = p.copy()
        step_fn(q, [z.copy() for z in zeros])
        np.testing.assert_array_equal(q, p)


@HYPOTHESIS
@given(grads=st.lists(EDGE.filter(lambda x: x != 0 and abs(x) < 1e19), min_size=1, max_size=9),
       backend=st.sampled_from(["numpy", "cpu"]))
def test_first_adam_step_moves_each_param_by_about_lr(grads, backend):
    # At step 1, m/sqrt(v) = g/|g|: Adam moves every coordinate by lr (less where |g| ~ eps).
    g = np.array(grads, dtype=np.float32)
    p, m, v = np.zeros_like(g), np.zeros_like(g), np.zeros_like(g)
    kernels.adam_step(p, g, m, v, 0.01, 1, backend=backend)
    assert np.all(np.abs(p) <= 0.01 * (1 + 1e-6))
    big = np.abs(g) > 1e-4
    np.testing.assert_allclose(p[big], -0.01 * np.sign(g[big]), rtol=1e-5)


