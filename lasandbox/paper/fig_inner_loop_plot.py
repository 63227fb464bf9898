"""Drawing for figure ``inner_loop``, from the csv rows only (so the png shows exactly the data file)."""

from __future__ import annotations

import numpy as np

from lasandbox.plotting import apply_style, color_for, new_figure, save_figure

LABELS = {"momentum": "momentum SGD alone", "lookahead_fast": "LA fast weights", "lookahead_slow": "LA slow weights"}


def _series(rows, method, seed, column):
    picked = sorted((r for r in rows if r["method"] == method and r["seed"] == seed), key=lambda r: r["update"])
    return np.array([r["update"] for r in picked]), np.array([r[column] for r in picked], dtype=float)


def _panel_run(ax, rows, column, ylabel, title, seed):
    updates, values = _series(rows, "momentum", seed, column)
    ax.plot(updates, values, color=color_for("sgd"), lw=1.0, alpha=0.8, label=LABELS["momentum"])
    updates, values = _series(rows, "lookahead_fast", seed, column)
    ax.plot(updates, values, "--s", color=color_for("fast"), ms=3, lw=1.0, label=LABELS["lookahead_fast"])
    updates, values = _series(rows, "lookahead_slow", seed, column)
    ax.plot(updates, values, "^", color=color_for("slow"), ms=6, label=LABELS["lookahead_slow"])
    ax.set_xlabel("update within the window")
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def _panel_cycle(ax, rows, k):
    """Accuracy change since the cycle's starting slow point, by position in the cycle (mean +- s.e.)."""
    start = {}
    for r in rows:
        if r["method"] in ("lookahead_slow", "momentum") and r["update"] % k == 0:
            start[(r["method"], r["seed"], r["update"] // k)] = r["test_accuracy"]
    for method, color, marker in (("lookahead_fast", color_for("fast"), "s"), ("momentum", color_for("sgd"), "o")):
        reference = "lookahead_slow" if method == "lookahead_fast" else "momentum"
        means, errors = [], []
        for position in range(1, k + 1):
            changes = [r["test_accuracy"] - start[(reference, r["seed"], r["cycle"])] for r in rows
                       if r["method"] == method and r["position"] == position and r["update"] > 0]  # fmt: skip
            means.append(100 * np.mean(changes))
            errors.append(100 * np.std(changes) / np.sqrt(max(len(changes), 1)))
        ax.errorbar(range(1, k + 1), means, yerr=errors, marker=marker, color=color, capsize=2, lw=1.0,
                    label=LABELS[method] if method == "momentum" else "LA fast (k-th: before sync)")  # fmt: skip
    changes = [r["test_accuracy"] - start[("lookahead_slow", r["seed"], r["cycle"])] for r in rows
               if r["method"] == "lookahead_slow" and r["update"] > 0]  # fmt: skip
    ax.errorbar([k + 0.15], [100 * np.mean(changes)], yerr=[100 * np.std(changes) / np.sqrt(len(changes))],
                marker="^", color=color_for("slow"), ms=7, capsize=2, label="LA slow (after sync)")  # fmt: skip
    ax.axhline(0.0, color=color_for("reference"), lw=0.8)
    ax.set_xticks(range(1, k + 1))
    ax.set_xlabel("update within the cycle")
    ax.set_ylabel("test accuracy change since cycle start (pp)")
    ax.set_title("(c) mean over seeds and cycles")
    ax.legend(loc="best")


def _panel_variance(ax, rows):
    variance = [r for r in rows if r["panel"] == "variance"]
    seeds = sorted({int(r["seed"]) for r in variance})
    width = 0.38
    for offset, method, role in ((-width / 2, "momentum", "sgd"), (width / 2, "lookahead_slow", "slow")):
        values = [next(r["variance"] for r in variance if r["seed"] == s and r["method"] == method) for s in seeds]
        ax.bar(np.arange(len(seeds)) + offset, values, width, color=color_for(role), label=LABELS[method])
    ax.set_xticks(range(len(seeds)), [f"seed {s}" for s in seeds])
    ax.set_yscale("log")
    ax.set_ylabel("variance around a fitted line (sum over weights)")
    ax.set_title("(d) spread of weights sampled at the syncs")
    ax.legend(loc="best")


def plot_inner_loop(path, rows, *, alpha, k, lr):
    """Draw the four panels described in ``fig_inner_loop`` and save them to ``path``."""
    trajectory = [r for r in rows if r["panel"] == "trajectory"]
    seed = min(r["seed"] for r in trajectory)
    with apply_style():
        fig, axes = new_figure(2, 2, width=4.4, height=3.2)
        _panel_run(axes[0, 0], trajectory, "test_accuracy", "test accuracy",
                   f"(a) per-update test accuracy, seed {seed} (Fig. 10)", seed)  # fmt: skip
        axes[0, 0].legend(loc="best")
        _panel_run(axes[0, 1], trajectory, "train_loss", "train loss (full pass)", f"(b) train loss, seed {seed}",
                   seed)  # fmt: skip
        _panel_cycle(axes[1, 0], trajectory, k)
        _panel_variance(axes[1, 1], rows)
        fig.suptitle(f"Inner loop vs outer loop: Lookahead(momentum SGD, lr {lr:g}), alpha {alpha:g}, k {k}, "
                     "digits MLP 64-32-10 mid-training (stand-in)")  # fmt: skip
        return save_figure(fig, path)
