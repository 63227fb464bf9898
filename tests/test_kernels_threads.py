"""numba's OpenMP threads spin briefly after a kernel, so they do not fight BLAS in a training step."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = ("import os, lasandbox.kernels as k\n"
          "print(os.environ.get('GOMP_SPINCOUNT'), '|', k.threads.spin_policy())")


def _run(env):
    env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_the_kernels_sets_a_short_spin_before_numba_starts_its_threads():
    out = _run({"GOMP_SPINCOUNT": None, "OMP_WAIT_POLICY": None})
    assert out.startswith("10000 |") and "set by lasandbox" in out


def test_a_users_own_choice_is_kept():
    assert _run({"GOMP_SPINCOUNT": "5", "OMP_WAIT_POLICY": None}).startswith("5 | the user's GOMP_SPINCOUNT=5")
    out = _run({"GOMP_SPINCOUNT": None, "OMP_WAIT_POLICY": "PASSIVE"})
    assert out.startswith("None |") and "OMP_WAIT_POLICY=PASSIVE" in out
