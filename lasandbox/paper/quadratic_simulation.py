"""Run momentum and Lookahead(momentum) on a diagonal quadratic and measure the rate.

This is the check on ``quadratic_theory``: the algorithms are written here as
they run (update the buffer, update the weights, sync, apply the buffer
policy), never as matrices, and the rate is read off the simulated error.

Each eigen-direction is an independent scalar problem, so the simulation loops
over eigenvalues (in parallel) and over steps (compiled with numba: a scalar
recurrence of 10^5 steps is microseconds there and seconds in numpy). The
state is rescaled to norm 1 after every cycle and the log of the removed
factor accumulated, so runs far longer than ``1/(1-rho)`` neither underflow
nor overflow.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from lasandbox.utils.validation import check_choice, check_int, check_real

# Policy codes for the compiled loop; "cm" means plain momentum, no Lookahead.
POLICY_CODES = {"cm": 0, "maintain": 1, "interpolate": 2, "reset": 3}


@njit(cache=True, parallel=True)
def _log_norm_history(lr, beta, eigenvalues, alpha, k, policy, cycles):  # pragma: no cover - compiled
    history = np.empty((eigenvalues.size, cycles + 1))
    for e in prange(eigenvalues.size):
        a = eigenvalues[e]
        x, v, phi, cached = 1.0, 0.0, 1.0, 0.0
        log_scale = 0.0
        history[e, 0] = 0.0
        for s in range(cycles):
            for _ in range(k):
                v = beta * v + a * x
                x = x - lr * v
            if policy == 0:
                norm = math.sqrt(x * x + v * v)
            else:
                phi = phi + alpha * (x - phi)
                x = phi
                if policy == 2:
                    v = alpha * v + (1.0 - alpha) * cached
                    cached = v
                elif policy == 3:
                    v = 0.0
                norm = math.sqrt(phi * phi + v * v)
            if norm == 0.0 or not math.isfinite(norm):
                # Exactly solved (e.g. lr*a = 1 without momentum) or blown past float range.
                fill = -np.inf if norm == 0.0 else np.inf
                for rest in range(s + 1, cycles + 1):
                    history[e, rest] = fill
                break
            log_scale += math.log(norm)
            history[e, s + 1] = log_scale
            x /= norm
            v /= norm
            phi /= norm
            cached /= norm
    return history


def log_norm_history(lr, beta, eigenvalues, *, policy="cm", alpha=0.5, k=20, cycles=200):
    """``log ||state||`` at every cycle boundary (every k steps), one row per eigenvalue.

    The state starts at weights 1, momentum 0 (slow weights = fast weights);
    it is ``(x, v)`` for momentum, ``(phi, v)`` for Lookahead (``v`` is 0
    under ``reset``). A row that hits exactly 0 is ``-inf`` from there on.
    """
    check_choice("policy", policy, tuple(POLICY_CODES))
    return _log_norm_history(
        check_real("lr", lr, low=0, low_open=True),
        check_real("beta", beta, low=0, high=1, high_open=True),
        np.ascontiguousarray(eigenvalues, dtype=np.float64),
        check_real("alpha", alpha, low=0, high=1),
        check_int("k", k, low=1),
        POLICY_CODES[policy],
        check_int("cycles", cycles, low=4),
    )


def measured_rate(history, k: int):
    """Per-step rate per eigenvalue: ``exp`` of the least-squares slope of log-norm over the second half.

    The first half is dropped so the slowest mode dominates what is fitted;
    a least-squares slope rather than the end points averages out the
    oscillation of under-damped modes. Rows that reached 0 get rate 0.
    """
    history = np.asarray(history, dtype=float)
    window = history[:, history.shape[1] // 2 :]
    solved = np.isneginf(window).any(axis=1)
    blown = np.isposinf(window).any(axis=1)
    clean = np.where(np.isfinite(window), window, 0.0)
    t = np.arange(window.shape[1], dtype=float) * k
    t -= t.mean()
    slope = (clean - clean.mean(axis=1, keepdims=True)) @ t / (t @ t)
    return np.where(solved, 0.0, np.where(blown, np.inf, np.exp(slope)))


def simulated_rate(lr, beta, eigenvalues, *, policy="cm", alpha=0.5, k=20, cycles=200):
    """Worst-case measured per-step rate over ``eigenvalues`` (compare with ``quadratic_theory``)."""
    history = log_norm_history(lr, beta, eigenvalues, policy=policy, alpha=alpha, k=k, cycles=cycles)
    return float(measured_rate(history, k).max())


def cycles_for(rho_predicted: float, k: int, *, nats: float = 40.0, low: int = 20, high: int = 2000) -> int:
    """How many cycles make the fitted half of the run decay (or grow) by about ``nats`` e-folds.

    The predicted rate only chooses the run length; the measurement itself
    does not use it. Clipped to ``[low, high]``.
    """
    per_step = abs(math.log(rho_predicted)) if rho_predicted > 0 else 1.0
    wanted = 2.0 * nats / max(per_step * k, 1e-300)
    return int(min(max(math.ceil(wanted), low), high))


def trajectory(lr, beta, a, *, policy="cm", alpha=0.5, k=20, steps=400):
    """Fast-weight value after every step ``0..steps`` on the 1-D quadratic ``a x^2 / 2`` (plain Python).

    Used for the trajectory panel, and independent of the compiled loop so
    tests can check one against the other.
    """
    check_choice("policy", policy, tuple(POLICY_CODES))
    x, v, phi, cached = 1.0, 0.0, 1.0, 0.0
    values = [x]
    for t in range(1, check_int("steps", steps, low=0) + 1):
        v = beta * v + a * x
        x = x - lr * v
        if policy != "cm" and t % k == 0:
            phi = phi + alpha * (x - phi)
            x = phi
            if policy == "interpolate":
                v = alpha * v + (1 - alpha) * cached
                cached = v
            elif policy == "reset":
                v = 0.0
        values.append(x)
    return np.array(values)
