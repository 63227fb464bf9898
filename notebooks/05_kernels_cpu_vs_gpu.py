# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Optimizer kernels: bytes moved per step, CPU vs GPU
#
# An optimizer step is memory-bound: Adam reads the parameter, gradient and two moments and writes
# three of them back, 28 bytes per float32 element; with the Lookahead sync fused in, 36 bytes. How
# fast a kernel *can* be is set by memory bandwidth, so we measure each kernel in GB/s against the
# machine's own roofline: an in-place stream kernel `a += s*b` (12 bytes per element) timed in the
# same run.
#
# Each update rule exists in three backends with the same semantics: `numpy` (the readable
# reference), `cpu` (numba, multi-threaded above a size threshold) and `cuda` (numba.cuda). This
# notebook calls them directly, checks they agree, measures them, and shows the committed GPU
# measurements next to this machine's.

# %%
FULL = False
SIZES = (10, 14, 18, 22, 24) if FULL else (10, 14, 18, 20)
ROUNDS = 7 if FULL else 3

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from lasandbox import kernels
from lasandbox.kernels import bench, bench_cases, bench_gpu, bench_plot, cpu_backend
from lasandbox.utils.extras import exit_if_missing

exit_if_missing("IPython", "this notebook (it shows its figures with IPython.display)", prog="05_kernels_cpu_vs_gpu.py")
os.environ["LASANDBOX_PROGRESS"] = "0"
print("backends available here:", kernels.available_backends())
print("the cpu backend runs serially below", cpu_backend.SERIAL_THRESHOLD, "elements")
print("registered update rules:", ", ".join(kernels.rules.names()))
# Every rule is benchmarked by `lasandbox bench kernels`; here a few, plain and with the fused sync.
KERNELS = bench_cases.kernel_labels(("sgd", "adam", "lamb", "lion"))

# %% [markdown]
# ## Calling a kernel directly
#
# Kernels work in place on contiguous 1-D float32 arrays. `slow=` fuses the Lookahead sync into the
# same pass: after the update, `slow += alpha*(p - slow); p = slow`.

# %%
rng = np.random.default_rng(0)
n = 1_000_003
start = {name: rng.standard_normal(n).astype(np.float32) for name in ("p", "g", "m", "slow")}
start["v"] = np.abs(rng.standard_normal(n)).astype(np.float32)
results = {}
for backend in ("numpy", "cpu"):
    a = {k: v.copy() for k, v in start.items()}
    kernels.adam_step(a["p"], a["g"], a["m"], a["v"], lr=1e-3, step=3, slow=a["slow"], alpha=0.5, backend=backend)
    results[backend] = a
for key in ("p", "m", "v", "slow"):
    diff = np.max(np.abs(results["cpu"][key] - results["numpy"][key]))
    print(f"{key:>4}: max |cpu - numpy| = {diff:.2e}")

# %% [markdown]
# ## Bandwidth against the roofline, numpy and PyTorch (this machine)
#
# Timings are taken round-robin (every kernel once per round, many rounds) and each keeps its
# minimum: the machine may be busy, and the minimum is the least disturbed run.

# %%
host_backends = [b for b in bench.default_backends() if b != "cuda"]  # the GPU has its own section below
rows = bench.run_benchmark(sizes=SIZES, backends=host_backends, rounds=ROUNDS, kernels=KERNELS,
                           show_progress=False)
largest = max(r["size"] for r in rows)
print(f"at 2^{int(np.log2(largest))} elements:")
print(f"{'kernel':<12}{'backend':<8}{'GB/s':>8}{'roofline':>10}{'vs torch':>10}")
for r in rows:
    if r["size"] == largest and r["kernel"] != "stream":
        print(f"{r['kernel']:<12}{r['backend']:<8}{r['gbps']:>8.1f}{r['roofline_fraction']:>10.2f}"
              f"{r['speedup_vs_torch']:>9.2f}x")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for backend, colour in (("numpy", "tab:gray"), ("cpu", "tab:blue"), ("torch", "tab:orange")):
    sel = [r for r in rows if r["kernel"] == "adam" and r["backend"] == backend]
    if sel:
        ax.plot([r["size"] for r in sel], [r["gbps"] for r in sel], "o-", color=colour, label=f"adam, {backend}")
stream = [r for r in rows if r["kernel"] == "stream"]
ax.plot([r["size"] for r in stream], [r["gbps"] for r in stream], "k--", label="roofline (stream a += s*b)")
ax.set(xscale="log", yscale="log", xlabel="elements", ylabel="GB/s", title="Adam step, this machine")
ax.legend()
plt.show()

# %% [markdown]
# ## CPU vs GPU
#
# GPU numbers come from files committed under `benchmarks/data/` (written by
# `lasandbox bench kernels --gpu-data-dir benchmarks/data` on a lent GPU, with device, date and
# versions in their header). Where this notebook runs on a machine with a GPU, the `cuda` backend is
# measured live as well.

# %%
gpu_files = bench_plot.stored_gpu_files()
if not gpu_files:
    print("no GPU measurements are committed yet: the figure shows this machine only")
for path in gpu_files:
    header, gpu_rows = bench_plot.read_csv(path)
    print(path.name, "|", header.get("device"), "|", header.get("date"))
    for r in gpu_rows:
        if r["kernel"] == "adam" and r["size"] == max(x["size"] for x in gpu_rows):
            print(f"   {r['backend']:<16} {r['gbps']:8.1f} GB/s")
if bench_gpu.gpu_present():  # a real GPU: measure it live too (the simulator says nothing about speed)
    live = bench.run_benchmark(sizes=SIZES, backends=["cuda"], rounds=ROUNDS, kernels=KERNELS, show_progress=False)
    print(f"live, {bench_gpu.device_name()}:")
    for r in live:
        if r["kernel"] in ("adam", "sync") and r["backend"] == "cuda":
            print(f"   {r['kernel']:<6} 2^{r['log2_size']:<3} {r['gbps']:8.1f} GB/s, "
                  f"{r['roofline_fraction']:.2f} of the device copy")
out = bench_plot.plot_kernels(rows, "kernels_notebook.png", gpu_files=gpu_files, machine_label=bench.machine_label())
from IPython.display import Image, display

display(Image(filename="kernels_notebook.png"))
os.remove("kernels_notebook.png")
