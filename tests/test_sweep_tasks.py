"""The MLP sweep tasks' Lookahead variants: nested Lookahead and pulling back every state buffer."""

import pytest

import lasandbox as paddle
from lasandbox.sweep import GridError, get_task, load_results, parse_grid_spec, plan_runs, run_sweep
from lasandbox.sweep.tasks import _make_optimizer


@pytest.mark.parametrize("spec, message", [
    ("alpha=none nested_alpha=0.5", "nested_alpha=0.5 acts on the LookAhead, but alpha=none"),
    ("alpha=none inner_state=reset pullback_states=all", "pullback_states=all acts on the LookAhead"),
    ("pullback_states=all", "pullback_states=all needs inner_state=reset or pullback"),
    ("optimizer=sgd inner_state=pullback pullback_states=all", "sgd keeps no state buffers"),
    ("optimizer=adagrad inner_state=pullback", "needs an optimizer with a momentum buffer"),
    ("nested_k=10", "nested_k=10 is set but nested_alpha=none"),
    ("nested_alpha=0", "nested_alpha must be in (0, 1]"),
    ("nested_k=0", "nested_k must be an int in [1"),
    ("pullback_states=moment2", "pullback_states must be one of 'momentum', 'all'"),
])  # fmt: skip
def test_bad_variant_grids_are_grid_errors_naming_the_problem(spec, message):
    with pytest.raises(GridError) as info:
        plan_runs("digits-mlp", parse_grid_spec(spec), seeds=1)
    assert message in str(info.value)


def _config(**changes):
    return get_task("digits-mlp").configs({name: [value] for name, value in changes.items()})[0]


def _parameters():
    return [paddle.nn.Parameter(paddle.to_tensor([1.0, 2.0]).numpy())]


def test_variants_build_the_optimizers_they_name():
    plain = _make_optimizer(_config(), _parameters())
    assert isinstance(plain, paddle.LookAhead) and plain.pullback_states == ()
    nested = _make_optimizer(_config(nested_alpha=0.5, nested_k=15, k=3), _parameters())
    assert (nested.alpha, nested.k) == (0.5, 15)
    assert isinstance(nested.inner_optimizer, paddle.LookAhead) and nested.inner_optimizer.k == 3
    every = _make_optimizer(_config(optimizer="adam", inner_state="pullback", pullback_states="all"), _parameters())
    assert every.pullback_states == ("moment1", "moment2")
    momentum_only = _make_optimizer(_config(optimizer="adam", inner_state="pullback"), _parameters())
    assert momentum_only.pullback_states == ("moment1",)
    # adagrad has state but no momentum buffer: 'all' makes reset/pullback meaningful for it
    adagrad = _make_optimizer(_config(optimizer="adagrad", inner_state="reset", pullback_states="all"), _parameters())
    assert adagrad.pullback_states == adagrad.inner_optimizer.state_names


def test_nested_and_full_pullback_runs_train_and_differ_from_one_level(tmp_path):
    store = tmp_path / "s.sqlite"
    grid = [{"epochs": 1, "hidden": 8, "optimizer": "adam", "lr": 0.01, "k": 3},
            {"epochs": 1, "hidden": 8, "optimizer": "adam", "lr": 0.01, "k": 3, "nested_alpha": 0.5, "nested_k": 6},
            {"epochs": 1, "hidden": 8, "optimizer": "adam", "lr": 0.01, "k": 3, "inner_state": "pullback",
             "pullback_states": "all", "evaluate": "slow"}]
    summary = run_sweep("digits-mlp", grid, store=store, workers=0, show_progress=False, log=lambda m: None)
    assert summary.ok == 3, load_results(store, status="failed")
    losses = {(row["config"]["nested_alpha"], row["config"]["pullback_states"]): row["final_metrics"]["final_loss"]
              for row in load_results(store)}
    assert len(set(losses.values())) == 3 and all(0 < loss < 3 for loss in losses.values())
