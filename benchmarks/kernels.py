"""Kernel benchmark: bandwidth vs the machine's roofline, numpy and PyTorch (same as `lasandbox bench kernels`).

    python benchmarks/kernels.py [--backends numpy,cpu,cuda,torch] [--sizes 10,14,20] [--rounds N]
                                 [--out DIR] [--quick]

Run from the repository root. On a real GPU the measurements are also stored as
benchmarks/data/kernels_gpu_<device>.csv (commit that file: the figure overlays
it on machines without a GPU).
"""

import sys
from pathlib import Path

from lasandbox.kernels.bench import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--gpu-data-dir" not in argv:
        argv += ["--gpu-data-dir", str(Path(__file__).resolve().parent / "data")]
    sys.exit(main(argv))
