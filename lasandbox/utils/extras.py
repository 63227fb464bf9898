"""Optional dependencies: which extra of ``pip install 'lasandbox[...]'`` brings which module.

``pip install lasandbox`` (no extras) runs the library, ``lasandbox reproduce``
and ``lasandbox demo``. A command that needs more says so in one line and exits
with status 2, instead of ending in an ImportError traceback: library code
raises :class:`MissingExtraError` (an ``ImportError``) through :func:`require`,
and the ``lasandbox`` command (or a script, through :func:`exit_if_missing`)
prints its message.
"""

from __future__ import annotations

import importlib.util
import sys

# module -> the extra (pyproject.toml's [project.optional-dependencies]) that installs it
EXTRAS = {
    "distributed": "sweep",
    "torch": "bench",
    "IPython": "notebooks",
    "ipywidgets": "notebooks",
    "jupytext": "notebooks",
    "nbclient": "notebooks",
    "hypothesis": "dev",
    "pytest": "dev",
}


class MissingExtraError(ImportError):
    """A module of an optional extra is not installed; the message says what to install."""

    def __init__(self, module, purpose, hint=""):
        extra = EXTRAS[module]
        super().__init__(f"{purpose} needs {module}, which is not installed: pip install 'lasandbox[{extra}]'"
                         + (f" ({hint})" if hint else ""), name=module)
        self.extra = extra


def is_installed(module) -> bool:
    """Whether ``module`` can be imported (found on the path; nothing is imported)."""
    return importlib.util.find_spec(module) is not None


def require(module, purpose, hint=""):
    """Raise :class:`MissingExtraError` when ``module`` is missing; ``purpose`` says what needs it."""
    if module not in EXTRAS:
        raise ValueError(f"module must be one of {sorted(EXTRAS)}, got {module!r}")
    if not is_installed(module):
        raise MissingExtraError(module, purpose, hint)


def exit_if_missing(module, purpose, prog, hint=""):
    """For scripts: print the one-line message to stderr and exit with status 2 when ``module`` is missing."""
    try:
        require(module, purpose, hint)
    except MissingExtraError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        raise SystemExit(2) from None
