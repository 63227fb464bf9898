"""Inputs for the registry-wide rule tests, derived from each rule's declaration (no per-rule code).

A rule added to ``lasandbox.kernels.rules`` is picked up by every test that
parametrises over ``RULE_SETTINGS``: its declared example hyperparameters, its
state arrays (non-negative ones drawn >= 1, others small, so square roots of
differences stay real), rings of copies, and segments for rules that reduce.
"""

from __future__ import annotations

import numpy as np
import pytest
from kernel_cases import CUDA, SIMULATED, gpu

from lasandbox import kernels
from lasandbox.kernels import rules

LR, STEP, ALPHA = 0.01, 7, 0.3
RULE_SETTINGS = [pytest.param(rule, index, id=f"{rule.name}-{index}")
                 for rule in rules.all_rules() for index in range(len(rule.example_settings()))]
RULES = [pytest.param(rule, id=rule.name) for rule in rules.all_rules()]
ELEMENTWISE_RULES = [pytest.param(rule, id=rule.name) for rule in rules.all_rules() if not rule.segmented]


def hypers_of(rule, index):
    return rule.example_settings()[index]


def inputs(rule, hypers, size, seed=0):
    """Arrays in ``rule.arrays`` order, plus the slow weights."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(size).astype(np.float32), rng.standard_normal(size).astype(np.float32)]
    for state in rule.state:
        shape = (hypers[state.copies], size) if state.copies else (size,)
        values = rng.standard_normal(shape).astype(np.float32)
        arrays.append(np.abs(values) + np.float32(1) if state.nonnegative else values * np.float32(0.1))
    return arrays, rng.standard_normal(size).astype(np.float32)


def segments_for(rule, size):
    """Three uneven segments (one empty when the array is tiny) for rules with per-segment reductions."""
    if not rule.segmented:
        return None
    return [0, size // 3, size // 3 + size // 2, size]


def run(rule, hypers, arrays, slow, backend, *, fused, step=STEP, **extra):
    """One step on copies (on the device for cuda); the arrays and slow weights back on the host."""
    work = [a.copy() for a in arrays]
    slow = slow.copy() if fused else None
    if backend == "cuda":
        work = [kernels.to_device(a) for a in work]
        slow = None if slow is None else kernels.to_device(slow)
    kernels.run_step(rule, work, LR, step, hypers, slow=slow, alpha=ALPHA if fused else None, backend=backend,
                     segments=segments_for(rule, arrays[0].size), **extra)
    return [kernels.to_host(a) for a in work], None if slow is None else kernels.to_host(slow)


BACKENDS = ["cpu"] + ([pytest.param("cuda", marks=gpu)] if CUDA else [])
SIZES = [1, 7, 1000, 2**16 + 5]
CUDA_SIZES = [1, 7, 300] if SIMULATED else SIZES


def cuda_sizes(rule):
    """The simulator runs one Python thread per element, and a chunk kernel one block per chunk with
    barriers: segmented rules get two sizes there (one chunk with an empty segment, and three)."""
    return [7, 300] if SIMULATED and rule.segmented else CUDA_SIZES
