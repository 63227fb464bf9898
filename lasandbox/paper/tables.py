"""Tidy csv files: the data behind every figure, one row per plotted value.

Plain ``csv`` rather than pandas keeps the package light. Missing values are
written as empty cells (e.g. ``alpha`` for SGD rows), floats with the shortest text
that reads back to the same double (``repr``).
"""

from __future__ import annotations

import csv
import math
import numbers
from pathlib import Path

import numpy as np


def _format(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        # NaN means "not measured here": an empty cell, like a missing key.
        return "" if math.isnan(number) else repr(number)
    return str(value)


def write_tidy_csv(path, rows, columns) -> Path:
    """Write ``rows`` (dicts) with exactly ``columns``, in that order.

    A key missing from a row becomes an empty cell; a key not in ``columns``
    is an error, so a figure cannot silently write data its docstring does not
    describe.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(columns)
    allowed = set(columns)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            extra = set(row) - allowed
            if extra:
                raise ValueError(f"row has columns not declared for {path.name}: {sorted(extra)}")
            writer.writerow([_format(row.get(column)) for column in columns])
    return path


def read_tidy_csv(path) -> list[dict]:
    """Read a tidy csv back: numbers become floats, empty cells ``None``, text stays text."""

    def parse(cell: str):
        if cell == "":
            return None
        try:
            return float(cell)
        except ValueError:
            return cell

    with Path(path).open(newline="") as handle:
        return [{key: parse(value) for key, value in row.items()} for row in csv.DictReader(handle)]
