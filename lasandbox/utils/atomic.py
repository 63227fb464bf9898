"""Write a file so that a reader sees either the old content or the new one, never half of it.

The data goes to a temporary file in the target's own folder (``os.replace`` is
atomic only within one file system), is flushed and fsync'ed, and only then
renamed over the target; the folder is fsync'ed after the rename so the new
name survives a power cut too. A process killed mid-write (even ``kill -9``)
leaves the previous file untouched and, at worst, a stray hidden
``.NAME.<pid>.<random>.tmp`` beside it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def _fsync_folder(folder: Path):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def write_atomically(path, write, *, fsync=True) -> Path:
    """Call ``write(binary_file)`` on a temporary file, then move it over ``path``; returns ``path``.

    Missing parent folders are created. When ``write`` raises (or the process is
    interrupted) the temporary file is removed and ``path`` keeps its old content.
    ``fsync=False`` skips the flushes to disk (for caches that can be regenerated).
    """
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # os.open with 0o666 honours the umask, as a plain open() of the target would (mkstemp: 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if fsync:
        _fsync_folder(folder)
    return path
