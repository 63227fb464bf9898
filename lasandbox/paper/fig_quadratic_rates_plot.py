"""Drawing for figure ``quadratic_rates``, from the csv rows only."""

from __future__ import annotations

import numpy as np

from lasandbox.paper.quadratic_theory import POLICIES
from lasandbox.plotting import apply_style, color_for, new_figure, save_figure, sequence_color


def _xy(rows, x, y):
    return np.array([r[x] for r in rows], dtype=float), np.array([np.nan if r.get(y) is None else r[y] for r in rows])


def _positive(values):
    # Log axes cannot show rho >= 1 (no convergence): leave a gap there.
    return np.where(values > 0, values, np.nan)


def _panel_rates(ax, rows, policy, title):
    betas = sorted({r["beta"] for r in rows})
    for index, beta in enumerate(betas):
        color = sequence_color(index)
        for method, style, marker in (("cm", "-", "o"), ("lookahead", "--", "^")):
            line = [r for r in rows if r["beta"] == beta and r["method"] == method and r["policy"] in (None, policy)]
            lr, gap = _xy(line, "lr", "one_minus_rho")
            ax.plot(lr, _positive(gap), style, color=color, lw=1.2)
            simulated = [r for r in line if r.get("rho_simulated") is not None]
            lr_sim, rho_sim = _xy(simulated, "lr", "rho_simulated")
            ax.plot(lr_sim, _positive(1 - rho_sim), marker, ms=3.5, mfc="none", color=color)
        ax.plot([], [], color=color, label=f"beta {beta:g}")
    ax.plot([], [], "-", color="k", label="momentum (CM)")
    ax.plot([], [], "--", color="k", label=f"Lookahead ({policy})")
    ax.plot([], [], "o", mfc="none", color="k", label="simulated")
    ax.set_xscale("log")
    ax.set_yscale("log")
    # A decade of head-room keeps the legend off the fastest curves.
    ax.set_ylim(top=ax.get_ylim()[1] * 12)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("1 - rho (per step)")
    ax.set_title(title)
    ax.legend(loc="upper left", ncol=2)


def _panel_trajectory(ax, rows):
    # Momentum in the inner-optimizer colour, the code-default policy in Lookahead's;
    # the other two policies take palette colours not used for fast/slow weights.
    colors = {"cm": color_for("sgd"), "maintain": color_for("lookahead"), "interpolate": sequence_color(3),
              "reset": sequence_color(2)}  # fmt: skip
    for key in ("cm", *POLICIES):
        line = [r for r in rows if (r["policy"] or "cm") == key]
        step, value = _xy(line, "step", "abs_theta")
        rho = line[0]["rho"]
        name = "momentum" if key == "cm" else f"LA {key}"
        ax.plot(step, np.where(value > 0, value, np.nan), color=colors[key], lw=1.0, label=f"{name}: rho {rho:.3f}")
        # The predicted envelope rho^t, from where the curve starts.
        ax.plot(step, rho**step, ":", color=colors[key], lw=0.8)
    first = rows[0]
    ax.set_yscale("log")
    ax.set_xlabel("inner step t")
    ax.set_ylabel("|theta_t| (fast weights)")
    ax.set_title(f"(d) a = 1, beta = {first['beta']:g}, lr = {first['lr']:g}: envelopes rho^t dotted")
    ax.legend(loc="lower left")


def plot_quadratic_rates(path, rows):
    """Draw the four panels described in ``fig_quadratic_rates`` and save them to ``path``."""
    rates = [r for r in rows if r["panel"] == "rates"]
    trajectory = [r for r in rows if r["panel"] == "trajectory"]
    with apply_style():
        fig, axes = new_figure(2, 2, width=4.2, height=3.3)
        for ax, policy, letter in zip(axes.flat[:3], POLICIES, "abc", strict=True):
            _panel_rates(ax, rates, policy, f"({letter}) momentum buffer at sync: {policy}")
        _panel_trajectory(axes.flat[3], trajectory)
        kappa, k, alpha = rates[0]["kappa"], trajectory[-1]["k"], trajectory[-1]["alpha"]
        fig.suptitle(
            f"Deterministic quadratic, kappa = {kappa:g}: momentum vs Lookahead(momentum), k = {k:g}, alpha = {alpha:g}"
        )
        return save_figure(fig, path)
