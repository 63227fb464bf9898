"""The one hand-written cuda kernel: the benchmark's bandwidth reference.

This module imports ``numba.cuda`` at its top, so only ``cuda_backend.py``
imports it, and only when it is first needed. The update rules' kernels are
generated from their declarations (``codegen.py``).
"""

from numba import cuda


@cuda.jit
def stream(a, b, scale):
    """``a += scale*b``: the bandwidth reference the benchmark compares against."""
    i = cuda.grid(1)
    if i < a.size:
        a[i] += scale * b[i]
