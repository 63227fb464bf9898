"""GPU part of the kernel benchmark: runs only on a real CUDA GPU (never the simulator).

Measured in one process, interleaved round-robin like the CPU part:

* each kernel through the public API with ``backend="cuda"`` on resident
  device arrays (one launch per step);
* the roofline: a device-to-device copy (``cuMemcpyDtoD``, 8 bytes per element);
* PyTorch's fused Adam on CUDA on views of the same device memory, when
  PyTorch has CUDA;
* Adam when each step also copies param/grad/m/v to the device and param/m/v
  back (pageable host memory, as a plain numpy user has), which against the cpu
  rows of the same run gives the CPU <-> GPU crossover with and without transfers.

A sample is the wall time of ``repeats`` calls followed by a device-wide
synchronise (numba and PyTorch share the primary CUDA context), so launch
overhead counts, as it does for a user. A case is timed in as many calls per
sample as fill 2 ms, so on an H100/H200 every kernel sample is several calls
(Adam at 2^26 takes about half a millisecond) and only the host-transfer case
is one call, after a 128 MB device-to-device copy has evicted the L2 cache (50 MB
on an H100, 60 MB on an H200). Repeated calls find in L2 what the previous one
left there: arrays that fit in it (2^22 elements and below) run from L2, as they
would in a training loop, and so does that size's copy "roofline", so the
roofline fraction there is against L2, not HBM; from 2^24 the arrays are larger
than L2 and the rows are HBM numbers.
"""

from __future__ import annotations

import numpy as np

from lasandbox.kernels import cuda_backend
from lasandbox.kernels.bench_cases import LR, REFERENCE, Buffers, Case, kernel_bytes, step_call, time_round_robin

COPY_BYTES = 8


def gpu_present() -> bool:
    """A real GPU (the simulator is far too slow to benchmark and says nothing about speed)."""
    return cuda_backend.is_available() and not cuda_backend.is_simulator()


def gpu_versions() -> str:
    """numba-cuda, the CUDA driver and PyTorch's CUDA, for the GPU csv's header (what is known)."""
    from importlib import metadata

    parts = []
    for package in ("numba-cuda", "cupy-cuda12x", "cupy-cuda13x"):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    try:
        from numba.cuda.cudadrv.driver import driver

        parts.append("CUDA driver {}.{}".format(*driver.get_version()))
    except Exception:  # noqa: BLE001 - a header detail must not fail the run
        pass
    torch = _torch_cuda()
    if torch is not None:
        parts.append(f"torch CUDA {torch.version.cuda}")
    return ", ".join(parts)


def device_name() -> str:
    from numba import cuda

    name = getattr(cuda.current_context().device, "name", None) or "numba CUDA simulator"
    return name.decode() if isinstance(name, bytes) else str(name)


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _device_buffers(host):
    from numba import cuda

    return Buffers(cuda.to_device(host.param), cuda.to_device(host.grad), cuda.to_device(host.slow),
                   [cuda.to_device(array) for array in host.states])


class L2Cleaner:
    """Copies 128 MB between two device buffers: afterwards no timed array is left in the L2 cache."""

    def __init__(self, megabytes=128):
        from numba import cuda

        self.source = cuda.device_array(megabytes * 2**18, dtype=np.float32)
        self.target = cuda.device_array_like(self.source)

    def __call__(self):
        from numba import cuda

        self.target.copy_to_device(self.source)
        cuda.synchronize()


def _time(cases, rounds, clean_cache=None):
    """``bench_cases.time_round_robin`` for device work: every sample ends with a device-wide sync."""
    from numba import cuda

    return time_round_robin(cases, rounds, max_repeats=200, sample_seconds=2e-3, clean_cache=clean_cache,
                            finish=cuda.synchronize)


def _cuda_kernel_cases(d, kernels):
    return [Case(label, "cuda", step_call(d, label, "cuda")) for label in kernels]


