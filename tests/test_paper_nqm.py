"""The noisy quadratic model: closed forms against independent recursions, Monte Carlo, the figure's data."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lasandbox.paper import nqm_theory as nqm
from lasandbox.paper.nqm_simulation import block_relative_error, simulate_loss_curve
from lasandbox.paper.registry import FigureContext
from lasandbox.paper.tables import read_tidy_csv

A, SIGMA2 = nqm.nqm_spectrum(100)


def _iterate_sgd_variance(lr, a, sigma2, tol=1e-15):
    variance = 0.0
    for _ in range(1_000_000):
        new = (1 - lr * a) ** 2 * variance + lr**2 * a**2 * sigma2
        if abs(new - variance) <= tol * max(new, 1e-300):
            return new
        variance = new
    raise AssertionError("did not converge")


def _iterate_lookahead_variance(lr, a, sigma2, alpha, k, tol=1e-15):
    """Step by step with the fast/slow covariance: shares no algebra with the closed form."""
    b, noise = 1 - lr * a, lr**2 * a**2 * sigma2
    var_slow = 0.0
    for _ in range(1_000_000):
        var_fast, cov = var_slow, var_slow
        for _ in range(k):
            var_fast, cov = b * b * var_fast + noise, b * cov
        new = (1 - alpha) ** 2 * var_slow + alpha**2 * var_fast + 2 * alpha * (1 - alpha) * cov
        if abs(new - var_slow) <= tol * max(new, 1e-300):
            return new
        var_slow = new
    raise AssertionError("did not converge")


@pytest.mark.parametrize("lr_a", [0.01, 0.3, 1.0, 1.5, 1.9])
def test_sgd_fixed_point_matches_iterated_recursion(lr_a):
    lr, a, sigma2 = lr_a / 0.5, 0.5, 3.0
    assert nqm.sgd_variance_fixed_point(lr, a, sigma2) == pytest.approx(_iterate_sgd_variance(lr, a, sigma2), rel=1e-10)


@pytest.mark.parametrize("lr_a", [0.05, 0.5, 1.0, 1.7])
@pytest.mark.parametrize("alpha", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_lookahead_fixed_point_matches_iterated_recursion(lr_a, alpha, k):
    lr, a, sigma2 = lr_a / 2.0, 2.0, 0.7
    expected = _iterate_lookahead_variance(lr, a, sigma2, alpha, k)
    assert nqm.lookahead_variance_fixed_point(lr, a, sigma2, alpha, k) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("lr_a", [0.1, 0.9, 1.3])
@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_outer_factor_matches_running_lookahead_on_a_1d_quadratic(lr_a, k):
    alpha, lr, a = 0.6, lr_a / 4.0, 4.0
    slow = 1.0
    for _ in range(3):
        fast = slow
        for _ in range(k):
            fast -= lr * a * fast
        new_slow = slow + alpha * (fast - slow)
        assert new_slow / slow == pytest.approx(float(nqm.lookahead_outer_factor(lr_a, alpha, k)), abs=1e-12)
        slow = new_slow


def test_ratio_limits():
    for alpha in (0.1, 0.5, 0.9):
        assert nqm.variance_ratio(1e-9, alpha, 5) == pytest.approx(alpha, abs=1e-8)
        assert nqm.variance_ratio(1.0, alpha, 5) == pytest.approx(alpha / (2 - alpha), rel=1e-14)


def test_ratio_below_one_on_a_grid():
    alpha = np.linspace(0.01, 0.99, 99)[:, None]
    lr_a = np.linspace(0.001, 1.999, 500)[None, :]
    for k in (1, 2, 5, 10):
        ratio = nqm.variance_ratio(lr_a, alpha, k)
        assert np.all((ratio > 0) & (ratio < 1)), k


def test_alpha_one_is_exactly_sgd():
    assert np.all(nqm.variance_ratio(np.linspace(0.01, 1.99, 50), 1.0, 5) == 1.0)
    sgd = nqm.expected_loss_curve(0.5, A, SIGMA2, 200)
    lookahead = nqm.expected_loss_curve(0.5, A, SIGMA2, 200, alpha=1.0, k=5)
    np.testing.assert_array_equal(lookahead.loss, sgd.loss)
    closed = [nqm.expected_loss_at_step(0.5, A, SIGMA2, t, alpha=1.0, k=5) for t in (0, 7, 200)]
    np.testing.assert_allclose(closed, sgd.loss[[0, 7, 200]], rtol=1e-12)


def test_paper_ratio_table_to_three_decimals():
    # PAPER.md prints 0.674 for alpha 0.8, lr*a 0.5; the exact value is 0.67347 (a rounding slip),
    # so "to 3 decimals" is checked as within one unit of the third decimal.
    table = {0.5: (0.494, 0.340, 0.333), 0.8: (0.796, 0.674, 0.667)}
    for alpha, expected in table.items():
        got = nqm.variance_ratio(np.array([0.01, 0.5, 1.0]), alpha, 5)
        np.testing.assert_allclose(got, expected, atol=1e-3)
    assert nqm.variance_ratio(0.5, 0.8, 5) == pytest.approx(0.825 / 1.225, rel=1e-14)


@pytest.mark.parametrize("alpha", [None, 0.3])
def test_step_recursion_matches_closed_form_at_every_step(alpha):
    curve = nqm.expected_loss_curve(0.7, A, SIGMA2, 60, alpha=alpha, k=5, mean0=1.0, var0=0.2)
    closed = [nqm.expected_loss_at_step(0.7, A, SIGMA2, t, alpha=alpha, k=5, var0=0.2) for t in range(61)]
    np.testing.assert_allclose(curve.loss, closed, rtol=1e-11)
    if alpha is not None:
        # Right after each sync the fast weights are the slow weights.
        np.testing.assert_allclose(curve.loss[::5], curve.slow_loss[::5], rtol=1e-14)


def test_paper_sanity_table():
    for lr, alpha, steady, lr_sgd, la_t, sgd_t in [(0.5, 0.2, 0.1147, 0.087, 0.1390, 0.1486),
                                                   (1.0, 0.2, 0.2387, 0.179, 0.2406, 0.2416)]:  # fmt: skip
        got_steady = float(nqm.steady_state_loss(lr, A, SIGMA2, alpha=alpha, k=5))
        matched = float(nqm.matched_sgd_lr(got_steady, A, SIGMA2))
        assert got_steady == pytest.approx(steady, abs=5e-5)
        assert matched == pytest.approx(lr_sgd, abs=5e-4)
        assert float(nqm.expected_loss_at_step(lr, A, SIGMA2, 1000, alpha=alpha, k=5)) == pytest.approx(la_t, abs=5e-5)
        assert float(nqm.expected_loss_at_step(matched, A, SIGMA2, 1000)) == pytest.approx(sgd_t, abs=5e-5)


def test_matched_lr_inverts_the_steady_state_loss():
    lrs = np.array([0.01, 0.3, 1.2, 1.9])
    np.testing.assert_allclose(nqm.matched_sgd_lr(nqm.steady_state_loss(lrs, A, SIGMA2), A, SIGMA2), lrs, rtol=1e-10)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="lr\\*a"):
        nqm.sgd_variance_fixed_point(2.5, 1.0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        nqm.variance_ratio(0.5, 0.0, 5)
    with pytest.raises(ValueError, match="k"):
        nqm.variance_ratio(0.5, 0.5, 0)
    with pytest.raises(TypeError, match="k"):
        nqm.variance_ratio(0.5, 0.5, 2.0)
    with pytest.raises(ValueError, match="a must be"):
        nqm.steady_state_loss(0.1, [1.0, -1.0], 1.0)


@pytest.mark.parametrize("alpha", [None, 0.5])
def test_monte_carlo_with_kernels_within_two_percent(alpha):
    theory = nqm.expected_loss_curve(0.5, A, SIGMA2, 300, alpha=alpha, k=5)
    mc = simulate_loss_curve(0.5, A, SIGMA2, 300, alpha=alpha, k=5, chains=1024, seeds=[7], backend="numpy")
    assert mc.chains == 1024 and mc.loss[0] == pytest.approx(theory.loss[0], rel=1e-6)
    assert block_relative_error(mc.loss, theory.loss, 50) < 0.02


def test_monte_carlo_cuda_backend_matches_numpy_in_the_simulator():
    code = textwrap.dedent(
        """
        from lasandbox.paper import nqm_theory as nqm
        from lasandbox.paper.nqm_simulation import simulate_loss_curve
        a, s = nqm.nqm_spectrum(4)
        runs = [simulate_loss_curve(0.5, a, s, 10, alpha=0.5, k=5, chains=3, seeds=[1], backend=b)
                for b in ("cuda", "numpy")]
        assert abs(runs[0].loss - runs[1].loss).max() < 1e-6, runs
        print("ok")
        """
    )
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


@pytest.mark.gpu
def test_monte_carlo_on_a_real_gpu_matches_numpy():
    from numba import cuda

    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or not cuda.is_available():
        pytest.skip("needs a real CUDA GPU (the simulator lane is covered by the test above)")
    runs = [
        simulate_loss_curve(0.5, A, SIGMA2, 50, alpha=0.5, k=5, chains=256, seeds=[3], backend=backend)
        for backend in ("cuda", "numpy")
    ]
    np.testing.assert_allclose(runs[0].loss, runs[1].loss, rtol=1e-5)


def test_figure_writes_promised_csv_and_claims_hold(tmp_path):
    from lasandbox.paper import fig_nqm

    ctx = FigureContext("nqm", tmp_path, quick=True, seeds=1, progress=lambda *a, **k: _Silent())
    claims = fig_nqm.compute(ctx)
    assert all(claim.held for claim in claims), [c for c in claims if not c.held]
    assert (tmp_path / "nqm.png").stat().st_size > 10_000
    rows = read_tidy_csv(tmp_path / "nqm.csv")
    assert list(rows[0]) == fig_nqm.COLUMNS
    for column in ("optimizer", "lr", "alpha", "k", "step", "expected_loss", "mc_loss"):
        assert column in rows[0]
    curves = [r for r in rows if r["panel"] == "curve"]
    assert {r["optimizer"] for r in curves} == {"sgd", "lookahead"}
    assert all(r["alpha"] is None and r["k"] is None for r in curves if r["optimizer"] == "sgd")
    assert all(r["k"] == 5 and 0 < r["alpha"] <= 1 for r in curves if r["optimizer"] == "lookahead")
    assert all(np.isfinite(r["expected_loss"]) and r["expected_loss"] > 0 for r in curves)
    simulated = [r for r in curves if r["mc_loss"] is not None]
    assert len(simulated) >= 2 * 1001 and all(np.isfinite(r["mc_loss"]) for r in simulated)
    risk = [r for r in rows if r["panel"] == "equal_risk" and r["optimizer"] == "lookahead"]
    assert len({r["alpha"] for r in risk}) == 100
    assert all(np.isfinite(r["matched_sgd_lr"]) and r["step"] == 1000 for r in risk)
    assert ctx.settings and any(unverified for _, _, unverified, _ in ctx.settings)


class _Silent:
    def update(self, n=1, postfix=""):
        pass

    def close(self):
        pass
