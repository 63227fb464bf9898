"""The SQLite store, in-process sweeps (workers=0), status and plots; no dask cluster needed here."""

import csv
import json
import shutil
import sqlite3
import subprocess
import sys

import pytest

from lasandbox.sweep import SweepStore, load_results, plot_sweep, run_sweep
from lasandbox.sweep.cli import main as sweep_main


def _result(status="ok", loss=1.0, **extra):
    return {"task": "debug", "config_hash": "abc", "seed": 0, "config": {"x": 1.0}, "status": status,
            "final_metrics": {"final_loss": loss}, "error": None if status == "ok" else "Traceback ...", **extra}


def test_a_failed_row_gives_way_to_a_success_and_an_ok_row_is_never_replaced(tmp_path):
    with SweepStore(tmp_path / "s.sqlite") as store:
        store.record(_result("failed"))
        store.record(_result("ok", loss=2.0))
        store.record(_result("ok", loss=3.0))
        store.record(_result("failed"))
        rows = store.rows(status=None)
    assert len(rows) == 1
    assert rows[0]["status"] == "ok" and rows[0]["final_metrics"] == {"final_loss": 2.0}


def test_non_finite_json_is_refused_rather_than_written_as_invalid_json(tmp_path):
    with SweepStore(tmp_path / "s.sqlite") as store, pytest.raises(ValueError):
        store.record(_result(loss=float("nan")))


def test_in_process_sweep_records_failures_and_resumes(tmp_path):
    store = tmp_path / "s.sqlite"
    grid = {"x": [0.0, 1.0, 2.0], "fail": ["false", "true"]}
    summary = run_sweep("debug", grid, seeds=2, store=store, workers=0, show_progress=False, log=lambda m: None)
    assert (summary.planned, summary.ok, summary.failed, summary.skipped) == (12, 6, 6, 0)
    failed = load_results(store, status="failed")
    assert len(failed) == 6
    assert all("RuntimeError: debug task asked to fail" in row["error"] for row in failed)
    again = run_sweep("debug", grid, seeds=3, store=store, workers=0, show_progress=False, log=lambda m: None)
    assert (again.planned, again.skipped, again.ok, again.failed) == (18, 12, 3, 3)  # only seed 2 ran
    retried = run_sweep("debug", grid, seeds=3, store=store, workers=0, retry_failed=True, show_progress=False,
                        log=lambda m: None)
    assert (retried.skipped, retried.ran) == (9, 9)
    with SweepStore(store) as opened:
        assert opened.counts() == {"debug": {"planned": 18, "ok": 9, "failed": 9, "pending": 0}}
        assert len(opened.finished()) == 18


def test_store_is_readable_by_plain_sqlite(tmp_path):
    store = tmp_path / "s.sqlite"
    run_sweep("debug", {"x": [1.0, 2.0]}, seeds=2, store=store, workers=0, show_progress=False, log=lambda m: None)
    query = "SELECT config_hash, seed, json_extract(final_metrics, '$.final_loss'), status FROM runs ORDER BY 1, 2;"
    if shutil.which("sqlite3"):
        out = subprocess.run(["sqlite3", "-readonly", str(store), query], capture_output=True, text=True,
                             check=True).stdout
    else:  # the sqlite3 shell is not everywhere; Python's module is the same library in a fresh process
        code = f"import sqlite3; [print(*r, sep='|') for r in sqlite3.connect({str(store)!r}).execute({query!r})]"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert len(lines) == 4
    assert {line.split("|")[3] for line in lines} == {"ok"}
    assert sorted(float(line.split("|")[2]) for line in lines) == [1.0, 1.01, 4.0, 4.01]
    conn = sqlite3.connect(store)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    row = conn.execute("SELECT config, epoch_metrics, package_version, git_revision, wall_time_s FROM runs").fetchone()
    assert json.loads(row[0])["x"] in (1.0, 2.0) and "loss" in json.loads(row[1])
    assert row[2] == "0.1.0" and row[4] >= 0
    with pytest.raises(sqlite3.IntegrityError):  # the UNIQUE key holds even against a hand-written insert
        conn.execute("INSERT INTO runs (task, config_hash, seed, config, status, finished_at) "
                     "SELECT task, config_hash, seed, config, status, finished_at FROM runs LIMIT 1")
    conn.close()
    with SweepStore(store, readonly=True) as reader:  # what status, plot and load_results open
        assert len(reader.rows()) == 4
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.record(_result())


