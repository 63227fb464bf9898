"""The deep-net stand-in figures (inner_loop, robustness, alpha_k, optimizers) and the kernels figure.

All five run once through ``lasandbox reproduce NAME ... --quick`` shrunk with
``LASANDBOX_TINY=1``; the tests then check the files they promise, the
structural facts, and the helpers' arithmetic. Empirical claims about deep
nets are not asserted (they need the quick/full runs' seeds and epochs).
"""

import math
import time

import numpy as np
import pytest
from paper_runs import reproduce_tiny  # tests/paper_runs.py, beside this file

from lasandbox.paper import fig_alpha_k, fig_inner_loop, fig_kernels, fig_optimizers, fig_robustness
from lasandbox.paper import training_runs as tr
from lasandbox.paper.registry import FigureContext
from lasandbox.paper.tables import read_tidy_csv

NAMES = ["inner_loop", "robustness", "alpha_k", "optimizers", "kernels"]
MODULES = {"inner_loop": fig_inner_loop, "robustness": fig_robustness, "alpha_k": fig_alpha_k,
           "optimizers": fig_optimizers}  # fmt: skip


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """Run ``lasandbox reproduce <all five> --quick`` at tiny size once; yield (out_dir, seconds per figure)."""
    out = tmp_path_factory.mktemp("figures")
    start = time.perf_counter()
    reproduce_tiny(out, *NAMES, "--quick", "--backend", "cpu")
    return out, time.perf_counter() - start


def _numeric_cells(rows, columns):
    return [r[c] for r in rows for c in columns if isinstance(r.get(c), float)]


@pytest.mark.parametrize("name", list(MODULES))
def test_each_figure_writes_png_and_the_promised_columns_with_finite_values(reproduced, name):
    out, _ = reproduced
    assert (out / f"{name}.png").stat().st_size > 10_000
    rows = read_tidy_csv(out / f"{name}.csv")
    assert rows and list(rows[0]) == MODULES[name].COLUMNS
    values = _numeric_cells(rows, MODULES[name].COLUMNS)
    assert values and all(math.isfinite(v) for v in values)


def test_report_lists_every_figure_with_claims_and_unverified_settings(reproduced):
    out, seconds = reproduced
    report = (out / "REPORT.md").read_text()
    for name in NAMES:
        assert f'<a id="{name}"></a>' in report
    assert "**failed**" not in report and "UNVERIFIED" in report
    assert "| k = 5 |" in report and "| k = 10 |" in report  # alpha_k's 2 x 2 table
    assert seconds < 120, f"tiny reproduce took {seconds:.0f} s (is LASANDBOX_TINY still honoured?)"


