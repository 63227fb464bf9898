"""The benchmark's side measurements: many tensors, tiny arrays, start-up, serial threshold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from lasandbox import kernels
from lasandbox.kernels import api, cpu_backend
from lasandbox.kernels.bench_cases import (
    ALPHA,
    LR,
    REFERENCE,
    STEP,
    SYNC,
    Buffers,
    Case,
    bench_hypers,
    calls_per_sample,
    kernel_labels,
    numba_cases,
    parse_label,
    step_call,
    time_round_robin,
)
from lasandbox.kernels.epilogues import LOOKAHEAD, lookahead_scalars


def mixed_tensor_sizes(count=200, total=5_000_000, seed=0):
    """``count`` sizes spread log-uniformly over 10..200k before scaling to sum to about ``total``.

    Biases, norms and small kernels up to layer weights of ~250k values: each
    tensor's arrays fit in this machine's L2/L3 cache, which favours a
    per-tensor loop (its many passes over one tensor stay in cache).
    """
    rng = np.random.default_rng(seed)
    raw = np.exp(rng.uniform(np.log(10), np.log(200_000), size=count))
    return np.maximum(1, np.round(raw * total / raw.sum())).astype(int).tolist()


def many_tensors(rounds=10, count=200, total=5_000_000):
    """One flat-buffer Adam call vs a per-tensor numpy loop and PyTorch's foreach / fused Adam.

    Returns ``{name: seconds}``. All alternatives but one update views of the same flat
    buffers; ``optimizer-step`` (``lasandbox.optimizer.Adam``) updates copies of them in the
    optimizer's own flat buffers, as it would in training.
    """
    sizes = mixed_tensor_sizes(count, total)
    flat = Buffers.random(sum(sizes), seed=1)
    bounds = np.cumsum([0] + sizes)
    views = [[array[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
             for array in (flat.param, flat.grad, flat.m, flat.v)]

    def numpy_loop():
        for p, g, m, v in zip(*views, strict=True):
            kernels.adam_step(p, g, m, v, LR, STEP, backend="numpy")

    cases = [Case("adam", "cpu-flat", lambda: kernels.adam_step(flat.param, flat.grad, flat.m, flat.v, LR, STEP,
                                                            backend="cpu")),
             Case("adam", "optimizer-step", _optimizer_adam_over(views)),
             Case("adam", "numpy-per-tensor", numpy_loop),
             Case("adam", "numpy-per-tensor-inplace", _inplace_numpy_adam_over(views))]
    try:
        cases += [Case("adam", f"torch-{mode}", _torch_adam_over(views, mode)) for mode in ("foreach", "fused")]
    except ImportError:
        pass
    time_round_robin(cases, rounds, 1)
    return {"values": int(sum(sizes)), "tensors": count, **{case.backend: case.best for case in cases}}


def _optimizer_adam_over(views):
    """``lasandbox.optimizer.Adam(backend="cpu").step`` over 200 Parameters: the kernel plus the optimizer's
    per-step Python work (which parameters have gradients, groups, step counts, learning rate)."""
    from lasandbox.nn import Parameter
    from lasandbox.optimizer import Adam

    params = []
    for p, g in zip(views[0], views[1], strict=True):
        weight = Parameter(p.copy())
        weight._grad = g.copy()
        params.append(weight)
    opt = Adam(learning_rate=LR, parameters=params, backend="cpu")
    opt.step()  # the optimizer copies values and gradients into its own flat buffers; states now non-zero
    return opt.step


def _inplace_numpy_adam_over(views):
    """The fastest per-tensor numpy Adam we could write: in-place ufuncs, one scratch buffer, no checks."""
    f32 = np.float32
    scratch = np.empty(max(p.size for p in views[0]), dtype=f32)
    beta1, beta2 = f32(0.9), f32(0.999)
    lr_t = f32(LR * np.sqrt(1 - 0.999**STEP) / (1 - 0.9**STEP))
    eps_hat = f32(1e-8 * np.sqrt(1 - 0.999**STEP))

    def step():
        for p, g, m, v in zip(*views, strict=True):
            tmp = scratch[:p.size]
            m *= beta1
            np.multiply(g, 1 - beta1, out=tmp)
            m += tmp
            v *= beta2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - beta2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += eps_hat
            np.divide(m, tmp, out=tmp)
            tmp *= lr_t
            p -= tmp

    return step


def _torch_adam_over(views, mode):
    import torch

    params = []
    for p, g in zip(views[0], views[1], strict=True):
        weight = torch.nn.Parameter(torch.from_numpy(p))
        weight.grad = torch.from_numpy(g)
        params.append(weight)
    opt = torch.optim.Adam(params, lr=LR, **{mode: True})
    opt.step()
    for weight, m, v in zip(params, views[2], views[3], strict=True):
        opt.state[weight]["exp_avg"], opt.state[weight]["exp_avg_sq"] = torch.from_numpy(m), torch.from_numpy(v)
    return opt.step


def small_arrays(size=1000, rounds=30, kernels=None):
    """Per-call time of the numpy reference and the cpu backend at ``size`` elements, per kernel."""
    kernels = kernel_labels() if kernels is None else kernels
    buffers = Buffers.random(size, seed=2)
    cases = numba_cases(buffers, "numpy", kernels) + numba_cases(buffers, "cpu", kernels)
    cases.append(Case(REFERENCE, "cpu-unvalidated", step_call(buffers, REFERENCE, "cpu", validate=False)))
    time_round_robin(cases, rounds, calls_per_sample(size))
    return {(case.kernel, case.backend): case.best for case in cases}


def nonfinite_check_cost(size=2**24, rounds=10):
    """Seconds of an Adam step alone, of the gradient check ``nonfinite="raise"|"skip"`` runs before it,
    and of both, round-robin from a cleaned cache (``{"step", "check", "check+step"}``), and ``size``."""
    from lasandbox.kernels.bench_cases import CacheCleaner
    from lasandbox.kernels.finite import first_nonfinite

    b = Buffers.random(size, seed=6)
    step = step_call(b, REFERENCE, "cpu")
    cases = [Case(REFERENCE, "step", step), Case(REFERENCE, "check", lambda: first_nonfinite(b.grad, "cpu")),
             Case(REFERENCE, "check+step", lambda: (first_nonfinite(b.grad, "cpu"), step()))]
    time_round_robin(cases, rounds, 1, clean_cache=CacheCleaner())
    return {case.backend: case.best for case in cases} | {"size": size}


CROSSOVER_KERNELS = (REFERENCE, "sgd", SYNC)


def serial_parallel_crossover(exponents=range(11, 20), rounds=15, kernels=CROSSOVER_KERNELS):
    """Per kernel, the smallest power of two where the parallel loop beats the serial one.

    This is how ``cpu_backend.SERIAL_THRESHOLD`` was chosen; it runs the cpu
    backend with the loop forced either way, bypassing the threshold.
    """
    table = {}
    for exponent in exponents:
        b = Buffers.random(2**exponent, seed=3)
        cases = []
        for label in kernels:
            for mode in ("serial", "parallel"):
                cases.append(Case(label, mode, _forced(b, label, parallel=mode == "parallel")))
        time_round_robin(cases, rounds, calls_per_sample(2**exponent))
        table[exponent] = {(case.kernel, case.backend): case.best for case in cases}
    crossover = {}
    for label in kernels:
        wins = [e for e in table if table[e][(label, "parallel")] < table[e][(label, "serial")]]
        crossover[label] = min(wins) if wins else None
    return crossover, table


def _forced(buffers, label, parallel):
    rule, fused = parse_label(label)
    if rule is None:
        arrays, rule, chain = {"param": buffers.param, "slow_e0": buffers.slow}, api.KEEP, (LOOKAHEAD,)
        scalars = {f"{k}_e0": v for k, v in lookahead_scalars(ALPHA).items()}
    else:
        hypers = bench_hypers(rule)
        arrays, chain = dict(zip(rule.arrays, buffers.for_rule(rule, hypers), strict=True)), ()
        scalars = rule.step_constants(hypers, LR, STEP)
    return lambda: cpu_backend.run(rule, chain, arrays, scalars, None, parallel=parallel)


_STARTUP_SCRIPT = r"""
import json, sys, time
start = time.perf_counter()
import lasandbox, lasandbox.kernels as K
import_seconds = time.perf_counter() - start
from numba.core.dispatcher import Dispatcher
compiled = sorted(f"{name}.{attr}" for name, mod in list(sys.modules.items()) if name.startswith("lasandbox")
                  for attr, obj in list(vars(mod).items()) if isinstance(obj, Dispatcher) and obj.signatures)
