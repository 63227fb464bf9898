"""The ``lasandbox`` command line refuses bad options in one line naming them, exit status 2, no traceback.

Every case here is refused while its command line is parsed, before any
training, timing or file writing starts, so the module runs in seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lasandbox.cli import main


def run_cli(argv, capsys):
    """(exit status, stdout, stderr) of ``lasandbox ARGV`` run in this process."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def paths(tmp_path, monkeypatch):
    """FILE: an existing regular file; DIR: an existing folder; NEW: a path that does not exist yet.

    The test runs in ``tmp_path``, so that default output folders (figures/, sweeps/) would land there too.
    """
    (tmp_path / "a_file").write_text("not a folder\n")
    (tmp_path / "a_folder").mkdir()
    monkeypatch.chdir(tmp_path)
    return {"FILE": str(tmp_path / "a_file"), "DIR": str(tmp_path / "a_folder"), "NEW": str(tmp_path / "new")}


def fill(arg, paths):
    """``FILE/inside`` as the fixture's file path followed by ``/inside``; other arguments as they are."""
    head, sep, tail = arg.partition("/")
    return paths[head] + sep + tail if head in paths else arg


BAD = [
    (["demo", "--epochs", "-1"], "--epochs"),
    (["demo", "--seeds", "0"], "--seeds"),
    (["demo", "--seeds", "two"], "--seeds"),
    (["demo", "--optimizers", "adam:-0.1"], "--optimizers"),
    (["demo", "--optimizers", "adam:nan"], "--optimizers"),
    (["demo", "--optimizers", "adam:inf"], "--optimizers"),
    (["demo", "--out", "FILE"], "--out"),
    (["demo", "--out", "FILE/inside"], "--out"),
    (["reproduce", "nqm", "--out", "FILE"], "--out"),
    (["reproduce", "nqm", "--seeds", "0"], "--seeds"),
    (["reproduce", "nqm", "--workers", "-1"], "--workers"),
    (["bench", "kernels", "--sizes", "abc"], "--sizes"),
    (["bench", "kernels", "--sizes", "10,x"], "--sizes"),
    (["bench", "kernels", "--sizes", ","], "--sizes"),
    (["bench", "kernels", "--out", "FILE"], "--out"),
    (["bench", "kernels", "--gpu-data-dir", "FILE"], "--gpu-data-dir"),
    (["sweep", "debug", "--store", "DIR", "--workers", "0"], "--store"),
    (["sweep", "debug", "--seeds", "0", "--dry-run"], "--seeds"),
    # A dry run checks what the real run checks.
    (["sweep", "debug", "--retries", "-1", "--dry-run"], "--retries"),
    (["sweep", "debug", "--workers", "-1", "--dry-run"], "--workers"),
    (["sweep", "debug", "--store", "DIR", "--dry-run"], "--store"),
    (["sweep", "debug", "--out", "FILE", "--dry-run"], "--out"),
    (["sweep", "debug", "--grid-file", "DIR", "--dry-run"], "grid file"),
    (["sweep", "status", "--store", "DIR"], "--store"),
    (["sweep", "status", "--store", "NEW"], "--store"),
    (["sweep", "plot", "--store", "DIR", "--x", "a", "--y", "b"], "--store"),
    (["sweep", "plot", "--store", "FILE", "--x", "a", "--y", "b", "--out", "FILE"], "--out"),
]


@pytest.mark.parametrize(("argv", "option"), BAD, ids=[" ".join(argv) for argv, _ in BAD])
def test_bad_option_is_one_line_naming_it_with_status_2(argv, option, paths, capsys):
    code, out, err = run_cli([fill(arg, paths) for arg in argv], capsys)
    assert code == 2, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    message = err.strip().splitlines()[-1]
    assert option in message and "error" in message, err
    assert out == ""  # refused before anything ran: no plan, no table, no progress
    assert sorted(p.name for p in Path.cwd().iterdir()) == ["a_file", "a_folder"]  # and nothing written


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/dev/null as a store path is the Linux case")
@pytest.mark.parametrize("extra", [["--workers", "0"], ["--dry-run"]])
def test_sweep_store_that_is_a_device_is_refused(extra, capsys):
    code, out, err = run_cli(["sweep", "debug", "--store", "/dev/null", *extra], capsys)
    assert code == 2 and "argument --store" in err and "not a regular file" in err and "Traceback" not in err


def test_sweep_default_store_inside_out_is_checked_as_store_is(tmp_path, capsys):
    (tmp_path / "debug.sqlite").mkdir()  # where OUT/TASK.sqlite would go
    code, out, err = run_cli(["sweep", "debug", "--out", str(tmp_path), "--dry-run"], capsys)
    assert code == 2 and "argument --out" in err and "is a folder" in err and out == ""


def test_demo_seeds_zero_is_refused_like_reproduce_and_sweep(tmp_path, capsys):
    messages = []
    for argv in (["demo"], ["reproduce", "nqm"], ["sweep", "debug", "--dry-run"]):
        code, _, err = run_cli([*argv, "--seeds", "0", "--out", str(tmp_path / "out")], capsys)
        assert code == 2
        messages.append(err.strip().splitlines()[-1].split("error: ", 1)[1])
    assert len(set(messages)) == 1 and messages[0].startswith("argument --seeds: ")
    assert not (tmp_path / "out").exists()


def test_bench_help_lists_the_benchmarks_and_exits_0(capsys):
    for flag in ("--help", "-h"):
        code, out, err = run_cli(["bench", flag], capsys)
        assert code == 0 and err == ""
        assert "usage: lasandbox bench" in out and "kernels" in out and "bench NAME --help" in out


def test_bench_without_or_with_an_unknown_benchmark_exits_2(capsys):
    code, out, err = run_cli(["bench"], capsys)
    assert code == 2 and "name a benchmark" in err and "kernels" in err
    code, out, err = run_cli(["bench", "gpus"], capsys)
    assert code == 2 and "unknown benchmark 'gpus'" in err and "Traceback" not in err


def test_demo_api_refuses_what_its_command_line_refuses(tmp_path):
    from lasandbox import demo

    with pytest.raises(ValueError, match="seeds must be an int in \\[1, inf\\), got 0"):
        demo.run(epochs=1, seeds=0, out_dir=tmp_path / "out")
    for lr in ("-0.1", "nan", "inf"):
        with pytest.raises(ValueError, match=f"learning rate in 'adam:{lr}'"):
            demo.parse_optimizers(f"momentum:0.05,adam:{lr}")
    assert demo.parse_optimizers("adam:0,sgd:1") == [("adam", 0.0), ("sgd", 1.0)]
    assert not (tmp_path / "out").exists()


def test_demo_runs_every_optimizer_and_rate_it_is_given():
    from lasandbox import demo

    with pytest.raises(ValueError, match="--optimizers lists adam:0.01 twice"):  # had been run once
        demo.parse_optimizers("adam:0.01,adam:1e-2")
    labels = list(demo.configs("adam:0.01,adam:0.003"))  # the second LookAhead(Adam) had replaced the first
    assert labels == ["Adam lr 0.01", "LookAhead(Adam lr 0.01)", "Adam lr 0.003", "LookAhead(Adam lr 0.003)"]
