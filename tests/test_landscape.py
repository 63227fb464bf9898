"""Landscape geometry and grid evaluation: planes, projections, directions, batched vs naive grids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lasandbox as paddle
from lasandbox import nn
from lasandbox.landscape import (
    ParameterLayout,
    Plane,
    evaluate_grid,
    evaluate_points,
    evaluate_weights,
    extent_around,
    filter_normalised_direction,
    filter_norms,
    interpolate,
)
from lasandbox.training import evaluate, mlp

RNG = np.random.default_rng(3)
X = RNG.standard_normal((120, 6)).astype(np.float32)
Y = RNG.integers(0, 4, 120)


def make_mlp(sizes=(6, 8, 4), activation="relu", seed=0):
    paddle.seed(seed)
    return mlp(list(sizes), activation=activation)


def random_plane(layout, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    origin = layout.flatten()
    return Plane(origin, scale * rng.standard_normal(layout.size), scale * rng.standard_normal(layout.size))


def three_points(size=40, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(size), rng.standard_normal(size), rng.standard_normal(size)


# ------------------------------------------------------------------ planes
@pytest.mark.parametrize("orthonormalise", [False, True])
def test_defining_points_project_exactly(orthonormalise):
    theta_0, theta_mid, theta_end = three_points()
    plane = Plane.through_points(theta_0, theta_mid, theta_end, orthonormalise=orthonormalise)
    projection = plane.project(np.stack([theta_0, theta_mid, theta_end]))
    assert np.all(projection.distance < 1e-12)
    assert plane.basis == ("orthonormal" if orthonormalise else "raw")
    if orthonormalise:
        assert plane.orthonormal
        d1, d2 = theta_mid - theta_0, theta_end - theta_0
        assert projection.coords[1] == pytest.approx([np.linalg.norm(d1), 0.0], abs=1e-12)
        assert np.linalg.norm(projection.coords[2]) == pytest.approx(np.linalg.norm(d2))
    else:
        np.testing.assert_allclose(projection.coords, [[0, 0], [1, 0], [0, 1]], atol=1e-12)
    # Mapping coordinates back gives the points themselves.
    np.testing.assert_allclose(plane.points(projection.coords), [theta_0, theta_mid, theta_end], atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(-5, 5), b=st.floats(-5, 5))
def test_point_in_plane_projects_to_its_coordinates(a, b):
    plane = Plane.through_points(*three_points(), orthonormalise=False)
    projection = plane.project(plane.origin + a * plane.d1 + b * plane.d2)
    np.testing.assert_allclose(projection.coords[0], [a, b], atol=1e-9)
    assert projection.distance[0] < 1e-9


def test_point_off_the_plane_reports_its_distance():
    plane = Plane.through_points(*three_points(), orthonormalise=False)
    normal = np.random.default_rng(5).standard_normal(plane.size)
    basis, _ = np.linalg.qr(np.stack([plane.d1, plane.d2], axis=1))
    normal -= basis @ (basis.T @ normal)
    normal /= np.linalg.norm(normal)
    on_plane = plane.point(0.3, -0.7)
    projection = plane.project(np.stack([on_plane + 2.5 * normal, on_plane]))
    np.testing.assert_allclose(projection.coords, [[0.3, -0.7], [0.3, -0.7]], atol=1e-9)
    assert projection.distance[0] == pytest.approx(2.5)
    assert projection.relative_distance[0] == pytest.approx(2.5 / np.linalg.norm(on_plane + 2.5 * normal
                                                                                   - plane.origin))
    assert projection.distance[1] < 1e-12


def test_degenerate_planes_are_rejected():
    theta_0, theta_mid, _ = three_points()
    with pytest.raises(ValueError, match="collinear|parallel"):
        Plane.through_points(theta_0, theta_mid, theta_0 + 2 * (theta_mid - theta_0))
    # float32 points on a straight line (a straight stretch of a trajectory): collinear up to their rounding,
    # whose normalised remainder would have been a random second axis
    w = np.random.default_rng(0).random(43).astype(np.float32)
    step = np.full(43, 0.01, np.float32)
    with pytest.raises(ValueError, match="collinear"):
        Plane.through_points(w, w + step, w + 2 * step)
    bent = (w + 2 * step).copy()
    bent[0] += 1e-3  # a real second direction at float32 is still a plane
    assert Plane.through_points(w, w + step, bent).d2 @ np.eye(43)[0] > 0.9
    with pytest.raises(ValueError, match="theta_mid equals theta_0|non-zero"):
        Plane.through_points(theta_0, theta_0, theta_mid)
    with pytest.raises(ValueError, match="same length"):
        Plane(np.zeros(3), np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        Plane(np.zeros(3), np.array([1.0, np.nan, 0]), np.ones(3))
    with pytest.raises(ValueError, match="basis"):
        Plane(np.zeros(3), np.eye(3)[0], np.eye(3)[1], basis="skewed")
    with pytest.raises(ValueError, match="flat weight vectors"):
        Plane(np.zeros(3), np.eye(3)[0], np.eye(3)[1]).project(np.zeros((2, 4)))


def test_non_finite_weights_are_named_wherever_they_enter():
    layout = ParameterLayout.from_model(make_mlp((3, 2)))
    bad = np.zeros(layout.size)
    bad[1] = np.inf
    with pytest.raises(ValueError, match="^d1 contains NaN or inf$"):
        Plane(np.zeros(3), np.array([1.0, np.nan, 0]), np.ones(3))
    with pytest.raises(ValueError, match="^weights contains NaN or inf$"):
        layout.check_vector("weights", bad)
    with pytest.raises(ValueError, match="^snapshots contains NaN or inf$"):
        layout.check_matrix("snapshots", np.stack([np.zeros(layout.size), bad]))
    with pytest.raises(ValueError, match="^points contains NaN or inf$"):
        Plane.pca(np.array([[0.0, 1.0], [1.0, 0.0], [np.nan, 2.0]]))


# ---------------------------------------------------------- directions
def test_filter_normalised_direction_matches_every_filter_norm():
    model = make_mlp((6, 8, 5, 4))
    layout = ParameterLayout.from_model(model)
    weights = layout.flatten()
    direction = filter_normalised_direction(layout, weights, seed=2)
    np.testing.assert_allclose(filter_norms(layout, direction), filter_norms(layout, weights), rtol=1e-12)
    for slot, d in zip(layout.slots, layout.split(direction), strict=True):
        if len(slot.shape) == 1:
            assert not d.any(), "biases are left out by default (Li et al.'s ignore='biasbn')"
    copied = filter_normalised_direction(layout, weights, seed=2, bias="weights")
    scaled = filter_normalised_direction(layout, weights, seed=2, bias="normalised")
    for slot, w, c, s in zip(layout.slots, layout.split(weights), layout.split(copied), layout.split(scaled),
                             strict=True):
        if len(slot.shape) == 1:
            np.testing.assert_allclose(c, w)
            assert np.linalg.norm(s) == pytest.approx(np.linalg.norm(w), abs=1e-12)
    plane = Plane.filter_normalised(layout, weights, seed=4)
    assert plane.basis == "filter-normalised" and plane.size == layout.size
    with pytest.raises(ValueError, match="bias"):
        filter_normalised_direction(layout, weights, bias="keep")
    with pytest.raises(ValueError, match="flat weight vector"):
        filter_normalised_direction(layout, weights[:-1])
    with pytest.raises(TypeError, match="rng= or seed=, not both"):  # the seed had been ignored
        filter_normalised_direction(layout, weights, rng=np.random.default_rng(0), seed=3)


def test_filter_normalisation_of_a_convolution_weight_uses_the_leading_axis():
    layout = ParameterLayout([paddle.to_tensor(np.zeros((3, 2, 2, 2), np.float32))], names=["conv"])
    weights = np.random.default_rng(0).standard_normal(layout.size)
    direction = filter_normalised_direction(layout, weights, seed=1).reshape(3, 2, 2, 2)
    expected = np.linalg.norm(weights.reshape(3, -1), axis=1)
    np.testing.assert_allclose(np.linalg.norm(direction.reshape(3, -1), axis=1), expected)


@pytest.mark.parametrize("n_points,size", [(12, 30), (40, 5)])  # both Gram-matrix branches
@pytest.mark.parametrize("center", ["last", "mean"])
def test_pca_directions_are_orthonormal_and_explain_the_reported_variance(n_points, size, center):
    rng = np.random.default_rng(1)
    path = np.cumsum(rng.standard_normal((n_points, size)) * np.linspace(2, 0.1, size), axis=0)
    plane = Plane.pca(path, center=center)
    basis = np.stack([plane.d1, plane.d2])
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-10)
    centred = path - (path[-1] if center == "last" else path.mean(axis=0))
    captured = ((centred @ basis.T) ** 2).sum(axis=0) / (centred**2).sum()
    np.testing.assert_allclose(plane.explained_variance_ratio, captured, rtol=1e-9)
    assert plane.explained_variance_ratio[0] >= plane.explained_variance_ratio[1]
    # No other direction captures more than the first (spot check against random unit vectors).
    others = rng.standard_normal((20, size))
    others /= np.linalg.norm(others, axis=1, keepdims=True)
    assert ((centred @ others.T) ** 2).sum(axis=0).max() <= ((centred @ plane.d1) ** 2).sum() + 1e-9
    # Signed so the run moves towards +d1.
    assert (path[-1] - path[0]) @ plane.d1 >= 0


def test_pca_rejects_too_few_or_collinear_points():
    with pytest.raises(ValueError, match="n >= 3"):
        Plane.pca(np.zeros((2, 5)))
    line = np.outer(np.arange(5.0), np.ones(4))
    with pytest.raises(ValueError, match="line"):
        Plane.pca(line)
    with pytest.raises(ValueError, match="center"):
        Plane.pca(np.random.default_rng(0).standard_normal((5, 4)), center="first")


def test_extent_around_pads_the_points():
    box = extent_around([[0, 0], [2, 1]], margin=0.25)
    assert box == pytest.approx((-0.5, 2.5, -0.5, 1.5))
    square = extent_around([[0, 0], [2, 1]], margin=0.0, square=True)
    assert square[1] - square[0] == pytest.approx(square[3] - square[2])
    with pytest.raises(ValueError, match="margin"):
        extent_around([[0, 0]], margin=-1)


# --------------------------------------------------------------- grids
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_batched_and_naive_grids_agree(activation):
    model = make_mlp((6, 9, 7, 4), activation=activation)
    plane = random_plane(ParameterLayout.from_model(model))
    kwargs = {"extent": (-1.0, 1.5, -0.8, 1.2), "resolution": (6, 5), "show_progress": False}
    batched = evaluate_grid(model, plane, X, Y, method="batched", **kwargs)
    naive = evaluate_grid(model, plane, X, Y, method="naive", **kwargs)
    assert (batched.method, naive.method) == ("batched", "naive")
    assert batched.loss.shape == (5, 6)
    np.testing.assert_allclose(batched.loss, naive.loss, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(batched.accuracy, naive.accuracy)
    assert batched.seconds > 0 and batched.points_per_second > 0 and "batched" in batched.cost()


def test_grid_rows_follow_b_and_columns_follow_a():
    model = make_mlp()
    layout = ParameterLayout.from_model(model)
    plane = random_plane(layout, scale=0.3)
    grid = evaluate_grid(model, plane, X, Y, extent=(-1, 1, 0, 2), resolution=(3, 4), show_progress=False)
    from lasandbox.landscape.layout import loaded_weights

    with loaded_weights(layout, plane.point(grid.a[2], grid.b[1])):
        loss, accuracy = evaluate(model, X, Y)
    assert grid.loss[1, 2] == pytest.approx(loss, rel=1e-5)
    assert grid.accuracy[1, 2] == accuracy


def test_single_linear_layer_is_batched_too():
    paddle.seed(2)
    model = nn.Sequential(nn.Linear(6, 4))
    plane = random_plane(ParameterLayout.from_model(model))
    coords = np.array([[0.0, 0.0], [0.5, -1.0], [2.0, 1.0]])
    batched = evaluate_points(model, plane, coords, X, Y, method="batched")
    naive = evaluate_points(model, plane, coords, X, Y, method="naive")
    np.testing.assert_allclose(batched[0], naive[0], rtol=1e-5)
    np.testing.assert_array_equal(batched[1], naive[1])


class Residual(nn.Layer):
    """Not a plain MLP: the grid falls back to one forward per point."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(6, 6)
        self.head = nn.Linear(6, 4)

    def forward(self, x):
        return self.head(x + self.inner(x))


