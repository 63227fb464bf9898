"""The paper's Figure 1 on CPU scale, in one call (PAPER.md section 5, stand-in 5).

An MLP 64-32-10 is trained on scikit-learn's digits with SGD + momentum for a
few epochs, then Lookahead (slow weights initialised at theta_0, as in the
paper's Algorithm 1) runs ``cycles`` inner loops of ``k`` steps while a
``TrajectoryRecorder`` keeps every fast and slow point. The plane goes
through the first, middle and last fast weights of the recorded run (with
``cycles=1``, k = 10: theta_0, theta_5, theta_10, exactly the stand-in; the
default draws three cycles so the slow trajectory has a shape); test
accuracy is evaluated on a grid over it and drawn with both trajectories.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lasandbox.landscape.directions import Plane, Projection, extent_around
from lasandbox.landscape.grid import GridResult, evaluate_grid
from lasandbox.landscape.recorder import TrajectoryRecorder
from lasandbox.landscape.trajectory import Trajectory
from lasandbox.utils.validation import check_int, check_real


@dataclass
class Figure1Result:
    """Everything behind the figure; ``slow_segment_fraction`` checks phi_1 = phi_0 + alpha*(theta_k - phi_0)."""

    trajectory: Trajectory
    plane: Plane
    fast_projection: Projection
    slow_projection: Projection
    grid: GridResult
    png: Path
    data_path: Path
    slow_segment_fraction: float
    final_test_accuracy: dict


def figure1(path="figures/landscape_demo.png", *, k=10, alpha=0.5, cycles=3, pretrain_epochs=1,
            learning_rate=0.1, momentum=0.9, batch_size=32, resolution=25, metric="accuracy",
            orthonormalise=True, seed=0, show_progress=True, title=None, dpi=200):
    """Train, record, evaluate and draw the Figure-1-style plot; returns ``Figure1Result``.

    Writes ``path`` (png) and its csv; takes a few seconds at the defaults.
    """
    import lasandbox as paddle
    from lasandbox.datasets import load_digits
    from lasandbox.plotting.landscape import plot_landscape
    from lasandbox.training import evaluate, mlp, train_epoch

    k = check_int("k", k, low=2)
    cycles = check_int("cycles", cycles, low=1)
    pretrain_epochs = check_int("pretrain_epochs", pretrain_epochs, low=0)
    batch_size = check_int("batch_size", batch_size, low=1)
    check_real("alpha", alpha, low=0.0, high=1.0, low_open=True)
    data = load_digits()
    paddle.seed(seed)
    model = mlp([64, 32, 10])
    inner = paddle.optimizer.Momentum(learning_rate=learning_rate, momentum=momentum,
                                      parameters=model.parameters())
    rng = np.random.default_rng(seed)
    for _ in range(pretrain_epochs):
        train_epoch(model, inner, data.x_train, data.y_train, batch_size, rng)
    lookahead = paddle.LookAhead(inner, alpha=alpha, k=k, slow_init="construction")
    recorder = TrajectoryRecorder(lookahead)
    _train_steps(model, lookahead, recorder, data, batch_size, rng, steps=k * cycles)
    trajectory = recorder.trajectory()

    plane = Plane.through_trajectory(trajectory, orthonormalise=orthonormalise)
    _, path_points, _ = trajectory.fast_path()
    fast_projection = plane.project(path_points)
    slow_projection = plane.project(trajectory.slow)
    extent = extent_around(np.concatenate([fast_projection.coords, slow_projection.coords]), margin=0.3,
                           square=orthonormalise)
    grid = evaluate_grid(model, plane, data.x_test, data.y_test, extent=extent, resolution=resolution,
                         show_progress=show_progress, data_name="digits test split")
    saved = plot_landscape(grid, path, trajectory=trajectory, metric=metric,
                           title=title or f"Lookahead on digits (k = {k}, alpha = {alpha:g})", dpi=dpi)

    phi_0, phi_1, theta_k = trajectory.slow[0], trajectory.slow[1], trajectory.inner_end[0]
    travel = theta_k.astype(np.float64) - phi_0
    fraction = float((phi_1 - phi_0) @ travel / (travel @ travel))
    accuracy = {"fast": evaluate(model, data.x_test, data.y_test)[1]}
    with lookahead.slow_weights():
        accuracy["slow"] = evaluate(model, data.x_test, data.y_test)[1]
    return Figure1Result(trajectory, plane, fast_projection, slow_projection, grid, saved.png, saved.data_path,
                         fraction, accuracy)


def _train_steps(model, optimizer, recorder, data, batch_size, rng, steps):
    """``steps`` mini-batch steps (reshuffling each epoch), recording the loss after each."""
    from lasandbox import nn
    from lasandbox.autograd.tensor import Tensor

    loss_fn = nn.CrossEntropyLoss()
    order, cursor = rng.permutation(len(data.x_train)), 0
    for _ in range(steps):
        if cursor + batch_size > len(order):
            order, cursor = rng.permutation(len(data.x_train)), 0
        idx = order[cursor:cursor + batch_size]
        cursor += batch_size
        loss = loss_fn(model(Tensor(data.x_train[idx])), Tensor(data.y_train[idx]))
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        recorder.record({"loss": float(loss.numpy())})
