"""Kernels: bad input (named errors, nothing written), the API contract and dispatch, real-GPU checks."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kernel_cases import (  # tests/kernel_cases.py, beside this file
    CASES,
    CUDA,
    assert_close,
    call,
    gpu,
    needs_real_gpu,
    random_arrays,
    run_on,
)

from lasandbox import kernels
from lasandbox.kernels import cuda_backend


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
        ("alpha without slow", lambda: kernels.sgd_step(p, g, 0.1, alpha=0.7, backend="cpu"), TypeError,
         ["alpha", "slow="]),
        ("alpha without slow, unvalidated", lambda: kernels.adam_step(p, g, m, v, 0.1, 1, alpha=0.7, validate=False),
         TypeError, ["alpha", "slow="]),
        ("sync alpha < 0", lambda: kernels.lookahead_sync(p, s, -0.1, backend="cpu"), ValueError, ["alpha"]),
        ("sync fast is slow", lambda: kernels.lookahead_sync(p, p, 0.5, backend="cpu"), ValueError,
         ["fast", "slow"]),
        ("unknown backend", lambda: kernels.sgd_step(p, g, 0.1, backend="gpu"), ValueError, ["backend"]),
        ("v None", lambda: kernels.adam_step(p, g, m, None, 0.1, 1, backend="numpy"), TypeError, ["v", "None"]),
        ("param None", lambda: kernels.sgd_step(None, g, 0.1, backend="cpu"), TypeError, ["param", "None"]),
        ("fast None", lambda: kernels.lookahead_sync(None, s, 0.5), TypeError, ["fast", "None"]),
        ("sync slow None", lambda: kernels.lookahead_sync(p, None, 0.5, backend="numpy"), TypeError,
         ["slow", "None"]),
        ("subclass param, short grad", lambda: kernels.sgd_step(p.view(_Subclass), short, 0.1, backend="cpu"),
         ValueError, ["grad", "shape"]),
        ("step beyond int64", lambda: kernels.adam_step(p, g, m, v, 0.1, 10**400, backend="cpu"), ValueError,
         ["step", "401 digits"]),
        ("slow is a view of param", lambda: kernels.sgd_step(p, g, 0.1, slow=p.view(), backend="cpu"), ValueError,
         ["param", "slow", "same memory"]),
        ("adagrad initial_accumulator_value (only where the optimizer starts moment)",
         lambda: kernels.adagrad_step(p, g, m, 0.1, initial_accumulator_value=0.5, backend="cpu"), TypeError,
         ["initial_accumulator_value", "moment[:] = 0.5"]),
        ("validate a str (truthy)", lambda: kernels.sgd_step(p, g, 0.1, validate="no", backend="cpu"), TypeError,
         ["validate", "bool"]),
        ("sync validate an int", lambda: kernels.lookahead_sync(p, s, 0.5, validate=0), TypeError,
         ["validate", "bool"]),
        ("bool segment offset", lambda: kernels.lamb_step(p, g, m, v, 0.1, 1, segments=[0, True, 10], backend="cpu"),
         TypeError, ["segments", "bool"]),
    ]


class _Subclass(np.ndarray):
    """A user's ndarray subclass (np.memmap is one too)."""


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


@pytest.mark.parametrize("backend", ["numpy", "cpu"])
def test_arrays_sharing_memory_are_rejected_unless_one_is_only_read(backend):
    buffer = np.arange(11, dtype=np.float32)
    before = buffer.copy()
    with pytest.raises(ValueError, match=r"fast and slow overlap in memory \(shifted by 4 bytes\): the kernel writes"):
        kernels.lookahead_sync(buffer[:10], buffer[1:], 0.5, backend=backend)
    p, g = buffer[:10], buffer[1:]  # grad shifted under param: the result would depend on the loop order
    with pytest.raises(ValueError, match="param and grad overlap in memory.*writes param while reading"):
        kernels.sgd_step(p, g, 0.1, backend=backend)
    raw = bytearray(before.tobytes())  # two foreign-buffer arrays over one memory
    a, b = np.frombuffer(raw, np.float32)[:10], np.frombuffer(raw, np.float32)[1:]
    with pytest.raises(ValueError, match="overlap"):
        kernels.lookahead_sync(a, b, 0.5, backend=backend)
    np.testing.assert_array_equal(buffer, before)
    assert bytes(raw) == before.tobytes()
    # Views of one allocation that do not overlap are fine (an arena of buffers).
    arena = random_arrays(50, seed=15)[0]
    views = [arena[i * 10:(i + 1) * 10] for i in range(5)]
    separate = [view.copy() for view in views]
    kernels.adam_step(*views[:4], 0.1, 3, slow=views[4], backend=backend)
    kernels.adam_step(*separate[:4], 0.1, 3, slow=separate[4], backend="numpy")
    for view, copy in zip(views, separate, strict=True):
        np.testing.assert_array_equal(view, copy)
    # Element-wise reading of the memory being written is well defined: grad is param.
    p = random_arrays(10, seed=13)[0]
    expected = p.copy()
    kernels.sgd_step(expected, expected.copy(), 0.1, backend="numpy")
    kernels.sgd_step(p, p.view(), 0.1, backend=backend)
    np.testing.assert_array_equal(p, expected)


