"""Flat weight vectors and the model parameters they stand for.

Every landscape computation works on flat vectors laid out like an
optimizer's parameter buffer: the parameters of ``model.parameters()``, in
that order, each raveled (row-major) one after the other. ``ParameterLayout``
knows where each parameter sits; ``loaded_weights`` puts a flat vector into a
model for the length of a ``with`` block without touching the optimizer's
buffers (it swaps the arrays the parameters point to, and swaps them back).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from lasandbox.autograd.tensor import Tensor
from lasandbox.utils.validation import check_finite


@dataclass(frozen=True)
class ParameterSlot:
    """Where one parameter lives in a flat vector."""

    name: str
    shape: tuple
    start: int
    stop: int

    @property
    def size(self):
        return self.stop - self.start


class ParameterLayout:
    """The flat layout of a list of parameters (``model.parameters()`` order by default)."""

    def __init__(self, parameters, names=None):
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError("parameters is empty: there is no weight space to explore")
        for p in self.parameters:
            if not isinstance(p, Tensor):
                raise TypeError(f"parameters must be Tensors, got {type(p).__name__}")
        names = list(names) if names is not None else [p.name or f"param_{i}" for i, p in enumerate(self.parameters)]
        slots, offset = [], 0
        for name, p in zip(names, self.parameters, strict=True):
            shape = tuple(p._value.shape)
            size = int(np.prod(shape, dtype=np.int64))
            slots.append(ParameterSlot(name, shape, offset, offset + size))
            offset += size
        self.slots = tuple(slots)
        self.size = offset
        self._index_of = {id(p): i for i, p in enumerate(self.parameters)}

    @classmethod
    def from_model(cls, model):
        """Layout of ``model.parameters()``, named by their structured names (``0.weight`` ...)."""
        if not hasattr(model, "named_parameters"):
            raise TypeError(f"model must be a lasandbox nn.Layer, got {type(model).__name__}")
        named = list(model.named_parameters())
        return cls([p for _, p in named], [n for n, _ in named])

    @property
    def shapes(self):
        return [slot.shape for slot in self.slots]

    def slot_of(self, parameter):
        """The slot of a parameter Tensor (by identity), or ``None`` if it is not in this layout."""
        index = self._index_of.get(id(parameter))
        return None if index is None else self.slots[index]

    def check_vector(self, name, vector, dtype=np.float64):
        """``vector`` as a 1-D array of this layout's size (a clear error otherwise)."""
        array = np.asarray(getattr(vector, "_value", vector))
        if array.dtype.kind not in "fiu":
            raise TypeError(f"{name} must be a real array, got dtype {array.dtype}")
        if array.ndim != 1 or array.shape[0] != self.size:
            raise ValueError(f"{name} must be a flat weight vector of {self.size} values "
                             f"(the model's parameters, in model.parameters() order), got shape {list(array.shape)}")
        return check_finite(name, array).astype(dtype, copy=False)

    def check_matrix(self, name, matrix, dtype=np.float64):
        """``matrix`` as ``[n, size]`` (one flat weight vector per row)."""
        array = np.asarray(matrix)
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] != self.size:
            raise ValueError(f"{name} must hold flat weight vectors of {self.size} values per row, "
                             f"got shape {list(np.shape(matrix))}")
        return check_finite(name, array).astype(dtype, copy=False)

    def split(self, vector):
        """Views of ``vector`` shaped like each parameter (same order as ``slots``)."""
        return [vector[s.start:s.stop].reshape(s.shape) for s in self.slots]

    def flatten(self):
        """The parameters' current values as one float32 vector (a copy)."""
        return np.concatenate([np.asarray(p._value, dtype=np.float32).ravel() for p in self.parameters])


@contextlib.contextmanager
def loaded_weights(layout, vector, dtype=np.float32):
    """Point the layout's parameters at ``vector`` (cast to ``dtype``) inside the block.

    The parameters' own arrays (views into an optimizer's flat buffer) are put
    back afterwards untouched, and their gradients are detached for the block,
    so a gradient computed inside does not land in the optimizer's gradient
    buffer. ``dtype=np.float64`` runs the autograd in double precision (used
    for finite-difference Hessian-vector products).
    """
    values = layout.split(np.asarray(vector, dtype=dtype))
    saved = [(p._value, p._grad, p._grad_storage) for p in layout.parameters]
    try:
        for p, value in zip(layout.parameters, values, strict=True):
            p._value = value
            p._grad = None
            p._grad_storage = None
        yield layout
    finally:
        for p, (value, grad, storage) in zip(layout.parameters, saved, strict=True):
            p._value, p._grad, p._grad_storage = value, grad, storage


def check_labelled_data(x, y):
    """``x`` as a 2-D float array and ``y`` as int64 labels of the same length."""
    x = np.asarray(getattr(x, "_value", x))
    y = np.asarray(getattr(y, "_value", y))
    if x.ndim < 2:
        raise ValueError(f"x must have a batch dimension and features, got shape {list(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"x must be a float array, got dtype {x.dtype}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y must hold one label per row of x ({x.shape[0]}), got shape {list(y.shape)}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    if x.shape[0] == 0:
        raise ValueError("x and y are empty")
    return x, y.astype(np.int64, copy=False)


class LabelRangeError(ValueError):
    """Labels outside the model's classes (a ValueError of its own: the conv-net probe, which takes other
    ValueErrors as "this model cannot be folded", must let it through)."""


def check_labels_fit(y, classes):
    """``LabelRangeError`` unless every label is a class of a model with ``classes`` outputs (``[0, classes)``):
    the batched paths index the logits with them (in a numba kernel, where nothing checks the bounds)."""
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= classes:
        raise LabelRangeError(f"y must hold labels in [0, {classes - 1}] (the model has {classes} outputs), "
                         f"got labels {low}..{high}")
