"""The sweep's results store: one SQLite file, written only by the client process.

Tables (any ``sqlite3`` client can read them; JSON columns are plain text):

* ``runs``: one row per finished (config, seed), ``UNIQUE (config_hash, seed)``.
  Columns: ``task``, ``config_hash``, ``seed``, ``config`` (JSON of every
  parameter, defaults included), ``status`` (``ok`` or ``failed``),
  ``epoch_metrics`` (JSON ``{metric: [per-epoch values]}``), ``final_metrics``
  (JSON ``{metric: value}``), ``error`` (the traceback of a failure),
  ``wall_time_s`` and ``cpu_time_s`` (of the run on its worker: CPU time
  well below wall time means the run waited for a core), ``worker`` (host:pid),
  ``package_version``, ``git_revision`` (of the worker's lasandbox, ``-dirty``
  when it had local changes), ``finished_at`` (UTC, ISO 8601).
* ``planned``: every (config, seed) a sweep has asked for, so ``status`` knows
  the total; ``failures``: a view of the failed rows of ``runs``.

Each result is written in its own transaction in WAL mode, so a client killed
at any moment leaves whole rows only; a failed row is replaced when its
(config, seed) is retried and succeeds, and an ``ok`` row is never replaced:
no (config, seed) is stored twice.
"""

from __future__ import annotations

import datetime
import functools
import json
import sqlite3
from pathlib import Path

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS planned (
    config_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    task TEXT NOT NULL,
    config TEXT NOT NULL,
    planned_at TEXT NOT NULL,
    PRIMARY KEY (config_hash, seed)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    epoch_metrics TEXT,
    final_metrics TEXT,
    error TEXT,
    wall_time_s REAL,
    cpu_time_s REAL,
    worker TEXT,
    package_version TEXT,
    git_revision TEXT,
    finished_at TEXT NOT NULL,
    UNIQUE (config_hash, seed)
);
CREATE INDEX IF NOT EXISTS runs_by_task ON runs (task, status);
CREATE VIEW IF NOT EXISTS failures AS
    SELECT task, config_hash, seed, config, error, worker, finished_at FROM runs WHERE status = 'failed';
"""

RESULT_COLUMNS = ("task", "config_hash", "seed", "config", "status", "epoch_metrics", "final_metrics", "error",
                  "wall_time_s", "cpu_time_s", "worker", "package_version", "git_revision", "finished_at")

# Insert a result; on a second result for the same (config, seed) only a failed row gives way.
_UPSERT = (
    f"INSERT INTO runs ({', '.join(RESULT_COLUMNS)}) VALUES ({', '.join('?' * len(RESULT_COLUMNS))}) "
    "ON CONFLICT (config_hash, seed) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in RESULT_COLUMNS[3:])
    + " WHERE runs.status = 'failed'"
)


SQLITE_HEADER = b"SQLite format 3\x00"


STORE_TABLES = frozenset({"meta", "planned", "runs"})  # the tables SCHEMA creates


class CorruptStoreError(ValueError):
    """The store file is damaged or is not a sweep store; it is left exactly as it was."""


def _corrupt(path, what):
    return CorruptStoreError(f"sweep store {path!r} {what}; it was left as it is: move it away (or repair it "
                             "with the sqlite3 tool's .recover) and run again, or pick another --store")


def _check_header(path):
    """Refuse a file that is not SQLite before sqlite opens it (so nothing is ever written into it)."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    if header and header != SQLITE_HEADER:
        raise _corrupt(path, "is not an SQLite database (damaged, or another kind of file)")


def _columns(conn, table):
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]  # table: one of STORE_TABLES


