"""Kernels: every rule on every backend against the numpy reference and a float64 formula.

The cuda backend runs on numba's simulator when no GPU is present (tests/conftest.py
sets NUMBA_ENABLE_CUDASIM before numba is imported), at small sizes only.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lasandbox import kernels
from lasandbox.kernels import cuda_backend
from lasandbox.kernels.cpu_backend import SERIAL_THRESHOLD

CUDA = "cuda" in kernels.available_backends()
SIMULATED = CUDA and cuda_backend.is_simulator()
REAL_GPU = CUDA and not SIMULATED
HOST_SIZES = [1, 7, 1000, 2**15 + 3, SERIAL_THRESHOLD + 3]  # below and above the serial threshold
SIM_SIZES = [1, 7, 300]  # the simulator runs one Python thread per element
BACKEND_SIZES = [("numpy", n) for n in HOST_SIZES] + [("cpu", n) for n in HOST_SIZES] + (
    [("cuda", n) for n in (SIM_SIZES if SIMULATED else HOST_SIZES + [2**20 + 1])] if CUDA else [])
gpu = pytest.mark.gpu
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
    slow = slow if fused else None
    if case == "sgd":
        kernels.sgd_step(p, g, LR, slow=slow, alpha=ALPHA, backend=backend, **extra)
    elif case == "sgd_wd":
        kernels.sgd_step(p, g, LR, weight_decay=WD, slow=slow, alpha=ALPHA, backend=backend, **extra)
    elif case == "momentum":
        kernels.momentum_step(p, g, s1, LR, MU, slow=slow, alpha=ALPHA, backend=backend, **extra)
    elif case == "momentum_nesterov_wd":
        kernels.momentum_step(p, g, s1, LR, MU, nesterov=True, weight_decay=WD, slow=slow, alpha=ALPHA,
                              backend=backend, **extra)
    elif case in ("adam", "adam_wd", "adamw"):
        kernels.adam_step(p, g, s1, s2, LR, STEP, beta1=B1, beta2=B2, eps=EPS,
                          weight_decay=0.0 if case == "adam" else WD, decoupled=case == "adamw", slow=slow,
                          alpha=ALPHA, backend=backend, **extra)
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


# ---------------------------------------------------------------------------- bad input
def _bad_calls(p, g, m, v, s):
    """(description, call, expected error, words the message must contain)."""
    f64 = p.astype(np.float64)
    two_d = np.zeros((2, len(p) // 2), np.float32)
    strided = np.zeros(2 * len(p), np.float32)[::2]
    short = np.zeros(len(p) - 1, np.float32)
    readonly = p.copy()
    readonly.flags.writeable = False
    return [
        ("grad float64", lambda: kernels.sgd_step(p, f64, 0.1, backend="cpu"), TypeError, ["grad", "float32"]),
        ("grad list", lambda: kernels.sgd_step(p, list(g), 0.1, backend="cpu"), TypeError, ["grad"]),
        ("param 2-D", lambda: kernels.sgd_step(two_d, two_d, 0.1, backend="cpu"), ValueError, ["param", "1-D"]),
        ("m strided", lambda: kernels.adam_step(p, g, strided, v, 0.1, 1, backend="cpu"), ValueError,
         ["m", "contiguous"]),
        ("v short", lambda: kernels.adam_step(p, g, m, short, 0.1, 1, backend="cpu"), ValueError, ["v", "shape"]),
        ("slow short", lambda: kernels.adam_step(p, g, m, v, 0.1, 1, slow=short, backend="numpy"), ValueError,
         ["slow", "shape"]),
        ("param read-only", lambda: kernels.sgd_step(readonly, g, 0.1, backend="cpu"), ValueError,
         ["param", "read-only"]),
        ("m is v", lambda: kernels.adam_step(p, g, m, m, 0.1, 1, backend="cpu"), ValueError, ["m", "v"]),
        ("negative lr", lambda: kernels.adam_step(p, g, m, v, -0.1, 1, backend="cpu"), ValueError, ["lr"]),
        ("nan lr", lambda: kernels.sgd_step(p, g, float("nan"), backend="cpu"), ValueError, ["lr"]),
        ("inf lr", lambda: kernels.sgd_step(p, g, float("inf"), backend="cpu"), ValueError, ["lr"]),
        ("string lr", lambda: kernels.sgd_step(p, g, "0.1", backend="cpu"), TypeError, ["lr"]),
        ("beta1 = 1", lambda: kernels.adam_step(p, g, m, v, 0.1, 1, beta1=1.0, backend="cpu"), ValueError,
         ["beta1"]),
        ("beta2 < 0", lambda: kernels.adam_step(p, g, m, v, 0.1, 1, beta2=-0.1, backend="cpu"), ValueError,
         ["beta2"]),
        ("negative eps", lambda: kernels.adam_step(p, g, m, v, 0.1, 1, eps=-1e-8, backend="cpu"), ValueError,
         ["eps"]),
        ("step 0", lambda: kernels.adam_step(p, g, m, v, 0.1, 0, backend="cpu"), ValueError, ["step"]),
        ("step 1.5", lambda: kernels.adam_step(p, g, m, v, 0.1, 1.5, backend="cpu"), TypeError, ["step"]),
        ("step True", lambda: kernels.adam_step(p, g, m, v, 0.1, True, backend="cpu"), TypeError, ["step"]),
        ("decoupled str", lambda: kernels.adam_step(p, g, m, v, 0.1, 1, decoupled="yes", backend="cpu"),
         TypeError, ["decoupled"]),
        ("negative momentum", lambda: kernels.momentum_step(p, g, m, 0.1, -0.9, backend="cpu"), ValueError,
         ["momentum"]),
        ("nesterov int", lambda: kernels.momentum_step(p, g, m, 0.1, 0.9, nesterov=1, backend="cpu"), TypeError,
         ["nesterov"]),
        ("negative weight_decay", lambda: kernels.sgd_step(p, g, 0.1, weight_decay=-1.0, backend="numpy"),
         ValueError, ["weight_decay"]),
        ("alpha > 1", lambda: kernels.sgd_step(p, g, 0.1, slow=s, alpha=1.5, backend="cpu"), ValueError,
         ["alpha"]),
        ("sync alpha < 0", lambda: kernels.lookahead_sync(p, s, -0.1, backend="cpu"), ValueError, ["alpha"]),
        ("sync fast is slow", lambda: kernels.lookahead_sync(p, p, 0.5, backend="cpu"), ValueError,
         ["fast", "slow"]),
        ("unknown backend", lambda: kernels.sgd_step(p, g, 0.1, backend="gpu"), ValueError, ["backend"]),
    ]


def test_bad_input_raises_a_named_error_and_writes_nothing():
    arrays = random_arrays(10, seed=11)
    before = [a.copy() for a in arrays]
    for description, bad_call, error, words in _bad_calls(*arrays):
        with pytest.raises(error) as raised:
            bad_call()
        for word in words:
            assert word in str(raised.value), f"{description}: {raised.value!r} should mention {word!r}"
        for a, b in zip(arrays, before, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{description} wrote to an array")


@pytest.mark.skipif(not CUDA, reason="no cuda backend (numba.cuda.is_available() is False)")
def test_cuda_bad_input_raises_and_writes_nothing():
    host = random_arrays(8, seed=12)
    dev = [kernels.to_device(a) for a in host]
    short = kernels.to_device(np.zeros(7, np.float32))
    with pytest.raises(TypeError, match="grad"):
        kernels.adam_step(dev[0], host[1], dev[2], dev[3], 0.1, 1, backend="cuda")
    with pytest.raises(ValueError, match="v has shape"):
        kernels.adam_step(dev[0], dev[1], dev[2], short, 0.1, 1)
    with pytest.raises(ValueError, match="beta1"):
        kernels.adam_step(*dev[:4], 0.1, 1, beta1=1.5)
    with pytest.raises(TypeError, match="device array"):
        kernels.sgd_step(dev[0], dev[1], 0.1, backend="cpu")
    for a, d in zip(host, dev, strict=True):
        np.testing.assert_array_equal(kernels.to_host(d), a)


class FakeInterfaceArray:
    """Only ``__cuda_array_interface__``, as CuPy arrays and PyTorch CUDA tensors expose it."""

    def __init__(self, shape=(4,), typestr="<f4", strides=None, readonly=False):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "strides": strides,
                                         "data": (0, readonly), "version": 3}


def test_device_array_checks_read_the_cuda_array_interface():
    from lasandbox.kernels import checks

    good = FakeInterfaceArray()
    checks.device_arrays([("param", good), ("grad", FakeInterfaceArray(strides=(4,)))], {"param"})
    for bad, error, words in [(FakeInterfaceArray(typestr="<f8"), TypeError, "float32"),
                              (FakeInterfaceArray(shape=(2, 2)), ValueError, "1-D"),
                              (FakeInterfaceArray(strides=(8,)), ValueError, "contiguous"),
                              (FakeInterfaceArray(shape=(5,)), ValueError, "shape"),
                              (np.zeros(4, np.float32), TypeError, "device array")]:
        with pytest.raises(error, match=words):
            checks.device_arrays([("param", good), ("grad", bad)], {"param"})
    with pytest.raises(ValueError, match="read-only"):
        checks.device_arrays([("param", FakeInterfaceArray(readonly=True))], {"param"})
    assert kernels.resolve_backend("auto", good) == "cuda"


# ------------------------------------------------------------------------ API and dispatch
def test_signatures_are_the_contract():
    sig = {name: str(inspect.signature(getattr(kernels, name))) for name in
           ("sgd_step", "momentum_step", "adam_step", "lookahead_sync")}
    assert sig["sgd_step"].startswith("(param, grad, lr, *, weight_decay=0.0, slow=None, alpha=0.5, backend=")
    assert sig["momentum_step"].startswith("(param, grad, velocity, lr, momentum, *, nesterov=False, "
                                           "weight_decay=0.0, slow=None, alpha=0.5, backend=")
    assert sig["adam_step"].startswith("(param, grad, m, v, lr, step, *, beta1=0.9, beta2=0.999, eps=1e-08, "
                                       "weight_decay=0.0, decoupled=False, slow=None, alpha=0.5, backend=")
    assert sig["lookahead_sync"].startswith("(fast, slow, alpha, *, backend=")


def test_backends_resolution_and_helpers():
    assert kernels.available_backends()[:2] == ["numpy", "cpu"]
    host = np.zeros(3, np.float32)
    assert kernels.resolve_backend("auto", host) == "cpu"
    assert kernels.resolve_backend("numpy", host) == "numpy"
    with pytest.raises(ValueError, match="backend"):
        kernels.resolve_backend("tpu", host)
    assert kernels.sgd_step(host, host.copy(), 0.1) is None
    aligned = kernels.aligned_zeros(1001)
    assert aligned.ctypes.data % 64 == 0 and aligned.shape == (1001,) and aligned.dtype == np.float32
    assert kernels.to_host(host) is host
    if CUDA:
        dev = kernels.to_device(np.arange(5, dtype=np.float64))
        assert kernels.resolve_backend("auto", dev) == "cuda"
        np.testing.assert_array_equal(kernels.to_host(dev), np.arange(5, dtype=np.float32))
        with pytest.raises(TypeError):
            kernels.to_device(dev)


@pytest.mark.skipif(not CUDA, reason="no cuda backend (numba.cuda.is_available() is False)")
def test_cuda_step_is_one_launch_and_auto_picks_cuda(monkeypatch):
    launches = []
    original = cuda_backend._launch
    monkeypatch.setattr(cuda_backend, "_launch", lambda *args: (launches.append(args[0]), original(*args)))
    dev = [kernels.to_device(a) for a in random_arrays(5, seed=13)]
    kernels.adam_step(*dev[:4], 0.1, 2, slow=dev[4])  # backend "auto"
    kernels.momentum_step(*dev[:3], 0.1, 0.9, slow=dev[4])
    kernels.sgd_step(dev[0], dev[1], 0.1, slow=dev[4])
    kernels.lookahead_sync(dev[0], dev[4], 0.5)
    assert len(launches) == 4


def test_importing_compiles_nothing_and_skips_numba_cuda():
    script = (
        "import json, sys\n"
        "import lasandbox, lasandbox.kernels, lasandbox.kernels.bench\n"
        "from numba.core.dispatcher import Dispatcher\n"
        "found = [(n, a, bool(o.signatures)) for n, m in list(sys.modules.items()) if n.startswith('lasandbox')\n"
        "         for a, o in list(vars(m).items()) if isinstance(o, Dispatcher)]\n"
        "print(json.dumps({'found': found, 'cuda': 'numba.cuda' in sys.modules}))\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    root = str(Path(kernels.__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(result["found"]) >= 14, "the cpu kernels should be visible as numba dispatchers"
    assert [f for f in result["found"] if f[2]] == [], "something was compiled at import"
    assert result["cuda"] is False, "importing lasandbox.kernels must not import numba.cuda"


# ---------------------------------------------------------------------------------- real GPU
@gpu
@needs_real_gpu
def test_real_gpu_parity_at_large_size():
    for case in CASES:
        arrays = random_arrays(2**20 + 1, seed=21)
        assert_close(run_on("cuda", case, arrays, case != "sync"), run_on("numpy", case, arrays, case != "sync"),
                     2e-6, f"cuda {case}")  # the GPU may contract to FMA: a few ulps


@gpu
@needs_real_gpu
def test_real_gpu_works_in_place_on_interface_objects_without_copies():
    from numba import cuda

    class InterfaceOnly:  # like a CuPy array or PyTorch CUDA tensor: only the interface
        def __init__(self, device_array):
            self._keep = device_array
            self.__cuda_array_interface__ = device_array.__cuda_array_interface__

    host = random_arrays(4097, seed=22)
    dev = [cuda.to_device(a) for a in host]
    wrapped = [InterfaceOnly(d) for d in dev]
    call("adamw", wrapped, "auto", fused=True)
    expected = run_on("numpy", "adamw", host, True)
    np.testing.assert_allclose(dev[0].copy_to_host(), expected[0], rtol=2e-6, atol=2e-6)
