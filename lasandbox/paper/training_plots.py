"""Drawing helpers shared by the training figures (``alpha_k``, ``optimizers``): curves with a seed band, dot plots."""

from __future__ import annotations

import numpy as np


def seed_curves(rows, column="train_loss", **match):
    """(epochs, values[seed, epoch]) of the ``curve`` rows matching ``match`` (NaN where a run diverged)."""
    runs = {}
    for r in rows:
        if r["panel"] == "curve" and all(r.get(key) == value for key, value in match.items()):
            runs.setdefault(r["seed"], []).append((r["epoch"], r[column]))
    values = np.array([[v for _, v in sorted(points)] for _, points in sorted(runs.items())], dtype=float)
    return np.arange(values.shape[1]), values


def plot_band(ax, epochs, values, *, label, color, linestyle="-"):
    """Mean over seeds as a line, min..max over seeds as a shaded band."""
    with np.errstate(all="ignore"):
        mean = np.nanmean(values, axis=0)
        low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    ax.plot(epochs, mean, linestyle, color=color, label=label)
    if len(values) > 1:
        ax.fill_between(epochs, low, high, color=color, alpha=0.15, lw=0)


def plot_final_dots(ax, position, finals, *, color, marker="o"):
    """Every seed's final value as a small dot, and mean +- std (ddof 1) as a larger marker with bars."""
    finals = np.asarray(finals, dtype=float)
    finals = finals[np.isfinite(finals)]
    if finals.size == 0:
        return
    jitter = np.linspace(-0.12, 0.12, finals.size) if finals.size > 1 else np.zeros(1)
    ax.plot(position + jitter, finals, ".", color=color, alpha=0.5, ms=4)
    std = finals.std(ddof=1) if finals.size > 1 else 0.0
    ax.errorbar([position + 0.25], [finals.mean()], yerr=[std], fmt=marker, color=color, capsize=3, ms=6)
