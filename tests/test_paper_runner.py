"""``lasandbox reproduce``: name checking, the report, failures that do not stop the run, end to end."""

import subprocess
import sys
import textwrap

import pytest

from lasandbox.paper import registry, runner
from lasandbox.paper.registry import Claim, FigureContext, FigureSpec

EXPECTED_NAMES = ["nqm", "quadratic_rates", "landscape", "inner_loop", "robustness", "alpha_k", "optimizers", "minmax",
                  "kernels"]


def test_every_planned_figure_is_registered_in_order():
    assert registry.figure_names() == EXPECTED_NAMES


def test_resolve_names():
    assert registry.resolve_names(None) == EXPECTED_NAMES
    assert registry.resolve_names(["all"]) == EXPECTED_NAMES
    assert registry.resolve_names(["nqm", "quadratic_rates", "nqm"]) == ["nqm", "quadratic_rates"]
    with pytest.raises(ValueError, match="unknown figure name\\(s\\): bogus.*Valid names: nqm, quadratic_rates"):
        registry.resolve_names(["nqm", "bogus"])


def test_unknown_name_exits_before_running_anything(tmp_path, capsys):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["nqm", "bogus", "--out", str(out)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "bogus" in error and "quadratic_rates" in error
    assert not out.exists()


@pytest.mark.parametrize("argv", [["--seeds", "0"], ["--backend", "tpu"], ["--quick", "--full"]])
def test_bad_options_exit_with_usage(argv, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        runner.main([*argv, "nqm", "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2


@pytest.mark.parametrize(("argv", "option"), [
    (["quadratic_rates", "--seeds", "3"], "--seeds"),  # deterministic: the 3 had been ignored
    (["kernels", "--backend", "numpy"], "--backend"),  # it times every backend whatever --backend said
    (["nqm", "--sweep"], "--sweep"), (["nqm", "landscape", "--no-sweep"], "--sweep"),
    (["minmax", "--workers", "2"], "--workers"), (["nqm", "--scheduler", "tcp://host:8786"], "--scheduler"),
    (["nqm", "kernels", "--model", "cnn"], "--model"),
])
def test_an_option_no_selected_figure_reads_is_refused_before_anything_runs(argv, option, tmp_path, capsys):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exit_info:
        runner.main([*argv, "--out", str(out)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert option in error and "changes nothing" in error
    assert not out.exists()
    with pytest.raises(ValueError, match="--seeds changes nothing in quadratic_rates, kernels: only nqm"):
        runner.run_figures(["quadratic_rates", "kernels"], out_dir=out, seeds=2)
    assert not out.exists()


def test_what_each_figure_reads_is_declared():
    reads = {name: spec.reads for name, spec in registry.FIGURES.items()}
    assert reads["quadratic_rates"] == reads["kernels"] == frozenset()
    assert {name for name, r in reads.items() if "sweep" in r} == {"robustness", "alpha_k", "optimizers"}
    assert FigureSpec("user", "t", "c", "m").reads == registry.RUN_OPTIONS  # a user's figure: taken as reading all


def test_list_names_every_figure(capsys):
    assert runner.main(["--list"]) == 0
    listed = capsys.readouterr().out
    for name in EXPECTED_NAMES:
        assert name in listed


def test_importing_the_registry_imports_no_figure_module():
    code = "import sys, lasandbox.paper.runner; print(sorted(m for m in sys.modules if '.fig_' in m))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.fixture
def fake_figures(tmp_path, monkeypatch):
    """Three throw-away figures: one that works, one that raises, one whose module does not exist."""
    module = tmp_path / "fake_paper_figures.py"
    module.write_text(
        textwrap.dedent(
            """
            from lasandbox.paper.registry import Claim

            def good(ctx):
                ctx.record("size", 3, unverified=True, source="a guess")
                ctx.note("a caption line")
                ctx.png_path.write_bytes(b"png")
                ctx.csv_path.write_text("a,b\\n1,2\\n")
                return [Claim("x < 1", "x = 0.5", True), Claim("y | z", "y = 2", False)]

            def broken(ctx):
                raise RuntimeError("boom in the figure")

            def wrong_return(ctx):
                ctx.png_path.write_bytes(b"png")
                ctx.csv_path.write_text("a\\n")
                return ["not a claim"]
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    specs = {
        "fake_good": FigureSpec("fake_good", "A good figure", "It works.", "fake_paper_figures", "good"),
        "fake_broken": FigureSpec("fake_broken", "A broken figure", "It fails.", "fake_paper_figures", "broken"),
        "fake_wrong": FigureSpec("fake_wrong", "Wrong return", "-", "fake_paper_figures", "wrong_return"),
        "fake_missing": FigureSpec("fake_missing", "Not written", "-", "fake_paper_figures_missing"),
    }
    for name, spec in specs.items():
        monkeypatch.setitem(registry.FIGURES, name, spec)
    return list(specs)


def test_failures_are_reported_and_do_not_stop_the_run(fake_figures, tmp_path, capsys):
    out = tmp_path / "figs"
    status = runner.main([*fake_figures, "--out", str(out)])
    assert status == 1
    report = (out / "REPORT.md").read_text()
    assert "1/2 held" in report and "**no**" in report and "y \\| z" in report
    assert "size = 3 (UNVERIFIED: our choice); a guess" in report and "a caption line" in report
    assert "boom in the figure" in report
    assert "must return a list of Claim" in report
    assert "not implemented yet" in report
    assert "[held] x < 1" in capsys.readouterr().out


def test_register_refuses_to_overwrite_silently(monkeypatch):
    monkeypatch.setattr(registry, "FIGURES", dict(registry.FIGURES))
    spec = FigureSpec("nqm", "t", "c", "m")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(spec)
    assert registry.register(spec, replace=True) is spec


def test_context_checks_backend_and_counts_seeds(tmp_path):
    with pytest.raises(ValueError, match="backend"):
        FigureContext("nqm", tmp_path, backend="gpu")
    ctx = FigureContext("nqm", tmp_path)
    assert ctx.seeds_or(3) == 3 and ctx.png_path == tmp_path / "nqm.png"
    assert Claim("s", "m", held=1 == 1).held is True


def test_reproduce_nqm_and_quadratic_rates_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LASANDBOX_PROGRESS", "0")
    out = tmp_path / "figs"
    status = runner.main(["nqm", "quadratic_rates", "--quick", "--seeds", "1", "--out", str(out)])
    assert status == 0, capsys.readouterr()
    for name in ("nqm", "quadratic_rates"):
        assert (out / f"{name}.png").exists() and (out / f"{name}.csv").exists()
    report = (out / "REPORT.md").read_text()
    for expected in ("## nqm:", "## quadratic_rates:", "Paper's claim", "| Checked statement |", "Time:",
                     "UNVERIFIED", "Mode: quick", "seeds: 1"):  # fmt: skip
        assert expected in report
    assert "**no**" not in report  # every claim held at quick scale
