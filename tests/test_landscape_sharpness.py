"""Sharpness: finite-difference Hessian-vector products and power iteration against known Hessians."""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import nn
from lasandbox.landscape import (
    ParameterLayout,
    TrajectoryRecorder,
    hessian_vector_product,
    loss_gradient,
    sharpness_along_trajectory,
    top_hessian_eigenvalue,
)
from lasandbox.training import mlp

RNG = np.random.default_rng(0)
# Least squares: loss(w) = mean((A w - t)^2), so the Hessian is 2 A^T A / n everywhere.
A = RNG.standard_normal((40, 5)) * np.array([3.0, 1.0, 0.8, 0.5, 0.2])
T = RNG.standard_normal((40, 1))
HESSIAN = 2 * A.T @ A / len(A)
NO_LABELS = np.zeros(len(A), dtype=np.int64)


def quadratic_model():
    paddle.seed(0)
    return nn.Sequential(nn.Linear(5, 1, bias_attr=False))


def squared_error(model, x, y):
    residual = model(paddle.to_tensor(x)) - paddle.to_tensor(T)
    return (residual * residual).mean()


def test_gradient_and_hessian_vector_product_of_a_quadratic():
    model = quadratic_model()
    w = np.array([0.5, -1.0, 2.0, 0.0, 1.0])
    loss, grad = loss_gradient(model, w, A, NO_LABELS, loss_fn=squared_error)
    np.testing.assert_allclose(grad, 2 * A.T @ (A @ w - T[:, 0]) / len(A), rtol=1e-10)
    assert loss == pytest.approx(np.mean((A @ w - T[:, 0]) ** 2))
    v = RNG.standard_normal(5)
    hv = hessian_vector_product(model, w, v, A, NO_LABELS, loss_fn=squared_error)
    np.testing.assert_allclose(hv, HESSIAN @ v, rtol=1e-6)


def test_power_iteration_finds_the_known_top_eigenvalue():
    model = quadratic_model()
    result = top_hessian_eigenvalue(model, A, NO_LABELS, loss_fn=squared_error, iterations=300, tol=1e-12)
    values, vectors = np.linalg.eigh(HESSIAN)
    assert result.converged
    assert result.eigenvalue == pytest.approx(values[-1], rel=1e-6)
    assert abs(result.vector @ vectors[:, -1]) == pytest.approx(1.0, abs=1e-4)


def test_power_iteration_on_a_negative_curvature_keeps_the_sign():
    model = quadratic_model()

    def concave(model, x, y):
        return -squared_error(model, x, y)

    result = top_hessian_eigenvalue(model, A, NO_LABELS, loss_fn=concave, iterations=300, tol=1e-12)
    assert result.eigenvalue == pytest.approx(-np.linalg.eigvalsh(HESSIAN)[-1], rel=1e-6)


def test_sharpness_leaves_the_model_and_optimizer_untouched_and_runs_along_a_trajectory():
    paddle.seed(1)
    model = mlp([5, 6, 3])
    x = RNG.standard_normal((30, 5)).astype(np.float32)
    y = RNG.integers(0, 3, 30)
    la = paddle.LookAhead(paddle.optimizer.SGD(learning_rate=0.2, parameters=model.parameters()), alpha=0.5, k=2)
    rec = TrajectoryRecorder(la)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(4):
        loss_fn(model(paddle.to_tensor(x)), paddle.to_tensor(y)).backward()
        la.step()
        rec.record()
    buffer = la.inner_optimizer._space.param_buffer.copy()
    grads = la.inner_optimizer._space.grad_buffer.copy()
    result = sharpness_along_trajectory(model, rec.trajectory(), x, y, every=2, iterations=30)
    assert list(result.fast_steps) == [0, 2, 4] and list(result.slow_steps) == [1, 2, 4]
    assert np.all(np.isfinite(result.fast)) and np.all(np.isfinite(result.slow))
    assert np.all(result.fast > 0), "cross-entropy of an MLP at these points is locally convex enough"
    np.testing.assert_array_equal(la.inner_optimizer._space.param_buffer, buffer)
    np.testing.assert_array_equal(la.inner_optimizer._space.grad_buffer, grads)
    layout = ParameterLayout.from_model(model)
    assert all(p.dtype == np.float32 for p in layout.parameters)


def test_bad_sharpness_arguments():
    model = quadratic_model()
    with pytest.raises(ValueError, match="iterations"):
        top_hessian_eigenvalue(model, A, NO_LABELS, loss_fn=squared_error, iterations=0)
    with pytest.raises(ValueError, match="eps"):
        top_hessian_eigenvalue(model, A, NO_LABELS, loss_fn=squared_error, eps=0.0)
    with pytest.raises(ValueError, match="weights"):
        top_hessian_eigenvalue(model, A, NO_LABELS, np.zeros(4), loss_fn=squared_error)
    with pytest.raises(ValueError, match="non-zero"):
        hessian_vector_product(model, np.zeros(5), np.zeros(5), A, NO_LABELS, loss_fn=squared_error)
    with pytest.raises(ValueError, match="scalar Tensor"):
        loss_gradient(model, np.zeros(5), A, NO_LABELS, loss_fn=lambda m, x, y: 1.0)
    with pytest.raises(ValueError, match="which"):
        sharpness_along_trajectory(model, None, A, NO_LABELS, which="neither")
    for eps in (0.0, -1e-4, float("nan")):  # 0 had returned a vector of NaN
        with pytest.raises(ValueError, match="eps"):
            hessian_vector_product(model, np.zeros(5), np.ones(5), A, NO_LABELS, eps=eps, loss_fn=squared_error)
    with pytest.raises(TypeError, match="seed=3 draws the starting vector, and initial_vector= is one"):
        top_hessian_eigenvalue(model, A, NO_LABELS, loss_fn=squared_error, seed=3, initial_vector=np.ones(5))
    started = top_hessian_eigenvalue(model, A, NO_LABELS, loss_fn=squared_error, iterations=3,
                                     initial_vector=np.ones(5))
    assert started.iterations >= 1  # the default seed with a start is fine
