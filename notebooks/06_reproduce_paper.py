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
# # 06 · Reproducing the paper
#
# `lasandbox reproduce` regenerates every figure: it computes the data, writes `NAME.csv` (one row
# per plotted value) and `NAME.png`, checks the paper's claim against the numbers and writes
# `REPORT.md`. Here the same from Python.
#
# The analytic figures (the noisy quadratic and the convergence rates) check the paper's claims
# exactly; the training figures run small CPU-scale stand-ins (MLPs on digits and MNIST-1D instead of
# ResNets on CIFAR/ImageNet), so their claims are reported as measured, held or not.
#
# By default this notebook runs the three fastest figures at quick scale (about a minute) and shows
# the committed figures for the rest; `FULL = True` runs all nine (several minutes at quick scale;
# `lasandbox reproduce --full` on the command line for paper scale).

# %%
FULL = False

# %%
import os
import tempfile
from pathlib import Path

from lasandbox.utils.extras import exit_if_missing

exit_if_missing("IPython", "this notebook (it shows its figures with IPython.display)", prog="06_reproduce_paper.py")
from IPython.display import Image, Markdown, display

from lasandbox.paper import registry, runner

os.environ["LASANDBOX_PROGRESS"] = "0"
print("figures:", ", ".join(registry.figure_names()))

# %%
names = registry.figure_names() if FULL else ["nqm", "quadratic_rates", "inner_loop"]
out = Path(tempfile.mkdtemp())
status = runner.main([*names, "--quick", "--out", str(out)])
print("exit status", status, "| outputs in", out)

# %% [markdown]
# ## The claims table (REPORT.md)

# %%
display(Markdown((out / "REPORT.md").read_text()))

# %% [markdown]
# ## The figures

# %%
committed = Path.cwd().parent / "figures"
for name in registry.figure_names():
    png = out / f"{name}.png"
    if not png.exists():
        png = committed / f"{name}.png"
    if png.exists():
        display(Markdown(f"### {name}" + ("" if png.parent == out else " (committed figure)")))
        display(Image(filename=str(png)))