cuda_imported = "numba.cuda" in sys.modules
result = {"import_seconds": import_seconds, "compiled_at_import": compiled, "cuda_imported": cuda_imported}
if sys.argv[1] == "after_scipy":
    # A process that already loaded scikit-learn (the paper's datasets) has scipy.linalg, which numba's
    # set-up would otherwise import for its BLAS check.
    import scipy.linalg  # noqa: F401
if sys.argv[1] == "after_setup":
    # What numba does once per process before its first compile or cache load, whatever the function.
    from numba.core.registry import cpu_target
    start = time.perf_counter()
    cpu_target.typing_context.refresh()
    cpu_target.target_context.refresh()
    result["numba_setup"] = time.perf_counter() - start
for label, size in (("large", 2**20), ("small", 1000)):
    p, g, m, v = (K.aligned_zeros(size) for _ in range(4))
    start = time.perf_counter()
    K.adam_step(p, g, m, v, 1e-3, 1, backend="cpu")
    result[f"first_step_{label}"] = time.perf_counter() - start
    start = time.perf_counter()
    K.adam_step(p, g, m, v, 1e-3, 2, backend="cpu")
    result[f"second_step_{label}"] = time.perf_counter() - start
print(json.dumps(result))
"""


def startup(repeats=3):
    """First adam steps in fresh processes: cold (empty NUMBA_CACHE_DIR) and warm (the cache that run filled).

    ``direct``: the step is the process's first numba call, so it includes numba's
    one-time set-up (loading its typing/lowering registries, which imports
    scipy.linalg for a BLAS check), which no cache removes. ``after_setup``: that
    set-up is done (and timed) first, so the step is our compile or cache load
    alone. ``after_scipy``: scipy.linalg is imported before the clock starts, as in
    any process that has loaded scikit-learn's data (numba's set-up minus that
    import). Each repeat uses new cache folders; every number is the minimum over
    repeats (other processes only ever add time).
    """
    package_root = str(Path(__file__).resolve().parents[2])
    best = {}
    for _ in range(repeats):
        for mode in ("direct", "after_setup", "after_scipy"):
            with tempfile.TemporaryDirectory(prefix="lasandbox-numba-cache-") as cache_dir:
                env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, LASANDBOX_PROGRESS="0")
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
                for kind in ("cold", "warm"):
                    done = subprocess.run([sys.executable, "-c", _STARTUP_SCRIPT, mode], env=env,
                                          capture_output=True, text=True, timeout=600)
                    if done.returncode != 0:
                        raise RuntimeError(f"start-up measurement failed:\n{done.stderr}")
                    _keep_best(best.setdefault(mode, {}).setdefault(kind, {}),
                               json.loads(done.stdout.strip().splitlines()[-1]))
    return best


def _keep_best(best, result):
    for key, value in result.items():
        previous = best.get(key)
        if previous is None:
            best[key] = value
        elif isinstance(value, list):  # anything compiled at import in any run counts
            best[key] = sorted(set(previous) | set(value))
        elif isinstance(value, bool):
            best[key] = previous or value
        else:
            best[key] = min(previous, value)
