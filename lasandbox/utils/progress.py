"""A dependency-free progress bar for long loops (figures, benchmarks, sweeps).

It writes to stderr, redraws in place on a terminal and prints a few plain
lines otherwise (CI logs, notebooks), and can be silenced with
``LASANDBOX_PROGRESS=0``.
"""

from __future__ import annotations

import os
import sys
import time


def _enabled() -> bool:
    return os.environ.get("LASANDBOX_PROGRESS", "1") not in ("0", "false", "no")


class progress:
    """Wrap an iterable (or a known total) and report progress with an ETA.

    >>> for item in progress(range(3), desc="demo", enabled=False):
    ...     pass
    """

    def __init__(self, iterable=None, *, total=None, desc="", enabled=None, stream=None):
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total = total
        self.desc = desc
        self.enabled = _enabled() if enabled is None else enabled
        self.stream = stream if stream is not None else sys.stderr
        self.count = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._is_tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._next_plain_fraction = 0.25

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, n=1, postfix=""):
        self.count += n
        if not self.enabled:
            return
        now = time.perf_counter()
        if self._is_tty:
            if now - self._last_draw > 0.1 or self.count == self.total:
                self._last_draw = now
                self.stream.write("\r" + self._line(now, postfix))
                self.stream.flush()
        elif self.total:
            # Without a terminal, print at 25/50/75/100 % only: logs stay short.
            while self.count / self.total >= self._next_plain_fraction - 1e-12:
                self.stream.write(self._line(now, postfix) + "\n")
                self._next_plain_fraction += 0.25
            self.stream.flush()

    def _line(self, now, postfix=""):
        elapsed = now - self.start
        if self.total:
            frac = min(self.count / self.total, 1.0)
            filled = int(24 * frac)
            bar = "#" * filled + "-" * (24 - filled)
            eta = elapsed / frac - elapsed if frac > 0 else float("nan")
            text = f"{self.desc} [{bar}] {self.count}/{self.total} {elapsed:6.1f}s eta {eta:5.1f}s"
        else:
            text = f"{self.desc} {self.count} it {elapsed:6.1f}s"
        return text + (f" {postfix}" if postfix else "")

    def close(self):
        if self.enabled and self._is_tty:
            self.stream.write("\n")
            self.stream.flush()
        self.enabled = False
