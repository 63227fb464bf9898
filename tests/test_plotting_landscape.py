"""Landscape and curve plots render head-less, write png + csv, and the csv holds what is drawn.

Also runs the ten-line example of ``lasandbox.landscape``'s docstring and the
one-call ``figure1`` at a small size.
"""

from __future__ import annotations

import textwrap

import matplotlib
import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import landscape, nn
from lasandbox.landscape import ParameterLayout, Plane, TrajectoryRecorder, evaluate_grid, interpolate
from lasandbox.landscape.directions import path_end_index
from lasandbox.plotting.curves import plot_inner_loop, plot_trajectory_metric, read_csv, write_csv
from lasandbox.plotting.landscape import plot_interpolation, plot_landscape, plot_surface
from lasandbox.training import mlp

RNG = np.random.default_rng(5)
X = RNG.standard_normal((60, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 60)


@pytest.fixture(scope="module")
def run():
    """A short LookAhead run on a small MLP, its plane and a 6x5 grid."""
    paddle.seed(0)
    model = mlp([4, 6, 3])
    la = paddle.LookAhead(paddle.optimizer.Momentum(learning_rate=0.2, parameters=model.parameters()), alpha=0.5,
                          k=3, slow_init="construction")
    rec = TrajectoryRecorder(la)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(9):
        idx = RNG.integers(0, len(X), 16)
        loss = loss_fn(model(paddle.to_tensor(X[idx])), paddle.to_tensor(Y[idx]))
        loss.backward()
        la.step()
        la.clear_grad()
        rec.record({"loss": float(loss.numpy())})
    traj = rec.trajectory()
    plane = Plane.through_trajectory(traj)
    coords = plane.project(traj.fast).coords
    grid = evaluate_grid(model, plane, X, Y, extent=landscape.extent_around(coords, margin=0.3), resolution=(6, 5),
                         show_progress=False, data_name="toy data")
    return model, traj, plane, grid


def test_plots_do_not_switch_the_backend(run, tmp_path):
    backend = matplotlib.get_backend()
    _, traj, _, grid = run
    plot_landscape(grid, tmp_path / "contour.png", trajectory=traj, dpi=60)
    assert matplotlib.get_backend() == backend


def test_contour_writes_png_and_the_drawn_numbers(run, tmp_path):
    _, traj, plane, grid = run
    saved = plot_landscape(grid, tmp_path / "contour.png", trajectory=traj, metric="loss", title="toy")
    assert saved.png.exists() and saved.png.stat().st_size > 10_000
    assert saved.data_path == tmp_path / "contour.csv" and saved.data_path.exists()
    table = read_csv(saved.data_path)
    series = table["series"]
    assert (series == "grid").sum() == 30
    np.testing.assert_allclose(table["loss"][series == "grid"], grid.loss.ravel(), rtol=1e-8)
    steps, points, _ = traj.fast_path()
    fast = series == "fast"
    np.testing.assert_array_equal(table["step"][fast], steps)
    expected = plane.project(points)
    np.testing.assert_allclose(table["a"][fast], expected.a, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(table["distance"][fast], expected.distance, rtol=1e-6, atol=1e-9)
    slow = series == "slow"
    np.testing.assert_array_equal(table["step"][slow], traj.slow_steps)
    # The three defining points (steps 0 and 4, the last inner-loop end) sit on the plane.
    _, _, is_end = traj.fast_path()
    defining = [0, int(np.flatnonzero(steps == 4)[0]), path_end_index(steps, is_end)]
    assert np.all(table["distance"][fast][defining] < 1e-6)
    assert table["distance"][fast].max() > 1e-3, "the other points are off the plane, and say so"
    assert set(saved.data) >= {"series", "a", "b", "loss", "accuracy", "distance", "step"}


def test_contour_without_trajectory_and_bad_metric(run, tmp_path):
    _, _, _, grid = run
    saved = plot_landscape(grid, tmp_path / "plain.png", dpi=60)
    assert set(read_csv(saved.data_path)["series"]) == {"grid"}
    with pytest.raises(ValueError, match="metric"):
        plot_landscape(grid, tmp_path / "bad.png", metric="error")


def test_surface_and_interpolation_plots(run, tmp_path):
    model, traj, _, grid = run
    surface = plot_surface(grid, tmp_path / "surface.png", log_scale=True, dpi=60)
    assert surface.png.exists() and len(read_csv(surface.data_path)["a"]) == 30
    line = interpolate(model, traj.slow[0], traj.slow[-1], X, Y, t=np.linspace(-0.5, 1.5, 9))
    other = interpolate(model, traj.fast[0], traj.inner_end[-1], X, Y, t=np.linspace(-0.5, 1.5, 9))
    saved = plot_interpolation([line, other], tmp_path / "line.png", labels=["slow", "fast"], dpi=60)
    table = read_csv(saved.data_path)
    assert list(table["line"]).count("slow") == 9
    np.testing.assert_allclose(table["loss"][:9], line.loss)
    with pytest.raises(ValueError, match="labels"):
        plot_interpolation([line], tmp_path / "x.png", labels=["a", "b"])
    with pytest.raises(ValueError, match="metric"):
        plot_surface(grid, tmp_path / "acc.png", metric="sharpness")


def test_inner_loop_curve(run, tmp_path):
    model, traj, _, _ = run
    steps, updates = traj.fast_updates()
    fast_loss, _ = landscape.evaluate_weights(model, updates, X, Y)
    slow_loss, _ = landscape.evaluate_weights(model, traj.slow, X, Y)
    saved = plot_inner_loop(steps, fast_loss, traj.slow_steps, slow_loss, tmp_path / "inner.png",
                            ylabel="loss", k=traj.k, dpi=60)
    table = read_csv(saved.data_path)
    assert saved.png.exists()
    np.testing.assert_allclose(table["value"][table["series"] == "slow"], slow_loss)
    with pytest.raises(ValueError, match="shape"):
        plot_inner_loop(steps, fast_loss[:-1], [], [], tmp_path / "bad.png")
    # The one-call version evaluates the same snapshots.
    again = plot_trajectory_metric(model, traj, X, Y, tmp_path / "inner2.png", metric="loss", dpi=60)
    np.testing.assert_allclose(again.data["value"], saved.data["value"])
    with pytest.raises(ValueError, match="metric"):
        plot_trajectory_metric(model, traj, X, Y, tmp_path / "bad.png", metric="f1")


def test_write_csv_rejects_ragged_columns(tmp_path):
    with pytest.raises(ValueError, match="equal lengths"):
        write_csv(tmp_path / "x.csv", {"a": [1, 2], "b": [1]})


def test_the_docstring_example_runs(tmp_path, monkeypatch):
    """The ten lines in lasandbox.landscape's docstring, verbatim."""
    doc = landscape.__doc__
    block = doc[doc.index("::\n") + 3:]
    code = textwrap.dedent(block)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LASANDBOX_PROGRESS", "0")
    exec(compile(code, "lasandbox.landscape docstring", "exec"), {})
    assert (tmp_path / "landscape.png").exists() and (tmp_path / "landscape.csv").exists()


def test_figure1_one_call(tmp_path):
    result = landscape.figure1(tmp_path / "fig1.png", cycles=1, resolution=7, show_progress=False, dpi=60)
    assert result.png.exists() and result.data_path.exists()
    # phi_1 lies on the segment theta_0 -> theta_k at fraction alpha (PAPER.md stand-in 5).
    assert result.slow_segment_fraction == pytest.approx(0.5, abs=1e-5)
    # theta_0, theta_5 and theta_10 define the plane: no residual.
    steps, _, is_end = result.trajectory.fast_path()
    defining = [0, int(np.flatnonzero(steps == 5)[0]), int(np.flatnonzero(is_end)[-1])]
    assert np.all(result.fast_projection.relative_distance[defining] < 1e-6)
    assert result.grid.accuracy.shape == (7, 7)
    assert result.plane.basis == "orthonormal"
    with pytest.raises(ValueError, match="alpha"):
        landscape.figure1(tmp_path / "bad.png", alpha=0.0)


def test_layout_checks():
    model = mlp([4, 6, 3])
    layout = ParameterLayout.from_model(model)
    assert [s.name for s in layout.slots] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(TypeError, match="Layer"):
        ParameterLayout.from_model(object())
    with pytest.raises(ValueError, match="empty"):
        ParameterLayout([])
