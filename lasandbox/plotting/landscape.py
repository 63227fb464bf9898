"""Loss-landscape figures: filled contour with trajectories (Figure 1), 3-D surface, 1-D interpolation.

Each function draws with the package style, writes the png and a csv of
exactly what is drawn beside it, and returns ``SavedPlot``. The contour's
csv is in long form, one row per drawn point: ``series`` is ``grid``,
``fast`` or ``slow``; grid rows carry ``loss`` and ``accuracy`` (a
fraction); trajectory rows carry ``step``, their plane coordinates and their
``distance`` from the plane. Trajectory points further than
``off_plane`` (relative) from the plane are drawn hollow: the projection is
honest about what it cannot show.
"""

from __future__ import annotations

import numpy as np

from lasandbox.landscape.directions import path_end_index
from lasandbox.plotting.curves import SavedPlot, data_path_for, write_csv
from lasandbox.plotting.style import LINESTYLES, MARKERS, apply_style, color_for, new_figure, save_figure
from lasandbox.utils.validation import check_choice, check_real

METRICS = ("accuracy", "loss")


def _metric_surface(grid, metric):
    values = grid.accuracy * 100 if metric == "accuracy" else grid.loss
    where = f" on {grid.data_name}" if grid.data_name else ""
    label = f"accuracy{where} (%)" if metric == "accuracy" else f"cross-entropy{where}"
    return values, label


def _axis_labels(ax, plane):
    if plane.basis == "raw":
        ax.set_xlabel(r"$a$ (along $\theta_{mid} - \theta_0$)")
        ax.set_ylabel(r"$b$ (along $\theta_{end} - \theta_0$)")
    else:
        ax.set_xlabel(f"$a$ ({plane.basis} direction 1)")
        ax.set_ylabel(f"$b$ ({plane.basis} direction 2)")


def _project_trajectory(plane, trajectory):
    steps, points, is_end = trajectory.fast_path()
    fast = (steps, plane.project(points), is_end)
    slow = (np.asarray(trajectory.slow_steps), plane.project(trajectory.slow)) if len(trajectory.slow) else None
    return fast, slow


def plot_landscape(grid, path, *, trajectory=None, metric="accuracy", title=None, levels=24, off_plane=0.05,
                   label_ends=True, dpi=200):
    """Filled contour of ``metric`` over ``grid`` with the fast and slow trajectories projected on its plane.

    Fast weights: thin dashed blue line with small squares (the inner loops
    and the pull-back at each sync); slow weights: bold purple triangles
    joined in order by arrows; ``start`` and ``end`` mark the first and last
    fast points.
    """
    check_choice("metric", metric, METRICS)
    off_plane = check_real("off_plane", off_plane, low=0.0)
    values, label = _metric_surface(grid, metric)
    fast = slow = None
    if trajectory is not None:
        fast, slow = _project_trajectory(grid.plane, trajectory)
    with apply_style():
        # Equal axis scales for an orthonormal plane (true angles and distances): size the figure to the box.
        ratio = (grid.b[-1] - grid.b[0]) / (grid.a[-1] - grid.a[0]) if grid.plane.orthonormal else 0.85
        fig, ax = new_figure(width=4.6, height=float(np.clip(3.5 * ratio, 1.6, 6.0)) + 0.5)
        ax.grid(False)
        filled = ax.contourf(grid.a, grid.b, values, levels=levels, cmap="viridis")
        ax.contour(grid.a, grid.b, values, levels=filled.levels[::3], colors="white", linewidths=0.4, alpha=0.5)
        fig.colorbar(filled, ax=ax, label=label, shrink=0.9)
        if fast is not None:
            _draw_fast(ax, fast, off_plane, label_ends)
        if slow is not None:
            _draw_slow(ax, slow)
        _axis_labels(ax, grid.plane)
        if grid.plane.orthonormal:
            ax.set_aspect("equal")
        ax.set_xlim(grid.a[0], grid.a[-1])
        ax.set_ylim(grid.b[0], grid.b[-1])
        if title:
            ax.set_title(title)
        if fast is not None:
            ax.legend(loc="upper left", fontsize=7, frameon=True, framealpha=0.8)
        png = save_figure(fig, path, dpi=dpi)
    data = _landscape_table(grid, fast, slow)
    return SavedPlot(png, write_csv(data_path_for(png), data), data)


def _draw_fast(ax, fast, off_plane, label_ends):
    steps, projection, is_end = fast
    a, b = projection.a, projection.b
    color = color_for("fast")
    ax.plot(a, b, LINESTYLES["fast"], color=color, linewidth=0.8, zorder=3, label="fast weights")
    on = projection.relative_distance <= off_plane
    ax.plot(a[on], b[on], MARKERS["fast"], color=color, markersize=3, zorder=4)
    if (~on).any():
        ax.plot(a[~on], b[~on], MARKERS["fast"], markerfacecolor="none", markeredgecolor=color, markersize=3,
                markeredgewidth=0.7, zorder=4, label=f"fast, hollow: > {off_plane:.0%} off the plane")
    if label_ends:
        for index, text in ((0, "start"), (path_end_index(steps, is_end), "end")):
            ax.annotate(text, (a[index], b[index]), xytext=(4, -9 if text == "start" else 4),
                        textcoords="offset points", fontsize=8, color="white", fontweight="bold", zorder=6)


def _draw_slow(ax, slow):
    _, projection = slow
    draw_slow_path(ax, projection.a, projection.b)


