"""Momentum vs Lookahead(momentum) rates: spectral radii against brute force and simulation."""

import numpy as np
import pytest

from lasandbox.paper import nqm_theory
from lasandbox.paper import quadratic_simulation as qs
from lasandbox.paper import quadratic_theory as qt
from lasandbox.paper.registry import FigureContext
from lasandbox.paper.tables import read_tidy_csv

EIGENVALUES = qt.eigen_spectrum(100.0, 80)


def _one_cycle(state, lr, beta, a, alpha, k, policy):
    """Run one Lookahead cycle on (phi, v) the way the optimizer does; interpolate caches v at the sync."""
    phi, v = state
    x, cached = phi, v
    for _ in range(k):
        v = beta * v + a * x
        x = x - lr * v
    phi = phi + alpha * (x - phi)
    if policy == "interpolate":
        v = alpha * v + (1 - alpha) * cached
    elif policy == "reset":
        v = 0.0
    return np.array([phi, v])


@pytest.mark.parametrize("policy", ["maintain", "interpolate"])
@pytest.mark.parametrize("lr, beta, a", [(0.05, 0.99, 1.0), (0.3, 0.5, 0.2), (1.5, 0.0, 0.9)])
def test_outer_matrix_matches_running_the_algorithm(policy, lr, beta, a):
    columns = [_one_cycle(basis, lr, beta, a, 0.5, 20, policy) for basis in np.eye(2)]
    expected = np.column_stack(columns)
    np.testing.assert_allclose(qt.lookahead_matrix(lr, beta, a, 0.5, 20, policy), expected, atol=1e-12)


def test_reset_outer_map_is_the_weights_entry():
    got = qt.lookahead_matrix(0.05, 0.99, 1.0, 0.5, 20, "reset")
    assert got.shape == (1, 1)
    assert got[0, 0] == pytest.approx(_one_cycle(np.array([1.0, 0.0]), 0.05, 0.99, 1.0, 0.5, 20, "reset")[0], abs=1e-12)


def test_momentum_rate_under_damped_is_sqrt_beta():
    assert float(qt.momentum_rate(0.05, 0.99, [1.0])) == pytest.approx(np.sqrt(0.99), abs=1e-9)


def test_paper_under_damped_numbers():
    expected = {"maintain": 0.968, "interpolate": 0.974, "reset": 0.960}
    cm = float(qt.momentum_rate(0.05, 0.99, [1.0]))
    assert round(cm, 3) == 0.995
    for policy, value in expected.items():
        rho = float(qt.lookahead_rate(0.05, 0.99, [1.0], 0.5, 20, policy))
        assert round(rho, 3) == value
        assert rho < cm


def test_over_damped_ratio_is_about_alpha():
    lrs = np.geomspace(0.01, 1.95, 40)
    cm = qt.momentum_rate(lrs, 0.0, EIGENVALUES)
    for policy in qt.POLICIES:
        la = qt.lookahead_rate(lrs, 0.0, EIGENVALUES, 0.5, 20, policy)
        ratio = (1 - la) / (1 - cm)
        assert np.all((0.4 <= ratio) & (ratio <= 0.6)), policy


def test_no_momentum_lookahead_reduces_to_the_nqm_outer_factor():
    # Without momentum every policy is the scalar map 1 - alpha + alpha (1 - lr a)^k.
    for policy in qt.POLICIES:
        rho = float(qt.lookahead_rate(0.4, 0.0, [0.7], 0.3, 5, policy))
        assert rho == pytest.approx(abs(float(nqm_theory.lookahead_outer_factor(0.28, 0.3, 5))) ** 0.2, rel=1e-12)


def test_alpha_one_maintain_is_plain_momentum():
    lrs = np.geomspace(0.01, 3, 15)
    for beta in (0.0, 0.5, 0.9):
        np.testing.assert_allclose(
            qt.lookahead_rate(lrs, beta, EIGENVALUES, 1.0, 20, "maintain"),
            qt.momentum_rate(lrs, beta, EIGENVALUES),
            rtol=1e-9,
        )


@pytest.mark.parametrize("policy", ["cm", *qt.POLICIES])
@pytest.mark.parametrize("lr, beta", [(0.3, 0.0), (0.5, 0.9), (0.05, 0.99)])
def test_simulated_rate_matches_spectral_radius(policy, lr, beta):
    if policy == "cm":
        predicted = float(qt.momentum_rate(lr, beta, EIGENVALUES))
    else:
        predicted = float(qt.lookahead_rate(lr, beta, EIGENVALUES, 0.5, 20, policy))
    cycles = qs.cycles_for(predicted, 20, nats=60, high=5000)
    measured = qs.simulated_rate(lr, beta, EIGENVALUES, policy=policy, alpha=0.5, k=20, cycles=cycles)
    assert abs((1 - measured) - (1 - predicted)) <= 0.05 * (1 - predicted)


def test_compiled_loop_matches_python_trajectory():
    # Under reset the momentum is 0 at every sync, so the state norm is |phi| = |x right after the sync|.
    history = qs.log_norm_history(0.05, 0.99, np.array([1.0]), policy="reset", alpha=0.5, k=20, cycles=15)
    path = qs.trajectory(0.05, 0.99, 1.0, policy="reset", alpha=0.5, k=20, steps=300)
    np.testing.assert_allclose(history[0], np.log(np.abs(path[::20])), atol=1e-9)


def test_exactly_solved_direction_has_rate_zero():
    # No momentum and lr*a = 1: one step lands on the minimum.
    assert qs.simulated_rate(1.0, 0.0, np.array([1.0]), policy="cm", k=5, cycles=10) == 0.0


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="policy"):
        qt.lookahead_matrix(0.1, 0.9, 1.0, 0.5, 20, "pullbackish")
    with pytest.raises(ValueError, match="alpha"):
        qt.lookahead_rate(0.1, 0.9, [1.0], 1.5, 20)
    with pytest.raises(ValueError, match="beta"):
        qs.log_norm_history(0.1, 1.0, np.array([1.0]))
    with pytest.raises(ValueError, match="eigenvalues"):
        qt.momentum_rate(0.1, 0.9, [0.0, 1.0])


def test_figure_writes_promised_csv_and_claims_hold(tmp_path):
    from lasandbox.paper import fig_quadratic_rates as fig

    ctx = FigureContext("quadratic_rates", tmp_path, quick=True)
    ctx.progress = lambda *args, **kwargs: _Silent()
    claims = fig.compute(ctx)
    assert len(claims) == 4 and all(claim.held for claim in claims), [c for c in claims if not c.held]
    assert (tmp_path / "quadratic_rates.png").stat().st_size > 10_000
    rows = read_tidy_csv(tmp_path / "quadratic_rates.csv")
    assert list(rows[0]) == fig.COLUMNS
    rates = [r for r in rows if r["panel"] == "rates"]
    assert {r["policy"] for r in rates} == {None, *qt.POLICIES}
    assert {r["beta"] for r in rates} == set(fig.BETAS)
    assert all(np.isfinite(r["rho"]) and r["one_minus_rho"] == pytest.approx(1 - r["rho"]) for r in rates)
    simulated = [r for r in rates if r["rho_simulated"] is not None]
    assert simulated and all(np.isfinite(r["rho_simulated"]) for r in simulated)
    trajectory = [r for r in rows if r["panel"] == "trajectory"]
    assert all(np.isfinite(r["abs_theta"]) for r in trajectory)


class _Silent:
    def update(self, n=1, postfix=""):
        pass

    def close(self):
        pass
