"""Drawing for figure ``landscape``, from the csv rows only (so the png shows exactly the data file).

Layout after the paper's Figure 1: the inner loop's plane large on the left,
"SGD continued" above "LookAhead continued" on the right. The three panels
share one colour scale, so a colour means the same accuracy everywhere.
"""

from __future__ import annotations

import numpy as np

from lasandbox.plotting import apply_style, color_for, save_figure
from lasandbox.plotting.landscape import draw_slow_path
from lasandbox.plotting.style import MARKERS

OFF_PLANE = 0.05  # relative distance beyond which a point is drawn hollow: the projection cannot show it
TITLES = {"main": "one inner loop", "sgd_continued": "SGD continued", "lookahead_continued": "LookAhead continued"}


def _grid(rows, panel):
    """(a, b, accuracy in % [num_b, num_a]) of a panel's grid rows."""
    cells = [r for r in rows if r["panel"] == panel and r["kind"] == "grid"]
    num_a, num_b = int(max(r["i"] for r in cells)) + 1, int(max(r["j"] for r in cells)) + 1
    a, b, values = np.empty(num_a), np.empty(num_b), np.empty((num_b, num_a))
    for r in cells:
        i, j = int(r["i"]), int(r["j"])
        a[i], b[j], values[j, i] = r["a"], r["b"], 100 * r["accuracy"]
    return a, b, values


def _series(rows, panel, kind, seed):
    picked = sorted((r for r in rows if r["panel"] == panel and r["kind"] == kind and r["seed"] == seed),
                    key=lambda r: r["step"])  # fmt: skip
    return picked


def _draw_path(ax, points, role, label, marker, linestyle):
    a = np.array([p["a"] for p in points])
    b = np.array([p["b"] for p in points])
    on = np.array([p["relative_distance"] <= OFF_PLANE for p in points])
    color = color_for(role)
    ax.plot(a, b, linestyle, color=color, linewidth=0.9, zorder=3, label=label)
    ax.plot(a[on], b[on], marker, color=color, markersize=3.5, zorder=4)
    if (~on).any():
        ax.plot(a[~on], b[~on], marker, markerfacecolor="none", markeredgecolor=color, markersize=3.5, zorder=4,
                label=f"hollow: > {OFF_PLANE:.0%} off the plane")


def _draw_slow(ax, points, start_label):
    a = np.array([p["a"] for p in points])
    b = np.array([p["b"] for p in points])
    draw_slow_path(ax, a, b, markersize=8, zorder=6, shrink=(4, 5))
    ax.annotate(start_label, (a[0], b[0]), xytext=(5, -11), textcoords="offset points", fontsize=8,
                color="white", fontweight="bold", zorder=7)


def _panel(ax, rows, panel, seed, levels):
    a, b, values = _grid(rows, panel)
    ax.grid(False)
    filled = ax.contourf(a, b, values, levels=levels, cmap="viridis")
    ax.contour(a, b, values, levels=levels[::3], colors="white", linewidths=0.4, alpha=0.5)
    if panel == "sgd_continued":
        sgd = _series(rows, panel, "sgd", seed)
        _draw_path(ax, sgd, "sgd", "momentum SGD", "o", "-")
        ax.annotate(r"start $\theta_k$", (sgd[0]["a"], sgd[0]["b"]), xytext=(5, -11), textcoords="offset points",
                    fontsize=8, color="white", fontweight="bold")
        summary = rf"end $\theta_{{2k}}$: {100 * sgd[-1]['accuracy']:.1f}%"
    else:
        _draw_path(ax, _series(rows, panel, "fast", seed), "fast", "fast weights", MARKERS["fast"], "--")
        slow = _series(rows, panel, "slow", seed)
        _draw_slow(ax, slow, r"start $\phi_0$" if panel == "main" else r"start $\phi_1$")
        name = r"$\phi_1$" if panel == "main" else r"$\phi_2$"
        summary = f"{name}: {100 * slow[-1]['accuracy']:.1f}%"
    ax.set_xlim(a[0], a[-1])
    ax.set_ylim(b[0], b[-1])
    ax.set_aspect("equal")
    ax.set_title(f"{TITLES[panel]} ({summary})", fontsize=9 if panel == "main" else 8)
    return filled


def plot_landscape_figure(path, rows, *, seed, k, alpha):
    """Draw the three panels described in ``fig_landscape`` for ``seed`` and save them to ``path``."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    drawn = [r["accuracy"] for r in rows if r["kind"] == "grid"]
    low, high = 100 * min(drawn), 100 * max(drawn)
    levels = np.linspace(low, high if high > low else low + 1.0, 25)
    with apply_style():
        fig = Figure(figsize=(8.2, 5.0), layout="constrained")
        spec = fig.add_gridspec(2, 2, width_ratios=[2.0, 1.0])
        main = fig.add_subplot(spec[:, 0])
        filled = _panel(main, rows, "main", seed, levels)
        main.set_xlabel(r"$a$ (along $\theta_{k/2} - \theta_0$, weight-space distance)")
        main.set_ylabel(r"$b$ (towards $\theta_k$, orthogonal to $a$)")
        main.legend(loc="upper left", fontsize=7, frameon=True, framealpha=0.8)
        for row, panel in enumerate(("sgd_continued", "lookahead_continued")):
            ax = fig.add_subplot(spec[row, 1])
            _panel(ax, rows, panel, seed, levels)
            ax.tick_params(labelsize=6)
            if panel == "sgd_continued":
                # Only the new symbol: the others read as in the main panel, and legends hide small panels.
                handles, labels = ax.get_legend_handles_labels()
                ax.legend(handles[:1], labels[:1], loc="upper left", fontsize=6, frameon=True, framealpha=0.8)
        bar = fig.colorbar(filled, ax=fig.axes, label="test accuracy on digits (%)", shrink=0.85)
        bar.locator = MaxNLocator(7)  # round ticks, not the 25 level boundaries
        bar.update_ticks()
        fig.suptitle(f"Lookahead(momentum SGD), k = {k}, alpha = {alpha:g}: accuracy on the plane of one inner loop "
                     "(each panel on its own plane, one colour scale)", fontsize=9)  # fmt: skip
        return save_figure(fig, path)
