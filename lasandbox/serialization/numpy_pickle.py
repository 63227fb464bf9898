"""numpy arrays, dtypes and scalars rebuilt from a pickle that is not trusted.

numpy pickles an array as ``_reconstruct(ndarray, (0,), b'b')`` followed by a BUILD
instruction that hands ``ndarray.__setstate__`` a ``(1, shape, dtype, fortran, data)``
tuple, and a dtype as ``dtype('f8', False, True)`` followed by a BUILD with its state
(byte order, fields, sizes, flags). Handing those real numpy objects to a crafted pickle is
not safe, even when only these names are allowed:

* ``dtype.__setstate__`` takes the flags as given: a float64 dtype can be made to claim
  that it holds Python objects, so that numpy reads the array's bytes as pointers;
* ``ndarray.__setstate__`` on an array that already has a view (``ndarray(shape, dtype,
  buffer=that_array)``) frees the memory the view still reads;
* ``ndarray(shape, 'O')`` or ``_reconstruct(ndarray, shape, 'O')`` builds an object array
  without any dtype being pickled, and ``ndarray((4e9,), 'f4')`` a 16 GB array from 40 bytes.

So the unpickler gets stand-ins instead: :class:`PendingDtype` and :class:`PendingArray`,
whose ``__setstate__`` checks the state against what numpy itself writes for a plain dtype
(bool, integers, floats, complex, bytes, str, datetimes) and builds the real object only
then, once, on a fresh array; ``numpy.ndarray`` is a marker that can only be passed to
``_reconstruct``. :func:`real` swaps a stand-in for what it stands for, once the whole file
is read (a crafted file may put a stand-in in a container before its BUILD).
"""

from __future__ import annotations

import math

import numpy as np

_RECONSTRUCT = np.zeros(0).__reduce__()[0]  # numpy's own helpers, whichever module holds them
_SCALAR = np.float32(0).__reduce__()[0]
# dtype kinds a checkpoint holds: bool, integers, floats, complex, bytes, str, datetimes.
PLAIN_DTYPE_KINDS = frozenset("biufcSUmM")
_MAX_DIMS = 64  # numpy's NPY_MAXDIMS
_DATETIME_UNITS = frozenset("Y M W D h m s ms us ns ps fs as generic".split())


class Refused(Exception):
    """A stand-in was asked for something numpy never pickles (the unpickler names the file)."""


def is_plain_dtype(dtype) -> bool:
    """A dtype whose values are plain numbers, bytes, strings or datetimes: no objects, fields or sub-arrays."""
    return (isinstance(dtype, np.dtype) and dtype.kind in PLAIN_DTYPE_KINDS and dtype.names is None
            and dtype.subdtype is None and not dtype.hasobject and dtype.metadata is None)


def _is_flag(value) -> bool:
    return type(value) is bool or (type(value) is int and value in (0, 1))  # Python 2's pickles write 0 / 1


class NdarrayMarker:
    """What the name ``numpy.ndarray`` resolves to: only ``_reconstruct`` takes it (numpy passes its
    subtype there); calling it is refused, and NEWOBJ refuses it since it is not a type."""

    def __call__(self, *args, **kwargs):
        raise Refused("numpy.ndarray(...) called directly (numpy pickles arrays through _reconstruct)")

    def __repr__(self):
        return "numpy.ndarray"


NDARRAY = NdarrayMarker()


class PendingDtype:
    """``numpy.dtype(spec, align, copy)``: a plain dtype, whose BUILD state must be what numpy writes."""

    __slots__ = ("dtype", "_spec", "_built")

    def __init__(self, spec, align=False, copy=False):
        if not isinstance(spec, str) or not _is_flag(align) or not _is_flag(copy):
            raise Refused(f"numpy.dtype({spec!r}, {align!r}, {copy!r})")
        try:
            dtype = np.dtype(spec)
        except (TypeError, ValueError, SyntaxError):
            raise Refused(f"numpy.dtype({spec!r}), which numpy does not know") from None
        if not is_plain_dtype(dtype):
            raise Refused(f"numpy.dtype({spec!r}) (objects, fields or sub-arrays)")
        self.dtype, self._spec, self._built = dtype, spec, False

    def __setstate__(self, state):
        if self._built:
            raise Refused(f"a second state for numpy.dtype({self._spec!r})")
        self.dtype = _dtype_for_state(self.dtype, self._spec, state)
        self._built = True

    def __repr__(self):
        return f"numpy.dtype({self._spec!r})"


