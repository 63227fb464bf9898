"""Drawing for figure ``optimizers``, from the csv rows only (so the png shows exactly the data file)."""

from __future__ import annotations

from lasandbox.paper.training_plots import plot_band, plot_final_dots, seed_curves
from lasandbox.plotting import apply_style, color_for, new_figure, save_figure

# Colour by role (the package's palette), line style to tell two methods of one role apart.
STYLE = {
    "sgd": (color_for("reference"), "-"),
    "momentum": (color_for("sgd"), "-"),
    "adam": (color_for("adam"), "-"),
    "adamw": (color_for("adamw"), "--"),
    "polyak": (color_for("polyak"), "-"),
    "lookahead_momentum": (color_for("lookahead"), "-"),
    "lookahead_adam": (color_for("lookahead"), "--"),
}

TICKS = {"sgd": "SGD", "momentum": "SGD +\nmomentum", "adam": "Adam", "adamw": "AdamW", "polyak": "Polyak\naveraging",
         "lookahead_momentum": "LA(SGD +\nmomentum)", "lookahead_adam": "LA(Adam)"}  # fmt: skip


def plot_optimizers(path, rows, *, protocol, labels):
    """Draw the two panels described in ``fig_optimizers`` and save them to ``path``."""
    methods = list(dict.fromkeys(r["method"] for r in rows if r["panel"] == "final"))
    with apply_style():
        fig, (curves, finals) = new_figure(1, 2, width=4.6, height=3.4)
        last_epoch = 0
        for method in methods:
            color, linestyle = STYLE.get(method, (color_for("reference"), ":"))
            epochs, values = seed_curves(rows, method=method)
            last_epoch = max(last_epoch, int(epochs[-1]))
            plot_band(curves, epochs, values, label=labels.get(method, method), color=color, linestyle=linestyle)
        curves.set_yscale("log")
        curves.set_xlabel("epoch")
        curves.set_ylabel("train loss (full pass; band: min..max over seeds)")
        curves.set_title("(a) train loss (Fig. 5)")
        curves.legend(loc="best")

        for position, method in enumerate(methods):
            color, _ = STYLE.get(method, (color_for("reference"), ":"))
            accuracy = [100 * r["test_accuracy"] for r in rows
                        if r["panel"] == "curve" and r["method"] == method and r["epoch"] == last_epoch]  # fmt: skip
            plot_final_dots(finals, position, accuracy, color=color, marker="^" if "lookahead" in method else "o")
        finals.set_xticks(range(len(methods)), [TICKS.get(m, m) for m in methods], fontsize=7)
        finals.set_ylabel("final test accuracy (%)")
        finals.set_title("(b) final test accuracy per seed, mean +- std (Table 1)")
        fig.suptitle(f"Optimizers on the {protocol.task} {protocol.model.upper()}, {protocol.epochs} epochs, "
                     "lr x0.2 at 30/60/80% (stand-in for CIFAR, Fig. 5 / Table 1)")  # fmt: skip
        return save_figure(fig, path)
