"""Turn a rule's element function (plain Python) into a compiled one for the cpu or cuda backend.

The function is copied with new globals: each ``rulemath`` primitive it uses is
rebound to that backend's one-element version, and each plain helper function
it calls (a function of the rule's module used by two passes, say) is
translated the same way, recursively. Nothing else changes, so the compiled
function runs the same statements as the numpy reference, in the same order.

Targets:

* ``"cpu"``: ``numba.njit(inline="always")``, inlined into the generated loops;
* ``"cuda"``: ``numba.cuda.jit(device=True)``;
* ``"cudasim"``: numba's CUDA simulator runs device functions as Python on
  numpy scalars; there ``math.sqrt`` would return a Python float (float64), so
  sqrt/exp/log are numpy's, which keep float32 and round as the numpy backend does.
"""

from __future__ import annotations

import dis
import math
import types

import numpy as np

from lasandbox.kernels import rulemath

_GENERIC = {id(getattr(rulemath, name)): name for name in rulemath.PRIMITIVES}
_translated: dict = {}
_primitive_sets: dict = {}


def _compile(function, target):
    if target == "cpu":
        from numba import njit

        return njit(inline="always")(function)
    from numba import cuda

    return cuda.jit(device=True)(function)


def primitives(target) -> dict:
    """The one-element primitives for ``target``, compiled once per process."""
    if target not in _primitive_sets:
        namespace = {"math": math, "ONE": np.float32(1.0)}
        for source in rulemath.ELEMENT_SOURCES.values():
            exec(compile(source, f"<lasandbox.kernels.rulemath {target}>", "exec"), namespace)  # noqa: S102
        functions = {name: namespace[name] for name in rulemath.PRIMITIVES}
        if target == "cudasim":  # the simulator calls plain Python functions as they are
            functions.update(sqrt=np.sqrt, exp=np.exp, log=np.log)
        else:
            functions = {name: _compile(f, target) for name, f in functions.items()}
        _primitive_sets[target] = functions
    return _primitive_sets[target]


def global_names(function) -> set:
    """The global names the function's bytecode loads (not attribute names such as ``math.sqrt``)."""
    return {ins.argval for ins in dis.get_instructions(function) if ins.opname == "LOAD_GLOBAL"}


def element_function(function, target):
    """``function`` compiled for ``target`` with the primitives and helpers it calls rebound."""
    key = (function, target)
    if key in _translated:
        return _translated[key]
    new_globals = dict(function.__globals__)
    for name in global_names(function):
        value = function.__globals__.get(name)
        if id(value) in _GENERIC and value is getattr(rulemath, _GENERIC[id(value)]):
            new_globals[name] = primitives(target)[_GENERIC[id(value)]]
        elif isinstance(value, types.FunctionType) and value is not function:
            new_globals[name] = element_function(value, target)
    copy = types.FunctionType(function.__code__, new_globals, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__qualname__ = function.__qualname__
    compiled = _compile(copy, "cuda" if target == "cudasim" else target)
    _translated[key] = compiled
    return compiled


def helpers_of(function) -> list:
    """``function`` and every plain helper it calls (recursively): what a rule's source hash must cover."""
    found, pending = [], [function]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        found.append(current)
        for name in global_names(current):
            value = current.__globals__.get(name)
            if isinstance(value, types.FunctionType) and id(value) not in _GENERIC:
                pending.append(value)
    return found
