"""Writing one's own rule, as the README's "Adding an update rule" tells it: an edited rule is what runs next.

Everything here runs on the numpy backend or hashes source: nothing compiles.
"""

from __future__ import annotations

from lasandbox.kernels import compiled
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
