"""Drawing for figure ``alpha_k``, from the csv rows only (so the png shows exactly the data file)."""

from __future__ import annotations

from lasandbox.paper.training_plots import plot_band, plot_final_dots, seed_curves
from lasandbox.plotting import apply_style, color_for, new_figure, save_figure, sequence_color

# k sets the colour, alpha the line style, so the 2 x 2 grid reads at a glance.
K_COLORS = {5: sequence_color(0), 10: sequence_color(2)}
ALPHA_STYLES = {0.5: "-", 0.8: "--"}


def _settings(rows):
    return sorted({(r["alpha"], r["k"]) for r in rows if r["panel"] == "table" and r["alpha"] is not None})


def _label(alpha, k):
    return "momentum SGD" if alpha is None else f"LA alpha {alpha:g}, k {int(k)}"


def plot_alpha_k(path, rows, *, protocol, lr):
    """Draw the two panels described in ``fig_alpha_k`` and save them to ``path``."""
    settings = _settings(rows)
    with apply_style():
        fig, (curves, finals) = new_figure(1, 2, width=4.6, height=3.4)
        epochs, values = seed_curves(rows, method="momentum")
        plot_band(curves, epochs, values, label=_label(None, None), color=color_for("sgd"))
        for alpha, k in settings:
            epochs, values = seed_curves(rows, method="lookahead", alpha=alpha, k=k)
            plot_band(curves, epochs, values, label=_label(alpha, k), color=K_COLORS.get(int(k), "k"),
                      linestyle=ALPHA_STYLES.get(alpha, ":"))  # fmt: skip
        curves.set_yscale("log")
        curves.set_xlabel("epoch")
        curves.set_ylabel("train loss (full pass; band: min..max over seeds)")
        curves.set_title("(a) train loss (Fig. 9)")
        curves.legend(loc="best")

        final = {}
        for r in rows:
            if r["panel"] == "curve" and r["epoch"] == max(epochs):
                final.setdefault((r["alpha"], r["k"]), []).append(100 * r["test_accuracy"])
        sgd = [r for r in rows if r["panel"] == "table" and r["alpha"] is None][0]
        mean, std = 100 * sgd["test_accuracy_mean"], 100 * sgd["test_accuracy_std"]
        finals.axhspan(mean - std, mean + std, color=color_for("sgd"), alpha=0.15, lw=0)
        finals.axhline(mean, color=color_for("sgd"), lw=1.0, label="momentum SGD mean +- std")
        order = [(None, None)] + settings
        for position, (alpha, k) in enumerate(order):
            color = color_for("sgd") if alpha is None else K_COLORS.get(int(k), "k")
            plot_final_dots(finals, position, final[(alpha, k)], color=color)
        ticks = ["momentum\nSGD" if a is None else f"LA\nalpha {a:g}\nk {int(k)}" for a, k in order]
        finals.set_xticks(range(len(order)), ticks)
        finals.set_ylabel("final test accuracy (%)")
        finals.set_title("(b) final test accuracy per seed, mean +- std (Table 5)")
        finals.legend(loc="best")
        fig.suptitle(f"Lookahead's alpha and k around momentum SGD (lr {lr:g}, momentum 0.9); "
                     f"{protocol.task} {protocol.model.upper()}, {protocol.epochs} epochs (stand-in)")  # fmt: skip
        return save_figure(fig, path)
