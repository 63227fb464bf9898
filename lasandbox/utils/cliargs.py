"""Command-line argument types shared by the ``lasandbox`` subcommands.

Each is an argparse ``type=``: a bad value is refused while the command line
is parsed, before any work starts, as one line that names the option
(``lasandbox demo: error: argument --seeds: must be an int >= 1, got 0``) and
exit status 2. Options that several subcommands take (``--seeds``,
``--workers``, ``--out``) use the same type here, so they accept the same
values everywhere.

The path checks are plain functions raising ``ValueError`` too, for paths a
command derives itself (e.g. the sweep's default store inside ``--out``).
They check the kind of what is in the way (a file where a folder goes, a
folder or device where a store goes), not write permission.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def int_at_least(low: int):
    """A ``type=`` for an integer option that must be ``>= low`` (a count: ``--seeds``, ``--retries``)."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an int >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an int >= {low}, got {value}")
        return value

    parse.__name__ = f"int_at_least_{low}"
    return parse


SEEDS = int_at_least(1)  # --seeds N: seeds 0..N-1; zero seeds would average nothing
WORKERS = int_at_least(0)  # --workers N: 0 means in this process


def int_list(text) -> list[int]:
    """A ``type=`` for a comma list of integers (``10,14,20``); empty items (``10,``) are skipped."""
    items = [item.strip() for item in str(text).split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"wants a comma list of integers, got {text!r}")
    values = []
    for item in items:
        try:
            values.append(int(item))
        except ValueError:
            where = "" if item == str(text).strip() else f" in {text!r}"
            raise argparse.ArgumentTypeError(f"wants a comma list of integers, got {item!r}{where}") from None
    return values


def _check_can_hold(path: Path):
    """Raise ValueError unless the nearest existing folder above ``path`` is a folder (so mkdir can work)."""
    for above in path.parents:
        if above.exists() or above.is_symlink():
            if not above.is_dir():
                raise ValueError(f"{str(path)!r} is inside {str(above)!r}, which is not a folder")
            return


def check_output_dir(path) -> Path:
    """``Path(path)`` after checking it is a folder or can be made one (no existing file in the way)."""
    path = Path(path)
    if (path.exists() or path.is_symlink()) and not path.is_dir():
        raise ValueError(f"{str(path)!r} exists and is not a folder")
    _check_can_hold(path)
    return path


def check_file_path(path) -> Path:
    """``Path(path)`` after checking it is a regular file or can be created as one (a store, a csv)."""
    path = Path(path)
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise ValueError(f"{str(path)!r} is {kind}")
    _check_can_hold(path)
    return path


def check_existing_file(path) -> Path:
    """``Path(path)`` after checking it is an existing regular file (a store to read)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no such file: {str(path)!r}")
    return check_file_path(path)


def _as_type(check, name):
    def parse(text):
        try:
            return check(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = name
    return parse


OUTPUT_DIR = _as_type(check_output_dir, "output_dir")
FILE_PATH = _as_type(check_file_path, "file_path")
EXISTING_FILE = _as_type(check_existing_file, "existing_file")

