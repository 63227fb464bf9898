"""Grids of hyperparameters: parsing, validation against a task's parameters, expansion and hashing.

A grid maps parameter names to lists of values; the sweep runs the cartesian
product. It can be written three ways, all checked the same way before
anything runs:

* on the command line: ``"alpha=0.5,0.8 k=5,10 lr=0.05,0.1 momentum=0.9"``
  (values are text, converted with the parameter's type);
* in a TOML file: ``lr = [0.05, 0.1]`` / ``alpha = ["none", 0.5]`` / ``k = 5``,
  at the top level or under a ``[grid]`` table (TOML has no null, hence ``"none"``);
* from Python: ``{"lr": [0.05, 0.1], "alpha": [None, 0.5]}`` (a scalar means one value).

Every config is then completed with the task's defaults, so the same run
always gets the same :func:`config_hash`, whether a value was spelled out or
defaulted.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from lasandbox.utils.validation import check_choice, check_int, check_real

NONE_WORDS = ("none", "null", "off")
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "0")


class GridError(ValueError):
    """A grid that cannot run: unknown parameter, empty list, a value of the wrong type or out of range."""


@dataclass(frozen=True)
class Param:
    """One hyperparameter of a sweep task: its type, default, accepted range and meaning.

    ``kind`` is ``"float"``, ``"int"``, ``"bool"``, ``"choice"`` (one of
    ``choices``) or ``"str"``. ``optional`` parameters also accept ``none``,
    meaning "switched off" (e.g. ``alpha=none``: no Lookahead).
    """

    name: str
    kind: str
    default: object
    doc: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    optional: bool = False

    def coerce(self, value):
        """``value`` (text from the command line, or a Python/TOML value) as this parameter's type."""
        if self.optional and (value is None or (isinstance(value, str) and value.strip().lower() in NONE_WORDS)):
            return None
        if value is None:
            raise GridError(f"parameter {self.name!r} cannot be none ({self.describe()})")
        try:
            return self._coerce_not_none(value)
        except (TypeError, ValueError) as err:
            raise GridError(f"parameter {self.name!r}: {err} ({self.describe()})") from None

    def _coerce_not_none(self, value):
        text = value.strip() if isinstance(value, str) else None
        if self.kind == "float":
            if text is not None:
                try:
                    value = float(text)
                except ValueError:
                    raise ValueError(f"{text!r} is not a number") from None
            return check_real(self.name, value, low=self.low, high=self.high, low_open=self.low_open,
                              high_open=self.high_open)
        if self.kind == "int":
            if text is not None:
                try:
                    value = int(text)
                except ValueError:
                    raise ValueError(f"{text!r} is not an integer") from None
            return check_int(self.name, value, low=self.low, high=self.high)
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if text is not None and text.lower() in TRUE_WORDS + FALSE_WORDS:
                return text.lower() in TRUE_WORDS
            raise ValueError(f"{value!r} is not true or false")
        if self.kind == "choice":
            return check_choice(self.name, text.lower() if text is not None else value, self.choices)
        if self.kind == "str":
            if not isinstance(value, str):
                raise TypeError(f"{value!r} is not a string")
            return value
        raise AssertionError(f"unknown parameter kind {self.kind!r}")

    def describe(self) -> str:
        """The accepted values in words, for help texts and error messages."""
        if self.kind == "choice":
            accepted = "one of " + "|".join(self.choices)
        elif self.kind in ("float", "int"):
            left = "(" if self.low_open else "["
            right = ")" if self.high_open or self.high is None else "]"
            low = "-inf" if self.low is None else f"{self.low:g}"
            high = "inf" if self.high is None else f"{self.high:g}"
            accepted = f"{'a number' if self.kind == 'float' else 'an integer'} in {left}{low}, {high}{right}"
        elif self.kind == "bool":
            accepted = "true|false"
        else:
            accepted = "text"
        if self.optional:
            accepted += ", or none"
        return f"{accepted}; default {format_value(self.default)}"


