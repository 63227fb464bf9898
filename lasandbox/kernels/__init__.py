"""Optimizer update kernels, in place on flat float32 arrays, with three backends.

>>> import numpy as np
>>> from lasandbox.kernels import adam_step
>>> p, g, m, v = (np.ones(4, np.float32) for _ in range(4))
>>> adam_step(p, g, m, v, lr=0.1, step=1, backend="numpy")

Each update rule is declared once, in its own module of ``lasandbox.kernels.rules``
(its element function, state arrays, hyperparameters with ranges and Paddle's
names, per-step host constants); from that declaration come the ``numpy``
reference, the ``cpu`` backend (numba, multi-threaded), the ``cuda`` backend
(numba.cuda on device arrays) and the function ``<name>_step`` of this package,
for every rule in ``rules.names()``. Passing ``slow=`` to a step fuses the
Lookahead sync into the same pass; ``lookahead_sync`` is the sync alone.
Importing this package compiles nothing and does not import ``numba.cuda``.

The cpu backend runs arrays shorter than ``cpu_backend.SERIAL_THRESHOLD``
elements (2^16) on one thread; the value is read on every call, so it can be
tuned at run time (``lasandbox.kernels.cpu_backend.SERIAL_THRESHOLD = 2**20``),
e.g. on a virtual machine where waking a second core is slow.
"""

from lasandbox.kernels import threads

threads.configure()  # before numba's first parallel call loads libgomp (see threads.py)

from lasandbox.kernels import rules  # noqa: E402
from lasandbox.kernels.api import (  # noqa: E402
    aligned_zeros,
    available_backends,
    lookahead_sync,
    resolve_backend,
    run_step,
    step_function,
    step_functions,
    to_device,
    to_host,
)
from lasandbox.kernels.declare import (  # noqa: E402
    REQUIRED,
    Epilogue,
    Hyper,
    Pass,
    Rule,
    SegmentStep,
    State,
    SumOfSquares,
)

_STEPS = step_functions()
globals().update(_STEPS)


def __getattr__(name):
    # A rule registered after import (rules.register) gets its <name>_step on first use.
    if name.endswith("_step") and name[:-5] in rules.names():
        function = step_function(name[:-5])
        globals()[name] = function
        return function
    raise AttributeError(f"module 'lasandbox.kernels' has no attribute {name!r}")


__all__ = [
    *_STEPS,
    "lookahead_sync",
    "run_step",
    "step_function",
    "rules",
    "Rule",
    "Pass",
    "SegmentStep",
    "SumOfSquares",
    "State",
    "Hyper",
    "Epilogue",
    "REQUIRED",
    "available_backends",
    "resolve_backend",
    "to_device",
    "to_host",
    "aligned_zeros",
]
