"""The cuda kernels compiled for a real GPU (PTX for an H100, sm_90), without a GPU.

The simulator runs the kernels as Python, so it cannot see what the GPU
compiler makes of them. A Python float constant or a float64 argument
would silently turn the per-element math into float64, which halves an
H100's arithmetic rate and doubles register traffic. Here every kernel is
compiled to PTX with CUDA's own compiler (NVVM, from the CUDA toolkit; no
driver needed) and must contain no float64 instruction. A control kernel
that does promote proves the check can fail.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

COMPILE = textwrap.dedent("""
    import json
    from numba import boolean, cuda, float32
    from numba.types import Array
    import numba.cuda.dispatcher as dispatcher

    # Device functions ask the current device for its compute capability; there is none here.
    class H100:
        compute_capability = (9, 0)

    if not hasattr(dispatcher, "get_current_device"):
        print(json.dumps({"skip": "this numba.cuda has no dispatcher.get_current_device to stand in for"}))
        raise SystemExit(0)
    dispatcher.get_current_device = lambda: H100()
    from lasandbox.kernels import cuda_kernels as k

    a, f = Array(float32, 1, "C"), float32

    @cuda.jit
    def promotes(x):  # the control: 0.1 is a float64 constant
        i = cuda.grid(1)
        if i < x.size:
            x[i] = x[i] * 0.1

    signatures = {
        "sgd": (a, a, f, f), "sgd_sync": (a, a, a, f, f, f, f),
        "momentum": (a, a, a, f, f, f, boolean), "momentum_sync": (a, a, a, a, f, f, f, boolean, f, f),
        "adam": (a, a, a, a) + (f,) * 8, "adam_sync": (a, a, a, a, a) + (f,) * 10,
        "lookahead_sync": (a, a, f, f), "stream": (a, a, f),
    }
    def compiled(kernel, signature):
        ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=(9, 0))
        return {"f64": ".f64" in ptx, "target": ".target sm_90" in ptx}

    try:  # the control is trivially valid: if it does not compile, the toolkit is missing, not our code
        result = {"control": compiled(promotes, (a,))}
    except Exception as err:
        print(json.dumps({"skip": f"no usable CUDA toolkit to compile PTX with ({type(err).__name__}: {err})"}))
        raise SystemExit(0)
    for name, signature in signatures.items():
        result[name] = compiled(getattr(k, name), signature)
    print(json.dumps(result))
""")


def _compile_all():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    done = subprocess.run([sys.executable, "-c", COMPILE], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if "skip" in result:
        pytest.skip(result["skip"])
    return result


def test_every_cuda_kernel_compiles_to_float32_only_ptx_for_sm_90():
    result = _compile_all()
    assert result.pop("control") == {"f64": True, "target": True}, "the check cannot see float64 promotion"
    assert len(result) == 8
    assert {name for name, ptx in result.items() if ptx["f64"] or not ptx["target"]} == set()