def test_non_mlp_models_use_the_naive_path():
    paddle.seed(0)
    model = Residual()
    plane = random_plane(ParameterLayout.from_model(model))
    grid = evaluate_grid(model, plane, X, Y, resolution=3, show_progress=False)
    assert grid.method == "naive"
    with pytest.raises(ValueError, match="plain MLP"):
        evaluate_grid(model, plane, X, Y, resolution=3, method="batched", show_progress=False)


def test_grid_evaluation_leaves_the_model_and_optimizer_untouched():
    model = make_mlp()
    opt = paddle.optimizer.Momentum(learning_rate=0.1, parameters=model.parameters())
    loss = nn.CrossEntropyLoss()(model(paddle.to_tensor(X)), paddle.to_tensor(Y))
    loss.backward()
    before = opt._space.param_buffer.copy()
    grads = opt._space.grad_buffer.copy()
    plane = random_plane(ParameterLayout.from_model(model))
    for method in ("naive", "batched"):
        evaluate_grid(model, plane, X, Y, resolution=3, method=method, show_progress=False)
    np.testing.assert_array_equal(opt._space.param_buffer, before)
    np.testing.assert_array_equal(opt._space.grad_buffer, grads)
    assert all(p._value.base is not None for p in model.parameters()), "parameters still view the flat buffer"