def draw_slow_path(ax, a, b, *, markersize=7, zorder=5, shrink=(3, 4)):
    """The slow weights at plane coordinates ``(a, b)``: markers joined by arrows, in visiting order.

    ``shrink`` is how far (points) each arrow stops short of its start and end markers.
    """
    color = color_for("slow")
    ax.plot(a, b, MARKERS["slow"], color=color, markersize=markersize, markeredgecolor="white",
            markeredgewidth=0.6, zorder=zorder, label="slow weights")
    for i in range(len(a) - 1):
        ax.annotate("", xy=(a[i + 1], b[i + 1]), xytext=(a[i], b[i]), zorder=5,
                    arrowprops={"arrowstyle": "-|>", "color": color, "linewidth": 1.8, "shrinkA": shrink[0],
                                "shrinkB": shrink[1]})


def _landscape_table(grid, fast, slow):
    mesh_a, mesh_b = np.meshgrid(grid.a, grid.b)
    n_grid = mesh_a.size
    series = ["grid"] * n_grid
    columns = {"step": [np.full(n_grid, np.nan)], "a": [mesh_a.ravel()], "b": [mesh_b.ravel()],
               "loss": [grid.loss.ravel()], "accuracy": [grid.accuracy.ravel()],
               "distance": [np.full(n_grid, np.nan)], "inner_end": [np.full(n_grid, np.nan)]}
    for name, part in (("fast", fast), ("slow", slow)):
        if part is None:
            continue
        steps, projection = part[0], part[1]
        n = len(steps)
        series += [name] * n
        columns["step"].append(np.asarray(steps, dtype=np.float64))
        columns["a"].append(projection.a)
        columns["b"].append(projection.b)
        columns["loss"].append(np.full(n, np.nan))
        columns["accuracy"].append(np.full(n, np.nan))
        columns["distance"].append(projection.distance)
        columns["inner_end"].append(part[2].astype(np.float64) if name == "fast" else np.full(n, np.nan))
    data = {"series": series}
    data.update({name: np.concatenate(parts) for name, parts in columns.items()})
    return data


def plot_surface(grid, path, *, metric="loss", log_scale=False, title=None, dpi=200):
    """3-D surface of ``metric`` over the grid, with its contour drawn on the floor."""
    check_choice("metric", metric, METRICS)
    values, label = _metric_surface(grid, metric)
    if log_scale:
        if np.any(values <= 0):
            raise ValueError("log_scale needs positive values; accuracy can be 0, use metric='loss'")
        values, label = np.log10(values), f"log10 {label}"
    mesh_a, mesh_b = np.meshgrid(grid.a, grid.b)
    with apply_style():
        fig, ax = new_figure(width=4.6, height=3.8, subplot_kw={"projection": "3d"})
        floor = values.min() - 0.15 * (values.max() - values.min() + 1e-12)
        ax.plot_surface(mesh_a, mesh_b, values, cmap="viridis", linewidth=0, antialiased=True, alpha=0.95,
                        rcount=min(len(grid.b), 80), ccount=min(len(grid.a), 80))
        ax.contour(mesh_a, mesh_b, values, zdir="z", offset=floor, levels=12, cmap="viridis", linewidths=0.6)
        ax.set_zlim(floor, values.max())
        _axis_labels(ax, grid.plane)
        ax.set_zlabel(label)
        ax.view_init(elev=32, azim=-58)
        if title:
            ax.set_title(title)
        png = save_figure(fig, path, dpi=dpi)
    data = {"a": mesh_a.ravel(), "b": mesh_b.ravel(), "loss": grid.loss.ravel(), "accuracy": grid.accuracy.ravel()}
    return SavedPlot(png, write_csv(data_path_for(png), data), data)


def plot_interpolation(lines, path, *, labels=None, title=None, dpi=200):
    """Loss and accuracy along one or more 1-D interpolations (``LineResult``), t = 0 and 1 marked."""
    lines = [lines] if not isinstance(lines, (list, tuple)) else list(lines)
    if not lines:
        raise ValueError("lines is empty: nothing to plot")
    labels = [f"line {i}" for i in range(len(lines))] if labels is None else list(labels)
    if len(labels) != len(lines):
        raise ValueError(f"labels has {len(labels)} entries for {len(lines)} lines")
    with apply_style():
        fig, (ax_loss, ax_acc) = new_figure(1, 2, width=3.2, height=2.6)
        for i, (line, name) in enumerate(zip(lines, labels, strict=True)):
            color = color_for(name) if name.lower() in ("slow", "fast", "sgd", "lookahead") else None
            ax_loss.plot(line.t, line.loss, color=color, label=name, zorder=3 + i)
            ax_acc.plot(line.t, line.accuracy * 100, color=color, label=name, zorder=3 + i)
        for ax in (ax_loss, ax_acc):
            for end in (0.0, 1.0):
                ax.axvline(end, color=color_for("reference"), linewidth=0.6, linestyle=":")
            ax.set_xlabel("interpolation t (0 = start, 1 = end)")
        ax_loss.set_ylabel("cross-entropy")
        ax_acc.set_ylabel("accuracy (%)")
        ax_loss.legend(loc="best")
        if title:
            fig.suptitle(title)
        png = save_figure(fig, path, dpi=dpi)
    data = {"line": [name for line, name in zip(lines, labels, strict=True) for _ in line.t],
            "t": np.concatenate([line.t for line in lines]),
            "loss": np.concatenate([line.loss for line in lines]),
            "accuracy": np.concatenate([line.accuracy for line in lines])}
    return SavedPlot(png, write_csv(data_path_for(png), data), data)
