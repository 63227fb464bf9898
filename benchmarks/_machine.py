"""What the CNN benchmarks print about the machine they ran on (a benchmark's numbers mean little without it)."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
