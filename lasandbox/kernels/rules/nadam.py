"""Paddle's NAdam (Dozat 2016, with PyTorch's momentum-decay schedule), host scalars as Paddle keeps them.

At step ``t``: ``w = (0.96^t)^momentum_decay``, ``mu_t = beta1*(1 - 0.5*w)``,
``mu_{t+1} = beta1*(1 - 0.5*w*0.96^momentum_decay)``, ``mu_product = prod mu_i``; then
``m = beta1*m + (1-beta1)*g``, ``v = beta2*v + ((1-beta2)*g)*g``,
``m_hat = (mu_{t+1}*m)/(1 - mu_product*mu_{t+1}) + ((1-mu_t)*g)/(1 - mu_product)``,
``param -= (lr*m_hat) / (sqrt(v/(1-beta2^t)) + eps)``.
"""

import math

from lasandbox.kernels import hostmath as hm
from lasandbox.kernels.declare import Counter, Hyper, Pass, Rule, State, power_counter
from lasandbox.kernels.rulemath import sqrt


def update(param, grad, m, v, lr, beta1, one_minus_beta1, beta2, one_minus_beta2, mu_next,
           one_minus_product_next, one_minus_mu, one_minus_product, one_minus_beta2_power, eps, l2):
    g = grad + l2 * param
    m = beta1 * m + one_minus_beta1 * g
    v = beta2 * v + (one_minus_beta2 * g) * g
    m_hat = (mu_next * m) / one_minus_product_next + (one_minus_mu * g) / one_minus_product
    v_hat = v / one_minus_beta2_power
    param = param - (lr * m_hat) / (sqrt(v_hat) + eps)
    return param, m, v


_DECAY_BASE = 0.96


def _mu(beta1, decay, decay_power):
    """(mu_t, mu_{t+1}) from the float32 power 0.96^t, as Paddle's kernel computes them."""
    f = hm.f32
    w = f(math.pow(float(decay_power), float(f(decay))))  # Paddle's pow, to within an ulp
    half = f(0.5)
    mu_t = f(beta1) * (hm.ONE - half * w)
    mu_next = f(beta1) * (hm.ONE - (half * w) * f(math.pow(float(f(_DECAY_BASE)), float(f(decay)))))
    return mu_t, mu_next


def _mu_product(beta1, decay, step):
    def advance(product, t):
        return product * _mu(beta1, decay, hm.power(_DECAY_BASE, t))[0]

    return hm.recurrence(("nadam-mu-product", float(hm.f32(beta1)), float(hm.f32(decay))), hm.ONE,
                         advance).value(step)


def constants(h, lr, step):
    mu_t, mu_next = _mu(h.beta1, h.momentum_decay, hm.power(_DECAY_BASE, step))
    product = _mu_product(h.beta1, h.momentum_decay, step)
    return {"lr": lr, "beta1": h.beta1, "one_minus_beta1": hm.one_minus(h.beta1), "beta2": h.beta2,
            "one_minus_beta2": hm.one_minus(h.beta2), "mu_next": mu_next,
            "one_minus_product_next": hm.ONE - product * mu_next, "one_minus_mu": hm.ONE - mu_t,
            "one_minus_product": hm.ONE - product, "one_minus_beta2_power": hm.one_minus(hm.power(h.beta2, step)),
            "eps": h.eps, "l2": h.weight_decay}


RULE = Rule(
    name="nadam",
    summary="Paddle's NAdam: Nesterov-accelerated Adam with the momentum schedule "
            "``mu_t = beta1*(1 - 0.5*0.96^(t*momentum_decay))``.",
    state=(State("m", paddle="moment1", momentum=True), State("v", paddle="moment2", nonnegative=True)),
    hypers=(
        Hyper("beta1", 0.9, high=1.0, high_open=True, doc="decay of the first moment"),
        Hyper("beta2", 0.999, high=1.0, high_open=True, doc="decay of the second moment"),
        Hyper("eps", 1e-8, paddle="epsilon", doc="added to sqrt(v_hat)"),
        Hyper("momentum_decay", 0.004, doc="speed of the momentum schedule"),
        Hyper("weight_decay", 0.0, doc="L2 coefficient, added to the gradient"),
    ),
    constants=constants,
    passes=(Pass(update, writes=("param", "m", "v")),),
    uses_step=True,
    reference="Paddle's NAdam (python/paddle/optimizer/nadam.py; phi nadam kernel).",
    examples=({}, {"beta1": 0.8, "momentum_decay": 0.1, "weight_decay": 0.05}),
    torch={"optimizer": "NAdam", "kwargs": {}, "state": {"m": "exp_avg", "v": "exp_avg_sq"}},
    paddle_accumulators=(Counter("momentum_decay_pow", lambda h, t: hm.power(_DECAY_BASE, t), shape="param"),
                         power_counter("beta2_pow", "beta2", shape="param"),
                         Counter("mu_product", lambda h, t: _mu_product(h.beta1, h.momentum_decay, t),
                                 shape="param"), "moment1", "moment2"),
)
