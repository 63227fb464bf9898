"""Writing one's own rule, as the README's "Adding an update rule" tells it: an edited rule is what runs next,
and a redefined rule replaces its public function.

Everything here runs on the numpy backend or hashes source: nothing compiles.
"""

from __future__ import annotations

import numpy as np
import pytest

from lasandbox import kernels
from lasandbox.kernels import compiled, rules
from lasandbox.kernels.declare import Pass, Rule

_SCALED = """
import numpy as np
SCALE = np.float32({scale})

def update(param, grad, lr):
    return (param - lr * (SCALE * grad),)
"""


def _scaled_rule(scale):
    namespace = {}
    exec(compile(_SCALED.format(scale=scale), "<a notebook cell>", "exec"), namespace)  # noqa: S102
    return Rule("authoring_scaled", "", (), (), lambda h, lr, step: {"lr": lr},
                (Pass(namespace["update"], writes=("param",)),))


def test_a_module_constant_of_the_rule_is_part_of_its_kernel_hash():
    # numba freezes SCALE into the machine code: a new value must name a new generated module, or the cache
    # would keep serving the old one.
    hashes = {scale: compiled.source_hash(_scaled_rule(scale), (), "same generated source") for scale in (1, 1, 3)}
    assert len(hashes) == 2 and hashes[1] != hashes[3]
    assert compiled.source_hash(_scaled_rule(1), (), "x") == compiled.source_hash(_scaled_rule(1), (), "x")


def _double(param, grad, lr):
    return (param - lr * (grad + grad),)


def _single(param, grad, lr):
    return (param - lr * grad,)


def test_redefining_a_rule_replaces_its_step_function():
    def define(fn):
        return Rule("authoring_redefined", "", (), (), lambda h, lr, step: {"lr": lr}, (Pass(fn, writes=("param",)),))

    rules.register(define(_single))
    try:
        grad = np.ones(4, np.float32)
        first = kernels.authoring_redefined_step
        param = np.ones(4, np.float32)
        first(param, grad, 0.25, backend="numpy")
        assert param[0] == np.float32(0.75)
        rules.register(define(_double), replace=True)
        param = np.ones(4, np.float32)
        kernels.authoring_redefined_step(param, grad, 0.25, backend="numpy")
        assert param[0] == np.float32(0.5), "kernels.<name>_step must run the new definition"
        with pytest.raises(RuntimeError, match="earlier definition"):
            first(np.ones(4, np.float32), grad, 0.25, backend="numpy")
    finally:
        rules._registry.pop("authoring_redefined", None)
        vars(kernels).pop("authoring_redefined_step", None)