def _torch_cuda_adam(torch, d):
    weight = torch.nn.Parameter(torch.as_tensor(d.param, device="cuda"))  # zero-copy via the CUDA array interface
    weight.grad = torch.as_tensor(d.grad, device="cuda")
    opt = torch.optim.Adam([weight], lr=LR, fused=True)
    opt.step()
    opt.state[weight]["exp_avg"] = torch.as_tensor(d.m, device="cuda")
    opt.state[weight]["exp_avg_sq"] = torch.as_tensor(d.v, device="cuda")
    return opt.step


def launches_per_step():
    """How many kernel launches one fused Adam+sync step makes (counted by wrapping the launcher)."""
    from numba import cuda

    d = _device_buffers(Buffers.random(1024))
    count = 0
    original = cuda_backend._launch

    def counting(*args):
        nonlocal count
        count += 1
        original(*args)

    cuda_backend._launch = counting
    try:
        step_call(d, f"{REFERENCE}+sync", "cuda")()
        cuda.synchronize()
    finally:
        cuda_backend._launch = original
    return count


def run_gpu(sizes, kernels, rounds, progress_update=None):
    """Rows for the cuda backend, torch-cuda, the copy roofline and Adam with host transfers."""
    from numba import cuda

    torch = _torch_cuda()
    rows, cleaner = [], L2Cleaner()
    for size in sizes:
        host = Buffers.random(size, seed=4)
        d = _device_buffers(host)
        copy_dst = cuda.device_array_like(d.param)
        cases = _cuda_kernel_cases(d, kernels)
        cases.append(Case("copy", "cuda-d2d-copy", lambda dst=copy_dst, src=d.grad: dst.copy_to_device(src)))
        if torch is not None:
            cases.append(Case("adam", "torch-cuda", _torch_cuda_adam(torch, d)))

        reference_step = step_call(d, REFERENCE, "cuda")

        def with_transfers(h=host, d=d, step=reference_step):
            # What offloading one step costs a host-resident optimizer: copy in, update, copy back.
            for host_array, device_array in ((h.param, d.param), (h.grad, d.grad), (h.m, d.m), (h.v, d.v)):
                device_array.copy_to_device(host_array)
            step()
            for host_array, device_array in ((h.param, d.param), (h.m, d.m), (h.v, d.v)):
                device_array.copy_to_host(host_array)

        # Pageable copies of 7 arrays take long at large sizes, and vary little: fewer rounds.
        cases.append(Case("adam", "cuda+transfers", with_transfers, max_rounds=3 if size >= 2**22 else 10**9))
        _time(cases, rounds, clean_cache=cleaner)
        best = {(case.kernel, case.backend): case.best for case in cases}
        copy_gbps = COPY_BYTES * size / best[("copy", "cuda-d2d-copy")] / 1e9
        for case in cases:
            bytes_moved = COPY_BYTES if case.kernel == "copy" else kernel_bytes(case.kernel)
            torch_seconds = best.get((case.kernel, "torch-cuda"), float("nan"))
            rows.append(_row(case.kernel, case.backend, size, case.best, bytes_moved * size / case.best / 1e9,
                             copy_gbps, torch_seconds))
        del d, copy_dst
        if progress_update is not None:
            progress_update()
    return rows


def _row(kernel, backend, size, seconds, gbps, roofline_gbps, torch_seconds):
    return {"kernel": kernel, "backend": backend, "size": size, "log2_size": int(np.log2(size)),
            "seconds": seconds, "gbps": gbps, "roofline_gbps": roofline_gbps,
            "roofline_fraction": gbps / roofline_gbps, "torch_seconds": torch_seconds,
            "speedup_vs_torch": torch_seconds / seconds}


def crossover_sizes(rows):
    """Smallest measured size where Adam on the GPU beats the cpu backend: resident, and with transfers."""
    seconds = {(r["backend"], r["size"]): r["seconds"] for r in rows if r["kernel"] == "adam"}

    def first(mode):
        wins = [size for backend, size in seconds
                if backend == mode and ("cpu", size) in seconds and seconds[(mode, size)] < seconds[("cpu", size)]]
        return min(wins) if wins else None

    return first("cuda"), first("cuda+transfers")
