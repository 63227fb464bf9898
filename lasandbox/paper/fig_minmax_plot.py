"""Drawing for figure ``minmax``, from the csv rows only."""

from __future__ import annotations

import numpy as np

from lasandbox.plotting import apply_style, color_for, new_figure, save_figure, sequence_color

GAN_STYLE = {"gda": (color_for("sgd"), "--"), "la_gda": (color_for("sgd"), "-"),
             "adam": (color_for("adam"), "--"), "la_adam": (color_for("slow"), "-")}  # fmt: skip


def _panel_grid(ax, rows):
    alphas = sorted({r["alpha"] for r in rows})
    ks = sorted({r["k"] for r in rows})
    rate = np.full((len(alphas), len(ks)), np.nan)
    for r in rows:
        rate[alphas.index(r["alpha"]), ks.index(r["k"])] = r["rho_step"]
    from matplotlib.colors import TwoSlopeNorm

    # Log rate, centred on rho = 1 (white): blue converges, red diverges, each side on its own scale.
    gap = np.log(rate)
    norm = TwoSlopeNorm(0.0, vmin=min(np.nanmin(gap), -1e-9), vmax=max(np.nanmax(gap), 1e-9))
    mesh = ax.pcolormesh(ks, alphas, gap, cmap="RdBu_r", norm=norm, shading="nearest")
    if np.nanmin(rate) < 1 < np.nanmax(rate):
        ax.contour(ks, alphas, rate, levels=[1.0], colors="k", linewidths=1.0)
    simulated = [r for r in rows if r.get("rho_cycle_simulated") is not None]
    ax.plot([r["k"] for r in simulated], [r["alpha"] for r in simulated], "o", ms=3.5, mfc="none", color="k")
    bar = ax.figure.colorbar(mesh, ax=ax, shrink=0.9)
    bar.set_label("log rate per GDA step (< 0 converges)")
    ax.set_xlabel("k (GDA steps per sync)")
    ax.set_ylabel("alpha")
    ax.set_title(f"(a) x*y, lr {rows[0]['lr']:g}: rate per step (GDA {rows[0]['rho_gda']:.4f}); rho = 1 "
                 "line, o simulated")


def _panel_rate_vs_k(ax, rows):
    for index, eta in enumerate(sorted({r["eta"] for r in rows})):
        line = sorted((r for r in rows if r["eta"] == eta), key=lambda r: r["k"])
        color = sequence_color(index)
        ks = np.array([r["k"] for r in line])
        ax.plot(ks, [r["rho_step"] for r in line], color=color, lw=1.2, label=f"lr*s = {eta:g}")
        ax.axhline(line[0]["rho_gda"], color=color, ls="--", lw=0.8)
        simulated = [r for r in line if r.get("rho_cycle_simulated") is not None]
        ax.plot([r["k"] for r in simulated], [r["rho_cycle_simulated"] ** (1 / r["k"]) for r in simulated], "o",
                ms=3.5, mfc="none", color=color)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.plot([], [], "--", color="k", lw=0.8, label="GDA")
    ax.plot([], [], "o", mfc="none", color="k", label="simulated")
    ax.set_xlabel("k")
    ax.set_ylabel("rate per GDA step")
    ax.set_title(f"(b) alpha {rows[0]['alpha']:g}: Lookahead-minmax vs GDA")
    ax.legend(loc="lower right", ncol=2)


def _panel_trajectory(ax, rows):
    gda = [r for r in rows if r["method"] == "gda"]
    fast = [r for r in rows if r["method"] == "lookahead_minmax" and r["weights"] == "fast"]
    slow = [r for r in rows if r["method"] == "lookahead_minmax" and r["weights"] == "slow"]
    ax.plot([r["x"] for r in gda], [r["y"] for r in gda], color=color_for("sgd"), lw=0.9, label="GDA")
    ax.plot([r["x"] for r in fast], [r["y"] for r in fast], "--", color=color_for("fast"), lw=0.8,
            label="LA-minmax fast")
    ax.plot([r["x"] for r in slow], [r["y"] for r in slow], "-^", color=color_for("slow"), ms=3, lw=1.0,
            label="LA-minmax slow")
    ax.plot([0], [0], "*", color="r", ms=9, label="solution")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    k, alpha = slow[0]["k"], slow[0]["alpha"]
    ax.set_title(f"(c) {int(gda[-1]['iteration'])} steps from (1, 1), alpha {alpha:g}, k {k:g}")
    ax.legend(loc="lower left")


def _seed_band(ax, rows, column, labels):
    for method, (color, style) in GAN_STYLE.items():
        line = [r for r in rows if r["method"] == method]
        if not line:
            continue
        iterations = sorted({r["iteration"] for r in line})
        values = np.array([[r[column] for r in line if r["iteration"] == t] for t in iterations], dtype=float)
        ax.plot(iterations, np.nanmean(values, axis=1), style, color=color, label=labels.get(method, method))
        ax.fill_between(iterations, np.nanmin(values, axis=1), np.nanmax(values, axis=1), color=color, alpha=0.12)
    ax.set_xlabel("iteration")


def _panel_samples(fig, cell, rows, labels):
    grid = cell.subgridspec(2, 2, wspace=0.05, hspace=0.05)
    angles = 2 * np.pi * np.arange(8) / 8
    for index, method in enumerate(GAN_STYLE):
        ax = fig.add_subplot(grid[index // 2, index % 2])
        points = [r for r in rows if r["method"] == method]
        ax.plot([r["x"] for r in points], [r["y"] for r in points], ".", ms=1.5, color=GAN_STYLE[method][0])
        ax.plot(2 * np.cos(angles), 2 * np.sin(angles), "x", color="k", ms=4)
        ax.set(xlim=(-3, 3), ylim=(-3, 3), xticks=[], yticks=[], aspect="equal")
        ax.set_title(("(f) " if index == 0 else "") + labels.get(method, method), fontsize=8)


def plot_minmax(path, rows, *, labels):
    """Draw the six panels described in ``fig_minmax`` and save them to ``path``."""
    by_panel = {}
    for r in rows:
        by_panel.setdefault(r["panel"], []).append(r)
    with apply_style():
        fig, axes = new_figure(2, 3, width=4.2, height=3.4)
        _panel_grid(axes[0, 0], by_panel["grid"])
        _panel_rate_vs_k(axes[0, 1], by_panel["rate_vs_k"])
        _panel_trajectory(axes[0, 2], by_panel["trajectory"])
        curves = by_panel["gan_curve"]
        _seed_band(axes[1, 0], curves, "modes", labels)
        axes[1, 0].set_ylabel("modes covered (of 8)")
        axes[1, 0].set_title("(d) GAN on 8 Gaussians: modes covered")
        axes[1, 0].legend(loc="upper left")
        _seed_band(axes[1, 1], curves, "sliced_w1", labels)
        axes[1, 1].axhline(curves[0]["sliced_w1_floor"], color=color_for("reference"), ls=":", lw=0.9,
                           label="two data samples")
        axes[1, 1].set_yscale("log")
        axes[1, 1].set_ylabel("sliced Wasserstein-1 to the data")
        axes[1, 1].set_title("(e) distance to the data (mean, min..max over seeds)")
        axes[1, 1].legend(loc="lower left")
        cell = axes[1, 2].get_subplotspec()
        axes[1, 2].remove()
        _panel_samples(fig, cell, by_panel["gan_samples"], labels)
        fig.suptitle("Lookahead-minmax (Chavdarova et al. 2021): bilinear game x*y and a GAN on a ring of 8 Gaussians")
        return save_figure(fig, path)
