"""``lasandbox bench kernels``: kernel bandwidth against the roofline and PyTorch, in one process.

    python -m lasandbox.kernels.bench [--backends numpy,cpu,cuda,torch] [--sizes 10,14,20]
                                      [--rounds N] [--out DIR] [--quick] [--gpu-data-dir DIR]

Prints a table (time per call, GB/s, fraction of the roofline, speedup over
PyTorch), then one line per target with its measured ratio, and writes
``DIR/kernels.csv`` and ``DIR/kernels.png`` (default DIR ``figures/``). On a
real GPU it also writes ``kernels_gpu_<device>.csv`` (to DIR and, with
``--gpu-data-dir``, there too: commit it under ``benchmarks/data/`` so the
figure overlays it on machines without a GPU). ``run_benchmark`` is the entry
point for code that wants the rows.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import re
import sys
from pathlib import Path

import numba
import numpy as np

from lasandbox.backends import HOST_BACKENDS, KERNEL_BACKENDS
from lasandbox.kernels import api, bench_extras, bench_gpu, bench_plot
from lasandbox.kernels.bench_cases import (
    REFERENCE,
    STREAM_BYTES,
    Buffers,
    CacheCleaner,
    kernel_bytes,
    kernel_labels,
    numba_cases,
    random_arrays,
    sampling,
    stream_cases,
    time_round_robin,
    torch_cases,
)
from lasandbox.kernels.declare import ITEMSIZE
from lasandbox.utils.cliargs import OUTPUT_DIR, int_list
from lasandbox.utils.machine import cpu_model
from lasandbox.utils.progress import progress

DEFAULT_SIZES = tuple(range(10, 27))
QUICK_SIZES = (10, 14, 18, 22)
TARGET_EXPONENT = 24
GPU_BACKENDS = ("cuda", "torch-cuda", "cuda-d2d-copy", "cuda+transfers")


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def default_backends():
    return api.available_backends() + (["torch"] if _torch_available() else [])


def machine_label():
    return f"{cpu_model()}, {numba.config.NUMBA_NUM_THREADS} threads"


def run_benchmark(sizes=QUICK_SIZES, backends=None, rounds=3, out_dir=None, kernels=None, show_progress=True,
                  on_gpu_rows=None):
    """Time every kernel on every backend at each ``2**size``; return rows (dicts of ``bench_plot.COLUMNS``).

    ``kernels``: labels of ``bench_cases.kernel_labels()`` (default: every registered rule, plain and
    with the fused sync, and the sync alone).
    ``backends`` may hold numpy, cpu, cuda and torch (default: all available).
    cuda rows come only from a real GPU; they are measured first, and handed to ``on_gpu_rows(rows)``
    as soon as they are (a lent GPU's numbers must not be lost to a time limit in the CPU part). With
    ``out_dir``, writes ``kernels.csv`` and ``kernels.png`` there.
    """
    backends = list(backends or default_backends())
    kernels = list(kernel_labels() if kernels is None else kernels)
    host_backends = [b for b in backends if b in HOST_BACKENDS]
    use_torch = "torch" in backends and _torch_available()
    use_gpu = "cuda" in backends and bench_gpu.gpu_present()
    bar = progress(total=len(sizes) * rounds + (len(sizes) if use_gpu else 0), desc="bench kernels",
                   enabled=None if show_progress else False)
    rows, cleaner = [], CacheCleaner()
    if use_gpu:
        rows += bench_gpu.run_gpu([2**e for e in sizes], kernels, rounds, progress_update=lambda: bar.update(1))
        if on_gpu_rows is not None:
            on_gpu_rows(list(rows))
    for exponent in sizes:
        size = 2**exponent
        # The roofline streams over random data too: an array of one repeated value (or never-written
        # zeros, which all map to one shared page) can be served from cache and flatter the roofline.
        buffers, stream_a, stream_b = Buffers.random(size), *random_arrays(size, (1.0, 1.0), seed=7)
        cases = stream_cases(stream_a, stream_b)
        for backend in host_backends:
            cases += numba_cases(buffers, backend, kernels)
        if use_torch:
            cases += torch_cases(buffers, kernels)
        max_repeats, clean_cache = sampling(size, cleaner)
        time_round_robin(cases, rounds, max_repeats, on_round=lambda: bar.update(1), clean_cache=clean_cache)
        roofline_seconds = min(case.best for case in cases if case.kernel == "stream")
        roofline_gbps = STREAM_BYTES * size / roofline_seconds / 1e9
        torch_best = {case.kernel: case.best for case in cases if case.backend == "torch"}
        for case in cases:
            bytes_moved = STREAM_BYTES if case.kernel == "stream" else kernel_bytes(case.kernel)
            gbps = bytes_moved * size / case.best / 1e9
            torch_seconds = torch_best.get(case.kernel, math.nan)
            rows.append({"kernel": case.kernel, "backend": case.backend, "size": size, "log2_size": exponent,
                         "seconds": case.best, "gbps": gbps, "roofline_gbps": roofline_gbps,
                         "roofline_fraction": gbps / roofline_gbps, "torch_seconds": torch_seconds,
                         "speedup_vs_torch": torch_seconds / case.best})
        del buffers, cases
    bar.close()
    if out_dir is not None:
        write_outputs(rows, out_dir)
    return rows


def write_outputs(rows, out_dir, gpu_data_dir=None):
    """``kernels.csv`` and ``kernels.png`` in ``out_dir``; GPU rows also as ``kernels_gpu_<device>.csv``."""
    out_dir = Path(out_dir)
    header = run_header()
    bench_plot.write_csv(out_dir / "kernels.csv", rows, header)
    gpu_rows = [row for row in rows if row["backend"] in GPU_BACKENDS]
    extra_dirs = []
    if gpu_rows:
        write_gpu_rows(gpu_rows, out_dir, gpu_data_dir)
        extra_dirs = [gpu_data_dir] if gpu_data_dir else []
    host_rows = [row for row in rows if row not in gpu_rows]  # stored GPU files are drawn from disk
    files = bench_plot.stored_gpu_files(extra_dirs + [out_dir])
    try:
        return bench_plot.plot_kernels(host_rows, out_dir / "kernels.png", files, machine_label())
    except ModuleNotFoundError as err:  # e.g. a GPU image without matplotlib: the csv files are what matter
        print(f"no figure: {err} (the csv files are written)")
        return None


def write_gpu_rows(rows, out_dir, gpu_data_dir=None):
    """The GPU rows as ``kernels_gpu_<device>.csv`` in ``out_dir`` (and ``gpu_data_dir``), with the device and
    its versions in the header."""
    gpu_rows = [row for row in rows if row["backend"] in GPU_BACKENDS]
    header = run_header()
    header = dict(header, device=bench_gpu.device_name(),
                  versions=", ".join(filter(None, [header["versions"], bench_gpu.gpu_versions()])))
    slug = re.sub(r"[^A-Za-z0-9]+", "_", header["device"]).strip("_").lower()
    for folder in [Path(out_dir)] + ([Path(gpu_data_dir)] if gpu_data_dir else []):
        bench_plot.write_csv(folder / f"kernels_gpu_{slug}.csv", gpu_rows, header)


def run_header():
    versions = f"numba {numba.__version__}, numpy {np.__version__}"
    if _torch_available():
        import torch

        versions += f", torch {torch.__version__}"
    return {"device": machine_label(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "versions": versions, "python": platform.python_version(), "command": " ".join(sys.argv),
            "load_average": load_average()}


def load_average():
    """The 1/5/15-minute load averages: other processes' demand for the cores during the run."""
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux/macOS
        return "unknown"


def print_table(rows):
    print(f"{'kernel':14s} {'backend':15s} {'size':>6s} {'time':>11s} {'GB/s':>7s} {'roofline':>8s} "
          f"{'vs torch':>8s}")
    for row in sorted(rows, key=lambda r: (r["size"], r["kernel"], r["backend"])):
        print(f"{row['kernel']:14s} {row['backend']:15s} 2^{row['log2_size']:<4d} {_time(row['seconds']):>11s} "
              f"{row['gbps']:7.2f} {row['roofline_fraction']:8.2f} {row['speedup_vs_torch']:8.2f}")


def _time(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3f} {unit}"
    return f"{seconds / 1e-9:.1f} ns"


def _target_size(rows, backend):
    sizes = sorted({row["log2_size"] for row in rows if row["backend"] == backend})
    if TARGET_EXPONENT in sizes:
        return TARGET_EXPONENT, ""
    return (sizes[-1], f" (2^{TARGET_EXPONENT} not measured)") if sizes else (None, "")


def target_lines(rows, extras):
    """One line per target of the kernels issue, with the ratio measured in this run."""
    lines = []
    find = {(r["kernel"], r["backend"], r["log2_size"]): r for r in rows}
    exponent, note = _target_size(rows, "cpu")
    if exponent is not None:
        for kernel in sorted({r["kernel"] for r in rows if r["backend"] == "cpu"}, key=_label_order):
            row = find.get((kernel, "cpu", exponent))
            if row:
                target = 0.75 if _segmented(kernel) else 0.85  # a two-pass rule: of the bytes both passes move
                lines.append(f"{kernel} cpu 2^{exponent}: {row['roofline_fraction']:.2f} of roofline "
                             f"({row['gbps']:.1f} of {row['roofline_gbps']:.1f} GB/s) (target >= {target}){note}")
        adam, fused = find.get(("adam", "cpu", exponent)), find.get(("adam+sync", "cpu", exponent))
        if adam and not math.isnan(adam["torch_seconds"]):
            lines.append(f"adam cpu 2^{exponent}: torch fused Adam time / ours = {adam['speedup_vs_torch']:.2f} "
                         f"(target >= 1.0){note}")
        if adam and fused:
            lines.append(f"adam+sync / adam cpu 2^{exponent}: {fused['seconds'] / adam['seconds']:.2f} "
                         f"(target <= 1.4){note}")
    many = extras.get("many_tensors")
    if many:
        flat = many["cpu-flat"]
        line = (f"adam over {many['tensors']} tensors ({many['values'] / 1e6:.1f}M values), one flat cpu call "
                f"({flat * 1e3:.2f} ms): {many['numpy-per-tensor'] / flat:.1f}x faster than a per-tensor loop of "
                f"the numpy backend (target >= 10) [{many['numpy-per-tensor-inplace'] / flat:.1f}x than a "
                f"hand-tuned in-place numpy loop]")
        if "optimizer-step" in many:
            line += (f"; lasandbox.optimizer.Adam(backend='cpu').step() {many['optimizer-step'] * 1e3:.2f} ms: "
                     f"{many['numpy-per-tensor'] / many['optimizer-step']:.1f}x")
        if "torch-foreach" in many:
            line += (f", {many['torch-foreach'] / flat:.2f}x faster than torch foreach Adam (target > 1)"
                     f" [torch fused: {many['torch-fused'] / flat:.2f}x]")
        lines.append(line)
    small = extras.get("small_arrays")
    if small:
        for kernel in kernel_labels():
            if (kernel, "cpu") in small:
                ratio = small[(kernel, "numpy")] / small[(kernel, "cpu")]
                lines.append(f"{kernel} at 1000 elements: numpy reference / cpu = {ratio:.2f} (target >= 1.0)")
        lines.append(f"adam at 1000 elements: cpu {small[('adam', 'cpu')] * 1e6:.2f} us per call, "
                     f"{small[('adam', 'cpu-unvalidated')] * 1e6:.2f} us with validate=False")
    check = extras.get("nonfinite")
    if check:
        lines.append(f"nonfinite='skip'/'raise' gradient check before an adam step at 2^24: "
                     f"+{check['check+step'] / check['step'] - 1:.1%} ({check['check'] * 1e3:.2f} ms check, "
                     f"{check['step'] * 1e3:.2f} ms step; target <= +10% when enabled, 0% when 'propagate', "
                     f"where no check runs)")
        lines.append(_check_floor_line(check))
    lines += _startup_lines(extras.get("startup"))
    crossover = extras.get("crossover")
    if crossover:
        found = ", ".join(f"{k} 2^{e}" if e else f"{k} none" for k, e in crossover.items())
        lines.append(f"serial/parallel crossover (parallel faster from): {found}; "
                     f"SERIAL_THRESHOLD = 2^{int(math.log2(api.cpu_backend.SERIAL_THRESHOLD))}")
    lines += _gpu_lines(rows)
    return lines


def _label_order(label):
    labels = kernel_labels()
    return labels.index(label) if label in labels else len(labels)


def _check_floor_line(check):
    """What bounds the check's cost: it must read every gradient before the step writes anything, so
    it is a pass of its own; at the rates measured here, that read alone costs this much of the step."""
    read, moved = ITEMSIZE * check["size"], kernel_bytes(REFERENCE) * check["size"]  # float32 gradients
    read_rate, step_rate = read / check["check"] / 1e9, moved / check["step"] / 1e9
    return (f"  the check reads {read_rate:.1f} GB/s, the step moves {step_rate:.1f} GB/s ({read // check['size']} "
            f"vs {moved // check['size']} bytes per element): a separate read costs {read / moved:.0%} of the step "
            f"at equal rates, {(read / read_rate) / (moved / step_rate):.0%} at these")


def _segmented(label):
    from lasandbox.kernels.bench_cases import parse_label

    rule, _ = parse_label(label)
    return rule is not None and rule.segmented


def _startup_lines(startup):
    if not startup:
        return []
    direct, after = startup["direct"], startup["after_setup"]
    cold, warm = direct["cold"], direct["warm"]
    lines = [f"import lasandbox compiles nothing: {not cold['compiled_at_import']} "
             f"(numba.cuda imported: {cold['cuda_imported']}; import {cold['import_seconds']:.2f} s)"]
    ratio = warm["first_step_large"] / cold["first_step_large"]
    lines.append(f"first adam step (2^20) of a process: cold {cold['first_step_large']:.3f} s, with the cache "
                 f"{warm['first_step_large']:.3f} s, ratio {ratio:.3f} (target <= 0.25)")
    setup = after["warm"]["numba_setup"]
    kernel_ratio = after["warm"]["first_step_large"] / after["cold"]["first_step_large"]
    lines.append(f"  of which numba's own per-process set-up (no cache removes it) ~{setup:.3f} s; after it, "
                 f"the step costs cold {after['cold']['first_step_large']:.3f} s, cached "
                 f"{after['warm']['first_step_large']:.3f} s, ratio {kernel_ratio:.3f}")
    scipy = startup.get("after_scipy")
    if scipy:
        scipy_cold, scipy_warm = scipy["cold"]["first_step_large"], scipy["warm"]["first_step_large"]
        lines.append(f"  in a process that has already imported scipy.linalg (e.g. loaded scikit-learn data): "
                     f"cold {scipy_cold:.3f} s, cached {scipy_warm:.3f} s, ratio {scipy_warm / scipy_cold:.3f}")
    lines.append(f"first adam step at 1000 elements (after the 2^20 one): cold {cold['first_step_small']:.4f} s, "
                 f"cached {warm['first_step_small']:.4f} s")
    return lines


def _gpu_lines(rows):
    if not any(row["backend"] == "cuda" for row in rows):
        return ["gpu: no real GPU in this run (cuda targets not measured here)"]
    find = {(r["kernel"], r["backend"], r["log2_size"]): r for r in rows}
    exponent, note = _target_size(rows, "cuda")
    lines = []
    for kernel in ("adam", "sync"):
        row = find[(kernel, "cuda", exponent)]
        lines.append(f"{kernel} cuda 2^{exponent}: {row['roofline_fraction']:.2f} of device-to-device copy "
                     f"bandwidth ({row['gbps']:.0f} of {row['roofline_gbps']:.0f} GB/s) (target >= 0.7){note}")
    adam = find[("adam", "cuda", exponent)]
    if not math.isnan(adam["torch_seconds"]):
        lines.append(f"adam cuda 2^{exponent}: torch fused CUDA Adam time / ours = {adam['speedup_vs_torch']:.2f} "
                     f"(target > 1.0){note}")
    lines.append(f"cuda launches per fused adam+sync step: {bench_gpu.launches_per_step()} (target 1)")
    plain, transfers = bench_gpu.crossover_sizes(rows)
    lines.append(f"cpu->gpu crossover for adam: data resident from {_pow2(plain)}, "
                 f"with host transfers from {_pow2(transfers)}")
    return lines


def _pow2(size):
    return f"2^{int(math.log2(size))}" if size else "never (in the sizes measured)"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="lasandbox bench kernels", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default=None, help="comma list of numpy,cpu,cuda,torch (default: available)")
    parser.add_argument("--sizes", type=int_list, default=None,
                        help="comma list of powers of two, e.g. 10,14,20 (default 10..26)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved timing rounds (default 10, quick 3); "
                        "the many-tensor and small-array runs use at least 10 and 30 (quick: 3 and 10)")
    parser.add_argument("--out", type=OUTPUT_DIR, default="figures", help="folder for kernels.csv and kernels.png")
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}, 3 rounds, fewer extras")
    parser.add_argument("--no-extras", action="store_true", help="skip the many-tensor/start-up/threshold runs")
    parser.add_argument("--gpu-data-dir", type=OUTPUT_DIR, default=None,
                        help="also store GPU results here (benchmarks/data)")
    parser.add_argument("--rules", default=None, help="comma list of registered rules to time (default: all; "
                        "each plain and with the fused sync, plus the sync alone)")
    args = parser.parse_args(argv)
    if args.rules:
        from lasandbox.kernels import rules

        names = [name.strip() for name in args.rules.split(",") if name.strip()]
        unknown = [name for name in names if name not in rules.names()]
        if unknown:
            parser.error(f"unknown rule(s) {unknown}; registered: {', '.join(rules.names())}")
        args.kernels = kernel_labels(names)
    else:
        args.kernels = kernel_labels()
    if args.backends:
        args.backends = [name.strip() for name in args.backends.split(",") if name.strip()]
        choices = (*KERNEL_BACKENDS, "torch")
        unknown = set(args.backends) - set(choices)
        if unknown:
            parser.error(f"unknown backend(s) {sorted(unknown)}; choose from {', '.join(choices)}")
    if args.sizes is None:
        args.sizes = list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    if any(not 0 <= s <= 30 for s in args.sizes):
        parser.error("--sizes are powers of two between 0 and 30")
    if args.rounds is None:
        args.rounds = 3 if args.quick else 10
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    backends = args.backends or default_backends()
    if "cuda" in backends and not bench_gpu.gpu_present():
        print("cuda: no real GPU here (the simulator is not benchmarked); skipping the cuda backend")
    print(f"machine: {machine_label()}; backends: {', '.join(backends)}; rounds: {args.rounds}; "
          f"load average {load_average()} (other processes add noise; each number is a minimum)")
    rows = run_benchmark(args.sizes, backends, args.rounds, kernels=args.kernels,
                         on_gpu_rows=lambda gpu_rows: write_gpu_rows(gpu_rows, args.out, args.gpu_data_dir))
    # Written before the side measurements, which can take minutes: a lent GPU's rows must not be
    # lost to a time limit or an error after them.
    figure = write_outputs(rows, args.out, args.gpu_data_dir)
    extras = {}
    if not args.no_extras:
        # More --rounds also means more rounds here (never fewer than these defaults; --quick keeps its own).
        extras["small_arrays"] = bench_extras.small_arrays(rounds=10 if args.quick else max(30, args.rounds))
        extras["many_tensors"] = bench_extras.many_tensors(rounds=3 if args.quick else max(10, args.rounds))
        if not args.quick:
            extras["nonfinite"] = bench_extras.nonfinite_check_cost(rounds=max(10, args.rounds))
            extras["startup"] = bench_extras.startup()
            extras["crossover"], _ = bench_extras.serial_parallel_crossover()
    print_table(rows)
    print(f"\nload average at the end: {load_average()}\ntargets:")
    for line in target_lines(rows, extras):
        print("  " + line)
    print(f"\nwrote {Path(args.out) / 'kernels.csv'}" + (f" and {figure}" if figure else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