def _dtype_for_state(base, spec, state):
    """The dtype ``state`` describes, if it is exactly the state numpy writes for ``spec``."""
    if type(state) is not tuple or len(state) not in (8, 9) or state[1] not in ("<", ">", "|", "="):
        raise Refused(f"the state {state!r} for numpy.dtype({spec!r})")
    dtype = base
    if base.kind in "mM":  # the unit is in the state: (4, order, ..., (None, (b'ns', 1, 1, 1)))
        metadata = state[8] if len(state) == 9 else None
        unit = metadata[1] if type(metadata) is tuple and len(metadata) == 2 else None
        if type(unit) is not tuple or len(unit) != 4:
            raise Refused(f"the state {state!r} for numpy.dtype({spec!r})")
        name, count = unit[0], unit[1]
        name = name.encode("latin1") if isinstance(name, str) else name  # a Python 2 pickle's str
        if (type(name) is not bytes or name.decode("latin1") not in _DATETIME_UNITS or type(count) is not int
                or not 0 < count < 2**31):
            raise Refused(f"the datetime unit {unit!r} for numpy.dtype({spec!r})")
        state = (*state[:8], (None, (name, *unit[1:])))
        dtype = np.dtype(f"{base.kind}8[{count}{name.decode('latin1')}]")
    if state[1] in "<>" and dtype.byteorder != "|":
        dtype = dtype.newbyteorder(state[1])
    if dtype.__reduce__()[2] != state:  # sizes, flags, fields: anything numpy would not have written
        raise Refused(f"the state {state!r} for numpy.dtype({spec!r}) (numpy writes "
                      f"{dtype.__reduce__()[2]!r})")
    return dtype


class PendingArray:
    """``_reconstruct(ndarray, (0,), b'b')``: becomes the array its one BUILD state describes."""

    __slots__ = ("array",)

    def __init__(self):
        self.array = None

    def __setstate__(self, state):
        if self.array is not None:
            raise Refused("a second state for one numpy array")
        if type(state) is not tuple or len(state) not in (4, 5) or (len(state) == 5 and state[0] != 1):
            raise Refused(f"a numpy array state of {_describe(state)}")
        shape, dtype, fortran, data = state[-4:]
        if (type(shape) is not tuple or len(shape) > _MAX_DIMS
                or not all(type(n) is int and n >= 0 for n in shape)):
            raise Refused(f"a numpy array of shape {shape!r}")
        if not isinstance(dtype, PendingDtype) or not _is_flag(fortran):
            raise Refused(f"a numpy array of dtype {dtype!r} (fortran={fortran!r})")
        if type(data) not in (bytes, str):  # str: a Python 2 pickle read with encoding='latin1'
            raise Refused(f"numpy array data of type {type(data).__name__}")
        expected = math.prod(shape) * dtype.dtype.itemsize  # Python ints: no overflow, nothing allocated yet
        if len(data) != expected:
            raise Refused(f"a numpy array of shape {shape} and dtype {dtype.dtype} with {len(data)} bytes of "
                          f"data ({expected} needed)")
        array = _RECONSTRUCT(np.ndarray, (0,), b"b")  # fresh: no view of it exists
        array.__setstate__((1, shape, dtype.dtype, bool(fortran), data))
        self.array = array

    def __repr__(self):
        return "numpy array" if self.array is None else f"numpy array {self.array.dtype}{list(self.array.shape)}"


def _describe(state):
    return f"type {type(state).__name__}" + (f" and length {len(state)}" if type(state) is tuple else "")


def reconstruct(subtype, shape, typecode):
    """``numpy.core.multiarray._reconstruct``: only as numpy calls it for a plain ndarray."""
    if subtype is not NDARRAY:  # an ndarray subclass would have to be imported by name: never here
        raise Refused(f"an array of type {subtype!r}")
    if shape != (0,) or typecode not in (b"b", "b"):
        raise Refused(f"_reconstruct(numpy.ndarray, {shape!r}, {typecode!r}) (numpy writes (0,), b'b')")
    return PendingArray()


def scalar(dtype, data=None):
    """``numpy.core.multiarray.scalar``: a numpy scalar of a plain dtype from exactly its bytes."""
    if not isinstance(dtype, PendingDtype):
        raise Refused(f"a numpy scalar of dtype {dtype!r}")
    if type(data) not in (bytes, str) or len(data) != dtype.dtype.itemsize:
        raise Refused(f"a numpy {dtype.dtype} scalar from {type(data).__name__} data"
                      + (f" of {len(data)} bytes" if isinstance(data, (bytes, str)) else ""))
    return _SCALAR(dtype.dtype, data.encode("latin1") if isinstance(data, str) else data)


def real(stand_in):
    """The numpy object a stand-in stands for (an array whose state never came is refused)."""
    if isinstance(stand_in, PendingDtype):
        return stand_in.dtype
    if stand_in.array is None:
        raise Refused("a numpy array whose data never came (no BUILD after _reconstruct)")
    return stand_in.array
