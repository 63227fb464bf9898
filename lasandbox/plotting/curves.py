"""Curves along a run: a metric after every fast update with the slow weights overlaid (the paper's Figure 10).

``plot_inner_loop`` draws given numbers; ``plot_trajectory_metric`` first
evaluates a recorded ``Trajectory`` (every fast update and slow point).

Like every plot in the package, each function writes the numbers it draws to
a csv file beside the png and returns them (``SavedPlot``). ``write_csv`` and
``SavedPlot`` are shared with ``lasandbox.plotting.landscape``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lasandbox.plotting.style import LINESTYLES, MARKERS, apply_style, color_for, new_figure, save_figure


@dataclass
class SavedPlot:
    """Where a plot went and the numbers it shows: ``data[column] -> array`` (as in the csv)."""

    png: Path
    data_path: Path
    data: dict


def write_csv(path, columns):
    """Write equal-length columns (numbers or strings; NaN/None as empty cells) to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(columns)
    lengths = {len(columns[name]) for name in names}
    if len(lengths) > 1:
        raise ValueError(f"csv columns must have equal lengths, got {dict((n, len(columns[n])) for n in names)}")
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in zip(*(columns[name] for name in names), strict=True):
            writer.writerow([_cell(value) for value in row])
    return path


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{float(value):.9g}"
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    return value


def read_csv(path):
    """The columns of a csv written by ``write_csv`` (numeric columns as float arrays, empty cells as NaN)."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    names, body = rows[0], rows[1:]
    columns = {}
    for j, name in enumerate(names):
        cells = [row[j] for row in body]
        try:
            columns[name] = np.array([float(c) if c != "" else np.nan for c in cells])
        except ValueError:
            columns[name] = np.array(cells, dtype=object)
    return columns


def data_path_for(png_path, suffix=".csv"):
    """``figures/x.png`` -> ``figures/x.csv``: the data file that sits beside a figure."""
    return Path(png_path).with_suffix(suffix)


def plot_inner_loop(fast_steps, fast_values, slow_steps, slow_values, path, *, ylabel="test accuracy", k=None,
                    title=None, dpi=200):
    """A metric after every fast update (thin line) with the slow weights' values on top (bold triangles).

    ``k`` draws a faint vertical line at every sync. Writes ``path`` (png) and
    the csv beside it (``series, step, value``); returns ``SavedPlot``.
    """
    fast_steps, fast_values = np.asarray(fast_steps), np.asarray(fast_values, dtype=np.float64)
    slow_steps, slow_values = np.asarray(slow_steps), np.asarray(slow_values, dtype=np.float64)
    if fast_steps.shape != fast_values.shape or slow_steps.shape != slow_values.shape:
        raise ValueError("each steps array must have the shape of its values array")
    if fast_steps.size == 0:
        raise ValueError("fast_steps is empty: nothing to plot")
    with apply_style():
        fig, ax = new_figure(width=5.0, height=2.8)
        if k:
            for sync in range(0, int(fast_steps.max()) + 1, int(k)):
                if sync >= fast_steps.min():
                    ax.axvline(sync, color=color_for("reference"), linewidth=0.5, alpha=0.5, zorder=0)
        ax.plot(fast_steps, fast_values, LINESTYLES["fast"], color=color_for("fast"), linewidth=0.9,
                marker=MARKERS["fast"], markersize=2.5, label="fast weights (after each update)")
        if slow_steps.size:
            ax.plot(slow_steps, slow_values, LINESTYLES["slow"], color=color_for("slow"), linewidth=1.6,
                    marker=MARKERS["slow"], markersize=6, label="slow weights", zorder=3)
        ax.set_xlabel("fast update (optimizer step)")
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        ax.legend(loc="best")
        png = save_figure(fig, path, dpi=dpi)
    data = {
        "series": ["fast"] * fast_steps.size + ["slow"] * slow_steps.size,
        "step": np.concatenate([fast_steps, slow_steps]).astype(np.int64),
        "value": np.concatenate([fast_values, slow_values]),
    }
    return SavedPlot(png, write_csv(data_path_for(png), data), data)


def plot_trajectory_metric(model, trajectory, x, y, path, *, metric="accuracy", data_name="", title=None, dpi=200):
    """Evaluate every recorded fast update and slow point of ``trajectory`` on ``(x, y)`` and plot them.

    The fast value at a sync step is that of the inner loop's end (before the
    pull-back), as in the paper's Figure 10. One autograd forward per snapshot.
    """
    from lasandbox.landscape.grid import evaluate_weights
    from lasandbox.utils.validation import check_choice

    check_choice("metric", metric, ("accuracy", "loss"))
    steps, updates = trajectory.fast_updates()
    column = 1 if metric == "accuracy" else 0
    fast = evaluate_weights(model, updates, x, y)[column]
    slow = evaluate_weights(model, trajectory.slow, x, y)[column] if len(trajectory.slow) else np.zeros(0)
    label = ("accuracy" if metric == "accuracy" else "cross-entropy") + (f" on {data_name}" if data_name else "")
    return plot_inner_loop(steps, fast, trajectory.slow_steps, slow, path, ylabel=label, k=trajectory.k,
                           title=title, dpi=dpi)
