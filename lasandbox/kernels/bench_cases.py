"""What the kernel benchmark times: one callable per (kernel, backend), on shared buffers.

Every alternative updates the *same* memory: the numpy and cpu backends get
the buffers directly and PyTorch gets ``torch.from_numpy`` views of them (its
optimizer state is swapped for views of our ``m``, ``v`` and velocity), so no
alternative gains from a luckier allocation. Buffers are 64-byte aligned,
as an optimizer's flat buffers would be (``aligned_zeros``).

The roofline is an in-place stream kernel ``a += s*b`` (12 bytes per element)
compiled by numba in the same process, in two shapes: a plain ``prange`` and
the blocked, aligned shape the cpu kernels use; the faster one of the two
(per size) is the reference, so the kernels are never flattered by a weak one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange

from lasandbox.kernels import api
from lasandbox.kernels.cpu_backend import SERIAL_THRESHOLD, _aligned_head, _block_bounds, _block_count

# Bytes each update must move per element: every array read once, every updated array written once.
KERNEL_BYTES = {"sgd": 12, "sgd+sync": 20, "momentum": 20, "momentum+sync": 28, "adam": 28, "adam+sync": 36,
                "sync": 16}
STREAM_BYTES = 12
LR, MOMENTUM, ALPHA, STEP = 1e-3, 0.9, 0.5, 10


@njit(cache=True)
def stream_serial(a, b, scale):
    scale = np.float32(scale)
    for i in range(a.size):
        a[i] += scale * b[i]


@njit(parallel=True, cache=True)
def stream_prange(a, b, scale):
    scale = np.float32(scale)
    for i in prange(a.size):
        a[i] += scale * b[i]


@njit(parallel=True, cache=True)
def stream_blocked(a, b, scale):
    n, head = a.size, _aligned_head(a)
    stream_serial(a[:head], b[:head], scale)
    for blk in prange(_block_count(n, head)):
        lo, hi = _block_bounds(n, head, blk)
        stream_serial(a[lo:hi], b[lo:hi], scale)


@dataclass
class Case:
    kernel: str  # a key of KERNEL_BYTES, or "stream"
    backend: str  # numpy, cpu, cuda, torch, or the stream variant's name
    run: object  # callable doing one update
    max_rounds: int = 10**9  # the slow numpy reference at huge sizes is timed fewer times
    best: float = field(default=float("inf"))


@dataclass
class Buffers:
    """The arrays every case updates in place: param, grad, two state arrays, slow weights."""

    param: np.ndarray
    grad: np.ndarray
    m: np.ndarray
    v: np.ndarray
    slow: np.ndarray

    @classmethod
    def random(cls, size, seed=0):
        arrays = random_arrays(size, (1.0, 1e-2, 1e-3, 1e-4, 1.0), seed)
        arrays[3] = np.abs(arrays[3], out=arrays[3])  # v holds squares
        return cls(*arrays)


def random_arrays(size, scales, seed=0):
    """Aligned float32 arrays of normal noise, one per scale.

    Timed arrays must hold distinct values in every page: untouched zeros all
    map to one shared page, which the CPU then reads from cache.
    """
    rng = np.random.default_rng(seed)
    arrays = []
    for scale in scales:
        array = api.aligned_zeros(size)
        array[:] = rng.standard_normal(size, dtype=np.float32) * np.float32(scale)
        arrays.append(array)
    return arrays


def numba_cases(buffers, backend, kernels):
    """Cases calling the public kernel API (with its validation) on one backend."""
    b = buffers
    calls = {
        "sgd": lambda: api.sgd_step(b.param, b.grad, LR, backend=backend),
        "sgd+sync": lambda: api.sgd_step(b.param, b.grad, LR, slow=b.slow, alpha=ALPHA, backend=backend),
        "momentum": lambda: api.momentum_step(b.param, b.grad, b.m, LR, MOMENTUM, backend=backend),
        "momentum+sync": lambda: api.momentum_step(b.param, b.grad, b.m, LR, MOMENTUM, slow=b.slow,
                                                   alpha=ALPHA, backend=backend),
        "adam": lambda: api.adam_step(b.param, b.grad, b.m, b.v, LR, STEP, backend=backend),
        "adam+sync": lambda: api.adam_step(b.param, b.grad, b.m, b.v, LR, STEP, slow=b.slow, alpha=ALPHA,
                                           backend=backend),
        "sync": lambda: api.lookahead_sync(b.param, b.slow, ALPHA, backend=backend),
    }
    slow_rounds = 3 if backend == "numpy" and b.param.size >= 2**22 else 10**9
    return [Case(kernel, backend, calls[kernel], max_rounds=slow_rounds) for kernel in kernels]


def stream_cases(buffers_a, buffers_b):
    a, b = buffers_a, buffers_b
    if a.size < SERIAL_THRESHOLD:  # the kernels run serially there too
        return [Case("stream", "stream-serial", lambda: stream_serial(a, b, 1e-9))]
    return [Case("stream", "stream-prange", lambda: stream_prange(a, b, 1e-9)),
            Case("stream", "stream-blocked", lambda: stream_blocked(a, b, 1e-9))]


def torch_cases(buffers, kernels):
    """The PyTorch update a user would pick for each kernel, on views of the same buffers.

    SGD/Momentum/Adam: ``torch.optim`` with ``fused=True``; the sync, which PyTorch
    lacks, as ``slow.lerp_(fast, alpha); fast.copy_(slow)``, after the step when fused.
    """
    import torch

    b = buffers
    param, grad = torch.from_numpy(b.param), torch.from_numpy(b.grad)
    m, v, slow = torch.from_numpy(b.m), torch.from_numpy(b.v), torch.from_numpy(b.slow)

    def optimizer(kind):
        weight = torch.nn.Parameter(param)  # shares param's memory
        weight.grad = grad
        if kind == "sgd":
            opt = torch.optim.SGD([weight], lr=LR, fused=True)
        elif kind == "momentum":
            opt = torch.optim.SGD([weight], lr=LR, momentum=MOMENTUM, fused=True)
        else:
            opt = torch.optim.Adam([weight], lr=LR, fused=True)
        opt.step()  # creates the state, which we then point at our buffers
        state = opt.state[weight]
        if kind == "momentum":
            state["momentum_buffer"] = m
        elif kind == "adam":
            state["exp_avg"], state["exp_avg_sq"] = m, v
        return opt

    def sync():
        slow.lerp_(param, ALPHA)
        param.copy_(slow)

    cases = []
    for kernel in kernels:
        base = kernel.split("+")[0]
        if kernel == "sync":
            run = sync
        else:
            opt = optimizer(base)
            run = opt.step if "+" not in kernel else (lambda opt=opt: (opt.step(), sync()))
        cases.append(Case(kernel, "torch", run))
    return cases


@njit(cache=True)
def _read_all(buffer):
    total = np.float32(0.0)
    for i in range(buffer.size):
        total += buffer[i]
    return total


class CacheCleaner:
    """Reads a buffer larger than any last-level cache, so every sample starts from the same cache state.

    Without it, a sample pays for writing back the dirty lines its predecessor
    left in the cache, so a case's time depends on which case ran before it.
    Small on this machine's AMD EPYC (SGD at 2^24 after a sync: 6.16 ms vs
    6.10 ms after a clean, best of 40), larger where the last-level cache is
    inclusive and slower to write back.
    """

    def __init__(self, megabytes=128):
        self.buffer = np.ones(megabytes * 2**18, dtype=np.float32)
        _read_all(self.buffer[:16])

    def __call__(self):
        _read_all(self.buffer)


def calls_per_sample(size):
    """At most this many calls per timed sample (tiny arrays): enough to dwarf the timer's resolution."""
    return max(1, 2**19 // max(size, 1))


# From this many elements on, the kernel benchmark times every case in the "DRAM" regime: one call
# per sample, starting from a cleaned cache. Below it, every case repeats its call on data the
# previous sample left in cache. One regime per size, for all cases alike: choosing per case (one call,
# cleaned, only for a case whose first timing happened to be slow) put cases of one size in different
# regimes, e.g. SGD at 2^17 measured from DRAM beside a stream roofline measured in cache.
DRAM_REGIME_FROM = 2**19


def sampling(size, cleaner):
    """``(max_repeats, clean_cache)`` for ``time_round_robin`` at ``size`` elements (see DRAM_REGIME_FROM)."""
    if size >= DRAM_REGIME_FROM:
        return 1, cleaner
    return calls_per_sample(size), None


def time_round_robin(cases, rounds, max_repeats, on_round=None, sample_seconds=1e-3, clean_cache=None,
                     finish=None):
    """Time every case ``rounds`` times, interleaved, keeping each case's fastest call.

    Interleaving means a burst of load from other processes slows one sample of
    every case rather than all samples of one case; the minimum is the estimate
    least disturbed by that noise. Each case is run once first (compilation,
    caches) and timed once to choose its calls per sample: about
    ``sample_seconds`` worth, at most ``max_repeats``. ``clean_cache`` (e.g. a
    :class:`CacheCleaner`) runs untimed before every sample of one call;
    ``finish`` (e.g. a device synchronise) ends every timed sample, inside the clock.
    """

    def timed(case, count):
        start = time.perf_counter()
        for _ in range(count):
            case.run()
        if finish is not None:
            finish()
        return (time.perf_counter() - start) / count

    repeats = {}
    for case in cases:
        timed(case, 1)
        repeats[id(case)] = int(min(max_repeats, max(1, sample_seconds // max(timed(case, 1), 1e-9))))
    for round_index in range(rounds):
        # Rotate the order so no case always runs right after the same neighbour.
        shift = round_index % len(cases)
        for case in cases[shift:] + cases[:shift]:
            if round_index >= case.max_rounds:
                continue
            count = repeats[id(case)]
            if clean_cache is not None and count == 1:
                clean_cache()
            case.best = min(case.best, timed(case, count))
        if on_round is not None:
            on_round()
    return cases
