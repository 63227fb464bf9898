"""The noisy quadratic model (NQM) in closed form: SGD and Lookahead(SGD).

Model (PAPER.md section 2). Each coordinate i has curvature ``a_i`` and the
loss ``1/2 a_i (x_i - c_i)^2`` with ``c_i ~ N(0, sigma2_i)`` drawn afresh at
every step, so the stochastic gradient is ``a_i (x_i - c_i)``. The expected
loss is ``1/2 sum_i a_i (E[x_i]^2 + V[x_i] + sigma2_i)``; the last term cannot
be reduced by any optimizer, so every function here returns the *excess* loss
``1/2 sum_i a_i (E[x_i]^2 + V[x_i])``.

Notation (per coordinate, learning rate ``lr``):

* ``b = 1 - lr*a``: SGD multiplies the mean by ``b`` each step and adds
  gradient noise of variance ``lr^2 a^2 sigma2``;
* ``c = 1 - alpha + alpha*b^k``: one Lookahead cycle (k SGD steps, then
  ``phi <- phi + alpha(theta_k - phi)``) multiplies the slow weights' mean by c.

Both converge in mean for ``0 < lr*a < 2``. All functions broadcast: ``a`` and
``sigma2`` are per-coordinate arrays; ``lr`` and ``alpha`` may be arrays of
settings, in which case results have their broadcast shape and the sum over
coordinates runs along a trailing axis added here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lasandbox.utils.validation import check_int, check_real


def _coordinates(a, sigma2):
    a = np.atleast_1d(np.asarray(a, dtype=float))
    sigma2 = np.broadcast_to(np.asarray(sigma2, dtype=float), a.shape)
    if a.ndim != 1 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("a must be a 1-D array of positive finite curvatures")
    if not np.all(np.isfinite(sigma2)) or np.any(sigma2 < 0):
        raise ValueError("sigma2 must be finite and >= 0")
    return a, sigma2


def _check_lr_a(lr_a):
    lr_a = np.asarray(lr_a, dtype=float)
    if not np.all((lr_a > 0) & (lr_a < 2)):
        raise ValueError("lr*a must be in (0, 2) for every coordinate (otherwise SGD diverges)")
    return lr_a


def _check_alpha(alpha):
    alpha = np.asarray(alpha, dtype=float)
    if not np.all((alpha > 0) & (alpha <= 1)):
        raise ValueError("alpha must be in (0, 1]")
    return alpha


def lookahead_outer_factor(lr_a, alpha, k: int):
    """``c = 1 - alpha + alpha (1 - lr*a)^k``: the factor one Lookahead cycle applies to E[phi].

    On a deterministic 1-D quadratic this is the exact contraction of the slow
    weights per cycle (k inner SGD steps, then the interpolation).
    """
    k = check_int("k", k, low=1)
    return 1 - alpha + alpha * (1 - np.asarray(lr_a, dtype=float)) ** k


def sgd_variance_fixed_point(lr, a, sigma2):
    """Steady-state variance of SGD: ``V*_SGD = lr^2 a^2 sigma2 / (1 - (1-lr a)^2)``.

    Computed as the algebraically equal ``lr a sigma2 / (2 - lr a)``, which
    does not lose digits to cancellation when ``lr*a`` is small.
    """
    lr_a = _check_lr_a(np.asarray(lr, dtype=float) * np.asarray(a, dtype=float))
    return lr_a * sigma2 / (2 - lr_a)


def variance_ratio(lr_a, alpha, k: int):
    """``R = V*_LA / V*_SGD`` at the same learning rate, as a function of ``lr*a``.

    From the Proposition (PAPER.md section 2, [DERIVED]):
    ``R = alpha^2 (1 - b^{2k}) / (alpha^2 (1 - b^{2k}) + 2 alpha (1 - alpha)(1 - b^k))``
    with ``b = 1 - lr*a``; dividing through by ``alpha (1 - b^k)`` gives the
    form used here, ``R = alpha (1 + b^k) / (1 + c)`` with ``c`` the outer
    factor. Limits: R -> alpha as lr*a -> 0, R = alpha/(2 - alpha) at
    lr*a = 1, R = 1 at alpha = 1 (Lookahead is SGD), R < 1 for alpha < 1.
    """
    lr_a = _check_lr_a(lr_a)
    alpha = _check_alpha(alpha)
    b_k = (1 - lr_a) ** check_int("k", k, low=1)
    return alpha * (1 + b_k) / (2 - alpha + alpha * b_k)


def lookahead_variance_fixed_point(lr, a, sigma2, alpha, k: int):
    """Steady-state variance of Lookahead's slow weights with an SGD inner loop.

    ``V*_LA = alpha^2 (1 - b^{2k}) V*_SGD / (1 - c^2) = R * V*_SGD``: the fixed
    point of the per-cycle recursion ``V <- c^2 V + alpha^2 (1 - b^{2k}) V*_SGD``.
    """
    lr_a = np.asarray(lr, dtype=float) * np.asarray(a, dtype=float)
    return variance_ratio(lr_a, alpha, k) * sgd_variance_fixed_point(lr, a, sigma2)


def _settings_axis(*values):
    # Settings broadcast among themselves; a trailing axis runs over coordinates.
    return [np.asarray(v, dtype=float)[..., None] for v in values]


def steady_state_loss(lr, a, sigma2, *, alpha=None, k: int = 5):
    """Excess expected loss at the fixed point, ``1/2 sum_i a_i V*_i`` (the means go to 0).

    ``alpha=None`` gives SGD; otherwise Lookahead(SGD) with ``alpha`` and ``k``.
    """
    a, sigma2 = _coordinates(a, sigma2)
    (lr,) = _settings_axis(lr)
    if alpha is None:
        variance = sgd_variance_fixed_point(lr, a, sigma2)
    else:
        (alpha,) = _settings_axis(alpha)
        variance = lookahead_variance_fixed_point(lr, a, sigma2, alpha, k)
    return 0.5 * np.sum(a * variance, axis=-1)


def expected_loss_at_step(lr, a, sigma2, step: int, *, alpha=None, k: int = 5, mean0=1.0, var0=0.0):
    """Excess expected loss after ``step`` inner steps, in closed form.

    SGD: ``E = b^t m0``, ``V = b^{2t} V0 + V*_SGD (1 - b^{2t})``. Lookahead after
    S full cycles: ``E[phi] = c^S m0``, ``V[phi] = c^{2S} V0 + V*_LA (1 - c^{2S})``;
    j more inner steps are SGD from phi, and at a multiple of k the fast
    weights equal the slow ones (the sync has just happened). The paper's
    initialisation phi_0 = theta_0 is assumed.
    """
    a, sigma2 = _coordinates(a, sigma2)
    step = check_int("step", step, low=0)
    (lr,) = _settings_axis(lr)
    b = 1 - lr * a
    v_sgd = sgd_variance_fixed_point(lr, a, sigma2)
    if alpha is None:
        cycles, inner = 0, step
        mean, var = np.asarray(mean0, dtype=float), np.asarray(var0, dtype=float)
    else:
        k = check_int("k", k, low=1)
        (alpha,) = _settings_axis(alpha)
        c = lookahead_outer_factor(lr * a, _check_alpha(alpha), k)
        cycles, inner = divmod(step, k)
        v_la = lookahead_variance_fixed_point(lr, a, sigma2, alpha, k)
        mean = c**cycles * mean0
        var = c ** (2 * cycles) * var0 + v_la * (1 - c ** (2 * cycles))
    mean = b**inner * mean
    var = b ** (2 * inner) * var + v_sgd * (1 - b ** (2 * inner))
    return 0.5 * np.sum(a * (mean**2 + var), axis=-1)


@dataclass(frozen=True)
class LossCurve:
    """Expected excess loss after each inner step ``0..steps``.

    ``loss`` is the loss of the weights the optimizer is evaluated at after
    the step: SGD's iterate, or Lookahead's fast weights (equal to the slow
    weights right after a sync). ``slow_loss`` is the slow weights' loss
    (None for SGD); it only changes at syncs.
    """

    step: np.ndarray
    loss: np.ndarray
    slow_loss: np.ndarray | None


def expected_loss_curve(lr, a, sigma2, steps: int, *, alpha=None, k: int = 5, mean0=1.0, var0=0.0):
    """The whole curve, from the exact moment recursion step by step.

    Unlike ``expected_loss_at_step`` this tracks the covariance between fast
    and slow weights inside a cycle instead of using the cycle closed form, so
    it checks that closed form independently. Per step, with noise variance
    ``q = lr^2 a^2 sigma2``: ``E[th] <- b E[th]``, ``V[th] <- b^2 V[th] + q``,
    ``Cov(phi, th) <- b Cov(phi, th)``; at a sync
    ``V[phi] <- (1-alpha)^2 V[phi] + alpha^2 V[th] + 2 alpha (1-alpha) Cov``
    and the fast weights restart from phi. ``lr`` and ``alpha`` are scalars.
    """
    a, sigma2 = _coordinates(a, sigma2)
    steps = check_int("steps", steps, low=0)
    lr = check_real("lr", lr, low=0, low_open=True)
    _check_lr_a(lr * a)
    if alpha is not None:
        alpha = check_real("alpha", alpha, low=0, high=1, low_open=True)
        k = check_int("k", k, low=1)
    b = 1 - lr * a
    noise = lr**2 * a**2 * sigma2
    mean_fast = np.full_like(a, float(mean0))
    var_fast = np.full_like(a, float(var0))
    mean_slow, var_slow, cov = mean_fast.copy(), var_fast.copy(), var_fast.copy()
    loss = np.empty(steps + 1)
    slow_loss = np.empty(steps + 1)
    loss[0] = slow_loss[0] = 0.5 * np.sum(a * (mean_fast**2 + var_fast))
    for t in range(1, steps + 1):
        mean_fast = b * mean_fast
        var_fast = b**2 * var_fast + noise
        cov = b * cov
        if alpha is not None and t % k == 0:
            var_slow = (1 - alpha) ** 2 * var_slow + alpha**2 * var_fast + 2 * alpha * (1 - alpha) * cov
            mean_slow = (1 - alpha) * mean_slow + alpha * mean_fast
            mean_fast, var_fast, cov = mean_slow.copy(), var_slow.copy(), var_slow.copy()
        loss[t] = 0.5 * np.sum(a * (mean_fast**2 + var_fast))
        slow_loss[t] = 0.5 * np.sum(a * (mean_slow**2 + var_slow))
    return LossCurve(np.arange(steps + 1), loss, None if alpha is None else slow_loss)


def matched_sgd_lr(target_loss, a, sigma2, *, iterations: int = 200):
    """The SGD learning rate whose steady-state excess loss equals ``target_loss``.

    SGD's steady-state loss ``1/2 sum a lr a sigma2/(2 - lr a)`` increases
    strictly from 0 (lr -> 0) to infinity (lr -> 2/max a), so bisection on
    that bracket finds the unique match. Vectorised over ``target_loss``.
    """
    a, sigma2 = _coordinates(a, sigma2)
    target = np.asarray(target_loss, dtype=float)
    if np.any(target <= 0) or not np.all(np.isfinite(target)):
        raise ValueError("target_loss must be positive and finite")
    low = np.zeros_like(target)
    high = np.full_like(target, 2.0 / a.max())
    for _ in range(check_int("iterations", iterations, low=1)):
        middle = 0.5 * (low + high)
        too_small = steady_state_loss(middle, a, sigma2) < target
        low = np.where(too_small, middle, low)
        high = np.where(too_small, high, middle)
        if np.all(high - low <= 1e-15 * high):
            break
    return 0.5 * (low + high)


def nqm_spectrum(dim: int = 100):
    """The stand-in NQM of PAPER.md section 2: ``a_i = 1/i``, ``sigma2_i = 1/a_i``, i = 1..dim.

    (Zhang et al. 2019's NQM, with gradient-noise variance ``a_i^2 sigma2_i = a_i``;
    the Lookahead paper's own spectrum is UNVERIFIED.)
    """
    a = 1.0 / np.arange(1, check_int("dim", dim, low=1) + 1)
    return a, 1.0 / a