def test_inner_loop_slow_points_every_k_updates_and_fast_points_every_update(reproduced):
    rows = [r for r in read_tidy_csv(reproduced[0] / "inner_loop.csv") if r["panel"] == "trajectory"]
    k, updates = fig_inner_loop.K, fig_inner_loop.UPDATES
    for seed in {r["seed"] for r in rows}:
        def updates_of(method, seed=seed):
            return sorted(int(r["update"]) for r in rows if r["seed"] == seed and r["method"] == method)

        assert updates_of("lookahead_slow") == list(range(0, updates + 1, k))
        assert updates_of("lookahead_fast") == list(range(updates + 1))
        assert updates_of("momentum") == list(range(updates + 1))
    # All three start from the same weights; they must measure the same thing at update 0.
    starts = {r["method"]: r["test_accuracy"] for r in rows if r["update"] == 0 and r["seed"] == 0}
    assert len(set(starts.values())) == 1
    variance = [r for r in read_tidy_csv(reproduced[0] / "inner_loop.csv") if r["panel"] == "variance"]
    assert {r["method"] for r in variance} == {"lookahead_slow", "momentum"}
    assert all(r["variance"] > 0 and r["points"] == updates // k + 1 for r in variance)


def test_robustness_covers_the_grid_for_both_methods(reproduced):
    cells = [r for r in read_tidy_csv(reproduced[0] / "robustness.csv") if r["panel"] == "cell"]
    expected = {(m, lr, mom) for m in fig_robustness.METHODS for lr in fig_robustness.LRS
                for mom in fig_robustness.MOMENTA}  # fmt: skip
    assert {(r["method"], r["lr"], r["momentum"]) for r in cells} == expected
    assert all(r["alpha"] == 0.5 and r["k"] == 5 for r in cells if r["method"] == "lookahead")


def test_alpha_k_and_optimizers_share_identical_runs(reproduced):
    """Same spec, seed and protocol -> the same numbers in both figures (the in-process cache, and determinism)."""
    alpha_k = read_tidy_csv(reproduced[0] / "alpha_k.csv")
    optimizers = read_tidy_csv(reproduced[0] / "optimizers.csv")
    sgd_a = [r["train_loss"] for r in alpha_k if r["panel"] == "curve" and r["method"] == "momentum"]
    sgd_o = [r["train_loss"] for r in optimizers if r["panel"] == "curve" and r["method"] == "momentum"]
    assert sgd_a == sgd_o
    table = [r for r in alpha_k if r["panel"] == "table"]
    assert {(r["alpha"], r["k"]) for r in table} == set(fig_alpha_k.settings())
    assert {r["method"] for r in optimizers} == set(fig_optimizers.METHODS)


def test_kernels_csv_has_the_benchmark_columns_and_claims_cover_the_cost_statement(reproduced):
    from lasandbox.kernels import bench_plot

    header, rows = bench_plot.read_csv(reproduced[0] / "kernels.csv")
    assert "device" in header
    assert {r["backend"] for r in rows} >= {"numpy", "cpu"}
    assert all(math.isfinite(r["gbps"]) and r["gbps"] > 0 for r in rows)
    claims = fig_kernels._claims(rows)
    assert any("(k+1)/k" in c.statement for c in claims)


# ----------------------------------------------------------------------------- helpers


def test_fast_weights_before_sync_are_recovered_exactly():
    """Undoing the fused interpolation gives the inner optimizer's k-th iterate."""
    import lasandbox as paddle
    from lasandbox.training import mlp

    split = tr.load_task("digits")
    rng = np.random.default_rng(0)
    batches = [rng.choice(len(split.x_train), 32, replace=False) for _ in range(5)]

    def run(with_lookahead):
        paddle.seed(3)
        model = mlp([64, 16, 10])
        inner = paddle.optimizer.Momentum(0.1, 0.9, parameters=model.parameters())
        start = tr.parameter_buffer(inner).copy()
        opt = paddle.LookAhead(inner, alpha=0.5, k=5, slow_init="construction") if with_lookahead else inner
        for batch in batches:
            fig_inner_loop._one_step(model, opt, split, batch)
        return opt, start, tr.parameter_buffer(inner).copy()

    lookahead, start, after_sync = run(True)
    _, _, plain = run(False)
    assert not np.allclose(after_sync, plain)  # the sync did move the fast weights back
    recovered = fig_inner_loop.fast_before_sync(lookahead.state_dict()["slow"], start, 0.5)
    np.testing.assert_allclose(recovered, plain, atol=1e-5)


def test_detrended_variance_ignores_drift_and_measures_noise():
    time_axis = np.arange(20.0)[:, None]
    drift = time_axis * np.array([[1.0, -2.0, 0.5]])
    assert fig_inner_loop.detrended_variance(drift) == pytest.approx(0.0, abs=1e-9)
    noise = np.random.default_rng(0).normal(0, 0.1, size=(2000, 3))
    assert fig_inner_loop.detrended_variance(noise + 0.01 * np.arange(2000.0)[:, None]) == pytest.approx(
        3 * 0.1**2, rel=0.1
    )


def test_runs_are_deterministic_and_lookahead_starts_where_its_inner_optimizer_does():
    split = tr.load_task("digits")
    spec = tr.OptimizerSpec("momentum", "momentum", 0.1)
    first = tr.run_training(split, spec, hidden=(8,), epochs=1, batch_size=128, seed=5)
    again = tr.run_training(split, spec, hidden=(8,), epochs=1, batch_size=128, seed=5)
    assert first.train_loss == again.train_loss
    lookahead = tr.run_training(split, spec.with_(alpha=0.5, k=5), hidden=(8,), epochs=1, batch_size=128, seed=5)
    assert lookahead.train_loss[0] == first.train_loss[0]
    assert lookahead.train_loss[1] != first.train_loss[1]


def test_polyak_average_is_the_uniform_mean_of_the_iterates():
    import lasandbox as paddle
    from lasandbox.training import mlp

    paddle.seed(0)
    model = mlp([4, 3])
    optimizer = paddle.optimizer.SGD(0.1, parameters=model.parameters())
    averager = tr.PolyakAverage(optimizer)
    buffer, seen = tr.parameter_buffer(optimizer), []
    for value in (1.0, 2.0, 6.0):
        buffer[...] = value
        seen.append(buffer.copy())
        averager.update()
    np.testing.assert_allclose(averager.average, np.mean(seen, axis=0))
    with averager.evaluation_context():
        np.testing.assert_allclose(buffer, 3.0)
    np.testing.assert_allclose(buffer, 6.0)  # the current weights come back


def test_decay_milestones_follow_the_papers_schedule():
    assert tr.decay_milestones(200) == [60, 120, 160]
    assert tr.decay_milestones(15) == [4, 9, 12]
    assert tr.decay_milestones(2) == [1, 2]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(inner="lbfgs", lr=0.1), ValueError),
        (dict(inner="sgd", lr=0.1, momentum=0.5), ValueError),
        (dict(inner="sgd", lr=0.0), ValueError),
        (dict(inner="sgd", lr=0.1, alpha=0.5), ValueError),
        (dict(inner="sgd", lr=0.1, alpha=1.5, k=5), ValueError),
        (dict(inner="sgd", lr=0.1, alpha=0.5, k=0), ValueError),
        (dict(inner="sgd", lr=0.1, polyak_start=1.0), ValueError),
        (dict(inner="sgd", lr="fast"), TypeError),
    ],
)
def test_optimizer_spec_rejects_bad_settings_with_a_named_error(kwargs, error):
    with pytest.raises(error, match=r"inner|lr|alpha|k|polyak_start|momentum"):
        tr.OptimizerSpec("x", **kwargs)


def test_tiny_switch_reads_the_context_or_the_environment(monkeypatch, tmp_path):
    ctx = FigureContext("alpha_k", tmp_path)
    monkeypatch.delenv("LASANDBOX_TINY", raising=False)
    assert not tr.is_tiny(ctx)
    ctx.tiny = True
    assert tr.is_tiny(ctx)
    monkeypatch.setenv("LASANDBOX_TINY", "1")
    assert tr.is_tiny(FigureContext("alpha_k", tmp_path))
    assert tr.standard_protocol(FigureContext("alpha_k", tmp_path, quick=False)).epochs == 2


def test_roughness_is_zero_for_a_smooth_exponential_and_nan_when_diverged():
    smooth = list(np.exp(-0.3 * np.arange(10)))
    assert fig_robustness.roughness(smooth, 8) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(fig_robustness.roughness([2.3, 1.0, float("nan"), 0.5, 0.4], 4))
