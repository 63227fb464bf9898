"""``save`` / ``load``: checkpoints in PaddlePaddle's file format, read safely.

``save(obj, path)`` writes what ``paddle.save`` writes (a pickle in Paddle's
layout, see :mod:`lasandbox.serialization.paddle_layout`), so real Paddle reads
lasandbox's checkpoints and lasandbox reads Paddle's. A save to a path is
atomic: a process killed mid-write leaves the previous file as it was.

``load(path)`` reads only data: containers, numbers, strings and numpy arrays
(:mod:`lasandbox.serialization.restricted`). A file that asks for anything else
(a pickle that would run code, an object of some class) is refused with
:class:`UnsafeCheckpointError` before that object is built; a truncated or
damaged file raises :class:`CorruptCheckpointError` (files that ``save`` wrote
carry a SHA-256, :mod:`lasandbox.serialization.checksum`, so any changed byte
is caught before the file is unpickled); both are ``ValueError``\\ s
that name the file. ``load(path, trusted=True)`` reads any pickle, for files
you trust.
"""

from __future__ import annotations

import io
import os
import pickle
import warnings

from lasandbox.serialization.checksum import HashingWriter, checked_length
from lasandbox.serialization.paddle_layout import restore, to_saved
from lasandbox.serialization.restricted import CorruptCheckpointError, RestrictedUnpickler, UnsafeCheckpointError
from lasandbox.utils.atomic import write_atomically

PROTOCOLS = (2, 3, 4)  # paddle.save's range ("greater than 1 and less than 5")


def _check_protocol(protocol):
    if isinstance(protocol, bool) or not isinstance(protocol, int):
        raise TypeError(f"protocol must be an int in {list(PROTOCOLS)}, got {type(protocol).__name__} {protocol!r}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {list(PROTOCOLS)} (as in paddle.save), got {protocol}")
    return protocol


def _check_configs(configs, known, function):
    unknown = sorted(set(configs) - set(known))
    if unknown:
        raise ValueError(f"{function}() got unsupported config {unknown[0]!r}; it accepts {sorted(known)}")


def _not_implemented(function, name, what):
    raise NotImplementedError(f"{function}({name}=...) is not implemented in lasandbox: {what}")


def _is_file_object(target, method):
    return hasattr(target, method) and not isinstance(target, (str, bytes, os.PathLike))


def _label(target):
    name = getattr(target, "name", None)
    return repr(os.fspath(name)) if isinstance(name, (str, os.PathLike)) else f"<{type(target).__name__}>"


def save(obj, path, protocol=4, **configs):
    """Write ``obj`` (a ``state_dict()``, or nested dicts/lists of Tensors, arrays, numbers, strings).

    ``path``: a file path (parent folders are created; the write is atomic and ends
    with a SHA-256 trailer that Paddle's reader ignores) or a binary file object
    (``io.BytesIO``, ``open(..., "wb")``), written at its position, without trailer.
    ``protocol``: the pickle protocol, 2, 3 or 4 as in Paddle. ``configs`` are
    ``paddle.save``'s: ``pickle_protocol`` (deprecated spelling of ``protocol``,
    which it overrides), ``use_binary_format=True`` and ``safetensors=True``
    (not implemented: they raise ``NotImplementedError``).
    Anything that ``load`` would refuse (a Layer, a function, an object array)
    raises ``TypeError`` naming where it is, before anything is written.
    """
    _check_configs(configs, ("pickle_protocol", "use_binary_format", "safetensors"), "save")
    if not isinstance(configs.get("use_binary_format", False), bool):
        raise TypeError(f"use_binary_format must be a bool, got {configs['use_binary_format']!r}")
    if configs.get("use_binary_format"):
        _not_implemented("save", "use_binary_format", "Paddle's C++ binary format for static-graph variables")
    if configs.get("safetensors"):
        _not_implemented("save", "safetensors", "the safetensors format")
    if configs.get("pickle_protocol") is not None:
        warnings.warn("'pickle_protocol' is deprecated (as in Paddle): use 'protocol'", DeprecationWarning,
                      stacklevel=2)
        protocol = configs["pickle_protocol"]
    protocol = _check_protocol(protocol)
    if _is_file_object(path, "write"):
        if isinstance(path, io.TextIOBase):
            raise TypeError("path is a text-mode file: open it in binary mode ('wb')")
        pickle.dump(to_saved(obj, protocol), path, protocol=protocol)
        return
    path = os.fspath(path)
    if not path or path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise ValueError(f"path must name a file, got {path!r}")
    saved = to_saved(obj, protocol)  # validated whole before the file is opened

    def write(handle):
        hashing = HashingWriter(handle)
        pickle.dump(saved, hashing, protocol=protocol)
        handle.write(hashing.trailer())

    write_atomically(path, write)


