"""Record checkpoint files written by real PaddlePaddle for lasandbox's loader tests.

Run by hand in an environment that has Paddle (the test suite never imports it)::

    /work/paddle-venv/bin/python tools/record_paddle_checkpoints.py

It writes, under ``tests/fixtures/paddle_checkpoints/`` (``--out`` picks another folder):

* ``model.pdparams``: ``paddle.save(linear.state_dict(), path)`` (protocol 4, Paddle's default);
* ``model_protocol2.pdparams``: the same with ``protocol=2`` (bytes go through ``_codecs.encode``);
* ``optimizer.pdopt``: ``paddle.save(adam.state_dict(), path)`` for an Adam over that Linear,
  after two steps, with a ``StepDecay`` scheduler stepped once (``LR_Scheduler`` entry);
* ``nested.pdparams``: ``paddle.save({"model": ..., "opt": ..., "epoch": 3}, path)``, which is not a
  state dict to Paddle and is pickled another way (each Tensor as a ``(name, ndarray)`` tuple);
* ``edge_protocol2.pdparams``: a state dict of an empty, a float16, a bool, an int8 and a 0-d tensor,
  ``protocol=2`` (the empty tensor's data is pickled as ``builtins.bytes()``);
* ``expected.json``: what Paddle itself reads back from each file with ``paddle.load`` (every
  array as a nested list with its dtype, shape and Tensor name), plus the pickle globals each file
  names, so the tests can compare values and see which classes a real Paddle file needs.
"""

from __future__ import annotations

import argparse
import json
import pickletools
import platform
from pathlib import Path

import numpy as np
import paddle

DEFAULT_OUT = Path(__file__).parents[1] / "tests" / "fixtures" / "paddle_checkpoints"


def pickle_globals(path):
    """The ``module.name`` globals a pickle file asks for (GLOBAL and STACK_GLOBAL opcodes).

    A light walk over the opcodes: it follows the strings pushed and memoised, which is all
    STACK_GLOBAL reads (its module and name are the two values pushed just before it).
    """
    found, pushed, memo = set(), [], {}
    for opcode, arg, _ in pickletools.genops(Path(path).read_bytes()):
        if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
            pushed.append(arg)
        elif opcode.name in ("BINGET", "LONG_BINGET", "GET"):
            pushed.append(memo.get(arg))
        elif opcode.name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif opcode.name == "GLOBAL":
            found.add(arg.replace(" ", "."))
            pushed.append(None)
        elif opcode.name == "STACK_GLOBAL":
            found.add(f"{pushed[-2]}.{pushed[-1]}")
            pushed.append(None)
        else:
            pushed.append(None)
    return sorted(found)


def describe(value):
    """A JSON-able picture of what ``paddle.load`` returned."""
    if isinstance(value, paddle.Tensor):
        return {"tensor": value.numpy().tolist(), "dtype": str(value.numpy().dtype), "shape": list(value.shape),
                "name": value.name}
    if isinstance(value, np.ndarray):
        return {"ndarray": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, dict):
        return {"dict": {str(k): describe(v) for k, v in value.items()}, "keys": [str(k) for k in value],
                "type": type(value).__name__}
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [describe(v) for v in value]}
    return {"value": value, "type": type(value).__name__}


def edge_tensors():
    """A state dict of the dtypes and shapes that pickle differently: an empty tensor (protocol 2 writes
    its data as ``builtins.bytes()``), float16, bool, int8, a 0-d tensor."""
    return {"empty": paddle.zeros([0, 3]), "half": paddle.to_tensor(np.array([1.5, -0.25], np.float16)),
            "flags": paddle.to_tensor([True, False]), "small": paddle.to_tensor(np.array([-3, 7], np.int8)),
            "scalar": paddle.to_tensor(np.array(2.5, np.float32))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    paddle.seed(2024)
    linear = paddle.nn.Linear(3, 2)
    scheduler = paddle.optimizer.lr.StepDecay(learning_rate=0.1, step_size=2, gamma=0.5)
    adam = paddle.optimizer.Adam(learning_rate=scheduler, parameters=linear.parameters())
    x = paddle.to_tensor(np.arange(12, dtype=np.float32).reshape(4, 3) / 10)
    for _ in range(2):
        loss = (linear(x) ** 2).mean()
        loss.backward()
        adam.step()
        adam.clear_grad()
    scheduler.step()

    files = {
        "model.pdparams": (linear.state_dict(), {}),
        "model_protocol2.pdparams": (linear.state_dict(), {"protocol": 2}),
        "optimizer.pdopt": (adam.state_dict(), {}),
        "nested.pdparams": ({"model": linear.state_dict(), "opt": adam.state_dict(), "epoch": 3}, {}),
        "edge_protocol2.pdparams": (edge_tensors(), {"protocol": 2}),
    }
    expected = {"paddle_version": paddle.__version__, "numpy_version": np.__version__,
                "python_version": platform.python_version(), "files": {}}
    for name, (obj, kwargs) in files.items():
        path = args.out / name
        paddle.save(obj, str(path), **kwargs)
        expected["files"][name] = {"save_kwargs": kwargs, "bytes": path.stat().st_size,
                                   "globals": pickle_globals(path), "loaded": describe(paddle.load(str(path))),
                                   "loaded_keep_name_table": describe(paddle.load(str(path), keep_name_table=True))}
    (args.out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    for name, entry in expected["files"].items():
        print(f"{name}: {entry['bytes']} bytes, globals {entry['globals']}")


if __name__ == "__main__":
    main()
