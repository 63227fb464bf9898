"""What goes into a checkpoint file, in PaddlePaddle's own layout, and back.

Paddle (``paddle/framework/io.py``, 3.3.1) writes two layouts, and so does ``save``:

* a **state dict** (a dict whose values are all Tensors, or dicts holding no
  Tensor: ``Layer.state_dict()``, an optimizer's with its ``LR_Scheduler``) is
  stored as ``{key: ndarray, ..., "StructuredToParameterName@@": {key: tensor name}}``;
  with protocol 2 or 3 an array over 1 GiB is split into ``key@@.0``, ``key@@.1`` ...
  listed under ``"UnpackBigParamInfor@@"`` (those protocols cannot pickle 4 GiB);
* anything else (``{"model": ..., "opt": ..., "epoch": 3}``, a list of Tensors) is
  pickled as it is, each Tensor as the tuple ``(name, ndarray)``.

Reading follows ``paddle.load``: a state dict's named arrays become Tensors (the
name table is dropped unless ``keep_name_table``); in anything else, every
``(str, ndarray)`` tuple becomes a Tensor when there is one, otherwise every
ndarray does (Paddle 2.0's files). ``return_numpy=True`` gives arrays instead.
Files written by earlier lasandbox versions (each Tensor as
``{"__lasandbox_tensor__": array}``) read back too.
"""

from __future__ import annotations

import collections
import math

import numpy as np

from lasandbox.autograd.tensor import Tensor
from lasandbox.serialization.restricted import MAX_NESTING
from lasandbox.utils.validation import TypeValueError

NAME_TABLE = "StructuredToParameterName@@"
BIG_PARAMS = "UnpackBigParamInfor@@"  # sic: Paddle's key
LEGACY_TAG = "__lasandbox_tensor__"
# Protocols 2 and 3 store a bytes object's length in 4 bytes: Paddle splits arrays above 1 GiB.
MAX_SLICE_BYTES = 2**30 - 1

# Exact types: a subclass (an IntEnum, a Fraction ...) would be pickled by class name, which load refuses.
_SCALARS = frozenset((type(None), bool, int, float, complex, str, bytes, bytearray))


def _tensor_name(tensor, counter):
    if isinstance(tensor.name, str) and tensor.name:
        return tensor.name
    counter[0] += 1
    return f"generated_tensor_{counter[0] - 1}"  # Paddle's name for an unnamed Tensor


def _plain_array(value, where):
    array = np.asarray(value)  # an ndarray subclass (np.memmap ...) is stored as a plain array
    if array.dtype.hasobject or array.dtype.kind == "V":
        raise TypeValueError(f"cannot save {where}: arrays of dtype {array.dtype} (objects or structured) are not "
                        "checkpoint data")
    return array


def _convert(obj, where, counter, active, depth):
    """``obj`` (a container ``depth`` containers deep) with each Tensor as ``(name, ndarray)``; raises
    TypeError (also a ValueError, as Paddle raises) for anything load would refuse."""
    if depth >= MAX_NESTING and isinstance(obj, (Tensor, dict, list, tuple, set, frozenset)):
        raise ValueError(f"cannot save {where}: containers nested more than {MAX_NESTING} deep, which load "
                         "refuses" + (" (a Tensor is saved as a (name, array) tuple)" if isinstance(obj, Tensor)
                                      else ""))
    if isinstance(obj, Tensor):
        return (_tensor_name(obj, counter), _plain_array(obj._value, where))
    if isinstance(obj, np.ndarray):
        return _plain_array(obj, where)
    if isinstance(obj, (np.generic, np.dtype)):
        dtype = obj if isinstance(obj, np.dtype) else obj.dtype
        if dtype.hasobject or dtype.kind == "V":
            raise TypeValueError(f"cannot save {where}: numpy {dtype} values are not checkpoint data")
        return obj
    if type(obj) in _SCALARS:
        return obj
    if not isinstance(obj, (dict, list, tuple, set, frozenset)):
        hint = ": save its state_dict()" if hasattr(obj, "state_dict") else ""
        raise TypeValueError(f"cannot save {where} of type {type(obj).__name__}{hint}; checkpoints hold Tensors, "
                        "numpy arrays, numbers, strings and dict/list/tuple/set containers of them")
    if id(obj) in active:
        raise ValueError(f"cannot save {where}: it contains itself")
    active.add(id(obj))
    try:
        if isinstance(obj, dict):
            # OrderedDict stays one (Paddle's nested files use it); other dict subclasses become dicts.
            kind = collections.OrderedDict if isinstance(obj, collections.OrderedDict) else dict
            return kind((_convert(k, f"a key of {where}", counter, active, depth + 1),
                         _convert(v, f"{where}[{k!r}]", counter, active, depth + 1))
                        for k, v in obj.items())
        items = [_convert(v, f"{where}[{i}]", counter, active, depth + 1) for i, v in enumerate(obj)]
        if isinstance(obj, list):
            return items
        if isinstance(obj, (set, frozenset)):
            return frozenset(items) if isinstance(obj, frozenset) else set(items)
        return tuple(items)  # a namedtuple (or other tuple subclass) is stored as a plain tuple
    finally:
        active.discard(id(obj))


