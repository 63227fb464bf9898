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
# # 04 · Loss landscapes and trajectories
#
# The paper's Figure 1 draws test accuracy on the plane through three fast-weight snapshots of one
# inner loop, with the fast trajectory and the slow-weight steps on it. Here, step by step:
#
# 1. record a Lookahead run (fast weights every step, slow weights at every sync);
# 2. pick a plane: through three points (Figure 1), the top-2 PCA directions of the trajectory, or
#    filter-normalised random directions (Li et al. 2018);
# 3. evaluate loss and accuracy on a grid over the plane (batched: many grid points per pass);
# 4. plot the trajectories, a 1-D interpolation, and compare the curvature (top Hessian eigenvalue)
#    at the fast and the slow weights.

# %%
FULL = False
RESOLUTION = 51 if FULL else 21
CYCLES = 5 if FULL else 3

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from lasandbox.utils.extras import exit_if_missing

exit_if_missing("IPython", "this notebook (it shows its figures with IPython.display)", prog="04_loss_landscape.py")
from IPython.display import Image, display

import lasandbox as paddle
from lasandbox import landscape
from lasandbox.datasets import load_digits
from lasandbox.plotting.landscape import plot_interpolation, plot_landscape
from lasandbox.training import evaluate, mlp, train_epoch

os.environ["LASANDBOX_PROGRESS"] = "0"  # no progress bars in the notebook's output
out = Path(tempfile.mkdtemp())
data = load_digits()

# %% [markdown]
# ## 1. Record a run
#
# Warm up with momentum SGD for a few epochs, then switch to Lookahead (alpha = 0.5, k = 10) and
# record every step of a few inner loops. `TrajectoryRecorder` stores flat float32 copies of the
# fast weights and the slow weights at each sync; `nbytes` says what it costs.

# %%
paddle.seed(0)
model = mlp([64, 32, 10])
warmup = paddle.optimizer.Momentum(learning_rate=0.05, momentum=0.9, parameters=model.parameters())
rng = np.random.default_rng(0)
for _ in range(3):
    train_epoch(model, warmup, data.x_train, data.y_train, 32, rng)

inner = paddle.optimizer.Momentum(learning_rate=0.1, momentum=0.9, parameters=model.parameters())
opt = paddle.LookAhead(inner, alpha=0.5, k=10, slow_init="construction")
recorder = landscape.TrajectoryRecorder(opt)
loss_fn = paddle.nn.CrossEntropyLoss()
for _ in range(CYCLES * opt.k):
    batch = rng.choice(len(data.x_train), 32, replace=False)
    loss = loss_fn(model(paddle.to_tensor(data.x_train[batch])), paddle.to_tensor(data.y_train[batch]))
    loss.backward()
    opt.step()
    opt.clear_grad()
    recorder.record({"loss": float(loss)})
traj = recorder.trajectory()
print(f"{len(traj.fast)} fast snapshots, {len(traj.slow)} slow snapshots, {recorder.nbytes / 2**20:.1f} MiB")

# %% [markdown]
# ## 2. The plane through the first, middle and last fast weights
#
# As in Figure 1, the plane goes through the first, middle and last fast weights of an inner loop
# (here the first). Every recorded point is projected onto it; its distance from the plane is
# reported, so nothing is silently flattened (hollow squares are more than 5% off the plane).

# %%
loop_steps, loop_points = traj.inner_loop(0)
plane = landscape.Plane.through_points(loop_points[0], loop_points[len(loop_points) // 2], loop_points[-1])
print("distance of the 3 defining points:", plane.project(loop_points[[0, len(loop_points) // 2, -1]]).distance)
projection = plane.project(traj.fast)
print("max relative distance of the fast points from the plane:", float(projection.max_relative_distance))
box = landscape.extent_around(projection.coords, margin=0.3)
grid = landscape.evaluate_grid(model, plane, data.x_test, data.y_test, extent=box, resolution=RESOLUTION)
print(grid.cost())
saved = plot_landscape(grid, out / "plane.png", trajectory=traj, title="test accuracy, plane through 3 fast points")
display(Image(filename=str(saved.png)))

# %% [markdown]
# ## 3. Other planes: PCA of the trajectory, filter-normalised random directions

# %%
pca = landscape.Plane.pca(np.concatenate([traj.fast, traj.slow]))
print("PCA explained variance ratio:", np.round(pca.explained_variance_ratio, 3))
pca_coords = pca.project(traj.fast).coords
pca_grid = landscape.evaluate_grid(model, pca, data.x_test, data.y_test,
                                   extent=landscape.extent_around(pca_coords, margin=0.3), resolution=RESOLUTION)
display(Image(filename=str(plot_landscape(pca_grid, out / "pca.png", trajectory=traj, title="PCA plane").png)))

layout = landscape.ParameterLayout.from_model(model)
random_plane = landscape.Plane.filter_normalised(layout, traj.slow[-1], seed=0)
random_grid = landscape.evaluate_grid(model, random_plane, data.x_test, data.y_test, extent=(-1, 1, -1, 1),
                                      resolution=RESOLUTION)
display(Image(filename=str(plot_landscape(random_grid, out / "random.png", metric="loss",
                                          title="filter-normalised directions around the last slow point").png)))

# %% [markdown]
# ## 4. Along a line, and the curvature the fast and slow weights sit in
#
# A 1-D interpolation from the slow point a cycle started from to the fast weights at that cycle's
# end (just before the sync pulled them back), then the top Hessian
# eigenvalue (power iteration on Hessian-vector products) at the slow points and at every 5th fast
# point.

# %%
line = landscape.interpolate(model, traj.slow[-2], traj.inner_end[-1], data.x_test, data.y_test)
saved_line = plot_interpolation(line, out / "line.png", labels=["slow point -> end of its inner loop"])
display(Image(filename=str(saved_line.png)))

sharp = landscape.sharpness_along_trajectory(model, traj, data.x_train, data.y_train, every=5, iterations=30)
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(sharp.fast_steps, sharp.fast, ".-", color="tab:blue", label="fast weights")
ax.plot(sharp.slow_steps, sharp.slow, "^-", color="purple", label="slow weights")
ax.set(xlabel="step", ylabel="top Hessian eigenvalue")
ax.legend()
plt.show()
print(f"median top eigenvalue: fast {np.median(sharp.fast):.2f}, slow {np.median(sharp.slow):.2f}")

# %%
with opt.slow_weights():
    slow_loss, slow_acc = evaluate(model, data.x_test, data.y_test)
fast_loss, fast_acc = evaluate(model, data.x_test, data.y_test)
print(f"slow weights: test loss {slow_loss:.4f}, accuracy {slow_acc:.3f}")
print(f"fast weights: test loss {fast_loss:.4f}, accuracy {fast_acc:.3f}")
