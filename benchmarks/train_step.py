"""Time one training step (forward, backward, Adam) of an MLP 784-256-256-10 at batch 128, float32.

lasandbox (numpy autograd + numba Adam kernel over the flat buffer) against
PyTorch CPU on the same weights and data, timed round-robin in one process
(this machine is noisy: the minimum over many rounds is compared).

    python benchmarks/train_step.py [--rounds 60] [--backend cpu]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import lasandbox as paddle
from lasandbox import nn
from lasandbox.utils.extras import exit_if_missing

SIZES = (784, 256, 256, 10)
BATCH = 128


def build_lasandbox(weights, backend):
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    for p, w in zip(model.parameters(), weights, strict=True):
        p.set_value(w)
    opt = paddle.optimizer.Adam(learning_rate=1e-3, parameters=model.parameters(), backend=backend)
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.clear_grad()
        return loss

    return step


def build_torch(weights, torch):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:], strict=True)):
        lin = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(weights[2 * i].T.copy()))
            lin.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--backend", default="cpu", choices=["numpy", "cpu"])
    args = parser.parse_args(argv)
    # The benchmark's result is the ratio to PyTorch: without torch there is nothing to report.
    exit_if_missing("torch", "the training-step benchmark (a ratio to PyTorch)", prog="train_step.py")
    import torch

    rng = np.random.default_rng(0)
    weights = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        weights += [rng.uniform(-1, 1, (n_in, n_out)).astype(np.float32) / np.sqrt(n_in),
                    np.zeros(n_out, np.float32)]
    x = rng.standard_normal((BATCH, 784)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)

    ours = build_lasandbox(weights, args.backend)
    ours_x, ours_y = paddle.to_tensor(x), paddle.to_tensor(y)
    theirs = build_torch(weights, torch)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    candidates = {"lasandbox": lambda: ours(ours_x, ours_y), "torch": lambda: theirs(tx, ty)}
    torch_note = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    for fn in candidates.values():  # warm-up: compile kernels, fill caches
        for _ in range(3):
            fn()
    best = {name: float("inf") for name in candidates}
    for _ in range(args.rounds):  # round-robin so both see the same machine noise
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"MLP 784-256-256-10, batch {BATCH}, float32, Adam; {args.rounds} rounds round-robin, min time")
    print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}, {torch_note}")
    for name, t in best.items():
        print(f"  {name:<10} {t * 1e3:8.3f} ms/step")
    print(f"ratio lasandbox/torch: {best['lasandbox'] / best['torch']:.2f}x (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
