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


def test_optimizer_steps_run_serially_below_the_training_threshold(monkeypatch):
    """Inside a training step the update follows BLAS calls: below TRAINING_SERIAL_THRESHOLD elements it
    runs on the calling thread (cpu_backend's comment has the measurement); direct kernel calls keep
    SERIAL_THRESHOLD."""
    import numpy as np

    import lasandbox as paddle
    from lasandbox.kernels import cpu_backend

    seen = []
    real_run = cpu_backend.run

    def recording_run(rule, chain, arrays, scalars, table=None, parallel=None):
        seen.append((arrays["param"].size, parallel))
        return real_run(rule, chain, arrays, scalars, table, parallel)

    monkeypatch.setattr(cpu_backend, "run", recording_run)
    monkeypatch.setattr(cpu_backend, "TRAINING_SERIAL_THRESHOLD", 1000)
    for size in (999, 1000):
        p = paddle.nn.Parameter(np.ones(size, np.float32))
        opt = paddle.optimizer.Adam(learning_rate=0.1, parameters=[p])
        p.sum().backward()
        opt.step()
    assert seen == [(999, False), (1000, True)]
