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

from lasandbox.kernels import api, rules
from lasandbox.kernels.cpu_backend import SERIAL_THRESHOLD
from lasandbox.kernels.loops import aligned_head, block_bounds, block_count

STREAM_BYTES = 12
SYNC = "sync"  # the Lookahead sync alone; "<rule>+sync" is a rule's step with the sync fused in
# The rule the benchmark's targets compare with PyTorch and the numpy loop (many tensors, start-up, fusion).
REFERENCE = "adam"
LR, MOMENTUM, ALPHA, STEP = 1e-3, 0.9, 0.5, 10


def kernel_labels(rule_names=None) -> list:
    """``[<rule>, <rule>+sync, ...]`` for the registered rules (or ``rule_names``), then ``sync``."""
    names = rules.names() if rule_names is None else rule_names
    return [label for name in names for label in (name, f"{name}+sync")] + [SYNC]


def parse_label(label):
    """``(rule or None, fused)`` of a kernel label (``None``: the sync alone)."""
    if label == SYNC:
        return None, True
    name, _, suffix = label.partition("+")
    if suffix not in ("", SYNC):
        raise ValueError(f"unknown kernel {label!r}; kernels are <rule>, <rule>+sync or sync")
    return rules.get(name), suffix == SYNC


def kernel_bytes(label) -> int:
    """Bytes the update must move per element: every array read once, every updated array written once."""
    rule, fused = parse_label(label)
    return 16 if rule is None else rule.bytes_per_element(fused_sync=fused)


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
    n, head = a.size, aligned_head(a)
    stream_serial(a[:head], b[:head], scale)
    for blk in prange(block_count(n, head)):
        lo, hi = block_bounds(n, head, blk)
        stream_serial(a[lo:hi], b[lo:hi], scale)


@dataclass
class Case:
    kernel: str  # a label of kernel_labels(), or "stream"
    backend: str  # numpy, cpu, cuda, torch, or the stream variant's name
    run: object  # callable doing one update
    max_rounds: int = 10**9  # the slow numpy reference at huge sizes is timed fewer times
    best: float = field(default=float("inf"))


MAX_STATES = max(len(rule.state) for rule in rules.all_rules())


@dataclass
class Buffers:
    """The arrays every case updates in place: param, grad, the slow weights and state arrays (a rule
    uses the first ``len(rule.state)``; a ring of copies is a reshaped view). State arrays hold
    ``|noise|``, valid for every rule (second moments and step sizes must be >= 0)."""

    param: np.ndarray
    grad: np.ndarray
    slow: np.ndarray
    states: list

    @classmethod
    def random(cls, size, seed=0, states=None):
        states = MAX_STATES if states is None else states
        arrays = random_arrays(size, (1.0, 1e-2, 1.0) + (1e-3,) * states, seed)
        for array in arrays[3:]:
            np.abs(array, out=array)
        return cls(arrays[0], arrays[1], arrays[2], arrays[3:])

    @property
    def m(self):
        return self.states[0]

    @property
    def v(self):
        return self.states[1]

    def for_rule(self, rule, hypers) -> tuple:
        """The rule's arrays in ``rule.arrays`` order (a ring of copies as a ``[copies, size/copies]`` view)."""
        arrays = [self.param, self.grad]
        for state, array in zip(rule.state, self.states, strict=False):
            arrays.append(array.reshape(hypers[state.copies], -1) if state.copies else array)
        return tuple(arrays)


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


def bench_hypers(rule) -> dict:
    """The hyperparameters a rule is timed with: its first declared example (or its defaults)."""
    return rule.example_settings()[0]


def step_call(buffers, label, backend, validate=True):
    """A callable doing one update of ``label`` through the public kernel API (with its validation)."""
    b = buffers
    rule, fused = parse_label(label)
    if rule is None:
        return lambda: api.lookahead_sync(b.param, b.slow, ALPHA, backend=backend, validate=validate)
    hypers = bench_hypers(rule)
    arrays = b.for_rule(rule, hypers)
    slow = b.slow if fused else None
    alpha = ALPHA if fused else None
    return lambda: api.run_step(rule, arrays, LR, STEP, hypers, slow=slow, alpha=alpha, backend=backend,
                                validate=validate)


def numba_cases(buffers, backend, kernels):
    """Cases calling the public kernel API (with its validation) on one backend."""
    slow_rounds = 3 if backend == "numpy" and buffers.param.size >= 2**22 else 10**9
    return [Case(label, backend, step_call(buffers, label, backend), max_rounds=slow_rounds) for label in kernels]


def stream_cases(buffers_a, buffers_b):
    a, b = buffers_a, buffers_b
    if a.size < SERIAL_THRESHOLD:  # the kernels run serially there too
        return [Case("stream", "stream-serial", lambda: stream_serial(a, b, 1e-9))]
    return [Case("stream", "stream-prange", lambda: stream_prange(a, b, 1e-9)),
            Case("stream", "stream-blocked", lambda: stream_blocked(a, b, 1e-9))]


def torch_cases(buffers, kernels):
    """The PyTorch update a user would pick for each kernel, on views of the same buffers.

    A rule's declaration names torch's version (``Rule.torch``); it runs with
    ``fused=True`` where torch has a fused CPU kernel for it, else
    ``foreach=True``. The sync, which PyTorch lacks, is
    ``slow.lerp_(fast, alpha); fast.copy_(slow)``, after the step when fused.
    Kernels whose rule torch does not have get no torch case.
    """
    import torch

    b = buffers
    param, slow = torch.from_numpy(b.param), torch.from_numpy(b.slow)

    def sync():
        slow.lerp_(param, ALPHA)
        param.copy_(slow)

    cases = []
    for label in kernels:
        rule, fused = parse_label(label)
        if rule is None:
            cases.append(Case(label, "torch", sync))
            continue
        if rule.torch is None:
            continue
        step = _torch_optimizer(torch, b, rule).step
        cases.append(Case(label, "torch", step if not fused else (lambda step=step: (step(), sync()))))
    return cases


def _torch_optimizer(torch, buffers, rule):
    spec = rule.torch
    weight = torch.nn.Parameter(torch.from_numpy(buffers.param))  # shares param's memory
    weight.grad = torch.from_numpy(buffers.grad)
    cls = getattr(torch.optim, spec["optimizer"])
    try:
        opt = cls([weight], lr=LR, fused=True, **spec["kwargs"])
        opt.step()  # creates the state, which we then point at our buffers
    except (RuntimeError, TypeError, ValueError):  # no fused CPU kernel for this optimizer
        opt = cls([weight], lr=LR, foreach=True, **spec["kwargs"])
        opt.step()
    state = opt.state[weight]
    for ours, theirs in spec["state"].items():
        index = [s.name for s in rule.state].index(ours)
        state[theirs] = torch.from_numpy(buffers.states[index])
    return opt


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
