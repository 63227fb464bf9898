"""The ``kernels`` figure and the benchmark's csv files (this run, and stored GPU runs).

One panel per kernel: effective bandwidth (bytes the update must move / time)
against array size, one line per backend, with the roofline of the machine it
ran on drawn dashed. GPU measurements stored under ``benchmarks/data/``
(``kernels_gpu_<device>.csv``) are overlaid and labelled with their device,
date and file, so a figure made without a GPU still shows where GPU numbers
came from.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

COLUMNS = ["kernel", "backend", "size", "log2_size", "seconds", "gbps", "roofline_gbps", "roofline_fraction",
           "torch_seconds", "speedup_vs_torch"]
STYLE = {"cpu": ("tab:blue", "-"), "numpy": ("tab:gray", "-"), "torch": ("tab:orange", "-"),
         "cuda": ("tab:green", "-"), "torch-cuda": ("tab:red", "-")}


def write_csv(path, rows, header=None):
    """Write rows (dicts with ``COLUMNS``); ``header`` lines become leading ``# key: value`` comments."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        for key, value in (header or {}).items():
            handle.write(f"# {key}: {value}\n")
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _fmt(row.get(key)) for key in COLUMNS})


def _fmt(value):
    return f"{value:.6g}" if isinstance(value, float) else value


def read_csv(path):
    """(header dict, rows) of a file written by ``write_csv``; numbers parsed back."""
    header, lines = {}, []
    for line in Path(path).read_text().splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header[key.strip()] = value.strip()
        elif line.strip():
            lines.append(line)
    rows = []
    for raw in csv.DictReader(lines):
        row = dict(raw)
        for key in ("size", "log2_size"):
            row[key] = int(row[key])
        for key in ("seconds", "gbps", "roofline_gbps", "roofline_fraction", "torch_seconds",
                    "speedup_vs_torch"):
            row[key] = float(row[key]) if row.get(key) not in (None, "") else math.nan
        rows.append(row)
    return header, rows


def stored_gpu_files(extra_dirs=()):
    """Committed GPU measurement files: ``benchmarks/data`` of this checkout, plus ``extra_dirs``.

    One file per device name: a copy of the same device's file in a later
    folder (``figures/`` next to ``benchmarks/data``) is not drawn twice.
    """
    dirs = [Path(__file__).resolve().parents[2] / "benchmarks" / "data", *map(Path, extra_dirs)]
    seen, files = set(), []
    for folder in dirs:
        for path in sorted(folder.glob("kernels_gpu_*.csv")) if folder.is_dir() else []:
            if path.name not in seen:
                seen.add(path.name)
                files.append(path)
    return files


def plot_kernels(rows, out_path, gpu_files=(), machine_label="this machine"):
    """Draw the figure to ``out_path`` (png) from this run's rows and stored GPU files."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from lasandbox.kernels.bench_cases import kernel_labels

    stored = [read_csv(path) + (Path(path),) for path in gpu_files]
    present = {row["kernel"] for row in rows}
    kernels = [label for label in kernel_labels() if label in present]
    panel_rows = max(1, math.ceil((len(kernels) + 1) / 4))  # one panel per kernel, and one for the legend
    fig, axes = plt.subplots(panel_rows, 4, figsize=(17, 4 * panel_rows), sharex=True, squeeze=False)
    for ax, kernel in zip(axes.flat, kernels, strict=False):
        _draw_panel(ax, kernel, rows, stored, machine_label)
    for ax in list(axes.flat)[len(kernels):]:
        ax.axis("off")
    legend_ax = axes.flat[-1]
    handles, labels = {}, {}
    for ax in list(axes.flat)[:len(kernels)]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
            labels[label] = label
    legend_ax.legend(list(handles.values()), list(labels), loc="center", fontsize=8, frameon=False)
    fig.suptitle("Kernel bandwidth (bytes the update must move / time); dashed: roofline")
    fig.tight_layout()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


def _draw_panel(ax, kernel, rows, stored, machine_label):
    mine = [row for row in rows if row["kernel"] == kernel]
    order = list(STYLE)
    for backend in sorted({row["backend"] for row in mine}, key=lambda b: order.index(b) if b in order else 99):
        line = sorted((row for row in mine if row["backend"] == backend), key=lambda row: row["size"])
        color, style = STYLE.get(backend, ("black", "-"))
        ax.plot([r["log2_size"] for r in line], [r["gbps"] for r in line], style, color=color, marker="o",
                markersize=3, label=f"{backend} ({machine_label})")
    roof = sorted({(row["log2_size"], row["roofline_gbps"]) for row in mine if row["backend"] == "cpu"})
    if roof:
        ax.plot(*zip(*roof, strict=True), "--", color="black",
                label=f"roofline: numba stream a += s*b ({machine_label})")
    for header, gpu_rows, path in stored:
        source = f"{header.get('device', path.stem)}, {header.get('date', '?')[:10]}, {path.name}"
        for backend, color in (("cuda", "tab:green"), ("torch-cuda", "tab:red")):
            line = sorted((r for r in gpu_rows if r["kernel"] == kernel and r["backend"] == backend),
                          key=lambda r: r["size"])
            if line:
                ax.plot([r["log2_size"] for r in line], [r["gbps"] for r in line], ":", color=color, marker="s",
                        markersize=3, label=f"{backend} ({source})")
        copy = sorted((r["log2_size"], r["gbps"]) for r in gpu_rows if r["kernel"] == "copy")
        if copy:
            ax.plot(*zip(*copy, strict=True), "--", color="tab:green", alpha=0.5,
                    label=f"roofline: device-to-device copy ({source})")
    ax.set_title(kernel)
    ax.set_yscale("log")
    ax.set_xlabel("log2(elements)")
    ax.set_ylabel("GB/s")
    ax.grid(True, alpha=0.3)
