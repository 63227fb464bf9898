"""Figure ``minmax``: the bilinear game's closed forms (float64), the GAN's metrics, and a tiny reproduce run."""

from __future__ import annotations

import numpy as np
import pytest
from paper_runs import reproduce_tiny

from lasandbox.paper import bilinear_game as bg
from lasandbox.paper import gan_mixture as gm
from lasandbox.paper.tables import read_tidy_csv

ETAS = np.array([0.01, 0.05, 0.1, 0.2, 0.5])


@pytest.mark.parametrize("alpha", [0.0, 0.2, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("k", [1, 2, 5, 31, 63])
def test_cycle_eigenvalues_in_closed_form_match_the_matrix(alpha, k):
    for eta in ETAS:
        eigenvalues = np.linalg.eigvals(bg.lookahead_minmax_matrix(eta, alpha, k))
        closed = bg.cycle_eigenvalue(eta, alpha, k)
        np.testing.assert_allclose(sorted(eigenvalues, key=np.imag), sorted([closed, np.conj(closed)], key=np.imag),
                                   rtol=1e-9, atol=1e-12)
        assert bg.cycle_radius(eta, alpha, k) == pytest.approx(max(abs(eigenvalues)), rel=1e-9)


def test_joint_cycle_matrix_with_one_critic_step_is_the_lookahead_minmax_matrix():
    for eta in ETAS:
        np.testing.assert_allclose(bg.joint_cycle_matrix(eta, 0.4, 6), bg.lookahead_minmax_matrix(eta, 0.4, 6),
                                   rtol=1e-13, atol=1e-15)


def test_gda_radius_and_special_cases():
    for eta in ETAS:
        assert bg.gda_radius(eta) == pytest.approx(max(abs(np.linalg.eigvals(bg.gda_matrix(eta)))), rel=1e-12)
    # alpha = 1 is GDA, alpha = 0 freezes the weights, k = 1 is GDA with a step alpha * lr.
    np.testing.assert_allclose(bg.step_radius(ETAS, 1.0, 7), bg.gda_radius(ETAS), rtol=1e-12)
    np.testing.assert_allclose(bg.cycle_radius(ETAS, 0.0, 7), 1.0, rtol=1e-12)
    np.testing.assert_allclose(bg.cycle_radius(ETAS, 0.3, 1), bg.gda_radius(0.3 * ETAS), rtol=1e-12)


def test_the_issue_setting_converges_and_gda_does_not():
    assert bg.gda_radius(0.1) == pytest.approx(np.sqrt(1.01), rel=1e-15)
    rho = bg.cycle_radius(0.1, 0.5, 5)
    direct = abs(0.5 + 0.5 * (1 + 0.1j) ** 5)  # complex arithmetic, not the polar form the module uses
    assert rho == pytest.approx(direct, abs=1e-12) and rho < 1


@pytest.mark.parametrize("alpha, k", [(0.3, 2), (0.5, 3), (0.5, 10), (0.9, 12), (0.95, 12)])
def test_small_step_expansion(alpha, k):
    # |lambda| = 1 - alpha k ((k-1) - alpha k) eta^2 / 2 + O(eta^3): checked to 1e-6 at eta = 1e-3.
    eta = 1e-3
    expansion = 1 - alpha * k * ((k - 1) - alpha * k) * eta**2 / 2
    assert abs(bg.cycle_radius(eta, alpha, k) - expansion) < 1e-6
    assert (bg.cycle_radius(eta, alpha, k) < 1) == bool(bg.small_step_converges(alpha, k))


def test_simulated_cycle_radius_matches_the_closed_form_for_several_couplings():
    couplings = np.array([0.5, 1.0, 2.0, 4.0])
    run = bg.simulate(0.1, couplings, 6 * 8, alpha=0.7, k=8)
    measured = bg.measured_cycle_radius(run, 8, 6)
    np.testing.assert_allclose(measured, bg.cycle_radius(0.1 * couplings, 0.7, 8), rtol=1e-5)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="alpha"):
        bg.lookahead_minmax_matrix(0.1, 1.5, 5)
    with pytest.raises(TypeError, match="k must be an int"):
        bg.lookahead_minmax_matrix(0.1, 0.5, 2.5)
    with pytest.raises(ValueError, match="lr"):
        bg.simulate(0.0, [1.0], 3)
    with pytest.raises(ValueError, match="critic_steps"):
        bg.simulate(0.1, [1.0], 3, critic_steps=0)
    with pytest.raises(ValueError, match="base"):
        gm.GanMethod("x", "rmsprop", 0.1)
    with pytest.raises(ValueError, match="sliced_w1 needs samples of equal size"):
        gm.sliced_w1(np.zeros((3, 2)), np.zeros((4, 2)), np.eye(2))


def test_gan_metrics_on_known_samples():
    rng = np.random.default_rng(0)
    data = gm.sample_data(rng, 4000)
    modes, quality = gm.mode_statistics(data)
    assert modes == 8 and quality == pytest.approx(1 - np.exp(-4.5), abs=0.005)  # a 2-D Gaussian within 3 std
    one_mode = gm.mode_centres()[[0]] + gm.STD * rng.standard_normal((4000, 2))
    assert gm.mode_statistics(one_mode)[0] == 1
    assert gm.mode_statistics(np.zeros((100, 2)))[0] == 0
    # Sliced W1 of a shifted sample: every projection moves by |<d, shift>|, so the mean is their average.
    directions = np.array([[1.0, 0.0], [0.0, 1.0], [np.sqrt(0.5), np.sqrt(0.5)]])
    shift = np.array([0.3, 0.0])
    expected = np.mean(np.abs(directions @ shift))
    assert gm.sliced_w1(data + shift, data, directions) == pytest.approx(expected, rel=1e-6)
    evaluation = gm.Evaluation.make()
    assert 0 < evaluation.floor < 0.1


def test_gan_training_is_reproducible_and_evaluates_lookahead_at_its_slow_weights():
    method = gm.GanMethod("la_adam", "adam", 0.002, alpha=0.5, k=5)
    first = gm.train_gan(method, 3, 12, eval_every=5)
    again = gm.train_gan(method, 3, 12, eval_every=5)
    assert first.iterations == [0, 5, 10, 12]
    np.testing.assert_array_equal(first.samples, again.samples)
    assert first.sliced_w1 == again.sliced_w1


def test_tiny_figure_writes_its_csv_and_the_bilinear_claims_hold(tmp_path):
    from lasandbox.paper import fig_minmax as fig

    reproduce_tiny(tmp_path, "minmax")
    assert (tmp_path / "minmax.png").stat().st_size > 10_000
    rows = read_tidy_csv(tmp_path / "minmax.csv")
    assert list(rows[0]) == fig.COLUMNS
    assert {r["panel"] for r in rows} == {"grid", "rate_vs_k", "trajectory", "gan_curve", "gan_samples"}
    grid = [r for r in rows if r["panel"] == "grid"]
    for r in grid:
        assert r["rho_step"] == pytest.approx(float(bg.step_radius(0.1, r["alpha"], r["k"])), rel=1e-12)
    simulated = [r for r in grid if r["rho_cycle_simulated"] is not None]
    assert simulated and all(r["rho_cycle_simulated"] == pytest.approx(r["rho_cycle"], rel=1e-4) for r in simulated)
    assert {r["method"] for r in rows if r["panel"] == "gan_curve"} == set(fig.GAN_METHODS)
    report = (tmp_path / "REPORT.md").read_text()
    assert "## minmax" in report
    # The first four (bilinear) statements are exact at any scale.
    cells = [line.rsplit("|", 2)[-2].strip() for line in report.splitlines() if line.startswith("| ")]
    verdicts = [cell for cell in cells if cell in ("yes", "**no**")]
    assert len(verdicts) == 11 and verdicts[:4] == ["yes"] * 4, report
