"""The cuda kernels compiled for a real GPU (PTX for an H100, sm_90), without a GPU.

The simulator runs the kernels as Python, so it cannot see what the GPU
compiler makes of them. Every rule's generated kernels are compiled, plain and
with the fused sync (reductions and per-segment steps compute in float64 by
design; every other kernel must be float32 only). A Python float constant or a float64 argument
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
    from lasandbox.kernels import compiled as generated, cuda_kernels, epilogues, rules
    from numba import float64, int64

    a, f = Array(float32, 1, "C"), float32
    ints, partials, values = Array(int64, 1, "C"), Array(float64, 2, "C"), Array(float32, 2, "C")

    @cuda.jit
    def promotes(x):  # the control: 0.1 is a float64 constant
        i = cuda.grid(1)
        if i < x.size:
            x[i] = x[i] * 0.1

    # Every generated kernel of every rule, plain and with the fused sync. Kernels that sum
    # (float64 partial sums) or compute per-segment values (float64 by design) must compile;
    # every other kernel must be float32 only.
    kernels = {"stream": (cuda_kernels.stream, (a, a, f), True)}
    for rule in rules.all_rules():
        for chain in ((), (epilogues.LOOKAHEAD,)):
            module = generated.kernels_for(rule, chain, "cuda")
            for spec in module.specs:
                label = f"{rule.name}{'+sync' if chain else ''}:{spec.name}"
                if spec.kind == "segment":
                    sig = (ints, partials, values) + tuple(
                        boolean if spec_bool else float64
                        for spec_bool in (n in rule.bool_scalars for n in spec.scalars))
                    kernels[label] = (getattr(module, f"{spec.name}_segments"), sig, False)
                    continue
                scalars = tuple(boolean if n in spec.bools else f for n in spec.scalars)
                arrays = (a,) * len(spec.arrays)
                if rule.segmented:
                    sig = (ints, ints, ints, partials, values) + arrays + scalars
                    kernels[label] = (getattr(module, f"{spec.name}_chunks"), sig, not spec.has_reductions)
                else:
                    kernels[label] = (getattr(module, spec.name), arrays + scalars, True)

    def compiled(kernel, signature):
        ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=(9, 0))
        return {"f64": ".f64" in ptx, "target": ".target sm_90" in ptx}

    try:  # the control is trivially valid: if it does not compile, the toolkit is missing, not our code
        result = {"control": compiled(promotes, (a,))}
    except Exception as err:
        print(json.dumps({"skip": f"no usable CUDA toolkit to compile PTX with ({type(err).__name__}: {err})"}))
        raise SystemExit(0)
    for name, (kernel, signature, float32_only) in kernels.items():
        result[name] = {**compiled(kernel, signature), "float32_only": float32_only}
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
    from lasandbox.kernels import rules

    result = _compile_all()
    assert result.pop("control") == {"f64": True, "target": True}, "the check cannot see float64 promotion"
    assert len(result) >= 2 * len(rules.names()) + 1  # every rule plain and fused, and the stream kernel
    assert {name for name, ptx in result.items() if not ptx["target"]} == set()
    assert {name for name, ptx in result.items() if ptx["float32_only"] and ptx["f64"]} == set()
