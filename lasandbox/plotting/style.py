"""One plot style for every figure the package draws.

Three rules keep the figures comparable with each other and with the paper:

* the same thing always has the same colour: the inner optimizer (SGD,
  momentum, Adam used alone) is vermillion, Lookahead's fast weights are blue
  and its slow weights purple (the paper's Figure 1 draws fast weights as a
  blue dashed line with squares and slow weights as purple triangles);
* figures are built on ``matplotlib.figure.Figure`` directly, never through
  ``pyplot``'s global state, so drawing a figure works head-less (Agg), in
  threads, and inside a notebook without changing its backend;
* ``save_figure`` writes the file and releases the figure, so a loop that
  draws hundreds of panels does not keep them all in memory.

The palette is the Okabe-Ito set, which stays distinguishable for the common
forms of colour blindness and in grey-scale print.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

# Colours by role. Lookahead as a whole is drawn in the slow-weight colour,
# because the slow weights are what Lookahead returns.
COLORS = {
    "sgd": "#D55E00",  # inner optimizer / plain SGD: vermillion
    "inner": "#D55E00",
    "momentum": "#D55E00",
    "fast": "#0072B2",  # Lookahead fast weights: blue
    "slow": "#7B3294",  # Lookahead slow weights: purple
    "lookahead": "#7B3294",
    "polyak": "#009E73",  # iterate averaging: bluish green
    "adam": "#E69F00",  # Adam / AdamW: orange
    "adamw": "#E69F00",
    "theory": "#000000",  # analytic curves drawn under simulated points
    "reference": "#999999",  # baselines, guides, paper values
}

# Line and marker conventions matching the colours above.
LINESTYLES = {"sgd": "-", "inner": "-", "fast": "--", "slow": "-", "lookahead": "-", "theory": "-"}
MARKERS = {"fast": "s", "slow": "^", "sgd": "o", "lookahead": "^"}

# For families of curves that differ in one hyperparameter (momentum values,
# learning rates): an ordered sequence, light to dark is avoided on purpose so
# that every member stays visible on white.
SEQUENCE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

RC_PARAMS = {
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.05,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.5,
    "lines.markersize": 4,
    "image.cmap": "viridis",
}


def color_for(role: str) -> str:
    """The fixed colour of a role (``"sgd"``, ``"fast"``, ``"slow"``, ...).

    Unknown roles fall back to the reference grey rather than raising, so a
    new optimizer name still plots; add it to ``COLORS`` to give it a colour.
    """
    return COLORS.get(role.lower(), COLORS["reference"])


def sequence_color(index: int) -> str:
    """The ``index``-th colour of the ordered palette (wraps around)."""
    return SEQUENCE[index % len(SEQUENCE)]


def _rc_params() -> dict:
    from cycler import cycler

    params = dict(RC_PARAMS)
    params["axes.prop_cycle"] = cycler(color=SEQUENCE)
    return params


@contextlib.contextmanager
def apply_style():
    """Context manager: matplotlib rc settings for publication-quality plots.

    Only the rc parameters change, and only inside the ``with`` block; the
    backend is left alone (use ``new_figure`` for head-less drawing).
    """
    import matplotlib

    with matplotlib.rc_context(_rc_params()):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 3.4, height: float = 2.6, **subplot_kw):
    """A ``(figure, axes)`` pair built without pyplot, sized per panel in inches.

    Call it inside ``apply_style()`` so the panels pick up the style. ``axes``
    is squeezed like ``pyplot.subplots`` does.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return fig, axes


def save_figure(fig, path, *, dpi: int = 200) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix, png by default), then release it.

    Parent folders are created. The resolution and tight bounding box are
    passed explicitly, so the file looks the same whether or not the call sits
    inside ``apply_style()``. Returns the path written.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", pad_inches=0.05)
    # A figure made through pyplot stays alive in pyplot's registry until closed
    # there; closing a figure pyplot never saw is a no-op.
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)
    fig.clear()
    return path