def load(path, *, trusted=False, **configs):
    """Read a file written by ``save`` or by ``paddle.save``; Tensors come back as Tensors.

    ``path``: a file path or a binary file object (read from its position).
    ``configs`` are ``paddle.load``'s: ``return_numpy=True`` gives numpy arrays
    instead of Tensors, ``keep_name_table=True`` keeps a state dict's
    ``"StructuredToParameterName@@"`` entry; ``model_filename``,
    ``params_filename`` (Paddle's inference-model files) and ``safetensors``
    raise ``NotImplementedError``. ``trusted=True`` unpickles without the
    allow-list: only for files you trust, since a pickle can run any code.
    """
    _check_configs(configs, ("return_numpy", "keep_name_table", "model_filename", "params_filename",
                             "safetensors"), "load")
    for name in ("model_filename", "params_filename"):
        if configs.get(name) is not None:
            _not_implemented("load", name, "Paddle's inference-model files (paddle.jit.save, save_inference_model)")
    if configs.get("safetensors"):
        _not_implemented("load", "safetensors", "the safetensors format")
    flags = {}
    for name in ("return_numpy", "keep_name_table"):
        flags[name] = configs.get(name, False)
        if not isinstance(flags[name], bool):
            raise TypeError(f"{name} must be a bool, got {flags[name]!r}")
    if not isinstance(trusted, bool):
        raise TypeError(f"trusted must be a bool, got {trusted!r}")
    if _is_file_object(path, "read"):
        if isinstance(path, io.TextIOBase):
            raise TypeError("path is a text-mode file: open it in binary mode ('rb')")
        return _restore(_unpickle(path, _label(path), trusted), _label(path), flags)
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no saved object at {path!r}" + (" (it is a folder)" if os.path.isdir(path) else ""))
    with open(path, "rb") as handle:
        length = checked_length(handle, repr(path))  # a lasandbox file's checksum, before anything is read
        loaded = _unpickle(handle, repr(path), trusted)
        end = os.fstat(handle.fileno()).st_size if length is None else length
        if handle.tell() != end:
            raise CorruptCheckpointError(f"{path!r} is damaged: {end - handle.tell()} unexpected bytes after "
                                         "the end of the checkpoint")
    return _restore(loaded, repr(path), flags)


def _restore(loaded, label, flags):
    try:
        return restore(loaded, **flags)
    except ValueError as err:  # e.g. a big-array table that names entries the file lacks
        raise CorruptCheckpointError(f"{label} is damaged: {err}") from None


def _unpickle(handle, label, trusted):
    reader = pickle.Unpickler if trusted else RestrictedUnpickler
    try:
        # latin1: how paddle.load reads Python 2 strings (and numpy arrays pickled by Python 2).
        return reader(handle, encoding="latin1").load()
    except UnsafeCheckpointError as err:
        raise UnsafeCheckpointError(f"{label}: {err}") from None
    except Exception as err:
        # With the allow-list nothing but the pickle machinery and numpy runs here, so any error means
        # a damaged stream (EOFError when truncated, UnpicklingError, ValueError, MemoryError for an
        # absurd length field ...).
        if trusted and not isinstance(err, (pickle.UnpicklingError, EOFError)):
            raise
        raise CorruptCheckpointError(f"{label} is not a readable checkpoint (truncated or damaged?): "
                                     f"{type(err).__name__}: {err}") from err


__all__ = ["save", "load", "UnsafeCheckpointError", "CorruptCheckpointError", "PROTOCOLS"]