def test_interpolation_ends_are_the_two_models():
    start_model, end_model = make_mlp(seed=0), make_mlp(seed=1)
    start = ParameterLayout.from_model(start_model).flatten()
    end = ParameterLayout.from_model(end_model).flatten()
    line = interpolate(start_model, start, end, X, Y, t=[0.0, 0.5, 1.0])
    assert line.loss[0] == pytest.approx(evaluate(start_model, X, Y)[0], rel=1e-5)
    assert line.loss[2] == pytest.approx(evaluate(end_model, X, Y)[0], rel=1e-5)
    naive = interpolate(start_model, start, end, X, Y, t=[0.0, 0.5, 1.0], method="naive")
    np.testing.assert_allclose(line.loss, naive.loss, rtol=1e-5)
    with pytest.raises(ValueError, match="same point"):
        interpolate(start_model, start, start, X, Y)


def test_evaluate_weights_matches_evaluate():
    model = make_mlp()
    layout = ParameterLayout.from_model(model)
    weights = np.stack([layout.flatten(), layout.flatten() * 0.5])
    loss, accuracy = evaluate_weights(model, weights, X, Y)
    assert loss[0] == pytest.approx(evaluate(model, X, Y)[0])
    assert loss.shape == accuracy.shape == (2,)


def test_bad_grid_arguments_raise_clear_errors():
    model = make_mlp()
    layout = ParameterLayout.from_model(model)
    plane = random_plane(layout)
    with pytest.raises(ValueError, match="resolution"):
        evaluate_grid(model, plane, X, Y, resolution=1, show_progress=False)
    with pytest.raises(TypeError, match="resolution"):
        evaluate_grid(model, plane, X, Y, resolution=2.5, show_progress=False)
    with pytest.raises(ValueError, match="a_max > a_min"):
        evaluate_grid(model, plane, X, Y, extent=(1, 0, 0, 1), show_progress=False)
    with pytest.raises(ValueError, match="extent"):
        evaluate_grid(model, plane, X, Y, extent=(0, 1), show_progress=False)
    with pytest.raises(ValueError, match="method"):
        evaluate_grid(model, plane, X, Y, method="fast", show_progress=False)
    with pytest.raises(ValueError, match="weights"):
        evaluate_grid(model, Plane(np.zeros(5), np.eye(5)[0], np.eye(5)[1]), X, Y, show_progress=False)
    with pytest.raises(ValueError, match="one label per row"):
        evaluate_grid(model, plane, X, Y[:-1], show_progress=False)
    with pytest.raises(TypeError, match="integer class labels"):
        evaluate_grid(model, plane, X, Y.astype(np.float32), show_progress=False)
    # Labels outside the model's classes: the batched kernel indexes the logits with them (it had read out
    # of bounds and returned NaN or arbitrary numbers); every method refuses them.
    classes = int(model(paddle.to_tensor(X[:1])).shape[-1])
    for bad in (Y + classes, Y - classes):
        for method in ("batched", "auto", "naive"):
            with pytest.raises(ValueError, match="label"):
                evaluate_grid(model, plane, X, bad, resolution=2, method=method, show_progress=False)
    with pytest.raises(TypeError, match="Plane"):
        evaluate_points(model, "plane", [[0, 0]], X, Y)
    with pytest.raises(ValueError, match="NaN"):
        evaluate_points(model, plane, [[np.nan, 0]], X, Y)
