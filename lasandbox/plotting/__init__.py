"""Plotting helpers shared by the paper figures, notebooks and benchmarks.

Only the style lives at this level; importing it does not import matplotlib
(that happens on first use), so ``import lasandbox.plotting`` stays cheap.
"""

from lasandbox.plotting.style import (
    COLORS,
    LINESTYLES,
    MARKERS,
    SEQUENCE,
    apply_style,
    color_for,
    new_figure,
    save_figure,
    sequence_color,
)

__all__ = [
    "COLORS",
    "LINESTYLES",
    "MARKERS",
    "SEQUENCE",
    "apply_style",
    "color_for",
    "new_figure",
    "save_figure",
    "sequence_color",
]
