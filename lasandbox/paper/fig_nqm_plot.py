"""Drawing for figure ``nqm``, from the csv rows only (so the png shows exactly the data file)."""

from __future__ import annotations

import numpy as np

from lasandbox.plotting import apply_style, color_for, new_figure, save_figure, sequence_color


def _select(rows, **match):
    return [r for r in rows if all(r.get(key) == value for key, value in match.items())]


def _column(rows, name):
    return np.array([np.nan if r.get(name) is None else float(r[name]) for r in rows])


def _curve_label(optimizer, lr, alpha):
    return f"SGD lr {lr:.3g}" if alpha is None else f"LA lr {lr:g}, alpha {alpha:g}"


def _curves(rows):
    """The (optimizer, lr, alpha) keys of panel (a), in csv order."""
    return list(dict.fromkeys((r["optimizer"], r["lr"], r["alpha"]) for r in rows))


def _style(index, optimizer, alpha):
    # SGD in the inner-optimizer colour, Lookahead in the slow-weight colour;
    # the second curve of the same kind is dashed.
    color = color_for("sgd" if optimizer == "sgd" else "slow")
    return {"color": color, "linestyle": "-" if index < 2 else "--"}


def _panel_curves(ax, rows):
    for index, (optimizer, lr, alpha) in enumerate(_curves(rows)):
        curve = _select(rows, optimizer=optimizer, lr=lr, alpha=alpha)
        step = _column(curve, "step")
        # Lookahead: the slow weights (smooth); the fast weights' saw-tooth is panel (b).
        loss = _column(curve, "expected_loss" if optimizer == "sgd" else "slow_expected_loss")
        ax.plot(step, loss, label=_curve_label(optimizer, lr, alpha), **_style(index, optimizer, alpha))
        mc = _column(curve, "mc_loss")
        if np.isfinite(mc).any():
            every = np.flatnonzero((step % 40 == 0) & np.isfinite(mc))
            ax.plot(step[every], mc[every], "o", ms=3, mfc="none", color=_style(index, optimizer, alpha)["color"])
    ax.plot([], [], "o", ms=3, mfc="none", color="k", label="Monte Carlo (kernels)")
    ax.set_yscale("log")
    ax.set_xlabel("inner step t")
    ax.set_ylabel("expected excess loss")
    ax.set_title("(a) loss over steps")
    ax.legend(loc="upper right")


def _panel_zoom(ax, rows, zoom=45):
    optimizer, lr, alpha = _curves(rows)[1]  # Lookahead at the same lr as the first SGD curve
    sgd = _select(rows, optimizer="sgd", lr=lr)
    la = _select(rows, optimizer=optimizer, lr=lr, alpha=alpha)
    step = _column(la, "step")
    keep = step >= step.max() - zoom
    k = int(la[0]["k"])
    ax.plot(step[keep], _column(sgd, "expected_loss")[keep], color=color_for("sgd"), label=f"SGD lr {lr:g}")
    ax.plot(step[keep], _column(la, "expected_loss")[keep], linestyle="--", marker="s", ms=3,
            color=color_for("fast"), label="LA fast weights")  # fmt: skip
    sync = keep & (step % k == 0)
    ax.plot(step[sync], _column(la, "slow_expected_loss")[sync], "^", color=color_for("slow"),
            label="LA slow weights (sync)")  # fmt: skip
    mc, stderr = _column(la, "mc_loss"), _column(la, "mc_stderr")
    if np.isfinite(mc[keep]).any():
        # Single-step Monte-Carlo values are noisy: show their standard error, not just the point.
        ax.errorbar(step[keep], mc[keep], yerr=stderr[keep], fmt="o", ms=3, mfc="none", lw=0.6,
                    color=color_for("theory"), label="Monte Carlo (fast) +- s.e.")  # fmt: skip
    # Head-room for the legend above the curves.
    ax.set_ylim(top=1.35 * float(np.nanmax(_column(sgd, "expected_loss")[keep])))
    ax.set_xlabel("inner step t")
    ax.set_ylabel("expected excess loss")
    ax.set_title(f"(b) last cycles, alpha {alpha:g}, k {k}")
    ax.legend(loc="upper left", ncol=2)


