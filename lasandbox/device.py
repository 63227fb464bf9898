"""Devices (``paddle.device``'s calls): lasandbox's autograd runs on the CPU, and these say so.

``set_device('cpu')`` and ``CPUPlace()`` are accepted wherever Paddle takes a place;
asking for a GPU is a ValueError, as in a CPU build of Paddle (the numba kernels pick
their own backend with ``backend=``, independent of this).
"""

from __future__ import annotations


class CPUPlace:
    """The CPU, as a Paddle place (``Place(cpu)``)."""

    def __repr__(self):
        return "Place(cpu)"

    def __eq__(self, other):
        return isinstance(other, CPUPlace)

    def __hash__(self):
        return hash("cpu")

    def is_cpu_place(self):
        return True

    def is_gpu_place(self):
        return False

    def is_custom_place(self):
        return False

    def _equals(self, other):
        return self == other


def check_cpu_device(device):
    """Accept ``'cpu'`` (also ``'cpu:0'``) or a CPUPlace; anything else is a ValueError."""
    if isinstance(device, CPUPlace):
        return CPUPlace()
    if isinstance(device, str):
        name = device.strip().lower()
        if name in ("cpu", "cpu:0"):
            return CPUPlace()
        if name.split(":")[0] in ("gpu", "dcu", "xpu", "npu"):
            raise ValueError(f"device {device!r} is not available: lasandbox's autograd runs on the CPU "
                             "(the kernels take backend='cuda' for GPU work)")
    raise ValueError(f"device must be 'cpu' or a paddle.CPUPlace(), got {device!r}")


def set_device(device):
    """Paddle's device switch: only the CPU exists here; returns ``CPUPlace()``."""
    return check_cpu_device(device)


def get_device(input=None):  # noqa: A002 - Paddle's name
    """The device the autograd runs on, ``'cpu'``; for a Tensor ``input``, its device id: -1 (the CPU)."""
    if input is not None:
        return -1
    return "cpu"


def is_compiled_with_cuda():
    """False: the autograd has no GPU build (numba.cuda kernels are separate, see ``lasandbox.kernels``)."""
    return False


def get_all_device_type():
    return ["cpu"]


__all__ = ["CPUPlace", "set_device", "get_device", "is_compiled_with_cuda", "get_all_device_type"]
