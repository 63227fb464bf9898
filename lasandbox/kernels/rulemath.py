"""The few math primitives an update rule may call, one definition per backend.

A rule (``lasandbox/kernels/rules/*.py``) is a plain function of scalars that
imports these names, e.g. ``from lasandbox.kernels.rulemath import sqrt, select``.
The definitions below are the numpy ones: they work on numpy scalars and on
whole arrays, so the numpy reference backend runs a rule as written, on arrays.
When a rule is compiled for the ``cpu`` or ``cuda`` backend, ``translate.py``
rebinds each of these names in the rule's globals to the matching function of
``CPU`` or ``CUDA_SOURCES`` below, which do the same thing on one element with
the same rounding, so the numpy and cpu backends compute the same float32
numbers, bit for bit. On a real GPU, NVVM fuses ``a*b + c`` into one rounding
(numba-cuda compiles with fused multiply-adds on), so the cuda backend agrees
with them to a few ulps, not to the bit; square roots and divisions there are
IEEE-rounded as on the CPU. The tests allow for that (the numba CUDA simulator
runs the numpy arithmetic and cannot show it).

Why not ``math.sqrt`` and ``if``: numpy needs ``np.sqrt`` and ``np.where`` on
arrays; and a branch on data would stop the CPU loops from vectorising, while a
``select`` compiles to a branch-free select instruction.

Semantics follow numpy, NaN included: ``minimum``/``maximum`` propagate NaN,
``sign`` gives ``+0`` for ``+-0`` and NaN for NaN.
"""

from __future__ import annotations

import numpy as np

PRIMITIVES = ("sqrt", "absolute", "sign", "select", "minimum", "maximum", "exp", "log")


def sqrt(x):
    return np.sqrt(x)


def absolute(x):
    return np.absolute(x)


def sign(x):
    """-1, +0 or 1 (NaN for NaN), as ``np.sign``."""
    return np.sign(x)


def select(condition, if_true, if_false):
    """``if_true`` where ``condition`` holds, else ``if_false`` (both are evaluated)."""
    return np.where(condition, if_true, if_false)


def minimum(a, b):
    return np.minimum(a, b)


def maximum(a, b):
    return np.maximum(a, b)


def exp(x):
    return np.exp(x)


def log(x):
    return np.log(x)


# The one-element versions, as source text: compiled with numba.njit for the cpu
# backend and numba.cuda.jit(device=True) for the cuda backend (translate.py).
# They are written once, for both compilers, and run in a namespace holding
# ``math`` and ``ONE = np.float32(1)``: a Python literal would promote float32
# math to float64 in numba (comparisons with 0 are exact and allowed).
ELEMENT_SOURCES = {
    "sqrt": "def sqrt(x):\n    return math.sqrt(x)\n",
    "absolute": "def absolute(x):\n    return abs(x)\n",
    # x - x is +0 for +-0 and NaN for NaN, as np.sign gives (inf is caught by the comparisons).
    "sign": ("def sign(x):\n"
             "    if x > 0:\n"
             "        return ONE\n"
             "    if x < 0:\n"
             "        return -ONE\n"
             "    return x - x\n"),
    "select": "def select(condition, if_true, if_false):\n    return if_true if condition else if_false\n",
    # numpy's NaN rule: NaN if either operand is NaN.
    "minimum": "def minimum(a, b):\n    return a if (a < b or a != a) else b\n",
    "maximum": "def maximum(a, b):\n    return a if (a > b or a != a) else b\n",
    "exp": "def exp(x):\n    return math.exp(x)\n",
    "log": "def log(x):\n    return math.log(x)\n",
}
