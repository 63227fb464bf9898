"""The two-player sweep tasks: the bilinear game (exact rates) and the GAN on 8 Gaussians."""

import numpy as np
import pytest

from lasandbox.paper import bilinear_game as bg
from lasandbox.sweep import GridError, load_results, parse_grid_spec, plan_runs, run_sweep
from lasandbox.sweep.cli import main as sweep_main


def _sweep(tmp_path, task, grid, seeds=1):
    store = tmp_path / "s.sqlite"
    summary = run_sweep(task, grid, seeds=seeds, store=store, workers=0, show_progress=False, log=lambda m: None)
    assert summary.failed == 0, load_results(store, status="failed")
    return load_results(store)


def test_bilinear_game_rates_match_the_closed_form(tmp_path):
    rows = _sweep(tmp_path, "bilinear-game", {"alpha": [None, 0.5], "iterations": 100}, seeds=2)
    assert len(rows) == 4
    for row in rows:
        final, alpha = row["final_metrics"], row["config"]["alpha"]
        expected = bg.gda_radius(0.1) if alpha is None else bg.step_radius(0.1, alpha, 5)
        assert final["expected_rate"] == pytest.approx(float(expected), rel=1e-12)
        assert final["rate"] == pytest.approx(final["expected_rate"], rel=1e-5)  # 100 = 20 whole cycles
        assert (final["rate"] > 1) == (alpha is None)
        assert len(row["epoch_metrics"]["distance"]) == len(row["epoch_metrics"]["iteration"]) == 51


def test_separate_wrappers_and_critic_steps(tmp_path):
    grid = {"critic_steps": 3, "separate": [False, True], "iterations": 50}
    rows = {row["config"]["separate"]: row["final_metrics"] for row in _sweep(tmp_path, "bilinear-game", grid)}
    assert rows[True]["expected_rate"] is None
    cycle = bg.joint_cycle_matrix(0.1, 0.5, 5, 3)
    assert rows[False]["expected_rate"] == pytest.approx(max(abs(np.linalg.eigvals(cycle))) ** 0.2, rel=1e-12)
    assert abs(rows[True]["final_distance"] / rows[False]["final_distance"] - 1) > 0.1


@pytest.mark.parametrize("task, spec, message", [
    ("bilinear-game", "critic_steps=0", "critic_steps must be an int in [1"),
    ("bilinear-game", "coupling=-1", "coupling must be in (0"),
    ("gan-8gaussians", "base=sgd", "base must be one of 'gda', 'adam'"),
    ("gan-8gaussians", "lr=0", "lr must be in (0"),
])  # fmt: skip
def test_bad_game_grids_are_grid_errors(task, spec, message):
    with pytest.raises(GridError) as info:
        plan_runs(task, parse_grid_spec(spec))
    assert message in str(info.value)


@pytest.mark.parametrize("task", ["bilinear-game", "gan-8gaussians"])
def test_without_lookahead_k_takes_its_default_so_gda_runs_once(task):
    spec = "alpha=none,0.5 k=5,20" + (" separate=false,true" if task == "bilinear-game" else "")
    runs = plan_runs(task, parse_grid_spec(spec))
    baseline = [config for _, _, config in runs if config["alpha"] is None]
    assert len(baseline) == 1 and baseline[0]["k"] == 5
    assert len(runs) == 1 + 2 * (2 if task == "bilinear-game" else 1)


def test_gan_task_records_its_curves(tmp_path):
    rows = _sweep(tmp_path, "gan-8gaussians", {"base": ["gda", "adam"], "iterations": 20, "eval_every": 10})
    assert len(rows) == 2
    for row in rows:
        assert row["epoch_metrics"]["iteration"] == [0, 10, 20]
        final = row["final_metrics"]
        assert final["final_sliced_w1"] == row["epoch_metrics"]["sliced_w1"][-1] and final["final_sliced_w1"] > 0
        assert 0 <= final["final_modes"] <= 8 and final["diverged"] is False


def test_tasks_subcommand_lists_the_game_tasks(capsys):
    assert sweep_main(["tasks"]) == 0
    out = capsys.readouterr().out
    for name in ("bilinear-game", "gan-8gaussians", "critic_steps", "nested_alpha", "pullback_states"):
        assert name in out
