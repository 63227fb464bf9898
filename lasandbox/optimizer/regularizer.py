"""Weight-decay specifications: a float, ``L2Decay(coeff)``, or None."""

from __future__ import annotations

from lasandbox.utils.validation import check_real


class L2Decay:
    """L2 regularisation: adds ``coeff * param`` to the gradient (Paddle's ``regularizer.L2Decay``)."""

    def __init__(self, coeff=0.0):
        self.coeff = check_real("coeff", coeff, low=0.0)

    def __repr__(self):
        return f"L2Decay(coeff={self.coeff})"


def weight_decay_coeff(name, value):
    """The decay coefficient of ``value`` (None -> 0); errors name the argument."""
    if value is None:
        return 0.0
    if isinstance(value, L2Decay):
        return value.coeff
    return check_real(name, value, low=0.0)
