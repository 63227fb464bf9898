"""``save`` / ``load``: pickle nested state (dicts, lists, Tensors, arrays) to a file.

Tensors are stored as plain numpy arrays with a tag, so a file written here
reads back with Tensors where Tensors were saved. Like any pickle, only load
files you trust.
"""

from __future__ import annotations

import os
import pickle

import numpy as np

from lasandbox.autograd.tensor import Tensor

_TAG = "__lasandbox_tensor__"


def _pack(obj):
    if isinstance(obj, Tensor):
        return {_TAG: np.array(obj._value, copy=True)}
    if isinstance(obj, dict):
        return type(obj)((k, _pack(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_pack(v) for v in obj)
    return obj


def _unpack(obj, return_numpy):
    if isinstance(obj, dict):
        if set(obj) == {_TAG}:
            return obj[_TAG] if return_numpy else Tensor(obj[_TAG])
        return type(obj)((k, _unpack(v, return_numpy)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unpack(v, return_numpy) for v in obj)
    return obj


def save(obj, path, protocol=4, **configs):
    """Write ``obj`` (e.g. a ``state_dict()``) to ``path``; parent folders are created."""
    path = os.fspath(path)
    if not path or path.endswith(os.sep):
        raise ValueError(f"path must name a file, got {path!r}")
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(_pack(obj), f, protocol=protocol)
    os.replace(tmp, path)  # never leave a half-written file behind


def load(path, return_numpy=False, **configs):
    """Read what ``save`` wrote; Tensors come back as Tensors (or arrays with ``return_numpy``)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no saved object at {path!r}")
    with open(path, "rb") as f:
        return _unpack(pickle.load(f), return_numpy)
