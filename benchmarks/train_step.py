"""Time whole training steps (forward, backward, update) of lasandbox against PyTorch CPU.

Each contender runs in its own process (numba's and BLAS's thread pools, and
PyTorch's, would otherwise slow each other), the processes alternate, and every
process times ``--steps`` steps after a warm-up; the minimum and the median over
all of a contender's steps are reported, with their ratios to PyTorch.

    python benchmarks/train_step.py [--alternations 4] [--steps 30] [--models mlp784,digits]
    python benchmarks/train_step.py --scaling [--out figures]   # widths 32..2048 x batch 32..512

Contenders: ``lasandbox`` (the default backend), ``lasandbox-numpy`` (``backend="numpy"``)
and ``torch``. Models: ``mlp784`` (MLP 784-256-256-10, batch 128, Adam) and ``digits``
(MLP 64-32-10, batch 32, LookAhead(Momentum, alpha 0.5, k 5): what the paper figures
train). ``--scaling`` writes ``train_step_scaling.csv`` and ``.png``: the lasandbox /
torch ratio of the median step against the parameter count, one line per batch size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from lasandbox.utils.machine import cpu_model

CONTENDERS = ("lasandbox", "lasandbox-numpy", "torch")
MODELS = {
    "mlp784": {"sizes": (784, 256, 256, 10), "batch": 128, "optimizer": "adam"},
    "digits": {"sizes": (64, 32, 10), "batch": 32, "optimizer": "lookahead-momentum"},
}
SCALING_WIDTHS = (32, 64, 128, 256, 512, 1024, 2048)
SCALING_BATCHES = (32, 128, 512)


def _data(sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        weights += [rng.uniform(-1, 1, (n_in, n_out)).astype(np.float32) / np.sqrt(n_in),
                    np.zeros(n_out, np.float32)]
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    return weights, x, y


def _lasandbox_step(sizes, batch, optimizer, backend):
    import lasandbox as paddle
    from lasandbox import nn

    weights, x, y = _data(sizes, batch)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    for p, w in zip(model.parameters(), weights, strict=True):
        p.set_value(w)
    if optimizer == "adam":
        opt = paddle.optimizer.Adam(learning_rate=1e-3, parameters=model.parameters(), backend=backend)
    else:
        inner = paddle.optimizer.Momentum(learning_rate=0.05, momentum=0.9, parameters=model.parameters(),
                                          backend=backend)
        opt = paddle.LookAhead(inner, alpha=0.5, k=5)
    loss_fn = nn.CrossEntropyLoss()
    tx, ty = paddle.to_tensor(x), paddle.to_tensor(y)

    def step():
        loss = loss_fn(model(tx), ty)
        loss.backward()
        opt.step()
        opt.clear_grad()

    return step


def _torch_step(sizes, batch, optimizer):
    import torch

    weights, x, y = _data(sizes, batch)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        lin = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(weights[2 * i].T.copy()))
            lin.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        sync = None
    else:  # PyTorch has no Lookahead: Momentum plus the same sync written with torch ops
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        slow = [p.detach().clone() for p in model.parameters()]
        count = [0]

        def sync():
            count[0] += 1
            if count[0] % 5 == 0:
                with torch.no_grad():
                    for p, s in zip(model.parameters(), slow, strict=True):
                        s.lerp_(p, 0.5)
                        p.copy_(s)
    loss_fn = torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad(set_to_none=False)
        loss_fn(model(tx), ty).backward()
        opt.step()
        if sync is not None:
            sync()

    return step


def worker(contender, sizes, batch, optimizer, steps, warmup=5):
    """Run in a fresh process: ``steps`` timed steps after ``warmup``; prints the times as JSON."""
    if contender == "torch":
        step = _torch_step(sizes, batch, optimizer)
    else:
        step = _lasandbox_step(sizes, batch, optimizer, "numpy" if contender == "lasandbox-numpy" else "cpu")
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    print(json.dumps(times))


def measure(sizes, batch, optimizer, contenders, alternations, steps):
    """``{contender: [step seconds]}``: each contender in its own processes, alternating."""
    times = {name: [] for name in contenders}
    for _ in range(alternations):
        for name in contenders:
            spec = json.dumps({"sizes": list(sizes), "batch": batch, "optimizer": optimizer, "steps": steps})
            done = subprocess.run([sys.executable, __file__, "--worker", name, spec], capture_output=True,
                                  text=True, timeout=900, env=dict(os.environ, LASANDBOX_PROGRESS="0"))
            if done.returncode != 0:
                raise RuntimeError(f"{name} failed:\n{done.stderr}")
            times[name] += json.loads(done.stdout.strip().splitlines()[-1])
    return times


def summary(times):
    return {name: {"min": min(t), "median": statistics.median(t)} for name, t in times.items()}


def report(label, stats):
    lines = [f"{label}:"]
    torch = stats.get("torch")
    for name, s in stats.items():
        ratio = f"   {s['min'] / torch['min']:.2f}x / {s['median'] / torch['median']:.2f}x torch" if torch else ""
        lines.append(f"  {name:<16} min {s['min'] * 1e3:7.3f} ms   median {s['median'] * 1e3:7.3f} ms{ratio}")
    if "lasandbox" in stats and "lasandbox-numpy" in stats:
        speedup = stats["lasandbox-numpy"]["median"] / stats["lasandbox"]["median"]
        lines.append(f"  default backend vs backend='numpy' (median): {speedup:.2f}x faster")
    return lines


def scaling(args):
    rows = []
    for batch in SCALING_BATCHES:
        for width in SCALING_WIDTHS:
            sizes = (width, width, width, 10)
            stats = summary(measure(sizes, batch, "adam", ("lasandbox", "torch"), args.alternations, args.steps))
            params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
            row = {"batch": batch, "width": width, "parameters": params,
                   **{f"{n}_{k}": v for n, s in stats.items() for k, v in s.items()}}
            row["ratio_median"] = row["lasandbox_median"] / row["torch_median"]
            row["ratio_min"] = row["lasandbox_min"] / row["torch_min"]
            rows.append(row)
            print(f"batch {batch:4d} width {width:5d} ({params:>9,d} params): lasandbox/torch median "
                  f"{row['ratio_median']:.2f}x, min {row['ratio_min']:.2f}x", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = f"# machine: {cpu_model()}\n# command: {' '.join(sys.argv)}\n"
    columns = list(rows[0])
    with open(out / "train_step_scaling.csv", "w") as handle:
        handle.write(header + ",".join(columns) + "\n")
        for row in rows:
            handle.write(",".join(f"{row[c]:.6g}" if isinstance(row[c], float) else str(row[c]) for c in columns)
                         + "\n")
    _plot(rows, out / "train_step_scaling.png")
    worst = max(row["ratio_median"] for row in rows)
    print(f"worst point: {worst:.2f}x torch at the median (target <= 1.5x); wrote {out / 'train_step_scaling.csv'}")


def _plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for batch in SCALING_BATCHES:
        mine = sorted((r for r in rows if r["batch"] == batch), key=lambda r: r["parameters"])
        ax.plot([r["parameters"] for r in mine], [r["ratio_median"] for r in mine], "o-", label=f"batch {batch}")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.axhline(1.5, color="gray", ls="--", lw=0.8, label="target 1.5x")
    ax.set(xscale="log", xlabel="parameters (MLP width x width x width x 10)",
           ylabel="lasandbox / torch time per step (median)",
           title=f"Adam training step, lasandbox vs PyTorch CPU\n{cpu_model()}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", nargs=2, metavar=("CONTENDER", "SPEC"), help=argparse.SUPPRESS)
    parser.add_argument("--alternations", type=int, default=4)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--models", default="mlp784,digits")
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--out", default="figures")
    args = parser.parse_args(argv)
    if args.worker:
        contender, spec = args.worker
        spec = json.loads(spec)
        worker(contender, tuple(spec["sizes"]), spec["batch"], spec["optimizer"], spec["steps"])
        return 0
    from lasandbox.utils.extras import exit_if_missing

    exit_if_missing("torch", "the training-step benchmark (a ratio to PyTorch)", prog="train_step.py")
    import torch

    print(f"machine: {cpu_model()} ({os.cpu_count()} cores); numpy {np.__version__}, torch {torch.__version__}; "
          f"{args.alternations} alternations x {args.steps} steps per contender, each in its own process")
    if args.scaling:
        scaling(args)
        return 0
    for name in args.models.split(","):
        model = MODELS[name]
        stats = summary(measure(model["sizes"], model["batch"], model["optimizer"], CONTENDERS,
                                args.alternations, args.steps))
        label = (f"MLP {'-'.join(map(str, model['sizes']))}, batch {model['batch']}, "
                 f"{model['optimizer']}")
        print("\n".join(report(label, stats)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