def _contains_tensor(obj):
    if isinstance(obj, Tensor):
        return True
    if isinstance(obj, dict):
        return any(_contains_tensor(v) for v in obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return any(_contains_tensor(v) for v in obj)
    return False


def is_state_dict(obj) -> bool:
    """Paddle's test (``_is_state_dict``): every value a Tensor, or a dict with no Tensor inside."""
    if not isinstance(obj, dict):
        return False
    for value in obj.values():
        if isinstance(value, dict):
            if any(_contains_tensor(v) for v in value.values()):
                return False
        elif not isinstance(value, Tensor):
            return False
    return True


def _split_big_arrays(saved):
    info = {}
    for key in [k for k, v in saved.items() if isinstance(v, np.ndarray)]:
        value = saved[key]
        per_slice = int(MAX_SLICE_BYTES / value.dtype.itemsize)
        if value.size <= per_slice:
            continue
        flat = value.reshape(-1)
        names = [f"{key}@@.{i}" for i in range(math.ceil(value.size / per_slice))]
        del saved[key]
        for i, name in enumerate(names):
            saved[name] = flat[i * per_slice:(i + 1) * per_slice]
        info[key] = {"OriginShape": value.shape, "slices": names}
    if info:
        saved[BIG_PARAMS] = info
    return saved


def to_saved(obj, protocol):
    """What ``save`` pickles for ``obj`` (validated whole before anything is written)."""
    counter = [0]
    if not is_state_dict(obj):
        return _convert(obj, "obj", counter, set(), 0)
    saved, names = {}, {}
    for key, value in obj.items():
        where = f"obj[{key!r}]"
        _convert(key, f"a key of {where}", counter, set(), 1)
        if isinstance(value, Tensor):
            saved[key] = _plain_array(value._value, where)
            names[key] = _tensor_name(value, counter)
        else:
            saved[key] = _convert(value, where, counter, set(), 1)
    saved[NAME_TABLE] = names
    return _split_big_arrays(saved) if protocol < 4 else saved


# ---------------------------------------------------------------------------------------------- reading

def _as_tensor(array, name, return_numpy):
    if return_numpy:
        return array
    return Tensor(array if array.flags.writeable else array.copy(), name=name)


def _join_big_arrays(loaded):
    info = loaded.pop(BIG_PARAMS, None)
    if not isinstance(info, dict):
        return loaded
    try:
        for key, entry in info.items():
            parts = [loaded.pop(part) for part in entry["slices"]]
            loaded[key] = np.concatenate(parts).reshape(entry["OriginShape"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"its {BIG_PARAMS!r} table does not match its entries ({type(err).__name__}: {err})") \
            from None
    return loaded


def _is_named_array(obj):
    return type(obj) is tuple and len(obj) == 2 and isinstance(obj[0], str) and isinstance(obj[1], np.ndarray)


def _is_legacy_tensor(obj):
    return type(obj) is dict and len(obj) == 1 and isinstance(obj.get(LEGACY_TAG), np.ndarray)


def _any(obj, test, seen=None):
    # Each container is looked at once: a file may share one container many times over (a list holding
    # the same list twice, 60 levels deep, is 2**60 paths through a few hundred bytes).
    seen = set() if seen is None else seen
    if test(obj):
        return True
    if type(obj) not in (dict, collections.OrderedDict, list, tuple) or id(obj) in seen:
        return False
    seen.add(id(obj))
    return any(_any(v, test, seen) for v in (obj.values() if isinstance(obj, dict) else obj))


def _map(obj, test, convert, done=None, active=None):
    """``obj`` with each part that passes ``test`` converted; a part shared in ``obj`` stays shared."""
    done, active = ({}, set()) if done is None else (done, active)
    if test(obj):
        if id(obj) not in done:
            done[id(obj)] = convert(obj)
        return done[id(obj)]
    if type(obj) not in (dict, collections.OrderedDict, list, tuple, set, frozenset):
        return obj
    if id(obj) in done:
        return done[id(obj)]
    if id(obj) in active:
        raise ValueError("it holds a reference cycle (a container that holds itself)")
    active.add(id(obj))
    if isinstance(obj, dict):
        result = type(obj)((k, _map(v, test, convert, done, active)) for k, v in obj.items())
    else:
        result = type(obj)(_map(v, test, convert, done, active) for v in obj)
    active.discard(id(obj))
    done[id(obj)] = result
    return result


def restore(loaded, return_numpy=False, keep_name_table=False):
    """Turn what was unpickled into what ``load`` returns (see the module docstring)."""
    if isinstance(loaded, dict):
        loaded = _join_big_arrays(loaded)
        if isinstance(loaded.get(NAME_TABLE), dict):
            for key, name in loaded[NAME_TABLE].items():
                if isinstance(loaded.get(key), np.ndarray):
                    loaded[key] = _as_tensor(loaded[key], name, return_numpy)
            if not keep_name_table:
                del loaded[NAME_TABLE]
            return loaded
    if _any(loaded, _is_named_array):
        return _map(loaded, _is_named_array, lambda pair: _as_tensor(pair[1], pair[0], return_numpy))
    if _any(loaded, _is_legacy_tensor):
        return _map(loaded, _is_legacy_tensor, lambda tagged: _as_tensor(tagged[LEGACY_TAG], None, return_numpy))
    return _map(loaded, lambda v: isinstance(v, np.ndarray), lambda array: _as_tensor(array, None, return_numpy))
