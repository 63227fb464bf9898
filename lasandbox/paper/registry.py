"""The list of reproducible figures, and what a figure function receives and returns.

A figure lives in its own module ``lasandbox.paper.fig_<name>`` and exposes
``compute(ctx) -> list[Claim]``. It writes ``ctx.png_path`` and ``ctx.csv_path``
and records the settings it chose with ``ctx.record``. The table below names
every figure with its title and the paper's claim, so that listing figures,
checking names and writing the report never import a figure module: those may
pull in the whole training stack, and only a figure that runs pays for that.

Adding a figure: write ``lasandbox/paper/fig_<name>.py`` with ``compute`` and,
if its name is new, add one ``FigureSpec`` line below (or call ``register``).
A module may also define ``TITLE`` / ``PAPER_CLAIM`` to override the table.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lasandbox.backends import KERNEL_BACKENDS
from lasandbox.utils.validation import check_choice

BACKENDS = KERNEL_BACKENDS  # a figure runs on a concrete backend, not "auto"


@dataclass(frozen=True)
class Claim:
    """One checked statement: what the paper says, the number measured here, and the verdict."""

    statement: str
    measured: str
    held: bool

    def __post_init__(self):
        # numpy bools sneak in from comparisons; the report wants a plain bool.
        object.__setattr__(self, "held", bool(self.held))


# What a figure may take from the command line besides its size and model: --seeds, --backend, and where its
# trainings run (--sweep/--no-sweep, --workers, --scheduler).
RUN_OPTIONS = frozenset(("seeds", "backend", "sweep"))
_SAMPLED = frozenset(("seeds", "backend"))  # a figure that runs kernels over random draws, in this process


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure: ``module`` is imported only when the figure runs.

    ``models``: the networks the figure can train (names of
    ``lasandbox.models.registry``, chosen with ``reproduce --model``); empty
    for a figure that has one form (the analytic ones, the kernels).
    ``reads``: the run options of ``RUN_OPTIONS`` its function uses (all of
    them unless it says otherwise): ``reproduce`` refuses an option that no
    selected figure reads, rather than accept it and change nothing.
    """

    name: str
    title: str
    paper_claim: str
    module: str
    function: str = "compute"
    models: tuple = ()
    reads: frozenset = RUN_OPTIONS

    def is_available(self) -> bool:
        """Whether the figure's module exists (found without importing it)."""
        try:
            return importlib.util.find_spec(self.module) is not None
        except ModuleNotFoundError:
            return False

    def load(self) -> Callable:
        """Import the module and return its figure function."""
        return getattr(importlib.import_module(self.module), self.function)


@dataclass
class FigureContext:
    """Everything a figure function needs, and where it leaves its settings.

    ``quick`` asks for a CPU-minutes run (smaller grids, fewer chains/epochs);
    ``seeds`` overrides the figure's default number of seeds when not None;
    ``backend`` selects the kernel backend for anything that runs an optimizer;
    ``progress`` is called like ``lasandbox.utils.progress.progress``.
    ``sweep`` sends the training figures' runs through ``lasandbox.sweep``
    (None: at full size only), on ``workers`` local processes or the dask
    ``scheduler`` at that address (see ``lasandbox.paper.sweep_runs``).
    ``model``: the network of a figure with variants (``FigureSpec.models``);
    None for one without. A variant other than ``mlp`` writes its files as
    ``NAME_MODEL.png`` / ``.csv``, so the MLP and CNN figures sit side by side.
    """

    name: str
    out_dir: Path
    quick: bool = True
    seeds: int | None = None
    backend: str = "numpy"
    progress: Callable = None
    sweep: bool | None = None
    workers: int | None = None
    scheduler: str | None = None
    model: str | None = None
    settings: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def __post_init__(self):
        self.out_dir = Path(self.out_dir)
        check_choice("backend", self.backend, BACKENDS)
        if self.progress is None:
            from lasandbox.utils.progress import progress

            self.progress = progress

    @property
    def stem(self) -> str:
        """The figure's file name without extension: ``NAME``, or ``NAME_MODEL`` for a non-MLP variant."""
        return self.name if self.model in (None, "mlp") else f"{self.name}_{self.model}"

    @property
    def png_path(self) -> Path:
        return self.out_dir / f"{self.stem}.png"

    @property
    def csv_path(self) -> Path:
        return self.out_dir / f"{self.stem}.csv"

    def seeds_or(self, default: int) -> int:
        """The number of seeds to use: the user's ``--seeds`` if given, else ``default``."""
        return default if self.seeds is None else self.seeds

    def record(self, name: str, value, *, unverified: bool = False, source: str = ""):
        """Note a setting the figure chose, for the report.

        ``unverified=True`` marks a value PAPER.md tags UNVERIFIED (or does not
        know at all), so the report can say it was our choice, not the paper's.
        """
        self.settings.append((name, value, unverified, source))
        return value

    def note(self, text: str):
        """Add a free-text caption line to the report (e.g. what a panel shows)."""
        self.notes.append(text)


