"""The ``lasandbox`` command: ``reproduce``, ``bench``, ``demo``, ``optimizers`` (and ``sweep`` when available)."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "reproduce": ("lasandbox.paper.runner", "regenerate the paper's figures (quick scale by default)"),
    "demo": ("lasandbox.demo", "LookAhead vs SGD/Adam on digits: table + loss curves"),
    "sweep": ("lasandbox.sweep.cli", "hyperparameter grids on dask.distributed with a resumable SQLite store"),
    "optimizers": ("lasandbox.optimizer.listing", "the registered optimizers and their update rules"),
    "bench": (None, "benchmarks: 'bench kernels' (update kernels vs roofline, numpy, PyTorch)"),
}

# name: (module with main(argv), one line for 'lasandbox bench --help')
BENCHES = {"kernels": ("lasandbox.kernels.bench", "update kernels vs roofline, numpy and PyTorch; GPU when present")}


def _usage():
    lines = ["usage: lasandbox COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "Run 'lasandbox COMMAND --help' for a command's options."]
    return "\n".join(lines)


def _bench_usage():
    lines = [f"usage: lasandbox bench {{{','.join(BENCHES)}}} [ARGS]", "", "benchmarks:"]
    lines += [f"  {name:<10} {text}" for name, (_, text) in BENCHES.items()]
    lines += ["", "Run 'lasandbox bench NAME --help' for a benchmark's options."]
    return "\n".join(lines)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"lasandbox: unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    if command == "bench":
        if rest and rest[0] in ("-h", "--help"):
            print(_bench_usage())
            return 0
        if not rest or rest[0] not in BENCHES:
            named = f"unknown benchmark {rest[0]!r}" if rest else "name a benchmark"
            print(f"lasandbox bench: {named}\n\n{_bench_usage()}", file=sys.stderr)
            return 2
        module = BENCHES[rest[0]][0]
        rest = rest[1:]
    else:
        module = COMMANDS[command][0]
    from lasandbox.utils.extras import MissingExtraError

    try:
        return importlib.import_module(module).main(rest) or 0
    except MissingExtraError as err:  # one line that names the extra, not a traceback
        print(f"lasandbox {command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
