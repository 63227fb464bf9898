"""Weight-decay specifications: a float, ``L2Decay(coeff)``, ``L1Decay(coeff)``, or None.

L2 goes where the rule takes its decay (fused into the update, or decoupled there); L1 is always a term
added to the gradient, ``grad += coeff * sign(param)`` (float32), after clipping, as Paddle's
``append_regularization_ops`` adds it for every optimizer.
"""

from __future__ import annotations

from lasandbox.utils.validation import check_real


class _Decay:
    """A regularisation coefficient (>= 0), checked by name."""

    def __init__(self, coeff=0.0):
        self.coeff = check_real("coeff", coeff, low=0.0)

    def __repr__(self):
        return f"{type(self).__name__}(coeff={self.coeff})"


class L2Decay(_Decay):
    """L2 regularisation: adds ``coeff * param`` to the gradient (Paddle's ``regularizer.L2Decay``)."""


class L1Decay(_Decay):
    """L1 regularisation: adds ``coeff * sign(param)`` to the gradient (Paddle's ``regularizer.L1Decay``)."""


def weight_decay_coeff(name, value):
    """The L2 decay coefficient of ``value`` (None and L1Decay -> 0); errors name the argument."""
    if value is None or isinstance(value, L1Decay):
        return 0.0
    if isinstance(value, L2Decay):
        return value.coeff
    return check_real(name, value, low=0.0)


def l1_coeff(value):
    """The L1 coefficient of ``value`` (0 unless it is an ``L1Decay``)."""
    return value.coeff if isinstance(value, L1Decay) else 0.0
