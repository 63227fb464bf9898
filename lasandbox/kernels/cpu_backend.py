"""The ``cpu`` backend: every rule's loops generated (``codegen.py``), compiled by numba, in place.

Each pass of a rule has a plain serial loop, which small arrays call
directly, and a parallel driver that cuts a large array into
cache-line-aligned blocks (``loops.py``) and hands them to numba's thread
pool, each block running the serial loop. Rules with per-segment reductions
loop over chunks of each segment instead. Why blocks and not one ``prange``
over elements: aligned blocks measured ~8% faster (``loops.py``). No chunk
size is set: with numba's ``omp`` and ``workqueue`` threading layers (``tbb``
is not a dependency) the iterations of a ``prange`` are shared out statically
anyway, and setting and restoring ``set_parallel_chunksize`` around each call
cost time: Adam at 2^17 elements 55 us with it vs 39 us without, at 2^24 13.2 ms
vs 12.7 ms (round-robin minima, the 2-core build VM).

Below ``SERIAL_THRESHOLD`` elements the serial loop runs directly: waking the
thread pool costs more than the whole update. The value is read on every call,
so it can be tuned at run time.

Nothing is compiled at import, nor when a rule's module is generated: ``njit``
without a signature compiles on the first call, and ``cache=True`` keeps the
machine code on disk for the next process (``compiled.py`` makes sure an
edited rule is compiled afresh). ``error_model="numpy"`` lets ``x / 0`` be inf
instead of raising, which also removes a per-element branch that would stop
the loops from vectorising.
"""

from __future__ import annotations

import numba
import numpy as np

from lasandbox.kernels import compiled, scratch

# Arrays shorter than this run serially. `lasandbox bench kernels` prints the
# measured serial/parallel crossover (bench_extras.serial_parallel_crossover).
# On the 2-core machine this was tuned on (two runs of 40 rounds), parallel Adam
# first won at 2^14 elements and parallel SGD / sync at 2^16, where Adam was 22%
# and SGD 10-16% faster than serial; one threshold for all keeps every kernel on
# its faster side.
SERIAL_THRESHOLD = 2**16
# Inside a training step (``Optimizer.step``) the update follows BLAS's matrix products, whose threads
# keep spinning for a while afterwards; a parallel kernel then waits for a core. Measured (MLP
# 256-256-256-10, Adam, AMD EPYC 2 cores, `benchmarks/train_step.py`'s worker): 134k parameters,
# batch 32: 1.6 ms median per step with the parallel kernel, 0.52 ms serial; 530k: 1.36 vs 1.29 ms;
# from 2M on serial and parallel are within noise. So optimizer steps run serially below 2^20.
TRAINING_SERIAL_THRESHOLD = 2**20

_drivers: dict = {}


class _Drivers:
    """The compiled entry points of one (rule, epilogue chain), with the argument names each takes."""

    def __init__(self, rule, chain):
        module = compiled.kernels_for(rule, chain, "cpu")
        self.module = module
        self.steps = []
        for spec in module.specs:
            if spec.kind == "segment":
                entry = (spec, getattr(module, f"{spec.name}_segments"), None)
            elif rule.segmented:
                entry = (spec, getattr(module, f"{spec.name}_chunks"), getattr(module, f"{spec.name}_chunks_parallel"))
            else:
                entry = (spec, getattr(module, f"{spec.name}_serial"), getattr(module, f"{spec.name}_parallel"))
            self.steps.append(entry)


def drivers(rule, chain=()) -> _Drivers:
    key = (id(rule), *(id(e) for e in chain))
    found = _drivers.get(key)
    if found is None:
        found = _drivers[key] = _Drivers(rule, chain)
    return found


def run_in_training(rule, chain, arrays, scalars, table=None):
    """``run`` as an optimizer step calls it: serial below ``TRAINING_SERIAL_THRESHOLD`` elements."""
    return run(rule, chain, arrays, scalars, table, parallel=arrays["param"].size >= TRAINING_SERIAL_THRESHOLD)


def run(rule, chain, arrays, scalars, table=None, parallel=None):
    """One step of ``rule`` over host arrays (dict by name) with the epilogue ``chain``.

    ``parallel``: None decides by ``SERIAL_THRESHOLD``; True/False forces the thread pool or the
    serial loop (the benchmark's crossover measurement)."""
    if parallel is None:
        parallel = arrays["param"].size >= SERIAL_THRESHOLD
    arrays = scratch.with_scratch(rule, arrays, scratch.host_scratch)
    if not rule.segmented:
        for spec, serial, parallel_driver in drivers(rule, chain).steps:
            (parallel_driver if parallel else serial)(*[arrays[a] for a in spec.arrays],
                                                      *[scalars[s] for s in spec.scalars])
        return
    partials = np.zeros((table.num_chunks, len(rule.reductions)))
    values = np.zeros((table.num_segments, len(rule.segment_values)), dtype=np.float32)
    chunk_args = (table.lo, table.hi, table.segment, partials, values)
    for spec, serial, parallel_driver in drivers(rule, chain).steps:
        scalar_args = [scalars[s] for s in spec.scalars]
        if spec.kind == "segment":
            serial(table.first_chunk, partials, values, *scalar_args)
        elif parallel:
            parallel_driver(numba.get_num_threads(), *chunk_args, *[arrays[a] for a in spec.arrays], *scalar_args)
        else:
            serial(0, table.num_chunks, *chunk_args, *[arrays[a] for a in spec.arrays], *scalar_args)


def all_dispatchers():
    """Every numba dispatcher made so far (the import test checks that importing compiles nothing)."""
    import numba

    found = []
    for entry in _drivers.values():
        found += [obj for obj in vars(entry.module).values() if isinstance(obj, numba.core.registry.CPUDispatcher)]
    return found