def format_value(value) -> str:
    """A parameter value as a user writes it (``none``, ``true``, ``0.05``)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def parse_grid_spec(text: str) -> dict:
    """``"alpha=0.5,0.8 k=5,10"`` -> ``{"alpha": ["0.5", "0.8"], "k": ["5", "10"]}`` (values still text).

    Blanks around ``=`` and ``,`` are allowed. A parameter named twice, a
    term without ``=`` or a list with no values is a :class:`GridError`.
    """
    if not isinstance(text, str):
        raise TypeError(f"grid spec must be a string, got {type(text).__name__}")
    # Glue "lr = 0.1 , 0.2" into "lr=0.1,0.2" so the terms can be split on blanks.
    normalised = re.sub(r"\s*([=,])\s*", r"\1", text.strip())
    grid = {}
    for term in normalised.split():
        name, sep, values = term.partition("=")
        if not sep or not name:
            raise GridError(f"grid term {term!r} is not of the form name=value1,value2,...")
        if name in grid:
            raise GridError(f"grid names parameter {name!r} twice")
        listed = [value for value in values.split(",") if value != ""]
        if not listed:
            raise GridError(f"grid parameter {name!r} lists no values (write e.g. {name}=0.1,0.2; "
                            f"'none' switches an optional parameter off)")
        grid[name] = listed
    return grid


def load_grid_file(path) -> dict:
    """Read a grid from a TOML file: ``name = value`` or ``name = [values]``, top level or under ``[grid]``."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise GridError("reading a TOML grid file on Python 3.10 needs the 'tomli' package") from None
    path = Path(path)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise GridError(f"grid file {str(path)!r} does not exist") from None
    except OSError as err:  # a folder, no permission: one line naming the file, not a traceback
        raise GridError(f"grid file {str(path)!r} cannot be read: {err.strerror or err}") from None
    except UnicodeDecodeError:  # tomllib decodes the bytes itself and lets this through
        raise GridError(f"grid file {str(path)!r} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise GridError(f"grid file {str(path)!r} is not valid TOML: {err}") from None
    table = document.get("grid", document)
    if not isinstance(table, dict):
        raise GridError(f"grid file {str(path)!r}: [grid] must be a table of name = [values]")
    grid = {}
    for name, values in table.items():
        if isinstance(values, dict):
            raise GridError(f"grid file {str(path)!r}: {name!r} is a table, expected a value or a list of values")
        grid[name] = values
    return grid


def merge_grids(*grids) -> dict:
    """Union of grids that name disjoint parameters (a parameter given twice is an error, not an override)."""
    merged = {}
    for grid in grids:
        for name, values in (grid or {}).items():
            if name in merged:
                raise GridError(f"parameter {name!r} is given twice (e.g. in --grid and in the grid file)")
            merged[name] = values
    return merged


def _as_list(name, values):
    if isinstance(values, (list, tuple)):
        values = list(values)
    elif isinstance(values, str):
        values = [values]
    elif hasattr(values, "tolist"):  # numpy arrays and scalars
        values = values.tolist()
        values = values if isinstance(values, list) else [values]
    else:
        values = [values]
    if not values:
        raise GridError(f"grid parameter {name!r} lists no values")
    return values


def expand_grid(params, grid) -> list:
    """Every config of ``grid`` (cartesian product, in the grid's order), completed with defaults.

    ``params`` are the task's :class:`Param`\\ s. Unknown names, empty lists and
    values that do not fit a parameter raise :class:`GridError`; repeated
    values (``0.5,0.50``) are kept once.
    """
    by_name = {param.name: param for param in params}
    axes = []
    for name, values in (grid or {}).items():
        if name not in by_name:
            close = difflib.get_close_matches(name, by_name, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise GridError(f"unknown parameter {name!r}{hint}; this task accepts: {', '.join(by_name)}")
        coerced = []
        for value in _as_list(name, values):
            value = by_name[name].coerce(value)
            if value not in coerced or (isinstance(value, float) and math.isnan(value)):
                coerced.append(value)
        axes.append((name, coerced))
    defaults = {param.name: param.default for param in params}
    names = [name for name, _ in axes]
    configs = []
    for combination in itertools.product(*(values for _, values in axes)):
        config = dict(defaults)
        config.update(zip(names, combination, strict=True))
        configs.append(config)
    return configs


def config_hash(task_name: str, config: dict) -> str:
    """A stable 16-hex-digit id of (task, config): same text on every machine, Python and run.

    Canonical JSON (sorted keys, no blanks, floats as their shortest repr)
    hashed with SHA-256; 64 bits make a collision in any realistic sweep
    vanishingly unlikely, and the short id reads well in logs.
    """
    canonical = json.dumps({"task": task_name, "config": config}, sort_keys=True, separators=(",", ":"),
                           allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
