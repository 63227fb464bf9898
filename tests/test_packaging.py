"""pyproject.toml and environment.yml list the same dependencies; the console script is declared."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).parents[1]


def _name(requirement):
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for group in project["optional-dependencies"].values():
        reqs += group
    return {_name(r): r.replace(" ", "") for r in reqs}


def _environment_requirements():
    """Package lines under ``dependencies:`` (conda and pip), without python, pip and the project itself."""
    text = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    reqs = {}
    for line in text.splitlines():
        match = re.match(r"^\s*-\s+([^\s#]+)\s*$", line)
        if not match or match.group(1) in ("pip", "pip:", "-e") or match.group(1).startswith("python"):
            continue
        reqs[_name(match.group(1))] = match.group(1)
    return reqs


def test_environment_yml_matches_pyproject():
    assert _environment_requirements() == _pyproject_requirements()


def test_console_script_and_python_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["lasandbox"] == "lasandbox.cli:main"
    assert project["requires-python"] == ">=3.10"


def test_importing_lasandbox_is_quick_and_compiles_nothing():
    code = (
        "import sys, lasandbox, lasandbox.nn, lasandbox.optimizer, lasandbox.incubate\n"
        "print('numba.cuda' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "lasandbox", "--help"], capture_output=True, text=True, check=True)
    for command in ("reproduce", "demo", "bench"):
        assert command in out.stdout
    bad = subprocess.run([sys.executable, "-m", "lasandbox", "nonsense"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command" in bad.stderr
