"""Paddle's power accumulators of Tensor hyperparameters, kept per parameter.

When Adam's ``beta1`` is a Tensor, Paddle starts each parameter's
``beta1_pow_acc`` at 0.9 whatever the Tensor holds (the rule declares it:
``power_counter(..., tensor_start=0.9)``), corrects each step with the
accumulator's value and then multiplies in that step's beta (float32). A
parameter group that sets its own float beta keeps powers of the float
(``ParamGroup.live`` names the Tensor hyperparameters a group reads).
"""

from __future__ import annotations

import numpy as np


class RunningPowers:
    """Per parameter, the power of each live Tensor hyperparameter its next step uses."""

    def __init__(self, rule, live_hypers, count):
        self.products = {c.hyper: np.full(count, c.tensor_start, dtype=np.float32)
                         for c in rule.running_powers if c.hyper in live_hypers}

    def of(self, group) -> dict:
        """The products of the Tensor hyperparameters ``group`` reads, by name (arrays over all parameters)."""
        if not self.products:
            return {}
        return {name: products for name, products in self.products.items() if name in group.live}

    def at(self, index, group) -> dict:
        """The powers parameter ``index`` (of ``group``) uses at its next step, by hyperparameter name."""
        return {name: float(products[index]) for name, products in self.of(group).items()}

    def advance(self, group, members, hypers):
        """After a step of ``members``: Paddle's ``beta_pow_out = beta_pow * beta`` with this step's values."""
        for name, products in self.of(group).items():
            products[members] = products[members] * np.float32(hypers[name])

    def copies(self) -> dict:
        return {name: products.copy() for name, products in self.products.items()}

    def restore(self, products):
        """Set the products from ``copies()``-shaped arrays (a checked state_dict's)."""
        for name, values in products.items():
            self.products[name][...] = values
