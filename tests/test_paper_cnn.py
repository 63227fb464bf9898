"""The CNN stand-ins of the training figures (``reproduce --model cnn``) and ``model=cnn`` sweeps.

Batch norm is what makes them differ from the MLP ones: the weights a method
returns (Lookahead's slow weights, Polyak's average) never trained, so they
are evaluated with running statistics recomputed for them, and the fast
weights' statistics come back after.
"""

from __future__ import annotations

import numpy as np
import pytest
from paper_runs import reproduce_tiny  # tests/paper_runs.py, beside this file

import lasandbox as paddle
from lasandbox.datasets import load_digits
from lasandbox.landscape import ParameterLayout
from lasandbox.landscape.layout import loaded_weights
from lasandbox.models import registry
from lasandbox.nn import bn_stats
from lasandbox.paper import fig_landscape, runner
from lasandbox.paper import training_runs as tr
from lasandbox.paper.tables import read_tidy_csv
from lasandbox.sweep import load_results, plan_runs
from lasandbox.sweep.cli import main as sweep_main
from lasandbox.training import evaluate, train_epoch


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _statistics(model):
    return [layer._mean.numpy().copy() for layer in bn_stats.batch_norm_layers(model)]


def _trained_lookahead(digits):
    paddle.seed(0)
    model = registry.make("cnn", digits, 4)
    opt = tr.build_optimizer(tr.OptimizerSpec("la", "momentum", 0.1, momentum=0.9, alpha=0.5, k=3),
                             model.parameters(), 0.1)
    train_epoch(model, opt, digits.x_train[:320], digits.y_train[:320], 32, np.random.default_rng(0))
    opt.step()  # one more fast step after the last sync: fast and slow weights differ
    return model, opt


def test_slow_weights_are_evaluated_with_their_own_recomputed_statistics(digits):
    model, opt = _trained_lookahead(digits)
    loader = tr.statistics_loader(model, digits.x_train, 64)
    fast, fast_statistics = opt.flat_parameters().copy(), _statistics(model)
    with tr.evaluation_context(opt, None, loader, model):
        recomputed = evaluate(model, digits.x_test, digits.y_test)
    assert np.array_equal(opt.flat_parameters(), fast)  # fast weights and statistics came back
    assert all(np.array_equal(a, b) for a, b in zip(fast_statistics, _statistics(model), strict=True))
    with tr.evaluation_context(opt):
        with_fast_statistics = evaluate(model, digits.x_test, digits.y_test)
    assert recomputed[0] != with_fast_statistics[0]
    # The same as doing it by hand: slow weights in, one update_bn pass over the loader, evaluate.
    with bn_stats.kept_statistics(model), loaded_weights(ParameterLayout.from_model(model), opt.slow_buffer()):
        bn_stats.update_bn(model, loader)
        by_hand = evaluate(model, digits.x_test, digits.y_test)
    assert recomputed == by_hand


def test_polyak_average_is_evaluated_with_recomputed_statistics(digits):
    model, opt = _trained_lookahead(digits)
    loader = tr.statistics_loader(model, digits.x_train, 64)
    averager = tr.PolyakAverage(opt.inner_optimizer, recompute_bn=loader, model=model)
    averager.update()
    opt.step()
    averager.update()
    before = _statistics(model)
    with averager.evaluation_context():
        inside = _statistics(model)
    assert not all(np.array_equal(a, b) for a, b in zip(before, inside, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(before, _statistics(model), strict=True))
    assert tr.statistics_loader(registry.make("mlp", digits, (4,)), digits.x_train, 64) is None  # no batch norm


def test_protocol_checks_its_model_and_describes_it():
    assert "MNIST1DCNN" in tr.Protocol(model="cnn").describe()
    assert "MLP 40-64-64-10" in tr.Protocol().describe()
    with pytest.raises(ValueError, match="model"):
        tr.Protocol(model="vit")
    with pytest.raises(ValueError, match="takes 1 width"):
        tr.Protocol(model="cnn", hidden=(8, 8))


def test_model_defaults_to_mlp_at_quick_and_cnn_at_full():
    assert runner.resolve_model(None, quick=True) == "mlp"
    assert runner.resolve_model(None, quick=False) == "cnn"
    assert runner.resolve_model("mlp", quick=False) == "mlp"
    assert runner.report_name("mlp") == "REPORT.md" and runner.report_name("cnn") == "REPORT_cnn.md"
    with pytest.raises(ValueError, match="model"):
        runner.resolve_model("vit", quick=True)


def test_bad_model_on_the_command_line_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["optimizers", "--model", "vit", "--out", str(tmp_path)])
    assert exit_info.value.code == 2 and "--model" in capsys.readouterr().err


