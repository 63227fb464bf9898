"""The Tensor: a numpy array plus what autograd needs (Paddle-style names).

Paddle's conventions kept here: ``stop_gradient`` (True for data, False for
parameters), ``.grad`` accumulating across ``backward()`` calls until
cleared, ``.shape`` as a list, ``.numpy()`` returning a copy of the array.
"""

from __future__ import annotations

import numbers

import numpy as np

from lasandbox.autograd import engine

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

_DTYPE_NAMES = {
    "float32": float32, "float64": float64, "float16": float16,
    "int8": np.dtype("int8"), "int16": np.dtype("int16"), "int32": int32, "int64": int64,
    "uint8": np.dtype("uint8"), "bool": bool_, "complex64": np.dtype("complex64"),
    "complex128": np.dtype("complex128"),
}
_DEFAULT_FLOATS = ("float16", "float32", "float64")
_default_float = [float32]  # set_default_dtype's choice, for Python floats and new float Tensors


def set_default_dtype(d):
    """The float dtype of Tensors made from Python floats and of new float Tensors and parameters."""
    name = np.dtype(d).name if not isinstance(d, str) else d
    if name not in _DEFAULT_FLOATS:
        raise TypeError(f"set_default_dtype takes one of {list(_DEFAULT_FLOATS)}, got {d!r}")
    _default_float[0] = np.dtype(name)


def get_default_dtype():
    """The default float dtype's name (``'float32'`` unless ``set_default_dtype`` changed it)."""
    return _default_float[0].name


def default_float():
    return _default_float[0]


