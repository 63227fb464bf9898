"""Show real PaddlePaddle reading checkpoints that ``lasandbox.save`` wrote.

Run with the Python that has Paddle; it starts lasandbox's Python to write the files::

    /work/paddle-venv/bin/python tools/paddle_reads_lasandbox_checkpoints.py \\
        [--lasandbox-python .venv/bin/python]

lasandbox writes (into a temporary folder) a Linear(3, 2)'s state dict with
protocols 2, 3 and 4, an Adam's state dict after two steps with a StepDecay
schedule, a nested ``{"model", "opt", "epoch"}`` checkpoint and a LookAhead
one, three Tensors with ``use_binary_format=True`` (Paddle's binary tensor file), plus the values
it saved (``.npz``, no pickle). Paddle then
``paddle.load``\\ s each file, compares every array bit for bit, loads the model
state into a ``paddle.nn.Linear(3, 2)`` and checks that its output matches
lasandbox's. Exit status 1 if anything differs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import paddle

ROOT = Path(__file__).parents[1]

WRITER = r"""
import sys
import numpy as np
import lasandbox as paddle

out = sys.argv[1]
paddle.seed(7)
model = paddle.nn.Linear(3, 2)
scheduler = paddle.optimizer.lr.StepDecay(learning_rate=0.1, step_size=2, gamma=0.5)
adam = paddle.optimizer.Adam(learning_rate=scheduler, parameters=model.parameters())
x = paddle.to_tensor(np.arange(12, dtype=np.float32).reshape(4, 3) / 10)
for _ in range(2):
    loss = (model(x) ** 2).mean()
    loss.backward()
    adam.step()
    adam.clear_grad()
scheduler.step()

def flat(prefix, obj, into):
    if isinstance(obj, paddle.Tensor):
        into[prefix] = obj.numpy().copy()
    elif isinstance(obj, np.ndarray):
        into[prefix] = obj.copy()
    elif isinstance(obj, dict):
        for key, value in obj.items():
            flat(f"{prefix}/{key}", value, into)

expected = {}
for protocol in (2, 3, 4):
    paddle.save(model.state_dict(), f"{out}/model_p{protocol}.pdparams", protocol=protocol)
    flat(f"model_p{protocol}.pdparams", model.state_dict(), expected)
paddle.save(adam.state_dict(), f"{out}/optimizer.pdopt")
paddle.save({"model": model.state_dict(), "opt": adam.state_dict(), "epoch": 3}, f"{out}/nested.pdparams")
flat("optimizer.pdopt", adam.state_dict(), expected)
flat("nested.pdparams/model", model.state_dict(), expected)
flat("nested.pdparams/opt", adam.state_dict(), expected)
la = paddle.incubate.LookAhead(paddle.optimizer.SGD(0.1, parameters=model.parameters()), alpha=0.5, k=2)
for _ in range(3):
    (model(x) ** 2).mean().backward()
    la.step()
    la.clear_grad()
paddle.save({"model": model.state_dict(), "opt": la.state_dict()}, f"{out}/lookahead.pdparams")

binary = {"binary_float32.bin": model.weight, "binary_int64.bin": paddle.to_tensor(np.arange(-3, 3).reshape(2, 3)),
          "binary_float64.bin": paddle.to_tensor(np.linspace(0, 1, 7))}
for name, tensor in binary.items():  # paddle.save(tensor, path, use_binary_format=True)
    paddle.save(tensor, f"{out}/{name}", use_binary_format=True)
    expected[name + "/"] = tensor.numpy().copy()

flat("lookahead.pdparams/opt", la.state_dict(), expected)
flat("lookahead.pdparams/model", model.state_dict(), expected)
np.savez(f"{out}/expected.npz", **expected, x=x.numpy(), lookahead_output=model(x).numpy())
print("lasandbox wrote:", ", ".join(sorted(__import__("os").listdir(out))))
"""


def flatten(prefix, obj, into):
    if isinstance(obj, paddle.Tensor):
        into[prefix] = obj.numpy()
    elif isinstance(obj, np.ndarray):
        into[prefix] = obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            flatten(f"{prefix}/{key}", value, into)


def describe(obj):
    if isinstance(obj, paddle.Tensor):
        return f"Tensor{list(obj.shape)} {obj.dtype}"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in obj.items()) + "}"
    return f"{type(obj).__name__} {obj!r}"[:60]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lasandbox-python", default=str(ROOT / ".venv" / "bin" / "python"))
    args = parser.parse_args(argv)
    failures = 0
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        subprocess.run([args.lasandbox_python, "-c", WRITER, out], check=True, env=env)
        expected = dict(np.load(Path(out) / "expected.npz"))
        print(f"paddle {paddle.__version__} reads them:")
        names = [f"model_p{protocol}.pdparams" for protocol in (2, 3, 4)]
        for name in names + ["optimizer.pdopt", "nested.pdparams", "lookahead.pdparams"]:
            loaded = paddle.load(str(Path(out) / name))
            print(f"  {name}: {describe(loaded)[:400]}")
            got = {}
            flatten(name, loaded, got)
            checked = [key for key in expected if key.startswith(name + "/")]
            bad = [key for key in checked if key not in got or not np.array_equal(got[key], expected[key])]
            print(f"    {len(checked) - len(bad)}/{len(checked)} arrays equal to what lasandbox saved" +
                  (f"; differ: {bad}" if bad else ""))
            failures += bool(bad) + (not checked)
        for name in ("binary_float32.bin", "binary_int64.bin", "binary_float64.bin"):
            loaded = paddle.load(str(Path(out) / name), return_numpy=True)
            want = expected[name + "/"]
            same = loaded.dtype == want.dtype and loaded.shape == want.shape and np.array_equal(loaded, want)
            print(f"  {name} (use_binary_format=True): {loaded.dtype} {list(loaded.shape)}, equal to what "
                  f"lasandbox saved: {same}")
            failures += not same
        linear = paddle.nn.Linear(3, 2)
        missing = linear.set_state_dict(paddle.load(str(Path(out) / "lookahead.pdparams"))["model"])
        output = linear(paddle.to_tensor(expected["x"])).numpy()
        close = np.allclose(output, expected["lookahead_output"], rtol=1e-6, atol=1e-7)
        print(f"  paddle.nn.Linear(3, 2).set_state_dict(loaded['model']) -> {missing}; output matches "
              f"lasandbox's to 1e-6: {close} (max abs diff {np.abs(output - expected['lookahead_output']).max():.2e})")
        failures += not close
    print("OK" if not failures else f"{failures} check(s) FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
