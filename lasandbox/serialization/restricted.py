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
  helpers (under ``numpy.core.multiarray``, numpy 1.x's name, or ``numpy._core``),
  as checking stand-ins (:mod:`lasandbox.serialization.numpy_pickle`): no object
  or structured dtype, no array that is not exactly the data the file holds;
* ``collections.OrderedDict``; ``builtins.tuple`` (Paddle pickles each Tensor of
  a nested checkpoint as ``tuple(((name, array),))``), ``set``, ``frozenset``,
  ``complex``, ``bytearray`` (how protocol 2 spells them);
* ``_codecs.encode`` and ``builtins.bytes`` (how protocol 2 spells ``bytes``; the
  latter only with no argument, for ``b""``).

Each is a function that takes only the arguments those pickles pass (no type
object reaches the file, so NEWOBJ and OBJ have nothing to instantiate). What
the pickle built is then walked once (:func:`load_restricted`): the stand-ins
become numpy objects, anything that is not data is refused, and so are
reference cycles and containers nested deeper than :data:`MAX_NESTING`
(nothing ``save`` writes), so that reading stays linear in the file's size.
"""

from __future__ import annotations

import codecs
import collections
import pickle

import numpy as np

from lasandbox.serialization import numpy_pickle
from lasandbox.serialization.numpy_pickle import PendingArray, PendingDtype, Refused

MAX_NESTING = 100  # containers inside containers; state dicts nest 2 or 3 deep


class UnsafeCheckpointError(pickle.UnpicklingError, ValueError):
    """The file asks for something that a checkpoint never needs (and that could run code)."""


class CorruptCheckpointError(ValueError):
    """The file is truncated, damaged or not a checkpoint at all."""


def _refuse(what):
    raise UnsafeCheckpointError(f"refused {what}: checkpoints hold only containers, numbers, strings and "
                                "numpy arrays (load(..., trusted=True) reads any pickle, for files you trust)")


def _sequence_call(name, build):
    """``build(items)`` for a list or tuple of items only (protocols 2 and 4 write ``OrderedDict()`` and then
    SETITEMS; the others pass a list), never an iterator or another object the file made."""
    def call(items=()):
        if type(items) not in (list, tuple):
            raise Refused(f"{name}() of a {type(items).__name__}")
        return build(items)
    return call


def _complex(real=0.0, imag=0.0):
    if not all(type(part) in (int, float) for part in (real, imag)):
        raise Refused(f"builtins.complex({real!r}, {imag!r})")
    return complex(real, imag)


def _bytearray(data=b"", encoding=None):
    # Protocol 3+ writes bytearray(b'...'); protocol 2 writes bytearray('...', 'latin-1'). Never a
    # length: bytearray(4_000_000_000) would be a 4 GB allocation from a few bytes of file.
    if type(data) is bytes and encoding is None:
        return bytearray(data)
    if type(data) is str and isinstance(encoding, str) and codecs.lookup(encoding).name == "iso8859-1":
        return bytearray(data, "latin1")
    raise Refused(f"builtins.bytearray() of a {type(data).__name__}")


def _empty_bytes(*args):
    # Protocol 2 writes b"" as bytes() (an empty array's data, for one), anything longer as _codecs.encode.
    if args:
        raise Refused(f"builtins.bytes() of a {type(args[0]).__name__}")  # bytes(10**10) would allocate 10 GB
    return b""


def _latin1_bytes(text, encoding):
    # Protocol 2 writes bytes as _codecs.encode(str, 'latin1'); no other codec (zlib, base64 ...) is needed.
    if not isinstance(text, str) or not isinstance(encoding, str) or codecs.lookup(encoding).name != "iso8859-1":
        raise Refused(f"_codecs.encode(..., {encoding!r})")
    return text.encode("latin1")


_NUMPY_MODULES = ("numpy.core.multiarray", "numpy._core.multiarray")
ALLOWED = {
    ("collections", "OrderedDict"): _sequence_call("collections.OrderedDict", collections.OrderedDict),
    ("builtins", "tuple"): _sequence_call("builtins.tuple", tuple),
    ("builtins", "set"): _sequence_call("builtins.set", set),
    ("builtins", "frozenset"): _sequence_call("builtins.frozenset", frozenset),
    ("builtins", "complex"): _complex,
    ("builtins", "bytearray"): _bytearray,
    ("builtins", "bytes"): _empty_bytes,
    ("_codecs", "encode"): _latin1_bytes,
    ("numpy", "ndarray"): numpy_pickle.NDARRAY,
    ("numpy", "dtype"): PendingDtype,
    **{(module, "_reconstruct"): numpy_pickle.reconstruct for module in _NUMPY_MODULES},
    **{(module, "scalar"): numpy_pickle.scalar for module in _NUMPY_MODULES},
}
# Protocol 2 names Python 3's builtins module as Python 2 did.
_MODULE_ALIASES = {"__builtin__": "builtins"}


def allowed(module, name):
    """What the global ``module.name`` of a pickle stands for here, or None if it is refused."""
    return ALLOWED.get((_MODULE_ALIASES.get(module, module), name))


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose imports come only from :data:`ALLOWED`; use :func:`load_restricted`."""

    def find_class(self, module, name):
        found = allowed(module, name)
        if found is None:
            _refuse(f"{module}.{name}")
        return found

    def persistent_load(self, pid):
        _refuse(f"a persistent id ({pid!r})")


def load_restricted(handle, **options):
    """Unpickle one object from ``handle`` with :class:`RestrictedUnpickler`, then check and finish it."""
    try:
        return _Finisher().finish(RestrictedUnpickler(handle, **options).load(), 0)
    except Refused as err:
        _refuse(str(err))


_LEAVES = frozenset((type(None), bool, int, float, complex, str, bytes, bytearray))
_CONTAINERS = (list, tuple, set, frozenset, dict, collections.OrderedDict)


class _Finisher:
    """One walk over what the unpickler built: stand-ins replaced, the rest checked, shared parts kept shared."""

    def __init__(self):
        self.done, self.active = {}, set()

    def finish(self, obj, depth):
        kind = type(obj)
        if kind in _LEAVES:
            return obj
        if kind in (PendingArray, PendingDtype):
            return numpy_pickle.real(obj)
        if kind not in _CONTAINERS:  # a numpy scalar of a plain dtype is the only other thing built
            if isinstance(obj, np.generic) and numpy_pickle.is_plain_dtype(obj.dtype):
                return obj
            raise Refused(f"an object of type {kind.__name__}")
        key = id(obj)
        if key in self.done:
            return self.done[key]
        if key in self.active:
            raise Refused("a reference cycle (a container that holds itself)")
        if depth >= MAX_NESTING:
            raise Refused(f"containers nested more than {MAX_NESTING} deep")
        self.active.add(key)
        if kind in (dict, collections.OrderedDict):
            pairs = [(self._key(k, depth), self.finish(v, depth + 1)) for k, v in obj.items()]
            result = kind(pairs)
        elif kind in (set, frozenset):
            result = kind(self._key(item, depth) for item in obj)
        else:
            result = kind(self.finish(item, depth + 1) for item in obj)
        self.active.discard(key)
        self.done[key] = result
        return result

    def _key(self, key, depth):
        finished = self.finish(key, depth + 1)
        if isinstance(finished, np.ndarray):
            raise Refused("a numpy array as a dict key or set member")
        return finished
