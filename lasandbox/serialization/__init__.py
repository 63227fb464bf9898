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
import threading
import warnings

from lasandbox.autograd.tensor import Tensor
from lasandbox.serialization import dense_tensor
from lasandbox.serialization.checksum import checked_length, trailer_for
from lasandbox.serialization.paddle_layout import restore, to_saved
from lasandbox.serialization.restricted import CorruptCheckpointError, UnsafeCheckpointError, load_restricted
from lasandbox.utils.atomic import write_atomically
from lasandbox.utils.validation import TypeValueError

PROTOCOLS = (2, 3, 4)  # paddle.save's range ("greater than 1 and less than 5")


class MissingCheckpointError(FileNotFoundError, ValueError):
    """``load`` of a path that holds no file (a ``FileNotFoundError``, and the ``ValueError`` Paddle raises)."""


def _check_protocol(protocol):
    if isinstance(protocol, bool) or not isinstance(protocol, int):
        raise TypeValueError(f"protocol must be an int in {list(PROTOCOLS)}, "
                             f"got {type(protocol).__name__} {protocol!r}")
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
    which it overrides), ``use_binary_format=True`` (a Tensor only, in Paddle's binary tensor file,
    byte for byte what Paddle writes; anything else raises ``NotImplementedError`` as in Paddle) and
    ``safetensors=True`` (not implemented: ``NotImplementedError``).
    Anything that ``load`` would refuse (a Layer, a function, an object array)
    raises ``TypeError`` naming where it is, before anything is written; it, a
    ``path`` of the wrong type and a ``protocol`` that is not an int are also
    ``ValueError``\\ s, as Paddle raises.
    """
    _prepared_save(obj, path, protocol, configs)()


def _prepared_save(obj, path, protocol, configs):
    """Check everything and build the pickled data now; return the function that writes it."""
    _check_configs(configs, ("pickle_protocol", "use_binary_format", "safetensors"), "save")
    if not isinstance(configs.get("use_binary_format", False), bool):
        raise TypeError(f"use_binary_format must be a bool, got {configs['use_binary_format']!r}")
    if configs.get("safetensors"):
        _not_implemented("save", "safetensors", "the safetensors format")
    if configs.get("pickle_protocol") is not None:
        warnings.warn("'pickle_protocol' is deprecated (as in Paddle): use 'protocol'", DeprecationWarning,
                      stacklevel=2)
        protocol = configs["pickle_protocol"]
    protocol = _check_protocol(protocol)
    binary = configs.get("use_binary_format", False)
    if binary and not isinstance(obj, Tensor):
        raise NotImplementedError(f"When use_binary_format = True, `paddle.save`  expected Tensor, but received "
                                  f"{type(obj)}.")  # Paddle's words, double space included
    def pickled():
        try:
            return pickle.dumps(to_saved(obj, protocol), protocol=protocol)
        except RecursionError:  # a container holding itself (or nested thousands deep)
            raise ValueError("obj holds itself (a reference cycle, or containers nested too deep to save)") from None

    encoded = (lambda: dense_tensor.encode(obj.numpy())) if binary else pickled
    if _is_file_object(path, "write"):
        if isinstance(path, io.TextIOBase):
            raise TypeError("path is a text-mode file: open it in binary mode ('wb')")
        data = encoded()
        return lambda: path.write(data)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeValueError(f"path must be a file path or a binary file object, got {type(path).__name__} {path!r}")
    path = os.fspath(path)
    if not path or path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise ValueError(f"path must name a file, got {path!r}")
    # Pickled now, whole, before the file is opened: validated, and a snapshot of the values (async_save's
    # caller may go on training while the file is written).
    data = encoded()
    if not binary:  # Paddle's binary tensor reader takes no trailing bytes; its length is fixed anyway
        data += trailer_for(data)
    return lambda: write_atomically(path, lambda handle: handle.write(data))


_ASYNC_SAVES: list[threading.Thread] = []
_ASYNC_ERRORS: list[BaseException] = []


def async_save(obj, path, protocol=4, sync_other_task=False, **configs):
    """``save`` with the file written by a background thread, as ``paddle.async_save``.

    ``obj`` must be a dict (a ``state_dict()``) or a Tensor (Paddle's restriction; ``TypeError``
    otherwise). Its values are pickled before this returns, so training on is safe; only the write
    to disk runs behind. ``sync_other_task=True`` first waits for earlier writes. ``configs`` are
    ``save``'s. :func:`clear_async_save_task_queue` waits for all writes (and re-raises the first
    error one of them met).
    """
    if not isinstance(sync_other_task, bool):
        raise TypeError(f"sync_other_task must be a bool, got {sync_other_task!r}")
    if not isinstance(obj, (dict, Tensor)):
        raise TypeError(f"async_save saves a dict (a state_dict) or a Tensor, as in Paddle; got {type(obj).__name__}")
    _check_configs(configs, ("pickle_protocol", "use_binary_format", "safetensors"), "async_save")
    write = _prepared_save(obj, path, protocol, configs)
    if sync_other_task:
        clear_async_save_task_queue()

    def run():
        try:
            write()
        except BaseException as err:  # kept for clear_async_save_task_queue: a thread cannot raise to its caller
            _ASYNC_ERRORS.append(err)

    thread = threading.Thread(target=run, name=f"lasandbox-async-save:{_label(path)}", daemon=False)
    thread.start()
    _ASYNC_SAVES.append(thread)


def clear_async_save_task_queue():
    """Wait until every ``async_save`` has written its file; re-raise the first error met, if any."""
    while _ASYNC_SAVES:
        _ASYNC_SAVES.pop(0).join()
    if _ASYNC_ERRORS:
        first = _ASYNC_ERRORS[0]
        _ASYNC_ERRORS.clear()
        raise first


def load(path, *, trusted=False, **configs):
    """Read a file written by ``save`` or by ``paddle.save``; Tensors come back as Tensors.

    Pickled files and Paddle's binary tensor files (``use_binary_format=True``) are both read.
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
        if _starts_binary_tensor(path):
            return _restore(dense_tensor.decode(path, _label(path)), _label(path), flags)
        return _restore(_unpickle(path, _label(path), trusted), _label(path), flags)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path or a binary file object, got {type(path).__name__} {path!r}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        folder = " (it is a folder)" if os.path.isdir(path) else ""
        raise MissingCheckpointError(f"no saved object at {path!r}{folder}")
    with open(path, "rb") as handle:
        if _starts_binary_tensor(handle):  # paddle.save(tensor, path, use_binary_format=True)
            loaded = dense_tensor.decode(handle, repr(path))
            if handle.read(1):
                raise CorruptCheckpointError(f"{path!r} is damaged: unexpected bytes after its tensor")
            return _restore(loaded, repr(path), flags)
        length = checked_length(handle, repr(path))  # a lasandbox file's checksum, before anything is read
        loaded = _unpickle(handle, repr(path), trusted)
        end = os.fstat(handle.fileno()).st_size if length is None else length
        if handle.tell() != end:
            raise CorruptCheckpointError(f"{path!r} is damaged: {end - handle.tell()} unexpected bytes after "
                                         "the end of the checkpoint")
    return _restore(loaded, repr(path), flags)


