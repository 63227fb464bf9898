"""lasandbox: a research sandbox for the Lookahead optimizer with a Paddle-compatible surface.

``import lasandbox as paddle`` runs Paddle's ``paddle.incubate.LookAhead``
examples unchanged. Submodules: ``nn``, ``io``, ``optimizer``, ``incubate``,
``jit``, ``kernels`` (update rules on numpy / numba-cpu / numba-cuda),
``autograd``; ``device``, ``base`` and ``tensor`` mirror the Paddle namespaces
of the same names as far as eager-mode code uses them.

lasandbox is always in dygraph (eager) mode and runs its autograd on the CPU:
``in_dynamic_mode()`` is True, ``set_device('cpu')`` / ``CPUPlace()`` are accepted,
``set_flags`` records Paddle's runtime flags without effect, and ``enable_static()``
(the static graph) is not available.
"""

import lasandbox.incubate.optimizer  # noqa: F401 - makes paddle.incubate.optimizer.LookAhead resolve
from lasandbox import autograd, base, device, incubate, io, jit, nn, optimizer, tensor
from lasandbox.autograd import *  # noqa: F403 - Paddle's flat top-level namespace
from lasandbox.autograd import __all__ as _autograd_all
from lasandbox.device import CPUPlace, get_device, is_compiled_with_cuda, set_device
from lasandbox.flags import get_flags, set_flags
from lasandbox.incubate import LookAhead
from lasandbox.nn.param import ParamAttr, create_parameter
from lasandbox.optimizer import regularizer
from lasandbox.serialization import async_save, clear_async_save_task_queue, load, save
from lasandbox.utils import allocator as _allocator

_allocator.configure()  # keep freed arrays in the process: a training step's page faults (utils/allocator.py)

__version__ = "0.1.0"


def in_dynamic_mode():
    """True: lasandbox always runs eagerly (Paddle's dygraph mode)."""
    return True


def disable_static(place=None):
    """Paddle's switch to eager mode: lasandbox always is (``place`` must be the CPU)."""
    if place is not None:
        device.check_cpu_device(place)


def enable_static():
    """Paddle's static-graph mode is out of scope: lasandbox has no graph compiler."""
    raise NotImplementedError("paddle.enable_static(): lasandbox has no static graph; it always runs eagerly")


def __getattr__(name):
    # Heavy or optional parts load on first use, so `import lasandbox` stays fast and compiles nothing.
    if name == "kernels":
        import importlib

        return importlib.import_module("lasandbox.kernels")
    raise AttributeError(f"module 'lasandbox' has no attribute {name!r}")


__all__ = [
    *_autograd_all, "autograd", "base", "device", "tensor", "nn", "io", "jit", "optimizer", "incubate",
    "regularizer", "LookAhead", "ParamAttr", "create_parameter", "CPUPlace", "save", "load", "async_save",
    "clear_async_save_task_queue", "get_device", "set_device",
    "is_compiled_with_cuda", "set_flags", "get_flags", "in_dynamic_mode", "disable_static", "enable_static",
]
