"""Convergence rates on a deterministic quadratic: classical momentum vs Lookahead(momentum).

On ``f(x) = 1/2 x^T A x`` every eigen-direction of A (eigenvalue ``a``)
evolves independently, and heavy-ball momentum (Paddle's / PyTorch's form,
``v <- beta v + a x``, ``x <- x - lr v``) is the linear map on ``(x, v)``

    B(a) = [[1 - lr a, -lr beta],
            [a,          beta   ]].

Its worst-case rate is ``rho_CM = max_a rho(B(a))`` (spectral radius): the
error shrinks like ``rho^t``. Plots use ``1 - rho`` (larger is faster).

Lookahead runs k momentum steps, ``M = B(a)^k``, then interpolates the
weights, ``phi <- phi + alpha (x_k - phi)``, and restarts from phi. What
happens to the momentum buffer at the sync decides the outer map T(a)
(PAPER.md section 3, [DERIVED]):

* ``maintain`` (the authors' code default): the buffer carries on,
  ``T = diag(1-alpha, 0) + diag(alpha, 1) M``;
* ``interpolate`` (the code's "pullback"): ``v <- alpha v_k + (1-alpha) v_0``,
  so ``T = (1-alpha) I + alpha M``;
* ``reset``: ``v <- 0``, a scalar map ``T = 1 - alpha + alpha M[0, 0]``.

The rate per inner step is ``rho_LA = (max_a rho(T(a)))^(1/k)``.
All functions broadcast ``lr`` and ``beta`` against each other; the
eigenvalue axis is added last and reduced by the ``*_rate`` functions.
"""

from __future__ import annotations

import numpy as np

from lasandbox.utils.validation import check_choice, check_int, check_real

POLICIES = ("maintain", "interpolate", "reset")


def eigen_spectrum(kappa: float = 100.0, count: int = 200):
    """``count`` eigenvalues log-spaced in ``[1/kappa, 1]`` (both ends included).

    Log spacing samples the small eigenvalues, which set the over-damped
    rate, as finely as the large ones, which set the stability edge.
    """
    kappa = check_real("kappa", kappa, low=1)
    count = check_int("count", count, low=2)
    return np.geomspace(1.0 / kappa, 1.0, count)


def momentum_matrix(lr, beta, a):
    """The heavy-ball iteration matrix ``B(a)`` (shape ``broadcast(lr, beta, a) + (2, 2)``)."""
    lr, beta, a = np.broadcast_arrays(*(np.asarray(value, dtype=float) for value in (lr, beta, a)))
    matrix = np.empty(a.shape + (2, 2))
    matrix[..., 0, 0] = 1 - lr * a
    matrix[..., 0, 1] = -lr * beta
    matrix[..., 1, 0] = a
    matrix[..., 1, 1] = beta
    return matrix


def spectral_radius(matrices):
    """Largest eigenvalue modulus of each square matrix in a stack."""
    return np.abs(np.linalg.eigvals(np.asarray(matrices, dtype=float))).max(axis=-1)


def lookahead_matrix(lr, beta, a, alpha, k: int, policy: str = "maintain"):
    """The outer (per-cycle) map ``T(a)`` for a momentum-buffer ``policy``; see the module docstring.

    ``reset`` returns a ``(..., 1, 1)`` stack: its state is the weights alone.
    """
    alpha = check_real("alpha", alpha, low=0, high=1)
    k = check_int("k", k, low=1)
    check_choice("policy", policy, POLICIES)
    cycle = np.linalg.matrix_power(momentum_matrix(lr, beta, a), k)
    if policy == "reset":
        return (1 - alpha + alpha * cycle[..., 0, 0])[..., None, None]
    if policy == "interpolate":
        return (1 - alpha) * np.eye(2) + alpha * cycle
    outer = cycle.copy()
    outer[..., 0, :] *= alpha  # the weights row is interpolated ...
    outer[..., 0, 0] += 1 - alpha  # ... towards the old slow weights; the buffer row is kept
    return outer


def _with_eigen_axis(lr, beta, eigenvalues):
    lr, beta = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(beta, dtype=float))
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    if eigenvalues.ndim != 1 or np.any(eigenvalues <= 0):
        raise ValueError("eigenvalues must be a 1-D array of positive numbers")
    return lr[..., None], beta[..., None], eigenvalues


def momentum_rate(lr, beta, eigenvalues):
    """Worst-case per-step rate of classical momentum, ``max_a rho(B(a))``.

    In the under-damped regime every direction spirals at ``sqrt(beta)``.
    """
    lr, beta, eigenvalues = _with_eigen_axis(lr, beta, eigenvalues)
    return spectral_radius(momentum_matrix(lr, beta, eigenvalues)).max(axis=-1)


def lookahead_rate(lr, beta, eigenvalues, alpha, k: int, policy: str = "maintain"):
    """Worst-case per-inner-step rate of Lookahead(momentum), ``(max_a rho(T(a)))^(1/k)``."""
    lr, beta, eigenvalues = _with_eigen_axis(lr, beta, eigenvalues)
    outer = spectral_radius(lookahead_matrix(lr, beta, eigenvalues, alpha, k, policy)).max(axis=-1)
    return outer ** (1.0 / k)


def rate(lr, beta, eigenvalues, *, method: str = "cm", alpha: float = 0.5, k: int = 20, policy: str = "maintain"):
    """``momentum_rate`` for ``method="cm"``, ``lookahead_rate`` for ``method="lookahead"``."""
    check_choice("method", method, ("cm", "lookahead"))
    if method == "cm":
        return momentum_rate(lr, beta, eigenvalues)
    return lookahead_rate(lr, beta, eigenvalues, alpha, k, policy)
