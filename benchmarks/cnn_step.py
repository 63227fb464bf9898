"""Time one training step of the small ResNet (forward, backward, Momentum) against PyTorch CPU.

Network (``lasandbox.models.SmallResNet()`` and its PyTorch twin): Conv 1->16 3x3 + BN + ReLU, two
residual blocks of 16 channels (two 3x3 convs + BN each), global average pool, Linear 16->10;
batch 64 of 1x28x28, float32, cross-entropy, Momentum(lr=0.01, momentum=0.9) (``lasandbox.optimizer
.Momentum``; ``torch.optim.SGD(momentum=0.9)`` is the same update). Both start from the same weights.

Each contender runs in its own subprocess (so neither's thread pools or allocator state touch the
other's), and the subprocesses alternate for ``--rounds`` rounds of ``--steps`` timed steps each
(after warm-up steps that compile lasandbox's kernels or load them from numba's cache); the min and
the median over all timed steps are compared. The machine this was written on is shared and noisy:
compare ratios from one run, not absolute times across runs.

    python benchmarks/cnn_step.py [--rounds 4] [--steps 15] [--warmup 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lasandbox.utils.extras import exit_if_missing
from lasandbox.utils.machine import cpu_model

BATCH, CLASSES, SIZE = 64, 10, 28
LR, MOMENTUM = 0.01, 0.9


def make_problem(path):
    """Weights (lasandbox's init, saved by structured name), data and labels for both contenders."""
    import lasandbox as paddle
    from lasandbox import models

    paddle.seed(0)
    model = models.SmallResNet()
    rng = np.random.default_rng(0)
    arrays = {f"param/{k}": v.numpy() for k, v in model.state_dict().items()}
    arrays["x"] = rng.standard_normal((BATCH, 1, SIZE, SIZE)).astype(np.float32)
    arrays["y"] = rng.integers(0, CLASSES, BATCH).astype(np.int64)
    np.savez(path, **arrays)


def lasandbox_step(problem):
    import lasandbox as paddle
    from lasandbox import models, nn

    model = models.SmallResNet()
    model.set_state_dict({k[6:]: problem[k] for k in problem if k.startswith("param/")})
    model.train()
    opt = paddle.optimizer.Momentum(learning_rate=LR, momentum=MOMENTUM, parameters=model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    x, y = paddle.to_tensor(problem["x"]), paddle.to_tensor(problem["y"])

    def step():
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.clear_grad()

    return step, f"lasandbox, numpy {np.__version__}"


def torch_step(problem):
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
            self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(out)) + x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem, self.stem_bn = nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
            self.blocks = nn.Sequential(Block(16), Block(16))
            self.fc = nn.Linear(16, CLASSES)

        def forward(self, x):
            x = self.blocks(torch.relu(self.stem_bn(self.stem(x))))
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    model = Net()
    with torch.no_grad():
        for name, p in model.named_parameters():
            value = problem[f"param/{name}"]
            p.copy_(torch.from_numpy(value.T.copy() if name == "fc.weight" else value))  # Paddle's [in, out]
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.from_numpy(problem["x"]), torch.from_numpy(problem["y"])

    def step():
        opt.zero_grad(set_to_none=False)
        loss_fn(model(x), y).backward()
        opt.step()

    return step, f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def worker(name, problem_path, steps, warmup):
    problem = dict(np.load(problem_path))
    step, note = {"lasandbox": lasandbox_step, "torch": torch_step}[name](problem)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    print(json.dumps({"name": name, "note": note, "times": times}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=15, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--worker", choices=["lasandbox", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--problem", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.problem, args.steps, args.warmup)
        return 0
    # The ratio to PyTorch is what this benchmark reports: without torch it says so and stops (as README's
    # extras promise), rather than printing lasandbox's time alone.
    exit_if_missing("torch", "benchmarks/cnn_step.py (the ratio to PyTorch's training step)", "cnn_step.py")
    contenders = ["lasandbox", "torch"]
    times, notes = {c: [] for c in contenders}, {}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                         os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryDirectory() as tmp:
        problem = os.path.join(tmp, "problem.npz")
        make_problem(problem)
        for r in range(args.rounds):
            for name in contenders if r % 2 == 0 else contenders[::-1]:  # alternate who goes first
                out = subprocess.run([sys.executable, __file__, "--worker", name, "--problem", problem,
                                      "--steps", str(args.steps), "--warmup", str(args.warmup)],
                                     capture_output=True, text=True, check=True, env=env)
                record = json.loads(out.stdout.strip().splitlines()[-1])
                times[name] += record["times"]
                notes[name] = record["note"]
    print(f"SmallResNet step (conv 1->16, 2 residual blocks of 16 ch, BN, GAP, Linear 16->10), batch {BATCH} "
          f"of 1x{SIZE}x{SIZE}, float32, Momentum")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cpus; {args.rounds} rounds x {args.steps} steps per contender, "
          f"each in its own subprocess, alternating")
    summary = {}
    for name in contenders:
        t = np.array(times[name]) * 1e3
        summary[name] = (t.min(), np.median(t))
        print(f"  {name:<10} min {t.min():8.2f} ms   median {np.median(t):8.2f} ms   ({notes[name]})")
    if "torch" in summary:
        (lmin, lmed), (tmin, tmed) = summary["lasandbox"], summary["torch"]
        print(f"ratio lasandbox/torch: min {lmin / tmin:.2f}x, median {lmed / tmed:.2f}x (target <= 2x at both)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
