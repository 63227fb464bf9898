"""Shared pytest setup.

The CUDA simulator must be chosen before anything imports numba, hence this
runs at the very top of the test session: without a real GPU (no
/dev/nvidia0 and no nvidia-smi on PATH) the cuda backend is exercised on
numba's simulator (small sizes only: it is slow). An explicit
NUMBA_ENABLE_CUDASIM in the environment always wins.
"""

import os
import shutil

if not os.path.exists("/dev/nvidia0") and shutil.which("nvidia-smi") is None:
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
