"""The MLP sweep tasks' Lookahead variants: nested Lookahead and pulling back every state buffer."""

import pytest

import lasandbox as paddle
from lasandbox.sweep import GridError, get_task, load_results, parse_grid_spec, plan_runs, run_sweep
from lasandbox.sweep.tasks import _make_optimizer


@pytest.mark.parametrize("spec, message", [
    ("optimizer=sgd inner_state=pullback pullback_states=all", "sgd keeps no state buffers"),
    ("optimizer=adagrad inner_state=pullback", "needs an optimizer with a momentum buffer"),
    ("nested_alpha=0", "nested_alpha must be in (0, 1]"),
    ("nested_k=0", "nested_k must be an int in [1"),
    ("pullback_states=moment2", "pullback_states must be one of 'momentum', 'all'"),
])  # fmt: skip
def test_bad_variant_grids_are_grid_errors_naming_the_problem(spec, message):
    with pytest.raises(GridError) as info:
        plan_runs("digits-mlp", parse_grid_spec(spec), seeds=1)
    assert message in str(info.value)


def test_knobs_of_a_switched_off_part_take_their_defaults_so_the_config_runs_once():
    task = get_task("digits-mlp")
    configs = task.configs(parse_grid_spec("alpha=none,0.5 nested_alpha=none,0.5 nested_k=10,20"))
    described = [(c["alpha"], c["nested_alpha"], c["nested_k"]) for c in configs]
    assert described == [(None, None, 20), (0.5, None, 20), (0.5, 0.5, 10), (0.5, 0.5, 20)]
    configs = task.configs(parse_grid_spec("inner_state=keep,pullback pullback_states=momentum,all"))
    assert [(c["inner_state"], c["pullback_states"]) for c in configs] == [
        ("keep", "momentum"), ("pullback", "momentum"), ("pullback", "all")]
    # nested_k without an outer level is the same run (same hash) as the default config
    assert plan_runs("digits-mlp", {"nested_k": 7})[0][0] == plan_runs("digits-mlp", {})[0][0]
    # without LookAhead every LookAhead knob means nothing: alpha=none crossed with them is one baseline
    configs = task.configs(parse_grid_spec("alpha=none k=5,10 slow_init=first_step,construction evaluate=fast,slow "
                                           "inner_state=keep,reset"))
    assert len(configs) == 1 and configs[0]["k"] == 5 and configs[0]["evaluate"] == "fast"


def test_nqm_without_lookahead_has_no_k_so_its_sgd_config_runs_once():
    configs = get_task("nqm").configs(parse_grid_spec("alpha=none,0.5 k=5,10"))
    assert [(c["alpha"], c["k"]) for c in configs] == [(None, 5), (0.5, 5), (0.5, 10)]  # was 4: SGD twice


def test_the_sweep_command_says_which_grid_values_changed_nothing(tmp_path, capsys):
    from lasandbox.sweep.cli import main as sweep_main

    store = str(tmp_path / "plan.sqlite")
    assert sweep_main(["digits-mlp", "--grid", "alpha=none,0.5 k=5,10", "--store", store, "--dry-run"]) == 0
    captured = capsys.readouterr()
    note = "note: k=10 changes nothing in some configs, e.g. 'alpha=none k=10': those run once, with k=5"
    assert note in captured.err
    assert "3 runs (3 configs" in captured.out
    assert sweep_main(["digits-mlp", "--grid", "lr=0.1,0.2 k=5,10", "--store", store, "--dry-run"]) == 0
    assert "note:" not in capsys.readouterr().err  # nothing normalised, nothing said
    assert get_task("debug").normalised_away(parse_grid_spec("x=1,2")) == {}  # a task without normalize


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


def test_baseline_defaults_resets_the_lookahead_only_parameters_where_alpha_is_none():
    from lasandbox.sweep.tasks import NQM_PARAMS, baseline_defaults

    normalize = baseline_defaults(NQM_PARAMS, ("k",))
    assert normalize({"alpha": None, "k": 10, "lr": 0.3}) == {"alpha": None, "k": 5, "lr": 0.3}
    assert normalize({"alpha": 0.5, "k": 10, "lr": 0.3}) == {"alpha": 0.5, "k": 10, "lr": 0.3}
    with pytest.raises(ValueError, match=r"no parameter \['kk'\]"):
        baseline_defaults(NQM_PARAMS, ("kk",))
