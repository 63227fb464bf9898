"""lasandbox keeps freed arrays in the process (utils/allocator.py): when it does, and when it stays out."""

import subprocess
import sys

import pytest

from lasandbox.utils import allocator


def test_tunes_glibc_unless_told_otherwise():
    assert allocator.decide({}, platform="linux") is None
    assert "LASANDBOX_MALLOC=system" in allocator.decide({"LASANDBOX_MALLOC": "system"}, platform="linux")
    assert "MALLOC_ARENA_MAX_" in allocator.decide({"MALLOC_ARENA_MAX_": "2"}, platform="linux")
    assert "not Linux" in allocator.decide({}, platform="darwin")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
@pytest.mark.parametrize("env,expected", [({}, "set by lasandbox"), ({"LASANDBOX_MALLOC": "system"}, "system")])
def test_the_policy_is_applied_at_import(env, expected, monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("MALLOC_") or name == "LASANDBOX_MALLOC":
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = subprocess.run([sys.executable, "-c", "import lasandbox; from lasandbox.utils import allocator; "
                          "print(allocator.policy())"], capture_output=True, text=True, check=True).stdout
    assert expected in out
