"""``paddle.base.core``: the two names eager-mode tests read from it."""

from __future__ import annotations

from types import SimpleNamespace

from lasandbox.autograd.tensor import Tensor
from lasandbox.device import is_compiled_with_cuda

#: ``isinstance(x, core.eager.Tensor)`` is how Paddle's tests check for a Tensor.
eager = SimpleNamespace(Tensor=Tensor)

__all__ = ["eager", "is_compiled_with_cuda"]
