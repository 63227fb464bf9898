"""lasandbox: a research sandbox for the Lookahead optimizer with a Paddle-compatible surface.

``import lasandbox as paddle`` runs Paddle's ``paddle.incubate.LookAhead``
examples unchanged. Submodules: ``nn``, ``io``, ``optimizer``, ``incubate``,
``jit``, ``kernels`` (update rules on numpy / numba-cpu / numba-cuda),
``autograd``.
"""

from lasandbox import autograd, incubate, io, jit, nn, optimizer
from lasandbox.autograd import *  # noqa: F403 - Paddle's flat top-level namespace
from lasandbox.autograd import __all__ as _autograd_all
from lasandbox.incubate import LookAhead
from lasandbox.optimizer import regularizer
from lasandbox.serialization import load, save

__version__ = "0.1.0"


def get_device():
    """Paddle's device query: lasandbox's autograd runs on the CPU."""
    return "cpu"


def set_device(device):
    """Accepted for compatibility; the autograd always runs on the CPU (kernels pick their own backend)."""
    return "cpu"


def in_dynamic_mode():
    return True


def disable_static(place=None):
    """Paddle's switch to eager mode: lasandbox is always eager."""


def __getattr__(name):
    # Heavy or optional parts load on first use, so `import lasandbox` stays fast and compiles nothing.
    if name == "kernels":
        import importlib

        return importlib.import_module("lasandbox.kernels")
    raise AttributeError(f"module 'lasandbox' has no attribute {name!r}")


__all__ = [
    *_autograd_all, "autograd", "nn", "io", "jit", "optimizer", "incubate", "regularizer",
    "LookAhead", "save", "load", "get_device", "set_device", "in_dynamic_mode", "disable_static",
]
