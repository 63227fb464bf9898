"""Grid specs: parsing, checking against a task's parameters, expansion, stable hashes, clear errors."""

import pytest

from lasandbox.sweep import GridError, config_hash, get_task, load_grid_file, parse_grid_spec, plan_runs
from lasandbox.sweep.cli import main as sweep_main


def test_spec_is_parsed_into_text_lists_and_blanks_are_tolerated():
    assert parse_grid_spec("alpha=0.5,0.8 k=5,10  lr = 0.05 , 0.1") == {
        "alpha": ["0.5", "0.8"], "k": ["5", "10"], "lr": ["0.05", "0.1"]}
    assert parse_grid_spec("") == {}


def test_configs_are_the_cartesian_product_completed_with_defaults():
    task = get_task("digits-mlp")
    configs = task.configs(parse_grid_spec("alpha=none,0.5 k=5,10 lr=0.05,0.1 momentum=0.9"))
    assert len(configs) == 6  # without LookAhead k means nothing: 2 baselines (one per lr), 4 LookAhead runs
    assert {c["alpha"] for c in configs} == {None, 0.5}
    assert all(isinstance(c["k"], int) and isinstance(c["lr"], float) for c in configs)
    assert all(c["optimizer"] == "momentum" and c["epochs"] == 10 for c in configs)  # defaults filled in


def test_hash_is_the_same_for_defaulted_and_spelled_out_values_and_ignores_order():
    task = get_task("digits-mlp")
    defaulted = task.configs({"lr": ["0.1"]})[0]
    spelled = task.configs({"k": 5, "lr": [0.1], "alpha": "0.5"})[0]
    assert config_hash(task.name, defaulted) == config_hash(task.name, spelled)
    assert config_hash(task.name, defaulted) != config_hash("mnist1d-mlp", defaulted)
    # Pinned: a changed hash would make every existing store re-run everything.
    assert config_hash("debug", {"x": 1.0, "alpha": None, "k": 5}) == "ae93387a7eee6d57"


def test_repeated_values_and_seeds_do_not_make_duplicate_runs():
    runs = plan_runs("debug", {"x": ["1", "1.0"], "y": [2]}, seeds=[0, 1, 1])
    assert [(seed, config["x"]) for _, seed, config in runs] == [(0, 1.0), (1, 1.0)]


@pytest.mark.parametrize("spec, message", [
    ("lr=", "lists no values"),
    ("lr=,", "lists no values"),
    ("lrr=0.1", "unknown parameter 'lrr' (did you mean 'lr'?)"),
    ("lr=fast", "'fast' is not a number"),
    ("k=2.5", "'2.5' is not an integer"),
    ("alpha=1.5", "alpha must be in (0, 1]"),
    ("lr=-0.1", "lr must be in (0"),
    ("optimizer=lbfgs", "optimizer must be one of"),
    ("optimizer=sgd momentum=0.5", "no momentum-like argument"),
    ("lr=0.1 lr=0.2", "names parameter 'lr' twice"),
    ("lr", "not of the form name=value1,value2"),
    ("optimizer=sgd inner_state=reset", "needs an optimizer with a momentum buffer"),
])
def test_bad_specs_raise_a_grid_error_naming_the_problem(spec, message):
    with pytest.raises(GridError) as info:
        plan_runs("digits-mlp", parse_grid_spec(spec), seeds=1)
    assert message in str(info.value)


def test_grid_error_is_a_value_error_and_a_non_string_spec_a_type_error():
    assert issubclass(GridError, ValueError)
    with pytest.raises(TypeError):
        parse_grid_spec(["lr=0.1"])
    with pytest.raises(GridError, match="lists no values"):
        plan_runs("debug", {"x": []})
    with pytest.raises(ValueError, match="seeds must be an int in"):
        plan_runs("debug", {}, seeds=0)
    with pytest.raises(ValueError, match="unknown sweep task 'nope'"):
        plan_runs("nope", {})


def test_toml_grid_file(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text('[grid]\nlr = [0.05, 0.1]\nalpha = ["none", 0.5]\nk = 5\n')
    grid = load_grid_file(path)
    configs = get_task("digits-mlp").configs(grid)
    assert [(c["lr"], c["alpha"], c["k"]) for c in configs] == [(0.05, None, 5), (0.05, 0.5, 5), (0.1, None, 5),
                                                                (0.1, 0.5, 5)]
    path.write_text("lr = []\n")
    with pytest.raises(GridError, match="lists no values"):
        get_task("digits-mlp").configs(load_grid_file(path))
    path.write_text('k = [5.0]\n')
    with pytest.raises(GridError, match="k must be an int"):
        get_task("digits-mlp").configs(load_grid_file(path))
    path.write_text("lr = [0.1\n")
    with pytest.raises(GridError, match="not valid TOML"):
        load_grid_file(path)
    with pytest.raises(GridError, match="does not exist"):
        load_grid_file(tmp_path / "missing.toml")
    with pytest.raises(GridError, match="cannot be read: Is a directory"):
        load_grid_file(tmp_path)
    path.write_bytes(b"lr = [0.1]\n\xff\xfe\n")
    with pytest.raises(GridError, match="not UTF-8 text"):
        load_grid_file(path)


@pytest.mark.parametrize("argv, message", [
    (["digits-mlp", "--grid", "lr="], "lists no values"),
    (["digits-mlp", "--grid", "learning_rate=0.1"], "unknown parameter 'learning_rate'"),
    (["digits-mlp", "--grid", "lr=abc"], "'abc' is not a number"),
    (["digits-mlp", "--grid", "epochs=3", "--epochs", "2"], "given twice"),
    (["nqm", "--epochs", "2"], "no 'epochs' parameter"),
    (["no-such-task"], "unknown sweep task"),
    (["digits-mlp", "--seeds", "0"], "argument --seeds: must be an int >= 1"),
])
def test_cli_rejects_bad_grids_before_anything_runs(tmp_path, capsys, argv, message):
    store = tmp_path / "store.sqlite"
    with pytest.raises(SystemExit) as info:
        sweep_main([*argv, "--store", str(store), "--workers", "0"])
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not store.exists()  # nothing was created, let alone run


def test_cli_grid_file_and_dry_run(tmp_path, capsys):
    grid_file = tmp_path / "grid.toml"
    grid_file.write_text('alpha = ["none", 0.5]\n')
    store = tmp_path / "store.sqlite"
    assert sweep_main(["digits-mlp", "--grid", "lr=0.1,0.2", "--grid-file", str(grid_file), "--seeds", "2",
                       "--epochs", "3", "--store", str(store), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "8 runs (4 configs x 2 seeds)" in out
    assert "lr=0.1 alpha=none epochs=3" in out
    assert not store.exists()


def test_tasks_subcommand_lists_every_parameter(capsys):
    assert sweep_main(["tasks"]) == 0
    out = capsys.readouterr().out
    for name in ("digits-mlp", "mnist1d-mlp", "nqm", "debug", "inner_state", "crash_marker"):
        assert name in out