def _starts_binary_tensor(handle) -> bool:
    """Does the stream at its position hold Paddle's binary tensor (its first 4 bytes are 0, which no
    pickle's are)? The position is left where it was."""
    if hasattr(handle, "peek"):
        return handle.peek(4)[:4] == dense_tensor.MAGIC
    start = handle.tell()
    head = handle.read(4)
    handle.seek(start)
    return head == dense_tensor.MAGIC


def _restore(loaded, label, flags):
    try:
        return restore(loaded, **flags)
    except ValueError as err:  # e.g. a big-array table that names entries the file lacks
        raise CorruptCheckpointError(f"{label} is damaged: {err}") from None
    except RecursionError:  # load(trusted=True) of containers nested thousands deep (the allow-list refuses them)
        raise CorruptCheckpointError(f"{label} holds containers nested too deep to read") from None


def _unpickle(handle, label, trusted):
    # latin1: how paddle.load reads Python 2 strings (and numpy arrays pickled by Python 2).
    read = (lambda: pickle.Unpickler(handle, encoding="latin1").load()) if trusted else \
        (lambda: load_restricted(handle, encoding="latin1"))
    try:
        return read()
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


__all__ = ["save", "load", "async_save", "clear_async_save_task_queue", "UnsafeCheckpointError",
           "CorruptCheckpointError", "MissingCheckpointError", "PROTOCOLS"]
