"""Paddle's RAdam (Liu et al. 2020): Adam whose adaptive step is switched on, and rectified,
once the variance of the adaptive learning rate is tractable (``rho_t > 5``).

``rho_inf = 2/(1-beta2) - 1``, ``rho_t = rho_inf - 2*t*beta2^t/(1-beta2^t)``. Per element
``m = beta1*m + (1-beta1)*g``, ``v = beta2*v + ((1-beta2)*g)*g``, ``m_hat = m/(1-beta1^t)``; then
rectified: ``param -= ((lr*m_hat)*r_t) * (sqrt(1-beta2^t) / (sqrt(v) + eps))``, otherwise
``param -= lr*m_hat``.
"""

import math

from lasandbox.kernels import hostmath as hm
from lasandbox.kernels.declare import Counter, Hyper, Pass, Rule, State, power_counter
from lasandbox.kernels.rulemath import sqrt


def update(param, grad, m, v, lr, beta1, one_minus_beta1, beta2, one_minus_beta2, one_minus_beta1_power,
           rectification, sqrt_one_minus_beta2_power, eps, l2, rectified):
    g = grad + l2 * param
    m = beta1 * m + one_minus_beta1 * g
    v = beta2 * v + (one_minus_beta2 * g) * g
    m_hat = m / one_minus_beta1_power
    # rectified is the same for every element: a loop-invariant branch.
    if rectified:
        param = param - ((lr * m_hat) * rectification) * (sqrt_one_minus_beta2_power / (sqrt(v) + eps))
    else:
        param = param - lr * m_hat
    return param, m, v


THRESHOLD = 5.0  # Paddle's: steps with rho_t <= 5 take the un-rectified branch


def _rho(beta2, step):
    """Paddle's float32 recursion ``rho = (rho*(beta2 - beta2^t) + beta2^t)/(1 - beta2^t)``, from 1."""
    b2 = hm.f32(beta2)

    def advance(rho, t):
        power = hm.power(beta2, t)
        return (rho * (b2 - power) + power) / (hm.ONE - power)

    return hm.recurrence(("radam-rho", float(b2)), hm.ONE, advance).value(step)


def constants(h, lr, step):
    f = hm.f32
    two, four = f(2.0), f(4.0)
    rho_inf = two / hm.one_minus(h.beta2) - hm.ONE
    rho_t = rho_inf - two * _rho(h.beta2, step)
    rectified = bool(rho_t > THRESHOLD)
    rectification = f(math.sqrt(float(((rho_t - four) * (rho_t - two) * rho_inf)
                                      / ((rho_inf - four) * (rho_inf - two) * rho_t)))) if rectified else hm.ONE
    return {"lr": lr, "beta1": h.beta1, "one_minus_beta1": hm.one_minus(h.beta1), "beta2": h.beta2,
            "one_minus_beta2": hm.one_minus(h.beta2), "one_minus_beta1_power": hm.one_minus(hm.power(h.beta1, step)),
            "rectification": rectification,
            "sqrt_one_minus_beta2_power": hm.sqrt(hm.one_minus(hm.power(h.beta2, step))),
            "eps": h.eps, "l2": h.weight_decay, "rectified": rectified}


RULE = Rule(
    name="radam",
    summary="Paddle's RAdam: Adam with the adaptive step rectified by ``r_t``, and plain bias-corrected "
            "momentum SGD while ``rho_t <= 5`` (the first five steps at beta2 = 0.999).",
    state=(State("m", paddle="moment1", momentum=True), State("v", paddle="moment2", nonnegative=True)),
    hypers=(
        Hyper("beta1", 0.9, high=1.0, high_open=True, doc="decay of the first moment"),
        Hyper("beta2", 0.999, high=1.0, high_open=True, doc="decay of the second moment"),
        Hyper("eps", 1e-8, paddle="epsilon", doc="added to sqrt(v)"),
        Hyper("weight_decay", 0.0, doc="L2 coefficient, added to the gradient"),
    ),
    constants=constants,
    passes=(Pass(update, writes=("param", "m", "v")),),
    uses_step=True,
    bool_scalars=("rectified",),
    reference="Paddle's RAdam (python/paddle/optimizer/radam.py; phi radam kernel).",
    examples=({}, {"beta2": 0.9, "weight_decay": 0.05}),
    torch={"optimizer": "RAdam", "kwargs": {}, "state": {"m": "exp_avg", "v": "exp_avg_sq"}},
    paddle_accumulators=(power_counter("beta1_pow", "beta1", shape="param"),
                         power_counter("beta2_pow", "beta2", shape="param"),
                         Counter("rho", lambda h, t: _rho(h.beta2, t), shape="param"), "moment1", "moment2"),
)
