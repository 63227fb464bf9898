"""``paddle.save(tensor, path, use_binary_format=True)``: Paddle's binary tensor file, both ways.

The fixtures are files written by PaddlePaddle 3.3.1 (``tools/record_paddle_binary_tensors.py``), with
what Paddle's own ``paddle.load`` returned for each (``expected.npz``).
"""

import io
import struct
from pathlib import Path

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.serialization import CorruptCheckpointError, dense_tensor

FIXTURES = Path(__file__).parent / "fixtures" / "paddle_binary"
EXPECTED = dict(np.load(FIXTURES / "expected.npz"))
CASES = sorted(name for name in EXPECTED if not name.endswith(".bits") and name != "empty_float32_0x3")


@pytest.mark.parametrize("name", CASES)
def test_paddle_files_load_as_paddle_loads_them(name):
    array = paddle.load(FIXTURES / f"{name}.bin", return_numpy=True)
    expected = EXPECTED[name]
    assert array.dtype == expected.dtype and array.shape == expected.shape
    np.testing.assert_array_equal(array, expected)
    tensor = paddle.load(FIXTURES / f"{name}.bin")
    assert isinstance(tensor, paddle.Tensor) and tensor.dtype == expected.dtype
    np.testing.assert_array_equal(tensor.numpy(), expected)


@pytest.mark.parametrize("name", [*CASES, "empty_float32_0x3"])
def test_our_file_is_byte_for_byte_paddles(name, tmp_path):
    source = paddle.load(FIXTURES / f"{name}.bin", return_numpy=True)
    paddle.save(paddle.to_tensor(source), tmp_path / "t.bin", use_binary_format=True)
    assert (tmp_path / "t.bin").read_bytes() == (FIXTURES / f"{name}.bin").read_bytes()
    memory = io.BytesIO()
    paddle.save(paddle.to_tensor(source), memory, use_binary_format=True)
    assert memory.getvalue() == (FIXTURES / f"{name}.bin").read_bytes()


def test_an_empty_tensor_keeps_its_shape_and_dtype():
    # Paddle 3.3.1's own load returns float64 of shape (0,) here; the file says float32 [0, 3].
    array = paddle.load(FIXTURES / "empty_float32_0x3.bin", return_numpy=True)
    assert array.dtype == np.float32 and array.shape == (0, 3)
    assert EXPECTED["empty_float32_0x3"].shape == (0,)


def test_binary_and_pickled_objects_share_one_stream():
    stream = io.BytesIO()
    a, b = paddle.to_tensor(np.arange(3, dtype=np.float32)), paddle.to_tensor(np.eye(2))
    paddle.save(a, stream, use_binary_format=True)
    paddle.save({"w": b}, stream)
    paddle.save(b, stream, use_binary_format=True)
    stream.seek(0)
    np.testing.assert_array_equal(paddle.load(stream, return_numpy=True), a.numpy())
    np.testing.assert_array_equal(paddle.load(stream, return_numpy=True)["w"], b.numpy())
    np.testing.assert_array_equal(paddle.load(stream).numpy(), b.numpy())


def test_only_a_tensor_is_saved_in_binary_as_in_paddle(tmp_path):
    paddle_says = (FIXTURES / "dict_error.txt").read_text().strip()
    with pytest.raises(NotImplementedError) as err:
        paddle.save({"a": paddle.to_tensor([1.0])}, tmp_path / "d.bin", use_binary_format=True)
    assert f"{type(err.value).__name__}: {err.value}" == paddle_says
    with pytest.raises(NotImplementedError, match="use_binary_format"):
        paddle.save(np.zeros(3), tmp_path / "a.bin", use_binary_format=True)
    with pytest.raises(TypeError, match="use_binary_format"):
        paddle.save(paddle.to_tensor([1.0]), tmp_path / "x.bin", use_binary_format="yes")
    assert not any(tmp_path.iterdir())


def test_truncated_or_extended_files_are_corrupt_and_named(tmp_path):
    data = (FIXTURES / "float32_3x2.bin").read_bytes()
    for cut in (3, 10, 18, 23, len(data) - 1):
        (tmp_path / "cut.bin").write_bytes(data[:cut])
        if cut < 4:
            with pytest.raises(ValueError, match="cut.bin"):  # too short to be told apart: not a readable pickle
                paddle.load(tmp_path / "cut.bin")
            continue
        with pytest.raises(CorruptCheckpointError, match="cut.bin.*truncated"):
            paddle.load(tmp_path / "cut.bin")
    (tmp_path / "long.bin").write_bytes(data + b"\x00")
    with pytest.raises(CorruptCheckpointError, match="long.bin.*unexpected bytes"):
        paddle.load(tmp_path / "long.bin")


def _file(code=5, dims=(2,), values=b"\x00" * 8, lod=0, version=0):
    desc = b"\x08" + bytes([code]) + b"".join(b"\x10" + dense_tensor._varint(d) for d in dims)
    return struct.pack("<IQIi", version, lod, 0, len(desc)) + desc + values


def test_what_lasandbox_cannot_hold_is_refused_by_name(tmp_path):
    cases = {
        "lod": (_file(lod=1), ValueError, "LoD"),
        "bf16": ((FIXTURES / "bfloat16_3.bin").read_bytes(), ValueError, "bfloat16"),
        "code": (_file(code=99), CorruptCheckpointError, "data type number 99"),
        "huge": (_file(dims=(1 << 40, 1 << 20)), CorruptCheckpointError, "truncated"),  # no allocation of it
    }
    for name, (data, error, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(error, match=message):
            paddle.load(tmp_path / name)


def test_the_varint_round_trip_covers_negative_and_large_values():
    for value in (0, 1, 127, 128, 300, 2**31, 2**62, -1, -(2**40)):
        encoded = dense_tensor._varint(value)
        assert dense_tensor._read_varint(encoded, 0, "x") == (value, len(encoded))


@pytest.mark.parametrize("dims, match", [
    ((2**32, 2**32), "truncated"),  # 2**64 elements: numpy's int64 product wrapped to 0, and 0 bytes were read
    ((2**62, 3), "truncated"),  # wrapped negative: an OverflowError, not a ValueError
    ((0, 2**62, 2**62), "damaged: a tensor of shape"),  # no data needed, but no such numpy shape
])
def test_dimensions_whose_product_overflows_are_a_damaged_file_named(tmp_path, dims, match):
    (tmp_path / "huge.bin").write_bytes(_file(dims=dims, values=b"\x00" * 8))
    with pytest.raises(CorruptCheckpointError, match=f"huge.bin.*{match}"):
        paddle.load(tmp_path / "huge.bin")
