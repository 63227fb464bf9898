"""A pickle reader that builds only containers, numbers, strings and numpy arrays.

A pickle is a small program: its GLOBAL/STACK_GLOBAL instructions import any
callable (``os.system``, ``builtins.eval`` ...) and REDUCE calls it, which is
how a crafted checkpoint runs code on ``pickle.load``. Here every import goes
through :meth:`RestrictedUnpickler.find_class`, which answers only from an
allow-list, so a refused name raises :class:`UnsafeCheckpointError` before the
object it names is ever called. The allow-list is what ``lasandbox.save``
writes and what PaddlePaddle 3.3.1's ``paddle.save`` writes for state dicts and
nested checkpoints (``tools/record_paddle_checkpoints.py`` lists the globals of
each recorded file), read from files written with protocols 2 to 4:

* ``numpy.ndarray``, ``numpy.dtype`` and numpy's ``_reconstruct`` / ``scalar``
  helpers (under ``numpy.core.multiarray``, numpy 1.x's name, or ``numpy._core``);
* ``collections.OrderedDict``; ``builtins.tuple`` (Paddle pickles each Tensor of
  a nested checkpoint as ``tuple(((name, array),))``), ``set``, ``frozenset``,
  ``complex``, ``bytearray`` (how protocol 2 spells them);
* ``_codecs.encode`` (how protocol 2 spells ``bytes``).

Each numpy helper is wrapped so that it refuses object and structured dtypes:
an object array would bring back Python objects with no type check.
"""

from __future__ import annotations

import codecs
import collections
import pickle

import numpy as np


class UnsafeCheckpointError(pickle.UnpicklingError, ValueError):
    """The file asks for something that a checkpoint never needs (and that could run code)."""


class CorruptCheckpointError(ValueError):
    """The file is truncated, damaged or not a checkpoint at all."""


_RECONSTRUCT = np.zeros(0).__reduce__()[0]  # numpy's own helpers, whichever module holds them
_SCALAR = np.float32(0).__reduce__()[0]
# dtype kinds a checkpoint holds: bool, integers, floats, complex, bytes, str, datetimes.
_PLAIN_DTYPE_KINDS = frozenset("biufcSUmM")


def _refuse(what):
    raise UnsafeCheckpointError(f"refused {what}: checkpoints hold only containers, numbers, strings and "
                                "numpy arrays (load(..., trusted=True) reads any pickle, for files you trust)")


def _checked_dtype(spec, align=False, copy=False):
    # numpy pickles a dtype as dtype('f4', False, True) + a state tuple; 'O' (object) and 'V'
    # (structured / void, whose fields could hold objects) are refused.
    if not isinstance(spec, str) or spec.lstrip("<>=|")[:1] not in _PLAIN_DTYPE_KINDS:
        _refuse(f"numpy.dtype({spec!r})")
    return np.dtype(spec, align, copy)


def _checked_reconstruct(subtype, shape, typecode):
    if subtype is not np.ndarray:  # an ndarray subclass would have to be imported by name: never here
        _refuse(f"an array of type {subtype!r}")
    return _RECONSTRUCT(subtype, shape, typecode)


def _checked_scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        _refuse(f"a numpy scalar of dtype {dtype!r}")
    return _SCALAR(dtype, data) if data is not None else _SCALAR(dtype)


def _latin1_bytes(text, encoding):
    # Protocol 2 writes bytes as _codecs.encode(str, 'latin1'); no other codec (zlib, base64 ...) is needed.
    if not isinstance(text, str) or codecs.lookup(encoding).name != "iso8859-1":
        _refuse(f"_codecs.encode(..., {encoding!r})")
    return text.encode("latin1")


_NUMPY_MODULES = ("numpy.core.multiarray", "numpy._core.multiarray")
ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "tuple"): tuple,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
    ("builtins", "bytearray"): bytearray,
    ("_codecs", "encode"): _latin1_bytes,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _checked_dtype,
    **{(module, "_reconstruct"): _checked_reconstruct for module in _NUMPY_MODULES},
    **{(module, "scalar"): _checked_scalar for module in _NUMPY_MODULES},
}
# Protocol 2 names Python 3's builtins module as Python 2 did.
_MODULE_ALIASES = {"__builtin__": "builtins"}


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose imports come only from :data:`ALLOWED`."""

    def find_class(self, module, name):
        found = ALLOWED.get((_MODULE_ALIASES.get(module, module), name))
        if found is None:
            _refuse(f"{module}.{name}")
        return found

    def persistent_load(self, pid):
        _refuse(f"a persistent id ({pid!r})")
