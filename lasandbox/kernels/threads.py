"""How lasandbox's numba thread pool shares the cores with BLAS in a training loop.

numba's default threading layer here is OpenMP (GNU libgomp). After each
parallel region libgomp keeps its threads spinning, by default for about
300,000 iterations (``GOMP_SPINCOUNT``), so that the next region starts at
once. In a training step the next work is not ours but OpenBLAS's matrix
products, whose own threads then compete with our spinning ones for the two
cores: an MLP 784-256-256-10 step (batch 128, Adam) took 8.0 ms at the median
instead of 1.9 ms (AMD EPYC, 2 cores, each variant in its own process,
``benchmarks/train_step.py``'s worker).

The fix is a short spin: ``GOMP_SPINCOUNT=10000`` keeps our threads hot
between kernels called back to back (the isolated-kernel benchmark's
timings do not move: Adam at 2^16..2^22 elements within noise of the default),
but lets them sleep within microseconds once BLAS takes over. A passive wait
policy (``OMP_WAIT_POLICY=PASSIVE``) or numba's ``workqueue`` layer would cost
50-100 us per mid-size kernel call instead; a serial optimizer step would
leave a core idle (2.9 ms for that step).

Two more parts of the same policy live where they act: an optimizer step runs its kernel
serially below ``cpu_backend.TRAINING_SERIAL_THRESHOLD`` elements (BLAS's own threads are still
spinning right after the matrix products), and ``lasandbox.utils.allocator`` keeps freed arrays
in the process (page faults, not threads, were the rest of a step's cost).

libgomp reads the variable once, when it is loaded, which numba does at its
first parallel call; so ``configure()`` sets it at ``import lasandbox.kernels``,
unless the user chose a spin count or wait policy already (theirs wins), or
numba's threads are already running (too late: then it says so in
``spin_policy()``).
"""

from __future__ import annotations

import os

SPIN_COUNT = "10000"
_USER_SETTINGS = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")
_state = {"policy": None}


def _numba_threads_running() -> bool:
    try:
        from numba.np.ufunc import parallel
    except ImportError:  # pragma: no cover - numba always has it
        return False
    return bool(getattr(parallel, "_is_initialized", False))


def configure() -> str:
    """Set libgomp's spin count for numba's thread pool if nobody has decided it; returns the policy."""
    if _state["policy"] is None:
        chosen = [name for name in _USER_SETTINGS if name in os.environ]
        if chosen:
            _state["policy"] = f"the user's {', '.join(f'{n}={os.environ[n]}' for n in chosen)}"
        elif _numba_threads_running():
            _state["policy"] = "libgomp's default (numba's threads started before lasandbox was imported)"
        else:
            os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
            _state["policy"] = f"GOMP_SPINCOUNT={SPIN_COUNT} (set by lasandbox)"
    return _state["policy"]


def spin_policy() -> str:
    """What decided how long numba's OpenMP threads spin after a kernel (for reports and benchmarks)."""
    return configure()
