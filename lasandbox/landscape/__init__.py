"""Loss landscapes of Lookahead runs: record a run, pick a plane, evaluate a grid, measure sharpness.

* ``TrajectoryRecorder`` / ``RecordingOptimizer``: fast weights every
  ``stride`` steps, slow weights at every sync, the end of every inner loop,
  float32, in memory or chunked on disk (``recorder``, ``trajectory``);
* ``Plane``: through three weight vectors (Figure 1), filter-normalised random
  directions (Li et al. 2018) or the top-2 PCA directions of a trajectory;
  ``plane.project`` gives coordinates and each point's distance from the
  plane (``directions``);
* ``evaluate_grid`` / ``interpolate``: loss and accuracy over a grid or a
  line, batched for plain MLPs (the first layer's products computed once)
  and for conv nets (many points per forward pass), one autograd forward per
  point otherwise (``grid``, ``batched_mlp``, ``batched_cnn``);
* ``top_hessian_eigenvalue`` / ``sharpness_along_trajectory``: curvature at
  the fast and the slow weights by power iteration (``sharpness``);
* ``figure1``: all of it in one call, drawing ``figures/landscape_demo.png``.

Plots live in ``lasandbox.plotting.landscape`` and ``lasandbox.plotting.curves``.
Flat weight vectors follow ``model.parameters()`` order, which is the
optimizer's when it was built with ``parameters=model.parameters()``.

Example (train with Lookahead, record, plot both trajectories)::

    import numpy as np
    import lasandbox as paddle
    from lasandbox import landscape
    from lasandbox.datasets import load_digits
    from lasandbox.plotting.landscape import plot_landscape
    from lasandbox.training import mlp, train_epoch

    data, model = load_digits(), mlp([64, 32, 10])
    opt = paddle.LookAhead(paddle.optimizer.Momentum(0.1, parameters=model.parameters()), alpha=0.5, k=10)
    rec = landscape.TrajectoryRecorder(opt)
    train_epoch(model, opt, data.x_train, data.y_train, 32, np.random.default_rng(0),
                on_step=lambda loss: rec.record({"loss": loss}))
    traj = rec.trajectory()
    plane = landscape.Plane.through_trajectory(traj)  # theta_0, theta_mid, theta_end
    box = landscape.extent_around(plane.project(traj.fast).coords, margin=0.3)
    grid = landscape.evaluate_grid(model, plane, data.x_test, data.y_test, extent=box, resolution=25)
    plot_landscape(grid, "landscape.png", trajectory=traj)  # also writes landscape.csv
"""

from lasandbox.landscape.directions import (
    Plane,
    Projection,
    extent_around,
    filter_normalised_direction,
    filter_norms,
)
from lasandbox.landscape.figure1 import Figure1Result, figure1
from lasandbox.landscape.grid import (
    GridResult,
    LineResult,
    evaluate_grid,
    evaluate_points,
    evaluate_weights,
    interpolate,
)
from lasandbox.landscape.layout import ParameterLayout, loaded_weights
from lasandbox.landscape.recorder import RecordingOptimizer, TrajectoryRecorder
from lasandbox.landscape.sharpness import (
    SharpnessResult,
    TrajectorySharpness,
    hessian_vector_product,
    loss_gradient,
    sharpness_along_trajectory,
    top_hessian_eigenvalue,
)
from lasandbox.landscape.trajectory import Trajectory

__all__ = [
    "Figure1Result", "GridResult", "LineResult", "ParameterLayout", "Plane", "Projection", "RecordingOptimizer",
    "SharpnessResult", "Trajectory", "TrajectoryRecorder", "TrajectorySharpness", "evaluate_grid",
    "evaluate_points", "evaluate_weights", "extent_around", "figure1", "filter_normalised_direction",
    "filter_norms", "hessian_vector_product", "interpolate", "loaded_weights", "loss_gradient",
    "sharpness_along_trajectory", "top_hessian_eigenvalue",
]