@pytest.fixture(scope="module")
def reproduced_cnn(tmp_path_factory):
    return reproduce_tiny(tmp_path_factory.mktemp("cnn"), "landscape", "optimizers", "--quick", "--model", "cnn",
                          report="REPORT_cnn.md")


def test_cnn_run_writes_its_own_files_and_report(reproduced_cnn):
    out = reproduced_cnn
    for stem in ("landscape_cnn", "optimizers_cnn"):
        assert (out / f"{stem}.png").stat().st_size > 10_000 and (out / f"{stem}.csv").exists()
    assert not (out / "optimizers.png").exists() and not (out / "REPORT.md").exists()
    report = (out / "REPORT_cnn.md").read_text()
    assert '<a id="optimizers_cnn"></a>' in report and "CNN stand-in" in report and "MNIST1DCNN" in report
    assert "SmallResNet" in report and "**failed**" not in report


def test_cnn_landscape_grid_is_batched_and_compares_points_with_their_own_statistics(reproduced_cnn):
    report = (reproduced_cnn / "REPORT_cnn.md").read_text()
    assert "grid, batched" in report  # eval mode: the folded conv-net path, not the per-point loop
    rows = read_tidy_csv(reproduced_cnn / "landscape_cnn.csv")
    own = {(r["panel"], r["kind"], r["step"]) for r in rows if r["kind"].endswith("_own_bn")}
    k = fig_landscape.K
    assert own == {("main", "fast_own_bn", k), ("main", "slow_own_bn", k), ("sgd_continued", "sgd_own_bn", 2 * k),
                   ("lookahead_continued", "slow_own_bn", 2 * k)}
    assert "statistics recomputed at its own weights" in report


def test_paper_run_sweeps_take_model_cnn_and_reject_a_multi_layer_cnn(tmp_path):
    with pytest.raises(ValueError, match="model=cnn.*takes 1 width"):
        plan_runs("paper-run", {"model": ["cnn"], "hidden": ["16x16"]}, seeds=1)
    assert [c["model"] for _, _, c in plan_runs("paper-run", "model=mlp,cnn", seeds=1)] == ["mlp", "cnn"]
    store = tmp_path / "runs.sqlite"
    grid = "task=digits model=cnn hidden=4 epochs=1 inner=momentum lr=0.05 alpha=0.5 k=5"
    assert sweep_main(["paper-run", "--grid", grid, "--workers", "0", "--store", str(store)]) == 0
    (row,) = load_results(store)
    assert row["status"] == "ok" and len(row["epoch_metrics"]["test_accuracy"]) == 2


def test_digits_task_trains_its_cnn_and_evaluates_slow_weights_with_their_statistics(tmp_path):
    store = tmp_path / "digits.sqlite"
    grid = "model=cnn hidden=4 epochs=1 evaluate=slow,fast"
    assert sweep_main(["digits-mlp", "--grid", grid, "--workers", "0", "--store", str(store)]) == 0
    rows = {r["config"]["evaluate"]: r for r in load_results(store)}
    assert set(rows) == {"slow", "fast"} and all(r["status"] == "ok" for r in rows.values())
    assert rows["slow"]["final_metrics"]["final_test_loss"] != rows["fast"]["final_metrics"]["final_test_loss"]
    with pytest.raises(ValueError, match="model"):
        plan_runs("mnist1d-mlp", {"model": ["rnn"]}, seeds=1)


def test_a_figure_without_the_asked_variant_is_refused_before_anything_runs(tmp_path, monkeypatch):
    from lasandbox.paper import registry as paper_registry

    only_mlp = paper_registry.FigureSpec("mlp_only", "t", "c", "lasandbox.paper.fig_optimizers", models=("mlp",))
    monkeypatch.setitem(paper_registry.FIGURES, "mlp_only", only_mlp)
    with pytest.raises(ValueError, match="no 'cnn' variant"):
        runner.run_figures(["mlp_only"], out_dir=tmp_path, model="cnn")
    assert not (tmp_path / "REPORT_cnn.md").exists()