def test_status_prints_done_total_and_failures(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    run_sweep("debug", {"x": [1.0], "fail": ["false", "true"]}, seeds=2, store=store, workers=0,
              show_progress=False, log=lambda m: None)
    assert sweep_main(["status", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "debug: 2/4 done, 2 failed, 0 pending" in out
    assert out.count("FAILED") == 2 and "RuntimeError: debug task asked to fail" in out
    assert sweep_main(["status", "--store", str(store), "--tracebacks"]) == 0
    assert "Traceback (most recent call last)" in capsys.readouterr().out


def test_cli_run_in_process_exits_1_when_runs_failed(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    argv = ["debug", "--grid", "x=1,2 fail=false,true", "--store", str(store), "--workers", "0"]
    assert sweep_main(argv) == 1
    assert "2 runs of this sweep failed" in capsys.readouterr().out
    assert sweep_main(argv) == 1  # still failed, still said, nothing re-run
    assert "ran 0 runs" in capsys.readouterr().out
    assert sweep_main(["debug", "--grid", "x=1,2", "--store", str(store), "--workers", "0"]) == 0


def test_heatmap_with_small_multiples_writes_png_and_the_csv_it_draws(tmp_path):
    store = tmp_path / "s.sqlite"
    run_sweep("debug", {"x": [0.0, 1.0, 2.0], "y": [-1.0, 1.0], "z": [0.0, 3.0]}, seeds=3, store=store,
              workers=0, show_progress=False, log=lambda m: None)
    png, csv_path = plot_sweep(store, "x", "y", "final_loss", out_dir=tmp_path / "plots")
    assert png.exists() and png.stat().st_size > 10_000
    with open(csv_path) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12 and list(rows[0]) == ["z", "x", "y", "metric", "mean", "std", "n_seeds", "n_diverged"]
    cell = next(r for r in rows if (r["x"], r["y"], r["z"]) == ("2.0", "1.0", "3.0"))
    # final_loss = x^2 + y^2 + z^2 + 0.01 * seed: mean and std over seeds 0, 1, 2.
    assert float(cell["mean"]) == pytest.approx(4 + 1 + 9 + 0.01)
    assert float(cell["std"]) == pytest.approx(0.01)
    assert cell["n_seeds"] == "3"


def test_plot_cli_errors_name_the_choices(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    run_sweep("debug", {"x": [0.0, 1.0], "y": [0.0, 1.0]}, store=store, workers=0, show_progress=False,
              log=lambda m: None)
    for argv, message in [(["--x", "lr", "--y", "y"], "not a parameter of task 'debug'"),
                          (["--x", "x", "--y", "x"], "must be different"),
                          (["--x", "x", "--y", "y", "--metric", "accuracy"], "final metrics: diverged, final_loss")]:
        with pytest.raises(SystemExit):
            sweep_main(["plot", "--store", str(store), *argv])
        assert message in capsys.readouterr().err
    assert sweep_main(["plot", "--store", str(store), "--x", "x", "--y", "y"]) == 0
    assert (tmp_path / "plots" / "debug_final_loss_x_y.png").exists()


@pytest.mark.parametrize("task, grid", [
    ("digits-mlp", {"epochs": 1, "alpha": [None, 0.5], "optimizer": ["momentum", "adam"], "lr": 0.01}),
    ("nqm", {"steps": 50, "chains": 16, "alpha": [None, 0.5], "lr": [0.5, 2.5]}),
])
def test_built_in_tasks_run_and_record_their_metrics(tmp_path, task, grid):
    store = tmp_path / "s.sqlite"
    summary = run_sweep(task, grid, store=store, workers=0, show_progress=False, log=lambda m: None)
    assert summary.ok == 4, load_results(store, status="failed")
    for row in load_results(store):
        final = row["final_metrics"]
        assert set(final) >= {"final_loss", "diverged"}
        if task == "nqm":
            assert len(row["epoch_metrics"]["loss"]) == len(row["epoch_metrics"]["step"]) == 51
            # lr = 2.5 > 2 / max curvature: SGD diverges; the closed form does not apply there.
            assert (final["expected_final_loss"] is None) == (row["config"]["lr"] == 2.5)
        else:
            assert len(row["epoch_metrics"]["train_loss"]) == 2 and 0 <= final["final_test_accuracy"] <= 1


def _stored_sweep(tmp_path):
    store = tmp_path / "s.sqlite"
    run_sweep("debug", {"x": [float(i) for i in range(30)]}, seeds=2, store=store, workers=0, show_progress=False,
              log=lambda m: None)
    return store


def _damage(store, offset, length):
    data = bytearray(store.read_bytes())
    data[offset:offset + length] = b"\xff" * length
    store.write_bytes(bytes(data))
    return bytes(data)


@pytest.mark.parametrize("where", ["header", "pages"])
def test_a_damaged_store_is_reported_naming_the_file_and_left_unchanged(tmp_path, where):
    from lasandbox.sweep import CorruptStoreError

    store = _stored_sweep(tmp_path)
    # The header (the first 100 bytes), or the cells of every b-tree page after the first.
    damaged = _damage(store, 0, 100) if where == "header" else None
    if where == "pages":
        data = bytearray(store.read_bytes())
        for page in range(1, len(data) // 4096):
            data[page * 4096 + 100:page * 4096 + 300] = b"\xff" * 200
        store.write_bytes(bytes(data))
        damaged = bytes(data)
    for readonly in (False, True):
        with pytest.raises(CorruptStoreError, match=f"sweep store '{store}' (is not an SQLite|is damaged)"):
            SweepStore(store, readonly=readonly)
    with pytest.raises(CorruptStoreError):
        run_sweep("debug", {"x": [99.0]}, store=store, workers=0, show_progress=False, log=lambda m: None)
    for args in (["debug", "--grid", "x=99", "--workers", "0", "--store", str(store)],
                 ["status", "--store", str(store)], ["plot", "--store", str(store), "--x", "x", "--y", "seconds"]):
        out = subprocess.run([sys.executable, "-m", "lasandbox", "sweep", *args], capture_output=True, text=True)
        assert out.returncode == 2, out.stderr
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert str(store) in out.stderr and "left as it is" in out.stderr
    assert store.read_bytes() == damaged
    # Reading a WAL-mode database makes SQLite create its (empty) write-ahead log: nothing was written to it.
    wal = tmp_path / "s.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_another_programs_database_or_an_empty_file_is_not_read_or_written_as_a_store(tmp_path):
    """``status``/``plot`` on an empty file or a foreign SQLite database had ended in sqlite's 'no such table'
    traceback, and a sweep would have added its tables to someone else's database."""
    from lasandbox.sweep import CorruptStoreError

    empty, foreign = tmp_path / "empty.sqlite", tmp_path / "foreign.sqlite"
    empty.write_bytes(b"")
    connection = sqlite3.connect(foreign)
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.commit()
    connection.close()
    before = foreign.read_bytes()
    with pytest.raises(CorruptStoreError, match="is not a sweep store"):
        SweepStore(empty, readonly=True)
    for readonly in (False, True):
        with pytest.raises(CorruptStoreError, match="has no table 'meta', 'planned', 'runs'"):
            SweepStore(foreign, readonly=readonly)
    assert foreign.read_bytes() == before
    out = subprocess.run([sys.executable, "-m", "lasandbox", "sweep", "status", "--store", str(empty)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "is not a sweep store" in out.stderr
    SweepStore(empty).close()  # an empty file is a new store to a writer


def test_a_database_with_the_stores_table_names_but_other_columns_is_refused_and_left_unchanged(tmp_path):
    """Table names alone had let it through: the sweep then set WAL mode in its header and failed on sqlite's
    'no such column: task', not a CorruptStoreError."""
    from lasandbox.sweep import CorruptStoreError

    foreign = tmp_path / "foreign.sqlite"
    connection = sqlite3.connect(foreign)
    for table in ("meta", "planned", "runs"):
        connection.execute(f"CREATE TABLE {table} (x TEXT)")
    connection.commit()
    connection.close()
    before = foreign.read_bytes()
    for readonly in (False, True):
        with pytest.raises(CorruptStoreError, match=r"is not a sweep store \(its table 'meta' has the columns \['x'\]"):
            SweepStore(foreign, readonly=readonly)
    assert foreign.read_bytes() == before
    with SweepStore(tmp_path / "new.sqlite") as store:  # a store of this version still opens, and reopens
        store.plan("debug", [("h", 0, {"x": 1})])
    with SweepStore(tmp_path / "new.sqlite", readonly=True) as store:
        assert store.counts()["debug"]["planned"] == 1


def test_readonly_opens_only_an_existing_store(tmp_path):
    """sqlite's own answer had been a bare OperationalError ('unable to open database file')."""
    for missing in (tmp_path / "none.sqlite", tmp_path, ":memory:"):
        with pytest.raises(FileNotFoundError, match="no sweep store at .*readonly=True opens an existing one"):
            SweepStore(missing, readonly=True)
    assert not (tmp_path / "none.sqlite").exists()


@pytest.mark.parametrize(("options", "argv", "words"), [
    ({"workers": 0, "retries": 3}, ["--workers", "0", "--retries", "3"], "retries=3 counts dask resubmissions"),
    ({"workers": 0, "dashboard_address": "127.0.0.1:9999"}, ["--workers", "0", "--dashboard", "127.0.0.1:9999"],
     "workers=0 runs without dask"),
    ({"scheduler": "tcp://127.0.0.1:1", "dashboard_address": None}, ["--scheduler", "tcp://127.0.0.1:1", "--dashboard",
     "none"], "an existing cluster has its own dashboard"),
])
def test_an_option_for_a_local_dask_cluster_is_refused_where_none_starts(options, argv, words, tmp_path, capsys):
    store = tmp_path / "never.sqlite"
    with pytest.raises(ValueError, match=words):  # both had been accepted and ignored
        run_sweep("debug", {"x": [1.0]}, store=store, show_progress=False, log=lambda m: None, **options)
    with pytest.raises(SystemExit) as exit_info:
        sweep_main(["debug", "--grid", "x=1", "--store", str(store), *argv])
    assert exit_info.value.code == 2 and words in capsys.readouterr().err
    assert not store.exists()