def as_dtype(dtype):
    """Turn a dtype given as a string, numpy type or dtype into a numpy dtype."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        if dtype not in _DTYPE_NAMES:
            raise TypeError(f"dtype must be one of {sorted(_DTYPE_NAMES)}, got {dtype!r}")
        return _DTYPE_NAMES[dtype]
    try:
        return np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype {dtype!r} is not understood") from err


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __array_priority__ = 100  # so that ndarray + Tensor calls Tensor.__radd__

    def __init__(self, value, stop_gradient=True, name=None, _parents=(), _backward_fn=None):
        self._value = value
        self.stop_gradient = stop_gradient
        self.name = name
        self._parents = _parents
        self._backward_fn = _backward_fn
        self._grad = None
        # Set by an optimizer that keeps all gradients in one flat buffer: the
        # first gradient is written into this view instead of a fresh array.
        self._grad_storage = None
        # True after clear_gradient(set_to_zero=True): the next gradient may overwrite instead of add.
        self._grad_is_zero = False
        self._graph_freed = False
        self.persistable = False

    # ------------------------------------------------------------------ basics
    @property
    def shape(self):
        return list(self._value.shape)

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def size(self):
        return int(self._value.size)

    def numel(self):
        return int(self._value.size)

    def dim(self):
        return self._value.ndim

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("len() of a 0-d Tensor")
        return self._value.shape[0]

    def numpy(self):
        """A copy of the values as a numpy array, as Paddle 3.3.1's ``Tensor.numpy()`` returns: writing to it
        leaves the tensor as it is, and a snapshot taken before a step keeps its values. (lasandbox code
        that must write through uses ``_value``.)"""
        return self._value.copy()

    def __array__(self, dtype=None, copy=None):
        # Paddle's np.asarray(tensor) and np.array(tensor) copy too; copy=False asks for the tensor's own memory.
        if copy is False:
            if dtype is not None and np.dtype(dtype) != self._value.dtype:
                raise ValueError(f"a {self._value.dtype} Tensor cannot be viewed as {np.dtype(dtype)} without a copy")
            return self._value
        return self._value.astype(self._value.dtype if dtype is None else dtype, copy=True)

    @property
    def place(self):
        """Where the data lives: always the CPU (``Place(cpu)``)."""
        from lasandbox.device import CPUPlace

        return CPUPlace()

    def item(self, *index):
        return self._value.item(*index)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __bool__(self):
        if self._value.size != 1:
            raise ValueError("the truth value of a Tensor with more than one element is ambiguous")
        return bool(self._value)

    def tolist(self):
        return self._value.tolist()

    def __repr__(self):
        body = np.array2string(self._value, separator=", ", prefix="       ")
        return (
            f"Tensor(shape={self.shape}, dtype={self.dtype}, stop_gradient={self.stop_gradient},\n"
            f"       {body})"
        )

    @property
    def is_leaf(self):
        return self._backward_fn is None

    # --------------------------------------------------------------- gradients
    @property
    def grad(self):
        """The accumulated gradient as a Tensor (shares memory), or None."""
        if self._grad is None:
            return None
        return Tensor(self._grad)

    def gradient(self):
        """The accumulated gradient as a numpy array (a copy), or None (Paddle's older spelling of ``grad``)."""
        return None if self._grad is None else np.array(self._grad, copy=True)

    def _accumulate_grad(self, grad):
        grad = np.asarray(grad, dtype=self._value.dtype)
        if grad.shape != self._value.shape:
            grad = np.broadcast_to(grad, self._value.shape)
        target = self._overwritable_grad()
        if target is not None:  # nothing to add to: write (saves reading a buffer of zeros)
            target[...] = grad
            self._grad, self._grad_is_zero = target, False
        elif self._grad is None:
            self._grad = np.array(grad, copy=True)
        else:
            self._grad += grad

    def _overwritable_grad(self):
        """The array the next gradient of this leaf may be written into outright (its flat-buffer view
        while it has no gradient, or its gradient while that is all zeros), or None (then it is added)."""
        if self._grad is None:
            return self._grad_storage
        return self._grad if self._grad_is_zero else None

    def clear_gradient(self, set_to_zero=True):
        """Zero the gradient (Paddle's default) or drop it (``set_to_zero=False``)."""
        if self._grad is None:
            return
        if set_to_zero:
            self._grad.fill(0)
            self._grad_is_zero = True
        else:
            self._grad = None
            self._grad_is_zero = False

    clear_grad = clear_gradient

    def backward(self, grad_tensor=None, retain_graph=False):
        """Accumulate gradients of this Tensor into every leaf that needs one."""
        engine.run_backward(self, grad_tensor, retain_graph)

    def _free_graph(self):
        self._parents = ()
        self._backward_fn = None
        self._graph_freed = True

    # ----------------------------------------------------------------- values
    def set_value(self, value):
        """Overwrite the values in place (same shape; the dtype is kept)."""
        array = np.asarray(getattr(value, "_value", value))
        if array.shape != self._value.shape:
            raise ValueError(
                f"value must have shape {self.shape} to be set into this Tensor, got {list(array.shape)}"
            )
        self._value[...] = array

    def detach(self):
        """A Tensor sharing the data but cut from the graph."""
        return Tensor(self._value, stop_gradient=True)

    def clone(self):
        from lasandbox.autograd import ops_math

        return ops_math.assign(self)

    def astype(self, dtype):
        from lasandbox.autograd import ops_math

        return ops_math.cast(self, dtype)

    cast = astype

    def cpu(self):
        return self

    def __hash__(self):
        # __eq__ (installed by methods.py) is elementwise; Tensors stay hashable by identity.
        return id(self)


def to_tensor(data, dtype=None, place=None, stop_gradient=True):
    """Create a Tensor from a scalar, list or array (``place`` is accepted and ignored: CPU only).

    Python floats become the default float dtype (float32 unless ``set_default_dtype``);
    numpy arrays keep their dtype; Python ints become int64.
    """
    dtype = as_dtype(dtype)
    if isinstance(data, Tensor):
        value = data._value
    else:
        value = data
    if not isinstance(value, np.ndarray):
        value = np.asarray(value)
        if value.dtype == np.float64 and not isinstance(data, np.generic):
            value = value.astype(default_float())
        elif value.dtype.kind in "iu":
            value = value.astype(np.int64)
    if dtype is not None:
        value = value.astype(dtype)
    else:
        value = np.array(value, copy=True)
    if value.dtype == object:
        raise TypeError(f"data cannot be turned into a numeric Tensor: {type(data).__name__}")
    return Tensor(value, stop_gradient=bool(stop_gradient))


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def as_value(obj, like=None):
    """The numpy value of a Tensor, or an array made from a number (in ``like``'s dtype)."""
    if isinstance(obj, Tensor):
        return obj._value
    if isinstance(obj, numbers.Number) and like is not None and like.dtype.kind == "f":
        return np.asarray(obj, dtype=like.dtype)
    return np.asarray(obj)