def _panel_equal_risk(fig, ax, rows, highlight):
    import matplotlib as mpl
    from matplotlib.collections import LineCollection

    la = _select(rows, optimizer="lookahead")
    alpha = _column(la, "alpha")
    steady, final = _column(la, "steady_state_loss"), _column(la, "expected_loss")
    alphas = np.unique(alpha)
    cmap = mpl.colormaps["viridis"]
    norm = mpl.colors.Normalize(alphas.min(), alphas.max())
    # One collection instead of 100 Line2D artists: same picture, a fraction of the drawing time.
    segments = [np.column_stack([steady[alpha == value], final[alpha == value]]) for value in alphas]
    ax.add_collection(LineCollection(segments, colors=cmap(norm(alphas)), linewidths=0.6))
    sgd = _select(rows, optimizer="sgd")
    ax.plot(_column(sgd, "steady_state_loss"), _column(sgd, "expected_loss"), color=color_for("sgd"), lw=1.4,
            label="SGD")  # fmt: skip
    lr, highlight_alpha, matched_lr = highlight
    point = [r for r in la if abs(r["lr"] - lr) < 1e-12 and abs(r["alpha"] - highlight_alpha) < 1e-9]
    if point:
        p = point[0]
        ax.plot(p["steady_state_loss"], p["expected_loss"], "*", ms=9, color=color_for("slow"),
                label=f"LA lr {lr:g}, alpha {highlight_alpha:g}")  # fmt: skip
        ax.plot(p["steady_state_loss"], p["matched_sgd_loss"], "o", ms=5, color=color_for("sgd"),
                label=f"SGD lr {matched_lr:.3f} (same steady state)")  # fmt: skip
    fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="Lookahead alpha")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.autoscale_view()
    # Below 1e-3 (tiny lr) nothing is near its steady state by T; past 1 all curves have equilibrated and coincide.
    ax.set_xlim(1e-3, 1.0)
    ax.set_ylim(top=3.0)
    ax.set_xlabel("steady-state excess loss")
    ax.set_ylabel(f"excess loss at step {int(sgd[0]['step'])}")
    ax.set_title("(c) equal steady-state risk (Fig. 2)")
    ax.legend(loc="upper left")


def _panel_ratio(ax, rows):
    ratio_rows = rows
    for index, alpha in enumerate(sorted({r["alpha"] for r in ratio_rows})):
        line = _select(ratio_rows, alpha=alpha)
        color = sequence_color(index)
        ax.plot(_column(line, "lr_a"), _column(line, "variance_ratio"), color=color, label=f"alpha {alpha:g}")
        ax.axhline(alpha, color=color, lw=0.6, linestyle=":")
        ax.plot([1.0], [alpha / (2 - alpha)], "o", color=color, ms=4)
    ax.axhline(1.0, color=color_for("sgd"), lw=1.0, label="SGD (R = 1)")
    ax.set_xlabel("lr * a (per coordinate)")
    ax.set_ylabel("R = V*_LA / V*_SGD")
    ax.set_title(f"(d) variance ratio, k {int(ratio_rows[0]['k'])}")
    ax.set_ylim(0, 1.3)
    ax.legend(loc="upper center", ncol=4, handlelength=1.2, columnspacing=0.8)


def plot_nqm(path, rows, *, highlight):
    """Draw the four panels described in ``fig_nqm`` and save them to ``path``."""
    panels = {}
    for row in rows:
        panels.setdefault(row["panel"], []).append(row)
    with apply_style():
        fig, axes = new_figure(2, 2, width=4.2, height=3.2)
        _panel_curves(axes[0, 0], panels["curve"])
        _panel_zoom(axes[0, 1], panels["curve"])
        _panel_equal_risk(fig, axes[1, 0], panels["equal_risk"], highlight)
        _panel_ratio(axes[1, 1], panels["variance_ratio"])
        fig.suptitle("Noisy quadratic model (d=100, a_i=1/i, sigma_i^2=1/a_i; stand-in settings): SGD vs Lookahead")
        return save_figure(fig, path)
