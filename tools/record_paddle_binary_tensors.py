"""Record Tensors saved by real PaddlePaddle with ``paddle.save(tensor, path, use_binary_format=True)``.

Run by hand in an environment that has Paddle (the test suite never imports it)::

    /work/paddle-venv/bin/python tools/record_paddle_binary_tensors.py

It writes, under ``tests/fixtures/paddle_binary/`` (``--out`` picks another folder), one
``<case>.bin`` per case below (Paddle's C++ dense-tensor stream: version, LoD, a protobuf tensor
description, the raw values) and ``expected.npz``: each case's array as ``paddle.load(path,
return_numpy=True)`` gives it back (bfloat16, which numpy lacks, as its raw 16-bit patterns, key
``<case>.bits``). Also ``dict_error.txt``: what Paddle raises for a dict with that flag.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import paddle

DEFAULT_OUT = Path(__file__).parents[1] / "tests" / "fixtures" / "paddle_binary"

CASES = {
    "float32_3x2": np.arange(6, dtype=np.float32).reshape(3, 2) + np.float32(0.5),
    "float64_4": np.array([1.0, -2.0, 3.5, 1e300], dtype=np.float64),
    "float16_2": np.array([1.5, -2.0], dtype=np.float16),
    "int64_2x2x1": np.array([[[1], [2]], [[3], [-4]]], dtype=np.int64),
    "int32_5": np.arange(5, dtype=np.int32) - 2,
    "int16_2": np.array([1, -2], dtype=np.int16),
    "int8_2": np.array([1, -2], dtype=np.int8),
    "uint8_3": np.array([1, 2, 255], dtype=np.uint8),
    "bool_3": np.array([True, False, True]),
    "complex64_1": np.array([1 + 2j], dtype=np.complex64),
    "complex128_1": np.array([1 - 2j], dtype=np.complex128),
    "scalar_float32": np.array(2.5, dtype=np.float32),
    "empty_float32_0x3": np.zeros((0, 3), dtype=np.float32),
    "float32_1000": np.linspace(-1, 1, 1000, dtype=np.float32),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    paddle.disable_static()
    expected = {}
    for name, array in CASES.items():
        path = out / f"{name}.bin"
        paddle.save(paddle.to_tensor(array), str(path), use_binary_format=True)
        expected[name] = np.asarray(paddle.load(str(path), return_numpy=True))
    bf16 = paddle.to_tensor(np.array([1.0, 2.0, -0.5], dtype=np.float32)).astype("bfloat16")
    paddle.save(bf16, str(out / "bfloat16_3.bin"), use_binary_format=True)
    bits = np.asarray(paddle.load(str(out / "bfloat16_3.bin"), return_numpy=True))
    expected["bfloat16_3.bits"] = bits.view(np.uint16)
    np.savez(out / "expected.npz", **expected)
    try:
        paddle.save({"a": paddle.to_tensor(CASES["float32_3x2"])}, str(out / "dict.bin"), use_binary_format=True)
    except Exception as err:  # noqa: BLE001 - recording whatever Paddle raises
        (out / "dict_error.txt").write_text(f"{type(err).__name__}: {err}\n")
    print(f"wrote {len(CASES) + 1} files and expected.npz to {out} (Paddle {paddle.__version__})")


if __name__ == "__main__":
    main()