def test_ndarray_subclasses_are_checked_and_updated_like_arrays():
    p, g = random_arrays(10, seed=14)[:2]
    expected = p.copy()
    kernels.sgd_step(expected, g, 0.1, backend="numpy")
    sub = p.view(_Subclass)
    kernels.sgd_step(sub, g, 0.1, backend="cpu")
    np.testing.assert_array_equal(p, expected)


@gpu
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
    with pytest.raises(TypeError, match="grad is a device array, but this call runs on the host"):
        kernels.sgd_step(host[0], dev[1], 0.1)  # auto follows param, a host array
    with pytest.raises(TypeError, match="v must be a device array for backend 'cuda', got None"):
        kernels.adam_step(dev[0], dev[1], dev[2], None, 0.1, 1)
    with pytest.raises(ValueError, match="m and v are the same memory"):
        kernels.adam_step(dev[0], dev[1], dev[2], dev[2], 0.1, 1)
    with pytest.raises(TypeError, match="slow must be a device array for backend 'cuda', got None"):
        kernels.lookahead_sync(dev[0], None, 0.5)
    buffer = kernels.to_device(np.arange(9, dtype=np.float32))
    with pytest.raises(ValueError, match="fast and slow overlap in memory .shifted by 4 bytes."):
        kernels.lookahead_sync(buffer[:8], buffer[1:], 0.5)
    np.testing.assert_array_equal(kernels.to_host(buffer), np.arange(9, dtype=np.float32))
    kernels.sgd_step(buffer[:4], buffer[4:8], 0.5)  # adjacent views of one allocation: fine
    np.testing.assert_allclose(kernels.to_host(buffer)[:4], [-2, -1.5, -1, -0.5])
    for a, d in zip(host, dev, strict=True):
        np.testing.assert_array_equal(kernels.to_host(d), a)


class FakeInterfaceArray:
    """Only ``__cuda_array_interface__``, as CuPy arrays and PyTorch CUDA tensors expose it."""

    def __init__(self, shape=(4,), typestr="<f4", strides=None, readonly=False, address=0):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "strides": strides,
                                         "data": (address, readonly), "version": 3}


class FakeNumbaDeviceArray:
    """Shaped like numba's DeviceNDArray on a real GPU: ``__cuda_ndarray__`` and ``device_ctypes_pointer``."""

    __cuda_ndarray__ = True
    dtype = np.dtype(np.float32)

    def __init__(self, size, pointer):
        self.shape, self.device_ctypes_pointer = (size,), pointer

    def is_c_contiguous(self):
        return True


class FakeDevicePointer:
    """A CUdeviceptr of NVIDIA's bindings: no ``.value``, converts with ``int()``."""

    def __init__(self, address):
        self.address = address

    def __int__(self):
        return self.address


