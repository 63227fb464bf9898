"""``paddle.base``: the legacy namespace Paddle's own tests import from, reduced to its eager-mode names.

Paddle's unit tests open with ``from paddle import base`` and use ``base.dygraph.guard()``,
``base.CPUPlace``, ``base.ParamAttr`` and
``base.core.is_compiled_with_cuda()``. lasandbox is always eager, so the guard is a
no-op context manager; the static-graph parts of ``paddle.base`` (Program, Executor, ...)
are not provided.
"""

from lasandbox.base import core, dygraph
from lasandbox.device import CPUPlace, is_compiled_with_cuda
from lasandbox.flags import get_flags, set_flags
from lasandbox.nn.param import ParamAttr

__all__ = ["core", "dygraph", "CPUPlace", "ParamAttr", "is_compiled_with_cuda", "set_flags", "get_flags"]
