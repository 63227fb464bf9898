"""Optimizer update kernels, in place on flat float32 arrays, with three backends.

>>> import numpy as np
>>> from lasandbox.kernels import adam_step
>>> p, g, m, v = (np.ones(4, np.float32) for _ in range(4))
>>> adam_step(p, g, m, v, lr=0.1, step=1, backend="numpy")

Each rule (SGD, Momentum, Adam/AdamW, the Lookahead sync, and every step with
the sync fused in via ``slow=``) is written once in ``rules.py`` and run by the
``numpy`` reference, the ``cpu`` backend (numba, multi-threaded) and the
``cuda`` backend (numba.cuda on device arrays). Importing this package
compiles nothing and does not import ``numba.cuda``.

The cpu backend runs arrays shorter than ``cpu_backend.SERIAL_THRESHOLD``
elements (2^16) on one thread; the value is read on every call, so it can be
tuned at run time (``lasandbox.kernels.cpu_backend.SERIAL_THRESHOLD = 2**20``),
e.g. on a virtual machine where waking a second core is slow.
"""

from lasandbox.kernels.api import (
    adam_step,
    aligned_zeros,
    available_backends,
    lookahead_sync,
    momentum_step,
    resolve_backend,
    sgd_step,
    to_device,
    to_host,
)

__all__ = [
    "sgd_step",
    "momentum_step",
    "adam_step",
    "lookahead_sync",
    "available_backends",
    "resolve_backend",
    "to_device",
    "to_host",
    "aligned_zeros",
]
