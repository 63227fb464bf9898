"""Drawing for figure ``robustness``, from the csv rows only (so the png shows exactly the data file)."""

from __future__ import annotations

import numpy as np

from lasandbox.plotting import apply_style, new_figure, save_figure, sequence_color

TITLES = {"momentum": "momentum SGD", "lookahead": "Lookahead(momentum SGD)"}


def _cell_grid(rows, method, column):
    cells = [r for r in rows if r["panel"] == "cell" and r["method"] == method]
    lrs = sorted({r["lr"] for r in cells})
    momenta = sorted({r["momentum"] for r in cells})
    grid = np.full((len(momenta), len(lrs)), np.nan)
    for r in cells:
        grid[momenta.index(r["momentum"]), lrs.index(r["lr"])] = r[column]
    return lrs, momenta, grid


def _heatmaps(fig, axes, rows):
    import matplotlib as mpl

    grids = {m: _cell_grid(rows, m, "train_loss") for m in TITLES}
    values = np.concatenate([g[2][np.isfinite(g[2])] for g in grids.values()])
    norm = mpl.colors.LogNorm(values.min(), values.max()) if values.size else None
    for ax, method in zip(axes, TITLES, strict=True):
        lrs, momenta, grid = grids[method]
        _, _, std = _cell_grid(rows, method, "train_loss_std")
        image = ax.imshow(grid, origin="lower", cmap="viridis", norm=norm, aspect="auto")
        for (i, j), value in np.ndenumerate(grid):
            text = "diverged" if not np.isfinite(value) else f"{value:.3f}"
            if np.isfinite(std[i, j]) and std[i, j] > 0:
                text += f"\n+-{std[i, j]:.3f}"
            shade = norm(value) if norm is not None and np.isfinite(value) else 0.0
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if shade < 0.6 else "black")
        ax.set_xticks(range(len(lrs)), [f"{lr:g}" for lr in lrs])
        ax.set_yticks(range(len(momenta)), [f"{m:g}" for m in momenta])
        ax.set_xlabel("learning rate")
        ax.set_ylabel("momentum")
        ax.grid(False)
    axes[0].set_title(f"(a) {TITLES['momentum']}: final train loss")
    axes[1].set_title(f"(b) {TITLES['lookahead']}: final train loss")
    fig.colorbar(image, ax=list(axes), label="final train loss (mean over seeds)")


def _mean_curve(rows, method, lr, momentum):
    runs = {}
    for r in rows:
        if r["panel"] == "curve" and r["method"] == method and r["lr"] == lr and r["momentum"] == momentum:
            runs.setdefault(r["seed"], []).append((r["epoch"], r["train_loss"]))
    curves = np.array([[loss for _, loss in sorted(points)] for points in runs.values()], dtype=float)
    with np.errstate(all="ignore"):
        return np.arange(curves.shape[1]), np.nanmean(curves, axis=0)


def _curves(ax, rows, fixed, varied, values, title):
    for index, value in enumerate(values):
        setting = {fixed[0]: fixed[1], varied: value}
        for method, style in (("momentum", ":"), ("lookahead", "-")):
            epochs, loss = _mean_curve(rows, method, setting["lr"], setting["momentum"])
            label = f"{'SGD' if method == 'momentum' else 'LA'} {varied} {value:g}"
            ax.plot(epochs, loss, style, color=sequence_color(index), lw=1.6 if method == "lookahead" else 1.2,
                    label=label)  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("train loss (full pass, mean over seeds)")
    ax.set_title(title)
    ax.legend(ncol=2, loc="best")


def plot_robustness(path, rows, *, protocol, alpha, k):
    """Draw the four panels described in ``fig_robustness`` and save them to ``path``."""
    lrs = sorted({r["lr"] for r in rows if r["panel"] == "cell"})
    momenta = sorted({r["momentum"] for r in rows if r["panel"] == "cell"})
    with apply_style():
        fig, axes = new_figure(2, 2, width=4.4, height=3.3)
        _heatmaps(fig, axes[0], rows)
        _curves(axes[1, 0], rows, ("momentum", momenta[0]), "lr", lrs,
                f"(c) momentum {momenta[0]:g}, varying lr (Fig. 8a)")  # fmt: skip
        _curves(axes[1, 1], rows, ("lr", lrs[0]), "momentum", momenta,
                f"(d) lr {lrs[0]:g}, varying momentum (Fig. 8b)")  # fmt: skip
        fig.suptitle(f"Robustness to the inner optimizer: momentum SGD (dotted) vs Lookahead alpha {alpha:g}, "
                     f"k {k} (solid, slow weights); {protocol.task} {protocol.model.upper()}, {protocol.epochs} epochs "
                     "(stand-in)")
        return save_figure(fig, path)
