"""Record how PaddlePaddle 3.3.1 shares gradients where an op is not differentiable (ties, kinks).

Run by hand with Paddle's Python (the test suite never imports Paddle)::

    /work/paddle-venv/bin/python tools/record_paddle_autograd_ties.py

Writes ``tests/fixtures/paddle_autograd_ties.json``: for each case, the inputs and the
gradients of ``op(...).sum()`` with respect to each input, as Paddle computes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import paddle

OUT = Path(__file__).parents[1] / "tests" / "fixtures" / "paddle_autograd_ties.json"
X, Y = [1.0, 2.0, 3.0, -0.5], [1.0, 1.0, 4.0, -0.5]  # ties at 0 and 3
KINKS = [-1.0, 0.0, 2.0, 0.5]  # abs and relu at 0, clip(-1, 2) at both bounds
REPEATS = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]  # ties inside a reduction

CASES = {
    "maximum": (lambda x, y: paddle.maximum(x, y), [X, Y]),
    "minimum": (lambda x, y: paddle.minimum(x, y), [X, Y]),
    "max_all": (lambda x: paddle.max(x), [REPEATS]),
    "max_axis1": (lambda x: paddle.max(x, axis=1), [REPEATS]),
    "min_axis0": (lambda x: paddle.min(x, axis=0), [REPEATS]),
    "amax_all": (lambda x: paddle.amax(x), [REPEATS]),
    "abs": (lambda x: paddle.abs(x), [KINKS]),
    "relu": (lambda x: paddle.nn.functional.relu(x), [KINKS]),
    "clip": (lambda x: paddle.clip(x, -1.0, 2.0), [KINKS]),
}


def main():
    recorded = {"paddle_version": paddle.__version__, "cases": {}}
    for name, (op, inputs) in CASES.items():
        tensors = [paddle.to_tensor(value, dtype="float64", stop_gradient=False) for value in inputs]
        op(*tensors).sum().backward()
        recorded["cases"][name] = {"inputs": inputs, "grads": [t.grad.numpy().tolist() for t in tensors]}
    OUT.write_text(json.dumps(recorded, indent=1) + "\n")
    for name, case in recorded["cases"].items():
        print(f"{name}: {case['grads']}")


if __name__ == "__main__":
    main()
