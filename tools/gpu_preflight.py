"""Before the GPU tests: is numba's CUDA a real device here, and does one kernel run on it?

Prints, whatever happens, what the one device run must tell us if it breaks (the versions of
everything the GPU path loads, where numba-cuda found the toolkit's libnvvm and libdevice, the
NVVM version, ``numba.cuda.detect()``), then runs one kernel and hands its output to PyTorch on
the device as the benchmark does. Exits non-zero with the reason otherwise, so that a broken
driver or toolkit fails loudly instead of skipping every GPU test (run by tools/gpu_check.sh).
"""

import sys
import traceback
from importlib import metadata

import numpy as np

PACKAGES = ("numba", "numba-cuda", "llvmlite", "numpy", "cuda-bindings", "cuda-core", "cuda-pathfinder",
            "cuda-python", "nvidia-nvvm", "nvidia-cuda-nvcc", "torch")


def _step(label, action):
    """Run ``action()``, print its result or its traceback under ``label``; True if it did not raise."""
    try:
        print(f"{label}: {action()}")
        return True
    except Exception:  # noqa: BLE001 - a diagnosis must report every failure and go on
        print(f"{label}: FAILED")
        traceback.print_exc(file=sys.stdout)
        return False


def print_environment():
    for package in PACKAGES:
        try:
            print(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            print(f"{package}: not installed")
    from numba import cuda

    _step("numba.cuda.cuda_paths", lambda: __import__("numba.cuda.cuda_paths", fromlist=["x"]).get_cuda_paths())
    _step("NVVM version", lambda: __import__("numba.cuda.cudadrv.nvvm", fromlist=["x"]).NVVM().get_version())
    _step("numba.cuda.detect()", cuda.detect)


def _torch_reads_device_arrays(param):
    """PyTorch on a numba device array, zero-copy (the benchmark's torch-cuda Adam runs on such views)."""
    import torch

    if not torch.cuda.is_available():
        return "torch sees no CUDA device (the benchmark's torch-cuda rows will be missing)"
    view = torch.as_tensor(param, device="cuda")
    if not bool((view == 0.5).all()):
        raise AssertionError("torch read other values than numba wrote")
    return f"ok (torch {torch.__version__}, CUDA {torch.version.cuda})"


def main() -> int:
    print_environment()
    from numba import cuda

    try:  # before the first kernel compiles, as in the benchmark (torch loads its own CUDA libraries)
        import torch  # noqa: F401
    except ImportError:
        print("torch: not importable (the benchmark's torch-cuda rows will be missing)")

    from lasandbox import kernels
    from lasandbox.kernels import api, bench_gpu, cuda_backend

    if cuda_backend.is_simulator():
        print("numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1): unset it for the GPU run")
        return 1
    if not cuda.is_available():
        print("numba sees no usable CUDA GPU")
        return 1
    param, grad = api.to_device(np.ones(2**20, np.float32)), api.to_device(np.ones(2**20, np.float32))
    kernels.sgd_step(param, grad, 0.5, backend="cuda")
    if not np.all(api.to_host(param) == 0.5):
        print("one sgd_step on the device gave a wrong result")
        return 1
    _step("torch on numba's device arrays", lambda: _torch_reads_device_arrays(param))
    print(f"preflight ok on {bench_gpu.device_name()}: {bench_gpu.gpu_versions()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
