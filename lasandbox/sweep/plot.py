"""Heatmaps of a sweep's results: one metric over two parameters, mean over seeds, std written in each cell.

Parameters other than ``x`` and ``y`` that take several values in the store
become small multiples: one panel per combination (rows = the first such
parameter's values when there are two or more, columns = the rest), all on one
colour scale so panels can be compared by eye. The png comes with a csv of
exactly the numbers drawn (one row per cell).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np

from lasandbox.sweep.grid import format_value
from lasandbox.sweep.store import load_results


def _sort_key(value):
    # None ("none", e.g. no Lookahead) first, then numbers in order, then text.
    if value is None:
        return (0, 0.0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, float(value), "")
    return (2, 0.0, str(value))


def _select_rows(store, task, x, y, metric):
    rows = load_results(store, task=task)
    if not rows:
        raise ValueError(f"the store {str(store)!r} holds no finished runs" + (f" of task {task!r}" if task else ""))
    tasks = sorted({row["task"] for row in rows})
    if len(tasks) > 1:
        raise ValueError(f"the store holds several tasks ({', '.join(tasks)}); choose one with task=/--task")
    params = list(rows[0]["config"])
    for axis, name in (("x", x), ("y", y)):
        if name not in params:
            raise ValueError(f"{axis}={name!r} is not a parameter of task {tasks[0]!r}; "
                             f"parameters: {', '.join(params)}")
    if x == y:
        raise ValueError(f"x and y must be different parameters, both are {x!r}")
    metrics = sorted(set().union(*(row["final_metrics"] or {} for row in rows)))
    if metric not in metrics:
        raise ValueError(f"metric {metric!r} is not recorded for task {tasks[0]!r}; "
                         f"final metrics: {', '.join(metrics)}")
    return tasks[0], rows, params


def summarise(rows, params, x, y, metric):
    """Cells ``{(facet values, x value, y value): (mean, std, n_seeds, n_diverged)}`` and the facet parameters."""
    varying = [p for p in params if p not in (x, y) and len({_freeze(r["config"][p]) for r in rows}) > 1]
    values = {}
    for row in rows:
        config = row["config"]
        key = (tuple(config[p] for p in varying), config[x], config[y])
        metric_value = row["final_metrics"].get(metric)
        values.setdefault(key, []).append(math.nan if metric_value is None else float(metric_value))
    cells = {}
    for key, samples in values.items():
        samples = np.asarray(samples)
        finite = samples[np.isfinite(samples)]
        mean = float(finite.mean()) if finite.size else math.nan
        std = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
        cells[key] = (mean, std, int(samples.size), int(samples.size - finite.size))
    return cells, varying


def _freeze(value):
    return tuple(value) if isinstance(value, list) else value


def _panel_layout(cells, varying):
    facets = sorted({key[0] for key in cells}, key=lambda facet: [_sort_key(v) for v in facet])
    if len(varying) >= 2:
        row_values = sorted({facet[0] for facet in facets}, key=_sort_key)
        col_values = sorted({facet[1:] for facet in facets}, key=lambda rest: [_sort_key(v) for v in rest])
        return [[(r, *c) for c in col_values] for r in row_values]
    ncols = min(len(facets), 4)
    grid = [facets[i : i + ncols] for i in range(0, len(facets), ncols)]
    grid[-1] = grid[-1] + [None] * (ncols - len(grid[-1]))
    return grid


def plot_sweep(store, x, y, metric="final_loss", *, task=None, out_dir=None, log_scale=None):
    """Draw the heatmap(s) of ``metric`` over ``x`` and ``y``; return ``(png path, csv path)``.

    ``log_scale=None`` picks a log colour scale when every mean is positive and
    they span more than two decades. Files go to ``out_dir`` (default: a
    ``plots`` folder next to the store) as ``<task>_<metric>_<x>_<y>.png/.csv``.
    """
    from matplotlib.colors import LogNorm, Normalize

    from lasandbox.paper.tables import write_tidy_csv
    from lasandbox.plotting import apply_style, new_figure, save_figure

    task, rows, params = _select_rows(store, task, x, y, metric)
    cells, varying = summarise(rows, params, x, y, metric)
    xs = sorted({key[1] for key in cells}, key=_sort_key)
    ys = sorted({key[2] for key in cells}, key=_sort_key)
    layout = _panel_layout(cells, varying)
    means = np.array([cell[0] for cell in cells.values()])
    finite = means[np.isfinite(means)]
    if log_scale is None:
        log_scale = bool(finite.size) and finite.min() > 0 and finite.max() / finite.min() > 100
    if log_scale and finite.size and finite.min() <= 0:
        raise ValueError(f"a log colour scale needs positive values of {metric!r}")
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    norm = LogNorm(low, high) if log_scale else Normalize(low, high if high > low else low + 1)

    out_dir = Path(out_dir) if out_dir is not None else Path(store).resolve().parent / "plots"
    stem = f"{task}_{metric}_{x}_{y}"
    nrows, ncols = len(layout), len(layout[0])
    with apply_style():
        fig, axes = new_figure(nrows, ncols, width=0.55 * len(xs) + 1.6, height=0.42 * len(ys) + 1.2)
        axes = np.atleast_1d(axes).reshape(nrows, ncols)
        image = None
        for (i, row), j in itertools.product(enumerate(layout), range(ncols)):
            facet, ax = row[j], axes[i, j]
            if facet is None:
                ax.set_axis_off()
                continue
            grid = np.full((len(ys), len(xs)), np.nan)
            for (a, xv), (b, yv) in itertools.product(enumerate(xs), enumerate(ys)):
                cell = cells.get((tuple(facet), xv, yv))
                if cell is None:
                    continue
                mean, std, n_seeds, n_diverged = cell
                grid[b, a] = mean
                text = "n/a" if math.isnan(mean) else f"{mean:.3g}" + ("" if math.isnan(std) else f"\n±{std:.2g}")
                if n_diverged:
                    text += f"\n{n_diverged}/{n_seeds} div"
                shade = norm(mean) if not math.isnan(mean) else 1.0
                ax.text(a, b, text, ha="center", va="center", fontsize=6.5,
                        color="white" if shade < 0.55 else "black")
            image = ax.imshow(np.ma.masked_invalid(grid), norm=norm, origin="lower", aspect="auto")
            ax.set_facecolor("#dddddd")  # missing or diverged cells stay grey
            ax.grid(False)
            ax.set_xticks(range(len(xs)), [format_value(v) for v in xs])
            ax.set_yticks(range(len(ys)), [format_value(v) for v in ys])
            ax.set_xlabel(x)
            ax.set_ylabel(y)
            if varying:
                ax.set_title(", ".join(f"{p}={format_value(v)}" for p, v in zip(varying, facet, strict=True)))
        seeds = max(cell[2] for cell in cells.values())
        fig.suptitle(f"{task}: {metric}, mean over seeds (up to {seeds}), ± std")
        fig.colorbar(image, ax=axes.ravel().tolist(), label=metric, shrink=0.9)
        png = save_figure(fig, out_dir / f"{stem}.png")
    columns = [*varying, x, y, "metric", "mean", "std", "n_seeds", "n_diverged"]
    csv_rows = []
    for (facet, xv, yv), (mean, std, n_seeds, n_diverged) in sorted(
            cells.items(), key=lambda item: [_sort_key(v) for v in (*item[0][0], item[0][1], item[0][2])]):
        # "none" (e.g. no Lookahead) is a value here, not a missing cell.
        named = {p: "none" if v is None else v for p, v in zip([*varying, x, y], [*facet, xv, yv], strict=True)}
        csv_rows.append({**named, "metric": metric, "mean": mean,
                         "std": std, "n_seeds": n_seeds, "n_diverged": n_diverged})
    csv_path = write_tidy_csv(out_dir / f"{stem}.csv", csv_rows, columns)
    return png, csv_path
