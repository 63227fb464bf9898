"""The kernel backends, named once: every ``backend=`` argument, choice list and dispatch table derives
from here (dependency-free, so ``import lasandbox`` stays light).

``numpy`` is the readable reference, ``cpu`` the numba kernels (multi-threaded), ``cuda`` the numba.cuda
kernels on device arrays; ``auto`` picks cuda for device arrays, else cpu.
"""

from __future__ import annotations

KERNEL_BACKENDS = ("numpy", "cpu", "cuda")
BACKEND_CHOICES = ("auto", *KERNEL_BACKENDS)  # what a ``backend=`` argument accepts
# The backends on host arrays: the sweep tasks' choices (their workers run on the CPU; the optimizer's
# ``backend="cuda"`` and ``lasandbox reproduce --backend cuda`` are how a GPU is used).
HOST_BACKENDS = ("numpy", "cpu")
