"""Dtype conversions of a Layer: ``to``, ``astype``, ``float``, ``double``, ``float16``.

Like Paddle, the parameters and buffers are converted in place: they stay the same
Tensor objects (so references held elsewhere see the new dtype), their gradients too.
"""

from __future__ import annotations

import numpy as np

from lasandbox.autograd.engine import no_grad
from lasandbox.autograd.tensor import as_dtype, float32
from lasandbox.utils.validation import AssertedTypeError


class DtypeConversions:
    """Mixed into ``Layer``."""

    def to(self, device=None, dtype=None, blocking=None, non_blocking=None):
        """Convert parameters (and their gradients) and buffers to ``dtype``; ``device`` must be the CPU.

        Like Paddle, the Tensors are converted in place (they stay the same objects). A parameter
        that lives in an optimizer's flat float32 buffer leaves it: create optimizers after ``to()``.
        """
        from lasandbox.device import check_cpu_device

        if device is not None:
            check_cpu_device(device)
        for flag_name, flag in (("blocking", blocking), ("non_blocking", non_blocking)):
            if flag is not None and not isinstance(flag, bool):
                raise AssertedTypeError(f"{flag_name} must be a bool or None, got {flag!r}")
        if dtype is not None:
            self._convert(as_dtype(_dtype_name(dtype)), floating_only=False)
        return self

    def astype(self, dtype=None):
        """Convert every parameter and buffer to ``dtype`` (in place, as ``to(dtype=...)``)."""
        try:
            target = as_dtype(_dtype_name(dtype))
        except TypeError as err:
            raise ValueError(f"astype: dtype must be a numeric dtype name or dtype, got {dtype!r}") from err
        if target is None:
            raise ValueError("astype needs a dtype")
        self._convert(target, floating_only=False)
        return self

    def float(self, excluded_layers=None):
        """Floating-point parameters and buffers to float32 (layers of ``excluded_layers`` types kept)."""
        return self._convert_floats(float32, excluded_layers)

    def double(self):
        return self._convert_floats(np.dtype("float64"), None)

    def float16(self, excluded_layers=None):
        return self._convert_floats(np.dtype("float16"), excluded_layers)

    half = float16

    def _convert_floats(self, dtype, excluded_layers):
        excluded = [] if excluded_layers is None else excluded_layers
        if isinstance(excluded, type):
            excluded = [excluded]
        if not isinstance(excluded, (list, tuple)):
            raise TypeError(f"excluded_layers must be a Layer type or a list of them, got {type(excluded).__name__}")
        for layer in self.sublayers(include_self=True):
            if not any(isinstance(layer, kind) for kind in excluded):
                layer._convert(dtype, floating_only=True, include_sublayers=False)
        return self

    @no_grad()
    def _convert(self, dtype, floating_only, include_sublayers=True):
        layers = self.sublayers(include_self=True) if include_sublayers else [self]
        for layer in layers:
            members = [*layer._parameters.values(), *layer._buffers.values()]
            for t in members:
                if t is None or (floating_only and t.dtype.kind != "f"):
                    continue
                t._value = t._value.astype(dtype)
                t._grad_storage = None
                if t._grad is not None:
                    t._grad = t._grad.astype(dtype)
            layer._dtype = dtype

def _dtype_name(dtype):
    """Paddle also spells float64 'double' (and float32 'float')."""
    return {"double": "float64", "float": "float32", "half": "float16"}.get(dtype, dtype) if isinstance(
        dtype, str) else dtype
