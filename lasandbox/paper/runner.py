"""``lasandbox reproduce``: run figure functions, collect their claims, write REPORT.md.

    lasandbox reproduce [NAME ...|all] [--quick|--full] [--model mlp|cnn] [--out DIR] [--seeds N]
                        [--backend numpy|cpu|cuda] [--[no-]sweep] [--workers N | --scheduler ADDRESS]
                        [--list]

Each figure writes ``DIR/NAME.png`` and ``DIR/NAME.csv``; the run writes
``DIR/REPORT.md`` (rewritten after every figure, so a long run can be watched).
The exit status is 0 when every requested figure ran, whether or not its
claims held (the report says which did); 1 when a figure raised or is not
implemented yet; 2 for a bad command line. Also runnable as
``python -m lasandbox.paper.runner``.

With ``--full`` (or ``--sweep``) the training figures (robustness, alpha_k,
optimizers) run their trainings as one resumable ``lasandbox sweep`` of the
``paper-run`` task, on a local dask cluster (``--workers``) or an existing
scheduler (``--scheduler``), stored in ``DIR/sweeps/paper-runs.sqlite``:
re-running the command skips the runs already stored.

``--model`` picks the network of the figures that train one (landscape,
robustness, alpha_k, optimizers; ``FigureSpec.models``): ``mlp`` (the
default at ``--quick``) or ``cnn`` (the default at ``--full``: the 1-D CNN on
MNIST-1D, the small ResNet on the 8x8 digits). A ``cnn`` run writes those
figures as ``NAME_cnn.png`` / ``.csv`` and its report as ``REPORT_cnn.md``,
so both stand-ins can live in one folder; the other figures are the same
either way.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import time
import traceback
from pathlib import Path

from lasandbox.paper.registry import BACKENDS, FIGURES, TRAINED, Claim, FigureContext, figure_names, resolve_names
from lasandbox.paper.report import FigureOutcome, write_report
from lasandbox.utils.cliargs import OUTPUT_DIR, SEEDS, WORKERS
from lasandbox.utils.validation import check_choice, check_int


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lasandbox reproduce",
        description="Reproduce the Lookahead paper's figures at CPU scale and check their claims.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"figures to run (default: all): {', '.join(FIGURES)}")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="quick", action="store_true", default=True, help="small, fast run (default)")
    size.add_argument("--full", dest="quick", action="store_false", help="the full-size run")
    parser.add_argument("--model", default=None, choices=TRAINED,
                        help="network of the training figures: mlp (default at --quick) or cnn (default at --full: "
                        "1-D CNN on MNIST-1D, small ResNet on digits); cnn files are NAME_cnn.*, REPORT_cnn.md")
    parser.add_argument("--out", default="figures", type=OUTPUT_DIR, help="output folder (default: figures/)")
    parser.add_argument("--seeds", type=SEEDS, default=None, help="number of seeds (default: each figure's own)")
    parser.add_argument("--backend", default="cpu", choices=BACKENDS, help="kernel backend (default: cpu)")
    parser.add_argument("--sweep", action=argparse.BooleanOptionalAction, default=None,
                        help="train robustness/alpha_k/optimizers as a resumable dask sweep stored in "
                        "OUT/sweeps/paper-runs.sqlite (default: with --full only)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=WORKERS, default=None,
                       help="local dask worker processes for the sweep (default: one per core; 0 = this process)")
    where.add_argument("--scheduler", default=None, help="run the sweep on this dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    return parser


def _refuse_unread_options(selected, *, model, seeds, backend, sweep, workers, scheduler):
    """A ValueError naming an option given a value other than its default that none of the ``selected`` figures
    reads (``FigureSpec.reads``, ``FigureSpec.models``): e.g. ``reproduce quadratic_rates --seeds 5`` ran one
    deterministic computation and ignored the 5."""
    given = {"--seeds": ("seeds", seeds is not None), "--backend": ("backend", backend != "cpu"),
             "--sweep/--no-sweep": ("sweep", sweep is not None and workers is None and scheduler is None),
             "--workers": ("sweep", workers is not None), "--scheduler": ("sweep", scheduler is not None)}
    for option, (read, is_given) in given.items():
        readers = [name for name in FIGURES if read in FIGURES[name].reads]
        if is_given and not any(name in readers for name in selected):
            raise ValueError(f"{option} changes nothing in {', '.join(selected)}: only {', '.join(readers)} "
                             f"read it; leave it out, or add one of those figures")
    if model is not None and not any(FIGURES[name].models for name in selected):
        readers = [name for name in FIGURES if FIGURES[name].models]
        raise ValueError(f"--model changes nothing in {', '.join(selected)} (they train no network): only "
                         f"{', '.join(readers)} take it; leave it out, or add one of those figures")


def _check_backend_usable(backend: str):
    # Fail before the first figure, not in the middle of the third one.
    if backend == "cuda":
        from numba import cuda

        if not cuda.is_available():
            raise ValueError(
                "backend 'cuda' needs a CUDA GPU (or NUMBA_ENABLE_CUDASIM=1 for the simulator); none found"
            )


def _check_claims(name: str, claims) -> list[Claim]:
    claims = list(claims or [])
    wrong = [c for c in claims if not isinstance(c, Claim)]
    if wrong:
        raise TypeError(f"figure {name!r} must return a list of Claim, got {type(wrong[0]).__name__}")
    return claims


def resolve_model(model, quick: bool) -> str:
    """The ``--model`` of a run: as given (checked), else ``mlp`` at quick size and ``cnn`` at full size."""
    if model is None:
        return "mlp" if quick else "cnn"
    return check_choice("model", model, TRAINED)


def report_name(model: str) -> str:
    """``REPORT.md`` for an MLP run, ``REPORT_<model>.md`` otherwise (both stand-ins' reports in one folder)."""
    return "REPORT.md" if model == "mlp" else f"REPORT_{model}.md"


def run_one(name: str, *, out_dir, quick: bool, seeds, backend: str, progress=None, sweep=None, workers=None,
            scheduler=None, model=None) -> FigureOutcome:
    """Run one registered figure and return its outcome; exceptions are caught and recorded.

    ``model`` applies to a figure with variants (``FigureSpec.models``);
    None there means the run size's default (``resolve_model``).
    """
    spec = FIGURES[name]
    variant = resolve_model(model, quick) if spec.models else None
    if variant is not None and variant not in spec.models:
        raise ValueError(f"figure {name!r} has no {variant!r} variant (it has: {', '.join(spec.models)})")
    if not spec.is_available():
        return FigureOutcome(spec, "missing")
    ctx = FigureContext(name, Path(out_dir), quick=quick, seeds=seeds, backend=backend, progress=progress,
                        sweep=sweep, workers=workers, scheduler=scheduler, model=variant)
    start = time.perf_counter()
    try:
        module_compute = spec.load()
        module = sys.modules[spec.module]
        # A figure module may carry its own, more precise title and claim.
        title = getattr(module, "TITLE", spec.title)
        if ctx.stem != name:
            title += f" -- {variant.upper()} stand-in"
        spec = dataclasses.replace(spec, title=title, paper_claim=getattr(module, "PAPER_CLAIM", spec.paper_claim))
        claims = _check_claims(name, module_compute(ctx))
        status, error = "ran", ""
    except Exception:  # noqa: BLE001 - one broken figure must not stop the others
        claims, status, error = [], "failed", traceback.format_exc()
    seconds = time.perf_counter() - start
    files = [p.name for p in (ctx.png_path, ctx.csv_path) if p.exists()]
    if status == "ran" and len(files) < 2:
        status, error = "failed", f"figure {name!r} did not write both {ctx.png_path.name} and {ctx.csv_path.name}"
    return FigureOutcome(spec, status, seconds, claims, ctx.settings, ctx.notes, files, error, label=ctx.stem)


def run_figures(
    names=None,
    *,
    out_dir="figures",
    quick: bool = True,
    seeds: int | None = None,
    backend: str = "cpu",
    progress=None,
    command: str | None = None,
    echo=None,
    sweep: bool | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    model: str | None = None,
) -> list[FigureOutcome]:
    """Run figures by name (``None``/``["all"]`` = all) and write ``out_dir/REPORT.md``.

    ``model``: the network of the figures that train one (``resolve_model``;
    a ``cnn`` run writes ``REPORT_cnn.md``).

    All arguments are checked before any figure runs; unknown names raise
    ``ValueError`` listing the valid ones. ``echo`` (e.g. ``print``) receives
    a line per figure and per claim as they finish. ``sweep``/``workers``/
    ``scheduler``: where the training figures' runs go (``FigureContext``).
    """
    from lasandbox.paper.sweep_runs import resolve_sweep_options

    selected = resolve_names(names)
    sweep, workers, scheduler = resolve_sweep_options(sweep, workers, scheduler)
    if seeds is not None:
        seeds = check_int("seeds", seeds, low=1)
    check_choice("backend", backend, BACKENDS)
    given_model, model = model, resolve_model(model, quick)
    lacking = [name for name in selected if FIGURES[name].models and model not in FIGURES[name].models]
    if lacking:
        raise ValueError(f"figure(s) {', '.join(lacking)} have no {model!r} variant")
    _refuse_unread_options(selected, model=given_model, seeds=seeds, backend=backend, sweep=sweep,
                           workers=workers, scheduler=scheduler)
    _check_backend_usable(backend)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if command is None:
        command = ("lasandbox reproduce " + " ".join(selected) + (" --quick" if quick else " --full")
                   + f" --model {model}")
    report_args = dict(command=command, quick=quick, backend=backend, seeds=seeds, model=model)
    outcomes: list[FigureOutcome] = []
    for name in selected:
        if echo:
            echo(f"== {name}")
        outcome = run_one(name, out_dir=out_dir, quick=quick, seeds=seeds, backend=backend, progress=progress,
                          sweep=sweep, workers=workers, scheduler=scheduler, model=model)
        outcomes.append(outcome)
        write_report(out_dir / report_name(model), outcomes, **report_args)
        if echo:
            _echo_outcome(echo, outcome)
    return outcomes


def _echo_outcome(echo, outcome: FigureOutcome):
    if outcome.status == "missing":
        echo(f"   not implemented yet ({outcome.spec.module})")
    elif outcome.status == "failed":
        echo(f"   FAILED after {outcome.seconds:.1f} s:\n{outcome.error}")
    else:
        echo(f"   {outcome.claims_held}/{len(outcome.claims)} claims held ({outcome.seconds:.1f} s)")
        for claim in outcome.claims:
            echo(f"   [{'held' if claim.held else 'NOT held'}] {claim.statement}: {claim.measured}")


def _list_figures(echo):
    for name in figure_names():
        spec = FIGURES[name]
        state = "" if spec.is_available() else "  (not implemented yet)"
        echo(f"{name:16s} {spec.title}{state}")


def main(argv=None) -> int:
    """Entry point of ``lasandbox reproduce``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        _list_figures(print)
        return 0
    argv_text = sys.argv[1:] if argv is None else list(argv)
    command = "lasandbox reproduce " + " ".join(shlex.quote(str(a)) for a in argv_text)
    try:
        outcomes = run_figures(
            args.names,
            out_dir=args.out,
            quick=args.quick,
            seeds=args.seeds,
            backend=args.backend,
            command=command.rstrip(),
            echo=print,
            sweep=args.sweep,
            workers=args.workers,
            scheduler=args.scheduler,
            model=args.model,
        )
    except (ValueError, TypeError) as error:
        parser.error(str(error))  # exits with status 2 and the usage line
    print(f"Report: {Path(args.out) / report_name(resolve_model(args.model, args.quick))}")
    return 0 if all(o.status == "ran" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