def _spec(name, title, claim, models=(), reads=_SAMPLED):
    return FigureSpec(name, title, claim, f"lasandbox.paper.fig_{name}", models=models, reads=frozenset(reads))


TRAINED = ("mlp", "cnn")  # the figures that train a network offer both stand-ins (reproduce --model)


# Order is the order of the report. Claims paraphrase PAPER.md with its tags.
FIGURES: dict[str, FigureSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "nqm",
            "Noisy quadratic model: SGD vs Lookahead(SGD) (paper Fig. 2, Proposition on steady-state risk)",
            "Lookahead's variance fixed point is strictly smaller than SGD's at the same learning rate; "
            "at equal steady-state risk Lookahead converges faster for a broad range of alpha [V-2nd].",
        ),
        _spec(
            "quadratic_rates",
            "Deterministic quadratic: classical momentum vs Lookahead(CM) rates (paper Fig. 3)",
            "Under-damped systems converge faster with Lookahead; over-damped convergence is slightly "
            "hurt [V-2nd]. Fig. 3 setting k = 20, alpha = 0.5 (caption from memory, UNVERIFIED).",
            reads=(),  # deterministic, and computed in float64 numpy: no seeds, no kernels
        ),
        _spec(
            "landscape",
            "Loss/accuracy surface on the plane of one inner loop (paper Fig. 1)",
            "Lookahead's interpolation moves the slow weights toward a better region than the fast "
            "weights reach [V-fig]; qualitative, not guaranteed on small data.",
            TRAINED,
        ),
        _spec(
            "inner_loop",
            "Accuracy of fast and slow weights within inner loops (paper Fig. 10)",
            "The inner loop tends to degrade accuracy while the interpolation recovers it [V-fig].",
        ),
        _spec(
            "robustness",
            "Robustness to the inner optimizer's learning rate and momentum (paper Fig. 8)",
            "With fixed Lookahead settings, train loss is lower and less noisy than the inner optimizer's "
            "for every lr and momentum tried [V-fig].",
            TRAINED,
            RUN_OPTIONS,  # their trainings can run as a sweep
        ),
        _spec(
            "alpha_k",
            "Robustness to alpha and k (paper Fig. 9 / Table 5)",
            "All alpha in {0.5, 0.8} x k in {5, 10} reach higher validation accuracy than SGD [V-fig].",
            TRAINED,
            RUN_OPTIONS,  # their trainings can run as a sweep
        ),
        _spec(
            "optimizers",
            "Lookahead vs SGD, Polyak averaging and Adam on a small task (paper Fig. 5 / Table 1 stand-in)",
            "Lookahead matches or beats its inner optimizer in final test accuracy [V-2nd]; an independent "
            "reproduction did not reproduce the CIFAR gains.",
            TRAINED,
            RUN_OPTIONS,  # their trainings can run as a sweep
        ),
        _spec(
            "minmax",
            "Lookahead-minmax on bilinear games and a GAN on 8 Gaussians (Chavdarova et al., ICLR 2021; beyond "
            "the paper)",
            "Lookahead-minmax lets GDA converge on min_x max_y x*y where GDA spirals out (their Fig. 1); with "
            "Adam it improves GAN performance and stability [their abstract].",
        ),
        _spec(
            "kernels",
            "Update-rule kernels against the memory-bandwidth roofline (package benchmark, not in the paper)",
            "Lookahead costs O((k+1)/k) of the inner optimizer plus one parameter copy [V-2nd].",
            reads=(),  # it times every available backend, and draws no seeds
        ),
    )
}


def register(spec: FigureSpec, *, replace: bool = False) -> FigureSpec:
    """Add a figure to the registry (e.g. from a plugin or a notebook)."""
    if spec.name in FIGURES and not replace:
        raise ValueError(f"figure {spec.name!r} is already registered; pass replace=True to override it")
    FIGURES[spec.name] = spec
    return spec


def figure_names() -> list[str]:
    """All registered figure names, in report order."""
    return list(FIGURES)


def resolve_names(requested) -> list[str]:
    """Turn the command-line names into a checked, de-duplicated list.

    Empty or ``["all"]`` means every figure. Unknown names raise ``ValueError``
    listing the valid ones, before anything has run.
    """
    requested = list(requested or [])
    if not requested or requested == ["all"]:
        return figure_names()
    unknown = [name for name in requested if name not in FIGURES and name != "all"]
    if unknown:
        raise ValueError(f"unknown figure name(s): {', '.join(unknown)}. Valid names: {', '.join(FIGURES)} (or 'all')")
    if "all" in requested:
        return figure_names()
    return list(dict.fromkeys(requested))