def test_numba_device_arrays_are_checked_by_their_device_address():
    import ctypes

    from lasandbox.kernels import checks

    for make_pointer in (ctypes.c_void_p, FakeDevicePointer):
        first, second = FakeNumbaDeviceArray(8, make_pointer(4096)), FakeNumbaDeviceArray(8, make_pointer(4128))
        checks.device_arrays([("fast", first), ("slow", second)], {"fast", "slow"})  # 32 bytes apart: adjacent
        shifted = FakeNumbaDeviceArray(8, make_pointer(4100))
        with pytest.raises(ValueError, match="shifted by 4 bytes"):
            checks.device_arrays([("fast", first), ("slow", shifted)], {"fast", "slow"})
    empty = FakeNumbaDeviceArray(0, ctypes.c_void_p(None))  # numba's zero-size arrays have no allocation
    checks.device_arrays([("fast", empty), ("slow", FakeNumbaDeviceArray(0, ctypes.c_void_p(None)))],
                         {"fast", "slow"})


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
    # Device addresses: the same elements may be read and written, but not written twice or shifted.
    checks.device_arrays([("param", FakeInterfaceArray(address=4096)), ("grad", FakeInterfaceArray(address=4096))],
                         {"param"})
    checks.device_arrays([("param", FakeInterfaceArray(address=4096)), ("grad", FakeInterfaceArray(address=4112))],
                         {"param"})  # 16 bytes apart: adjacent, not overlapping
    with pytest.raises(ValueError, match="param and slow are the same memory"):
        checks.device_arrays([("param", FakeInterfaceArray(address=4096)), ("slow", FakeInterfaceArray(address=4096))],
                             {"param", "slow"})
    with pytest.raises(ValueError, match="shifted by 8 bytes"):
        checks.device_arrays([("param", FakeInterfaceArray(address=4096)), ("grad", FakeInterfaceArray(address=4104))],
                             {"param"})
    with pytest.raises(TypeError, match="grad must be a device array .* got None"):
        checks.device_arrays([("param", good), ("grad", None)], {"param"}, optional={"slow"})
    checks.device_arrays([("param", good), ("slow", None)], {"param"}, optional={"slow"})  # a step's slow
    with pytest.raises(TypeError, match="slow must be a device array .* got None"):
        checks.device_arrays([("fast", good), ("slow", None)], {"fast", "slow"})  # the sync's slow is not optional
    assert kernels.resolve_backend("auto", good) == "cuda"


# ------------------------------------------------------------------------ API and dispatch
def test_signatures_are_the_contract():
    sig = {name: str(inspect.signature(getattr(kernels, name))) for name in
           ("sgd_step", "momentum_step", "adam_step", "lookahead_sync")}
    assert sig["sgd_step"].startswith("(param, grad, lr, *, weight_decay=0.0, slow=None, alpha=None, backend=")
    assert sig["momentum_step"].startswith("(param, grad, velocity, lr, momentum, *, nesterov=False, "
                                           "weight_decay=0.0, rescale_grad=1.0, slow=None, alpha=None, backend=")
    assert sig["adam_step"].startswith("(param, grad, m, v, lr, step, *, beta1=0.9, beta2=0.999, eps=1e-08, "
                                       "weight_decay=0.0, decoupled=False, slow=None, alpha=None, backend=")
    assert sig["lookahead_sync"].startswith("(fast, slow, alpha, *, backend=")


@pytest.mark.parametrize("backend", ["numpy", "cpu"])
def test_slow_without_alpha_syncs_with_the_default_weight(backend):
    arrays = random_arrays(64, seed=5)
    runs = []
    for alpha in ({}, {"alpha": kernels.api.DEFAULT_ALPHA}):
        p, g, m, v, slow = (a.copy() for a in arrays)
        kernels.adam_step(p, g, m, v, 0.1, 3, slow=slow, backend=backend, **alpha)
        runs.append((p, slow))
    assert kernels.api.DEFAULT_ALPHA == 0.5  # Paddle's LookAhead default
    for left, right in zip(*runs, strict=True):
        np.testing.assert_array_equal(left, right)


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
    assert not aligned.any()
    assert kernels.to_host(host) is host
    if CUDA:
        dev = kernels.to_device(np.arange(5, dtype=np.float64))
        assert kernels.resolve_backend("auto", dev) == "cuda"
        np.testing.assert_array_equal(kernels.to_host(dev), np.arange(5, dtype=np.float32))
        with pytest.raises(TypeError):
            kernels.to_device(dev)


def test_aligned_zeros_takes_an_int_size():
    for bad in (2.5, True, "4", (2, 3)):  # int() had taken 2.5 as 2, True as 1 and "4" as 4
        with pytest.raises(TypeError, match="size must be an int"):
            kernels.aligned_zeros(bad)
    with pytest.raises(ValueError, match=r"size must be an int in \[0, inf\), got -1"):
        kernels.aligned_zeros(-1)
    assert kernels.aligned_zeros(np.int64(3)).shape == (3,) and kernels.aligned_zeros(0).shape == (0,)


