"""A SHA-256 trailer after the pickle, so that a damaged checkpoint file is caught before it is read.

``save`` to a path appends ``\\n#lasandbox-sha256:<64 hex digits>\\n`` after the
pickle's STOP instruction. Readers of pickles stop at STOP, so Paddle (and
``pickle.load``) read the file as if the trailer were not there; ``load``
checks it first and reports any changed byte as a damaged file. Files without
a trailer (Paddle's) are read unchecked; a pickle has no checksum of its own.
Saves to a file object get no trailer: several objects may share one stream,
as in Paddle's ``BytesIO`` example.
"""

from __future__ import annotations

import hashlib
import os
import re

from lasandbox.serialization.restricted import CorruptCheckpointError

MAGIC = b"\n#lasandbox-sha256:"
TRAILER_SIZE = len(MAGIC) + 64 + 1
_TRAILER = re.compile(re.escape(MAGIC) + rb"([0-9a-f]{64})\n\Z")
_CHUNK = 1 << 20


def trailer_for(data: bytes) -> bytes:
    """The trailer that follows the pickle ``data`` in a file."""
    return MAGIC + hashlib.sha256(data).hexdigest().encode() + b"\n"


def checked_length(handle, label):
    """The pickle's length in an open file that ends with a trailer (after checking it), else None.

    Raises :class:`CorruptCheckpointError` when the trailer does not match the bytes before it.
    """
    size = os.fstat(handle.fileno()).st_size
    if size < TRAILER_SIZE:
        return None
    handle.seek(size - TRAILER_SIZE)
    match = _TRAILER.match(handle.read(TRAILER_SIZE))
    if match is None:
        handle.seek(0)
        return None
    handle.seek(0)
    digest, left = hashlib.sha256(), size - TRAILER_SIZE
    while left:
        chunk = handle.read(min(_CHUNK, left))
        if not chunk:
            break
        digest.update(chunk)
        left -= len(chunk)
    if digest.hexdigest().encode() != match.group(1):
        raise CorruptCheckpointError(f"{label} is damaged: its SHA-256 does not match the one saved with it")
    handle.seek(0)
    return size - TRAILER_SIZE
