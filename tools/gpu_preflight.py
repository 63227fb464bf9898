"""Before the GPU tests: is numba's CUDA a real device here, and does one kernel run on it?

Prints the versions the GPU csv will record and exits non-zero with the reason otherwise, so
that a broken driver fails loudly instead of skipping every GPU test (run by tools/gpu_check.sh).
"""

import sys

import numpy as np


def main() -> int:
    from numba import cuda

    from lasandbox import kernels
    from lasandbox.kernels import api, bench_gpu, cuda_backend

    if cuda_backend.is_simulator():
        print("numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1): unset it for the GPU run")
        return 1
    if not cuda.is_available():
        try:
            cuda.detect()  # numba's own diagnosis of the driver and toolkit
        except Exception as err:  # noqa: BLE001 - the diagnosis itself may fail without a driver
            print(f"numba.cuda.detect() failed: {err}")
        print("numba sees no usable CUDA GPU")
        return 1
    param, grad = api.to_device(np.ones(2**20, np.float32)), api.to_device(np.ones(2**20, np.float32))
    kernels.sgd_step(param, grad, 0.5, backend="cuda")
    if not np.all(api.to_host(param) == 0.5):
        print("one sgd_step on the device gave a wrong result")
        return 1
    print(f"preflight ok on {bench_gpu.device_name()}: {bench_gpu.gpu_versions()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
