"""Paddle's binary tensor file: what ``paddle.save(tensor, path, use_binary_format=True)`` writes.

The layout (read from files written by PaddlePaddle 3.3.1, ``tests/fixtures/paddle_binary``),
all little-endian:

* ``uint32`` version (0), ``uint64`` LoD level (0 for a plain Tensor; each level would follow as
  a ``uint64`` byte count and its offsets);
* ``uint32`` tensor version (0), ``int32`` length of the description, then the description: a
  protobuf ``TensorDesc`` (field 1, the data type as Paddle's ``VarType`` number; field 2, each
  dimension, repeated, as varints);
* the values, C order, ``prod(dims) * itemsize`` bytes.

It holds no code, so reading it needs no allow-list; it has no checksum either (Paddle's file
has none), but its length is fixed by the description, so a truncated file or trailing bytes are
caught. ``encode`` writes exactly Paddle's bytes (Paddle reads them back, see
``tools/paddle_reads_lasandbox_checkpoints.py``).
"""

from __future__ import annotations

import math
import struct

import numpy as np

from lasandbox.serialization.restricted import CorruptCheckpointError

# Paddle's VarType numbers (framework.proto) for the dtypes numpy has; 22 is bfloat16, which it lacks.
VAR_TYPES = {
    np.dtype(np.bool_): 0, np.dtype(np.int16): 1, np.dtype(np.int32): 2, np.dtype(np.int64): 3,
    np.dtype(np.float16): 4, np.dtype(np.float32): 5, np.dtype(np.float64): 6, np.dtype(np.uint8): 20,
    np.dtype(np.int8): 21, np.dtype(np.complex64): 23, np.dtype(np.complex128): 24,
}
DTYPES = {code: dtype for dtype, code in VAR_TYPES.items()}
BFLOAT16 = 22
_HEADER = struct.Struct("<IQ")  # version, LoD level
_TENSOR_HEADER = struct.Struct("<Ii")  # tensor version, description length
MAGIC = b"\x00\x00\x00\x00"  # the version: no pickle starts with a zero byte


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # protobuf int64: negative values as their 64-bit two's complement
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def encode(array: np.ndarray) -> bytes:
    """Paddle's binary file for ``array`` (``TypeError`` for a dtype Paddle's format has no number for)."""
    array = np.asarray(array)
    code = VAR_TYPES.get(array.dtype.newbyteorder("=") if array.dtype.byteorder == ">" else array.dtype)
    if code is None:
        raise TypeError(f"use_binary_format=True cannot store a {array.dtype} Tensor (Paddle's format has "
                        f"{', '.join(sorted(str(d) for d in VAR_TYPES))})")
    desc = b"\x08" + _varint(code) + b"".join(b"\x10" + _varint(int(d)) for d in array.shape)
    values = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return _HEADER.pack(0, 0) + _TENSOR_HEADER.pack(0, len(desc)) + desc + values


def _read_varint(desc: bytes, at: int, label: str):
    value, shift = 0, 0
    while True:
        if at >= len(desc) or shift > 63:
            raise CorruptCheckpointError(f"{label} is damaged: a bad number in its tensor description")
        byte = desc[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return (value - (1 << 64) if value >= 1 << 63 else value), at


def _parse_desc(desc: bytes, label: str):
    code, dims, at = None, [], 0
    while at < len(desc):
        key, at = _read_varint(desc, at, label)
        if key == 0x08:
            code, at = _read_varint(desc, at, label)
        elif key == 0x10:
            dim, at = _read_varint(desc, at, label)
            dims.append(dim)
        elif key == 0x12:  # dims written packed (a length, then the varints)
            length, at = _read_varint(desc, at, label)
            end = at + length
            while at < end:
                dim, at = _read_varint(desc, at, label)
                dims.append(dim)
        else:
            raise CorruptCheckpointError(f"{label} is damaged: unknown field {key} in its tensor description")
    if code is None:
        raise CorruptCheckpointError(f"{label} is damaged: its tensor description has no data type")
    if any(d < 0 for d in dims):
        raise CorruptCheckpointError(f"{label} is damaged: negative dimension in {dims}")
    return code, tuple(dims)


def _read_exactly(handle, size: int, label: str, what: str) -> bytes:
    # In pieces: a damaged description may claim any size, and one read would allocate it first.
    parts, left = [], size
    while left:
        part = handle.read(min(left, 1 << 20))
        if not part:
            raise CorruptCheckpointError(f"{label} is truncated: {what} needs {size} bytes, "
                                         f"{size - left} left")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def decode(handle, label: str) -> np.ndarray:
    """Read one binary tensor from ``handle`` (at its position; it is left just after the values)."""
    version, lod_level = _HEADER.unpack(_read_exactly(handle, _HEADER.size, label, "the header"))
    if version != 0:
        raise CorruptCheckpointError(f"{label}: binary tensor version {version} (Paddle writes 0)")
    if lod_level:
        raise ValueError(f"{label} holds a LoD tensor ({lod_level} LoD levels, from Paddle's static graph): "
                         "lasandbox's Tensors have no LoD, so it is not read")
    tensor_version, desc_size = _TENSOR_HEADER.unpack(_read_exactly(handle, _TENSOR_HEADER.size, label,
                                                                    "the tensor header"))
    if tensor_version != 0 or not 0 < desc_size < 1 << 16:
        raise CorruptCheckpointError(f"{label} is damaged: tensor version {tensor_version}, "
                                     f"description of {desc_size} bytes")
    code, dims = _parse_desc(_read_exactly(handle, desc_size, label, "the tensor description"), label)
    if code == BFLOAT16:
        raise ValueError(f"{label} holds a bfloat16 Tensor, which lasandbox (numpy) has no dtype for")
    dtype = DTYPES.get(code)
    if dtype is None:
        raise CorruptCheckpointError(f"{label} is damaged: unknown data type number {code}")
    count = math.prod(dims)  # a Python int: numpy's int64 product wrapped ([2**32, 2**32] read as 0 elements)
    values = _read_exactly(handle, count * dtype.itemsize, label, f"a {dtype} tensor of shape {list(dims)}")
    try:
        return np.frombuffer(values, dtype=dtype.newbyteorder("<")).astype(dtype, copy=True).reshape(dims)
    except (ValueError, OverflowError) as err:  # e.g. [0, 2**62, 2**62]: no data, but no such numpy shape
        raise CorruptCheckpointError(f"{label} is damaged: a tensor of shape {list(dims)} ({err})") from None
