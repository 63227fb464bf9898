"""``lasandbox sweep``: run a hyperparameter sweep, show its status, plot its results.

    lasandbox sweep TASK [--grid "lr=0.05,0.1 alpha=none,0.5"] [--grid-file grid.toml] [--seeds N]
                         [--epochs E] [--store PATH] [--workers N | --scheduler ADDRESS]
    lasandbox sweep status --store PATH
    lasandbox sweep plot --store PATH --x lr --y alpha [--metric final_loss]
    lasandbox sweep tasks            (the tasks and every parameter with its default)

Re-running the same command resumes: finished (config, seed) runs are
skipped. The exit status is 1 when runs of this sweep are stored as failed.
"""

from __future__ import annotations

import argparse
import sys

from lasandbox.sweep.grid import GridError, format_value, load_grid_file, merge_grids, parse_grid_spec
from lasandbox.sweep.store import CorruptStoreError
from lasandbox.sweep.tasks import TASKS, get_task, load_task_modules
from lasandbox.utils.cliargs import EXISTING_FILE, FILE_PATH, OUTPUT_DIR, SEEDS, WORKERS, check_file_path, int_at_least

SUBCOMMANDS = ("status", "plot", "tasks")


def _run_parser():
    parser = argparse.ArgumentParser(prog="lasandbox sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", help=f"what to train: {', '.join(TASKS)} (see 'lasandbox sweep tasks')")
    parser.add_argument("--grid", default="", help='parameter lists, e.g. "alpha=none,0.5,0.8 k=5,10 lr=0.05,0.1"')
    parser.add_argument("--grid-file", help="a TOML file of 'name = [values]' (top level or under [grid])")
    parser.add_argument("--seeds", type=SEEDS, default=1, help="seeds 0..N-1 per config (default 1)")
    parser.add_argument("--epochs", type=int, help="shortcut for epochs=E in the grid")
    parser.add_argument("--out", type=OUTPUT_DIR, default="sweeps", help="output folder (default ./sweeps)")
    parser.add_argument("--store", type=FILE_PATH, help="SQLite results store (default OUT/TASK.sqlite)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=WORKERS, help="local cluster size (default: one per core); 0 = in this "
                       "process, without dask")
    where.add_argument("--scheduler", help="address of a running dask scheduler, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--retry-failed", action="store_true", help="run stored failures again")
    parser.add_argument("--retries", type=int_at_least(0), default=1, help="dask resubmissions of a run whose task "
                        "itself errored outside the training code (default 1)")
    parser.add_argument("--dashboard", default="127.0.0.1:8787", help="dashboard address of the local cluster; "
                        "'none' turns it off")
    parser.add_argument("--dry-run", action="store_true", help="check the grid, print the plan, run nothing")
    return parser


def _grid_from_args(parser, args, task):
    try:
        grid = merge_grids(parse_grid_spec(args.grid), load_grid_file(args.grid_file) if args.grid_file else {})
        if args.epochs is not None:
            if not any(param.name == "epochs" for param in task.params):
                raise GridError(f"task {task.name!r} has no 'epochs' parameter; set its length in --grid")
            grid = merge_grids(grid, {"epochs": [str(args.epochs)]})
    except GridError as err:
        parser.error(str(err))
    return grid


def _run(argv):
    from lasandbox.sweep.runner import plan_runs, run_sweep
    from lasandbox.sweep.store import SweepStore

    parser = _run_parser()
    args = parser.parse_args(argv)
    try:
        task = get_task(args.task)
    except ValueError as err:
        parser.error(str(err))
    grid = _grid_from_args(parser, args, task)
    try:
        runs = plan_runs(task, grid, args.seeds)  # every grid error surfaces here, before anything starts
    except ValueError as err:
        parser.error(str(err))
    _say_what_was_normalised(task, grid)
    store = args.store
    if store is None:  # the default inside --out: checked as --store is, so that a dry run refuses it too
        try:
            store = check_file_path(args.out / f"{task.name}.sqlite")
        except ValueError as err:
            parser.error(f"argument --out: {err}")
    if args.dry_run:
        print(f"{task.name}: {len(runs)} runs ({len({r[0] for r in runs})} configs x {args.seeds} seeds) "
              f"into {store}")
        for digest, seed, config in runs:
            if seed == runs[0][1]:
                print(f"  {digest}  {describe_config(task.name, config, always=grid)}")
        return 0
    dashboard = None if args.dashboard.lower() == "none" else args.dashboard
    try:
        summary = run_sweep(task, grid, args.seeds, store, workers=args.workers, scheduler=args.scheduler,
                            retry_failed=args.retry_failed, retries=args.retries, dashboard_address=dashboard)
    except CorruptStoreError:
        raise  # main() prints it: it is about the file, not the command line
    except ValueError as err:
        parser.error(str(err))
    except (OSError, TimeoutError) as err:  # e.g. no scheduler at --scheduler's address
        print(f"lasandbox sweep: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted; finished runs are in {store}: run the same command again to resume",
              file=sys.stderr)
        return 130
    print(f"{task.name}: ran {summary.ran} runs ({summary.ok} ok, {summary.failed} failed), "
          f"{summary.skipped} were already stored; {summary.wall_time_s:.1f} s; store {summary.store}")
    with SweepStore(store) as opened:
        keys = {(digest, seed) for digest, seed, _ in runs}
        failed = [row for row in opened.rows(task.name, status="failed") if (row["config_hash"], row["seed"]) in keys]
    if failed:
        print(f"{len(failed)} runs of this sweep failed; tracebacks: lasandbox sweep status --store {store} "
              "--tracebacks (--retry-failed runs them again)")
    return 1 if failed else 0


