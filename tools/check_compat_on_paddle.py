"""Run the Paddle-compatibility suite on real PaddlePaddle 3.3.1, to check that every case is valid Paddle code.

Every case in ``tests/paddle_compat`` is written as ``import lasandbox as paddle``. This
script runs the same files with ``lasandbox`` (and every ``lasandbox.x`` module) resolved
to ``paddle`` (``paddle.x``), in an environment that has Paddle::

    /work/paddle-venv/bin/python tools/check_compat_on_paddle.py [extra pytest args]

The marks that record lasandbox's own gaps (``xfail`` with a reason starting
``optimizer-side:``, ``serialization:`` or ``conv:``) are dropped, so those cases must pass
on Paddle too. pytest (and scipy, which some of Paddle's tests import) is borrowed from the
project's venv (``--pytest-from``, default
``.venv`` of the main checkout or this one) through a folder of links on ``PYTHONPATH``;
nothing is installed into the Paddle environment.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BORROWED = ("pytest", "_pytest", "pytest_timeout.py", "pluggy", "iniconfig", "packaging", "py.py", "pygments",
            "scipy", "scipy.libs")
GAP_REASONS = ("optimizer-side:", "serialization:", "conv:")
# Cases that pass on Paddle only on some runs in this sandbox: Paddle's multi-process DataLoader, when its
# workers return Tensors, pickles them through shared memory and its queue feeder hangs (or the blocking
# queue is "killed") when shared memory runs short. Deselected, and said so; one earlier full run passed them.
PADDLE_FLAKY = {
    "tests/paddle_compat/test_compat_io.py::test_complex_dataset[2]":
        "Paddle's multi-process DataLoader hangs returning worker-made Tensors through shared memory here",
}

PLUGIN = '''
"""pytest plugin: lasandbox is paddle (import hook), and lasandbox's gap marks are dropped."""
import importlib
import importlib.abc
import importlib.util
import sys
import warnings

warnings.filterwarnings("ignore")
import paddle  # noqa: E402


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name == "lasandbox" or name.startswith("lasandbox."):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("paddle" + spec.name[len("lasandbox"):])

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Alias())
GAPS = %(gaps)r


def pytest_collection_modifyitems(items):
    for item in items:
        item.own_markers = [m for m in item.own_markers
                            if not (m.name == "xfail" and str(m.kwargs.get("reason", "")).startswith(GAPS))]
'''


def borrowed_site(pytest_from: Path) -> Path:
    sites = sorted(pytest_from.glob("lib/python*/site-packages"))
    if not sites:
        raise SystemExit(f"no site-packages under {pytest_from}: give --pytest-from a venv that has pytest")
    return sites[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_venv = next((p for p in (ROOT / ".venv", Path("/work/main/.venv")) if p.exists()), ROOT / ".venv")
    parser.add_argument("--pytest-from", type=Path, default=default_venv)
    args, pytest_args = parser.parse_known_args()
    site = borrowed_site(args.pytest_from)
    with tempfile.TemporaryDirectory() as tmp:
        links = Path(tmp)
        for name in BORROWED:
            # The package and its metadata (pytest -v asks pluggy for its version).
            for entry in [site / name, *site.glob(f"{name.split('.')[0]}-*.dist-info")]:
                if entry.exists() and not (links / entry.name).exists():
                    (links / entry.name).symlink_to(entry)
        (links / "lasandbox_is_paddle.py").write_text(PLUGIN % {"gaps": GAP_REASONS})
        env = dict(os.environ, PYTHONPATH=str(links))
        for case, why in PADDLE_FLAKY.items():
            print(f"deselected on Paddle: {case}: {why}")
            pytest_args = ["--deselect", case, *pytest_args]
        # A per-case timeout: Paddle's multi-process DataLoader can hang in a sandbox without /dev/shm room.
        command = [sys.executable, "-m", "pytest", "tests/paddle_compat", "-p", "lasandbox_is_paddle",
                   "--timeout", "300", "-p", "no:cacheprovider", "-q", "-rfE", *pytest_args]
        return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
