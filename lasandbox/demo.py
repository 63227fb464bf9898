"""``lasandbox demo``: an MLP on scikit-learn's digits with registered optimizers and LookAhead over each.

Prints a table of final train loss and test accuracy and saves a loss-curve
figure (and the csv it plots) under ``figures/``.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

import lasandbox as paddle
from lasandbox.datasets import load_digits
from lasandbox.training import mlp, train
from lasandbox.utils.cliargs import OUTPUT_DIR, SEEDS, int_at_least
from lasandbox.utils.progress import progress
from lasandbox.utils.validation import check_int, check_real

# name:learning rate of lasandbox.optimizer.registry entries; each runs alone and inside LookAhead.
DEFAULT_OPTIMIZERS = "momentum:0.05,adam:0.003"
LOOKAHEAD = {"alpha": 0.5, "k": 5}


def parse_optimizers(text):
    """``"momentum:0.05,adam:0.003"`` as ``[("momentum", 0.05), ...]``, names checked against the registry."""
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, lr = item.partition(":")
        paddle.optimizer.registry.get(name)  # a ValueError listing the registered names
        try:
            rate = float(lr)
        except ValueError:
            raise ValueError(f"--optimizers wants name:learning_rate pairs, got {item!r}") from None
        # The optimizers' own range (Optimizer._validate_lr), checked here so the demo refuses it up front.
        pair = (name, check_real(f"--optimizers: the learning rate in {item!r}", rate, low=0.0))
        if pair in pairs:  # it had been run once, under one label
            raise ValueError(f"--optimizers lists {name}:{rate:g} twice")
        pairs.append(pair)
    if not pairs:
        raise ValueError("--optimizers names no optimizer")
    return pairs


def configs(optimizers=DEFAULT_OPTIMIZERS):
    """``{label: make(parameters)}``: each optimizer alone and inside LookAhead(alpha 0.5, k 5)."""
    out = {}
    for name, lr in parse_optimizers(optimizers):
        cls = paddle.optimizer.registry.get(name).cls.__name__

        def make(params, name=name, lr=lr):
            return paddle.optimizer.registry.make(name, params, lr)

        out[f"{cls} lr {lr:g}"] = make
        # the lr in the label: with two rates of one optimizer the second had replaced the first LookAhead run
        out[f"LookAhead({cls} lr {lr:g})"] = lambda params, make=make: paddle.LookAhead(make(params), **LOOKAHEAD)
    return out


def run(epochs=20, seeds=2, out_dir="figures", optimizers=DEFAULT_OPTIMIZERS):
    """Train every config for ``seeds`` seeds; returns {name: [History, ...]} and writes the figure."""
    seeds = check_int("seeds", seeds, low=1)  # no seeds would leave a table of NaN means
    split = load_digits()
    chosen = configs(optimizers)
    results = {name: [] for name in chosen}
    jobs = [(name, seed) for seed in range(seeds) for name in chosen]
    for name, seed in progress(jobs, desc="demo"):
        paddle.seed(seed)
        model = mlp([64, 32, 10])
        opt = chosen[name](model.parameters())
        results[name].append(train(model, opt, split, epochs, batch_size=32, seed=seed))
    write_outputs(results, Path(out_dir))
    return results


def write_outputs(results, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "demo_loss.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["optimizer", "seed", "epoch", "train_loss", "test_loss", "test_accuracy"])
        for name, runs in results.items():
            for seed, h in enumerate(runs):
                for epoch, row in enumerate(zip(h.train_loss, h.test_loss, h.test_accuracy, strict=True)):
                    writer.writerow([name, seed, epoch, *(f"{v:.6g}" for v in row)])
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, runs in results.items():
        curves = np.array([h.train_loss for h in runs])
        style = "-" if name.startswith("LookAhead") else "--"
        ax.plot(curves.mean(axis=0), style, label=name)
    ax.set(yscale="log", xlabel="epoch", ylabel="train loss (mean over seeds)",
           title="MLP 64-32-10 on digits")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "demo_loss.png", dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="lasandbox demo", description=__doc__)
    parser.add_argument("--epochs", type=int_at_least(0), default=20, help="training epochs (default 20)")
    parser.add_argument("--seeds", type=SEEDS, default=2, help="seeds per optimizer (default 2)")
    parser.add_argument("--out", type=OUTPUT_DIR, default="figures", help="output folder (default figures/)")
    parser.add_argument("--optimizers", default=DEFAULT_OPTIMIZERS,
                        help=f"name:lr pairs of registered optimizers (lasandbox optimizers lists them); "
                             f"default {DEFAULT_OPTIMIZERS}")
    args = parser.parse_args(argv)
    try:
        parse_optimizers(args.optimizers)
    except ValueError as err:
        parser.error(str(err))
    start = time.perf_counter()
    results = run(args.epochs, args.seeds, args.out, args.optimizers)
    print(f"\n{'optimizer':<18}{'train loss':>12}{'test acc':>10}")
    for name, runs in results.items():
        loss = np.mean([h.train_loss[-1] for h in runs])
        acc = np.mean([h.test_accuracy[-1] for h in runs])
        print(f"{name:<18}{loss:>12.4f}{acc:>10.3f}")
    print(f"\nwrote {args.out}/demo_loss.png and demo_loss.csv in {time.perf_counter() - start:.1f}s")
    return 0
