"""Warnings that point at the caller's line, however deep inside lasandbox they are raised."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_DECORATORS = os.path.abspath(contextlib.__file__)  # ``no_grad()`` and other context-manager decorators


def _inside(filename):
    # Compared as given: module files have absolute names; '<string>', '<stdin>', a notebook cell's name and
    # the like are the user's (resolving them against the working directory could even raise).
    return filename.startswith(_PACKAGE) or filename == _DECORATORS


def warn_at_caller(message, category=UserWarning):
    """``warnings.warn`` attributed to the first frame outside lasandbox (and the context-manager
    decorators it wraps methods in): a fixed ``stacklevel`` breaks whenever the call path changes,
    e.g. ``opt.step()`` against ``LookAhead.step()`` reaching the same check. With no such frame (all of
    the stack is lasandbox's) the outermost frame is named."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and _inside(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)
