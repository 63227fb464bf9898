"""The update rules, each written once as a function of one element.

These are plain Python functions of scalars. The ``cpu`` backend compiles them
with ``numba.njit`` and calls them inside a ``prange`` loop; the ``cuda``
backend compiles them with ``cuda.jit(device=True)`` and calls them once per
thread; the ``numpy`` reference (``numpy_backend.py``) mirrors them line by
line on whole arrays. Keeping the operation order identical everywhere is what
makes the float32 results of the backends agree to the last bit on the CPU.

Conventions, shared by every backend:

* every hyperparameter arrives already rounded to float32 and already combined
  on the host (``one_minus_beta1``, the bias-corrected ``lr_t`` ...), so the
  per-element math is pure float32 and contains no numeric literal (a Python
  literal would silently promote the expression to float64 in numba);
* a rule never branches on data, so the CPU loop vectorises; the only branch
  (``nesterov``) is on a loop-invariant flag;
* weight decay is branch-free: ``l2 = 0`` adds ``0 * p`` (an exact no-op for
  finite ``p``) and ``decay_keep = 1`` multiplies by one (always exact).
"""

import math


def sgd_rule(p, g, lr, l2):
    """Plain SGD with L2 weight decay folded into the gradient."""
    g = g + l2 * p
    return p - lr * g


def momentum_rule(p, g, velocity, lr, mu, l2, nesterov):
    """Paddle's Momentum: ``v = mu*v + g``; ``p -= lr*v`` (Nesterov: ``lr*(g + mu*v)``)."""
    g = g + l2 * p
    velocity = mu * velocity + g
    if nesterov:
        p = p - lr * (g + mu * velocity)
    else:
        p = p - lr * velocity
    return p, velocity


def adam_rule(p, g, m, v, lr_t, beta1, one_minus_beta1, beta2, one_minus_beta2, eps_hat, l2, decay_keep):
    """Paddle's Adam / AdamW on one element.

    ``lr_t = lr*sqrt(1-beta2^t)/(1-beta1^t)`` and ``eps_hat = eps*sqrt(1-beta2^t)``
    are computed once per step on the host. Adam uses ``l2 = weight_decay`` and
    ``decay_keep = 1``; AdamW uses ``l2 = 0`` and ``decay_keep = 1 - lr*weight_decay``
    (Paddle decays with the un-corrected learning rate, before the Adam update).
    """
    g = g + l2 * p
    p = p * decay_keep
    m = beta1 * m + one_minus_beta1 * g
    v = beta2 * v + one_minus_beta2 * (g * g)
    p = p - lr_t * (m / (math.sqrt(v) + eps_hat))
    return p, m, v


def lookahead_rule(fast, slow, alpha, one_minus_alpha):
    """The Lookahead slow-weight update; the caller then sets ``fast = slow``.

    Written as Paddle writes it, ``alpha*fast + (1-alpha)*slow``, rather than
    ``slow + alpha*(fast - slow)``: both are the same number in exact arithmetic,
    but this form is exact at the end points (``alpha=1`` returns ``fast``,
    ``alpha=0`` returns ``slow``) and rounds once less in general.
    """
    return alpha * fast + one_minus_alpha * slow
