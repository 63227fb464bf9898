"""Shared by the paper-figure tests: one ``lasandbox reproduce`` run at tiny size."""

from __future__ import annotations

import pytest


def reproduce_tiny(out, *args, report="REPORT.md"):
    """Run ``lasandbox reproduce ARGS --out OUT`` with ``LASANDBOX_TINY=1`` and no progress bars.

    Asserts it exited 0 (showing the ``report`` otherwise); returns ``out``.
    """
    from lasandbox.paper import runner

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LASANDBOX_TINY", "1")
        patch.setenv("LASANDBOX_PROGRESS", "0")
        status = runner.main([*args, "--out", str(out)])
    assert status == 0, (out / report).read_text()
    return out