@functools.cache
def _store_columns() -> dict:
    """The columns of each table ``SCHEMA`` creates (read from SQLite, so they are the schema's own)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(SCHEMA)
        return {table: _columns(conn, table) for table in STORE_TABLES}
    finally:
        conn.close()


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _json(value):
    return None if value is None else json.dumps(value, sort_keys=True, allow_nan=False)


class SweepStore:
    """An open results store (a context manager; ``close()`` when done); ``readonly`` for reading only.

    >>> store = SweepStore(":memory:")
    >>> store.counts()
    {}
    """

    def __init__(self, path, *, readonly=False):
        self.path = str(path)
        if readonly and (self.path == ":memory:" or not Path(self.path).is_file()):  # sqlite: "unable to open"
            raise FileNotFoundError(f"no sweep store at {self.path!r} (readonly=True opens an existing one)")
        if self.path != ":memory:":
            _check_header(self.path)
        if readonly:
            # Reading needs no write access: a store on a read-only mount or someone else's file opens too.
            uri = Path(self.path).resolve().as_uri() + "?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
            self._check_integrity()
            self._check_tables(require_all=True)
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are opened explicitly below, one per result.
        self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        self._check_integrity()  # before the first write: a damaged store is reported, never written to
        self._check_tables(require_all=False)  # nor another program's database
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives the process being killed (what a sweep must
        # survive); only an OS crash may lose the last commits, and never leaves half a row.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)
        with self._transaction():
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    def _check_integrity(self):
        """SQLite's quick_check (every page's structure; milliseconds for a sweep's few MB)."""
        try:
            problems = [row[0] for row in self._conn.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as err:
            self._conn.close()
            raise _corrupt(self.path, f"cannot be read ({err})") from None
        if problems != ["ok"]:
            self._conn.close()
            first = " ".join(problems[0].split("\n")[:2])
            raise _corrupt(self.path, f"is damaged (SQLite's quick_check: {first} ...)")

    def _check_tables(self, require_all):
        """A sweep store has the tables of ``SCHEMA``; a new (empty) database has none yet, which only a writer
        may take; any other set of tables is another program's database (or an empty file), refused."""
        tables = {row[0] for row in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = sorted(STORE_TABLES - tables)
        if missing and (require_all or tables):
            self._conn.close()
            what = "is empty" if not tables else f"has no table {', '.join(map(repr, missing))}"
            raise _corrupt(self.path, f"is not a sweep store ({what})")
        for table in sorted(STORE_TABLES & tables):  # the names alone: another program's 'runs' would be written to
            columns = _columns(self._conn, table)
            if columns != _store_columns()[table]:
                self._conn.close()
                raise _corrupt(self.path, f"is not a sweep store (its table {table!r} has the columns {columns}, "
                                          f"a store's has {_store_columns()[table]})")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._conn.close()

    def _transaction(self):
        conn = self._conn

        class _Transaction:
            def __enter__(self):
                conn.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, *exc):
                conn.execute("COMMIT" if exc_type is None else "ROLLBACK")

        return _Transaction()

    # ------------------------------------------------------------------------------------------ writing

    def plan(self, task_name, runs):
        """Remember the (config_hash, seed, config) triples a sweep asked for (duplicates ignored)."""
        now = utc_now()
        with self._transaction():
            self._conn.executemany(
                "INSERT OR IGNORE INTO planned VALUES (?, ?, ?, ?, ?)",
                [(config_hash, seed, task_name, _json(config), now) for config_hash, seed, config in runs],
            )

    def record(self, result: dict):
        """Write one finished run (a dict with :data:`RESULT_COLUMNS`; JSON columns as Python objects)."""
        row = dict(result)
        for column in ("config", "epoch_metrics", "final_metrics"):
            row[column] = _json(row.get(column))
        row.setdefault("finished_at", utc_now())
        with self._transaction():
            self._conn.execute(_UPSERT, [row.get(column) for column in RESULT_COLUMNS])

    # ------------------------------------------------------------------------------------------ reading

    def finished(self, include_failed=True) -> set:
        """``{(config_hash, seed)}`` already in ``runs`` (``ok`` ones only when ``include_failed`` is false)."""
        query = "SELECT config_hash, seed FROM runs" + ("" if include_failed else " WHERE status = 'ok'")
        return set(self._conn.execute(query).fetchall())

    def counts(self) -> dict:
        """``{task: {"planned", "ok", "failed", "pending"}}`` over everything this store has seen."""
        counts = {}
        for task, planned in self._conn.execute("SELECT task, COUNT(*) FROM planned GROUP BY task"):
            counts[task] = {"planned": planned, "ok": 0, "failed": 0}
        for task, status, number in self._conn.execute("SELECT task, status, COUNT(*) FROM runs GROUP BY 1, 2"):
            counts.setdefault(task, {"planned": 0, "ok": 0, "failed": 0})[status] = number
        for entry in counts.values():
            # Runs recorded without a plan (written through record() directly) still count as planned.
            entry["planned"] = max(entry["planned"], entry["ok"] + entry["failed"])
            entry["pending"] = entry["planned"] - entry["ok"] - entry["failed"]
        return counts

    def rows(self, task=None, status="ok") -> list:
        """Rows of ``runs`` as dicts with the JSON columns parsed, ordered by task, config and seed.

        ``status`` is ``"ok"``, ``"failed"`` or ``None`` (both).
        """
        where, args = [], []
        if task is not None:
            where.append("task = ?")
            args.append(task)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        query = f"SELECT {', '.join(RESULT_COLUMNS)} FROM runs"
        query += (" WHERE " + " AND ".join(where)) if where else ""
        query += " ORDER BY task, config_hash, seed"
        rows = []
        for values in self._conn.execute(query, args):
            row = dict(zip(RESULT_COLUMNS, values, strict=True))
            for column in ("config", "epoch_metrics", "final_metrics"):
                row[column] = None if row[column] is None else json.loads(row[column])
            rows.append(row)
        return rows


def load_results(store, task=None, status="ok") -> list:
    """Rows of a store file (see :meth:`SweepStore.rows`); the file must exist."""
    path = Path(store)
    if not path.exists():
        raise FileNotFoundError(f"no sweep store at {str(path)!r}")
    with SweepStore(path, readonly=True) as opened:
        return opened.rows(task=task, status=status)