def test_adagrad_kernel_takes_the_default_start_value_and_runs():
    p, g, m = (np.full(4, value, np.float32) for value in (1.0, 1.0, 0.0))
    kernels.adagrad_step(p, g, m, 0.1, initial_accumulator_value=0.0, backend="numpy")
    np.testing.assert_array_equal(m, np.ones(4, np.float32))  # moment += g*g from the array given
    assert kernels.api.start_only_hypers(kernels.rules.get("adagrad")) == {"initial_accumulator_value"}
    assert not kernels.api.start_only_hypers(kernels.rules.get("adam"))


def test_host_scratch_arrays_are_cache_line_aligned():
    """A two-pass rule's scratch (Lamb's direction) is stored and re-read every element: aligned like the
    flat buffers, so its vector accesses do not straddle cache lines."""
    from lasandbox.kernels import scratch
    from lasandbox.kernels.rules.lamb import RULE

    for size in (1, 1001, 2**20 + 3):
        found = scratch.with_scratch(RULE, {"param": np.zeros(size, np.float32)}, scratch.host_scratch)["update"]
        assert found.ctypes.data % 64 == 0 and found.shape == (size,) and found.dtype == np.float32
    assert scratch.aligned(np.empty, 5, np.float64).ctypes.data % 64 == 0


def test_chunk_tables_are_reused_for_the_same_segments():
    """A step called again with the same segments reuses its chunk table (on cuda also the table's device
    copy, kept per table object), instead of building and uploading one per call."""
    from lasandbox.kernels import loops

    first = loops.chunk_table(np.array([0, 5000, 5003]))
    assert loops.chunk_table([0, 5000, 5003]) is first
    assert loops.chunk_table(np.array([0, 5000, 5004])) is not first
    assert first.lo.tolist() == [0, 4096, 5000] and first.segment.tolist() == [0, 0, 1]


@gpu
@pytest.mark.skipif(not CUDA, reason="no cuda backend (numba.cuda.is_available() is False)")
def test_cuda_two_pass_steps_reuse_their_scratch_and_tables():
    """Five Lamb steps on the device allocate its direction array once and upload its chunk table once."""
    from lasandbox.kernels import scratch

    uploads = []
    original = cuda_backend._DeviceTable.__init__

    def counting(self, *args):
        uploads.append(1)
        original(self, *args)

    dev = [kernels.to_device(a) for a in random_arrays(3001, seed=5)[:4]]
    scratch._local.__dict__.pop("cache", None)
    cuda_backend._DeviceTable.__init__ = counting
    try:
        for step in range(1, 6):
            kernels.lamb_step(*dev, 0.01, step, segments=[0, 1000, 3001], backend="cuda")
    finally:
        cuda_backend._DeviceTable.__init__ = original
    device_entries = [key for key in scratch._local.cache if key[0] is cuda_backend._device_scratch]
    assert len(device_entries) == 1 and len(uploads) <= 1


@gpu
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
        "def found():\n"
        "    return [(n, a, bool(o.signatures)) for n, m in list(sys.modules.items()) if 'lasandbox' in n\n"
        "            for a, o in list(vars(m).items()) if isinstance(o, Dispatcher)]\n"
        "at_import = found()\n"
        "# Generating every rule's loops (plain and fused) builds dispatchers but still compiles nothing.\n"
        "from lasandbox.kernels import cpu_backend, epilogues, rules\n"
        "for rule in rules.all_rules():\n"
        "    cpu_backend.drivers(rule); cpu_backend.drivers(rule, (epilogues.LOOKAHEAD,))\n"
        "print(json.dumps({'at_import': at_import, 'generated': found(), 'cuda': 'numba.cuda' in sys.modules,\n"
        "                  'rules': len(rules.names())}))\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    root = str(Path(kernels.__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert [f for f in result["at_import"] if f[2]] == [], "something was compiled at import"
    generated = [f for f in result["generated"] if f[0].startswith("_lasandbox_kernels_")]
    assert len(generated) >= 4 * result["rules"], "every rule's serial and parallel loops, plain and fused"
    assert [f for f in result["generated"] if f[2]] == [], "generating the loops compiled something"
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