def _say_what_was_normalised(task, grid):
    """One line on stderr per grid value that changes nothing in some configs (``k=10`` with ``alpha=none``):
    those configs ran with the default, once, instead of being accepted as distinct and silently equal."""
    for name, (values, example) in task.normalised_away(grid).items():
        default = next(param.default for param in task.params if param.name == name)
        print(f"note: {name}={','.join(map(format_value, values))} changes nothing in some configs, e.g. "
              f"'{describe_config(task.name, example, always=(name,))}': those run once, with "
              f"{name}={format_value(default)}", file=sys.stderr)


def describe_config(task_name, config, always=()) -> str:
    """``lr=0.1 alpha=none``: the parameters in ``always`` and those that differ from the task's defaults."""
    task = TASKS.get(task_name)
    defaults = {param.name: param.default for param in task.params} if task else {}
    shown = [f"{name}={format_value(value)}" for name, value in config.items()
             if name in always or name not in defaults or defaults[name] != value]
    return " ".join(shown) or "(defaults)"


def _status(argv):
    from lasandbox.sweep.store import SweepStore

    parser = argparse.ArgumentParser(prog="lasandbox sweep status", description="done/total and failures")
    parser.add_argument("--store", type=EXISTING_FILE, required=True)
    parser.add_argument("--tracebacks", action="store_true", help="print each failure's whole traceback")
    args = parser.parse_args(argv)
    with SweepStore(args.store, readonly=True) as store:
        counts = store.counts()
        if not counts:
            print(f"{args.store}: empty")
        for task, count in counts.items():
            ok_rows = store.rows(task, status="ok")
            compute = sum(row["wall_time_s"] or 0.0 for row in ok_rows)
            print(f"{task}: {count['ok']}/{count['planned']} done, {count['failed']} failed, "
                  f"{count['pending']} pending; {compute:.1f} s of run time"
                  + (f" (mean {compute / len(ok_rows):.2f} s)" if ok_rows else ""))
            for row in store.rows(task, status="failed"):
                last_line = (row["error"] or "").strip().splitlines()[-1:] or ["(no traceback)"]
                print(f"  FAILED {row['config_hash']} seed {row['seed']}: {describe_config(task, row['config'])}")
                print(f"    {last_line[0]}" if not args.tracebacks else _indent(row["error"] or "", "    "))
    return 0


def _indent(text, prefix):
    return "\n".join(prefix + line for line in text.rstrip().splitlines())


def _plot(argv):
    from lasandbox.sweep.plot import plot_sweep

    parser = argparse.ArgumentParser(prog="lasandbox sweep plot", description="heatmaps, mean over seeds")
    parser.add_argument("--store", type=EXISTING_FILE, required=True)
    parser.add_argument("--x", required=True, help="parameter along the horizontal axis")
    parser.add_argument("--y", required=True, help="parameter along the vertical axis")
    parser.add_argument("--metric", default="final_loss", help="a final metric (default final_loss)")
    parser.add_argument("--task", help="which task, when the store holds several")
    parser.add_argument("--out", type=OUTPUT_DIR, help="output folder (default: plots/ next to the store)")
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--log", dest="log_scale", action="store_true", default=None, help="log colour scale")
    scale.add_argument("--linear", dest="log_scale", action="store_false", help="linear colour scale")
    args = parser.parse_args(argv)
    try:
        png, csv_path = plot_sweep(args.store, args.x, args.y, args.metric, task=args.task, out_dir=args.out,
                                   log_scale=args.log_scale)
    except CorruptStoreError:
        raise
    except ValueError as err:
        parser.error(str(err))
    print(f"wrote {png} and {csv_path}")
    return 0


def _tasks(argv):
    for task in TASKS.values():
        print(f"{task.name}: {task.description}")
        for param in task.params:
            print(f"  {param.name:<13} {param.doc} ({param.describe()})")
        print()
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    load_task_modules()  # so that help texts, 'tasks' and describe_config know every task
    try:
        if argv and argv[0] in SUBCOMMANDS:
            return {"status": _status, "plot": _plot, "tasks": _tasks}[argv[0]](argv[1:])
        return _run(argv)
    except CorruptStoreError as err:
        print(f"lasandbox sweep: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
