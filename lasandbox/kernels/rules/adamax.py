"""Paddle's Adamax: ``m = beta1*m + (1-beta1)*g``; ``u = max(|g|, beta2*u + eps)``;
``param -= (lr/(1-beta1^t)) * (m/u)`` (epsilon inside the max, no square root)."""

from lasandbox.kernels import hostmath as hm
from lasandbox.kernels.declare import Hyper, Pass, Rule, State, power_counter
from lasandbox.kernels.rulemath import absolute, maximum


def update(param, grad, moment, inf_norm, lr_t, beta1, one_minus_beta1, beta2, eps, l2):
    g = grad + l2 * param
    moment = beta1 * moment + one_minus_beta1 * g
    inf_norm = maximum(absolute(g), beta2 * inf_norm + eps)
    param = param - lr_t * (moment / inf_norm)
    return param, moment, inf_norm


def constants(h, lr, step):
    return {"lr_t": hm.f32(lr) / hm.one_minus(hm.power(h.beta1, step)), "beta1": h.beta1,
            "one_minus_beta1": hm.one_minus(h.beta1), "beta2": h.beta2, "eps": h.eps, "l2": h.weight_decay}


RULE = Rule(
    name="adamax",
    summary="Paddle's Adamax: ``m = beta1*m + (1-beta1)*g``; ``u = max(|g|, beta2*u + eps)``; "
            "``param -= lr/(1-beta1^step) * m/u``.",
    state=(State("moment", paddle="moment", momentum=True), State("inf_norm", paddle="inf_norm", nonnegative=True)),
    hypers=(
        Hyper("beta1", 0.9, high=1.0, high_open=True, doc="decay of the first moment"),
        Hyper("beta2", 0.999, high=1.0, high_open=True, doc="decay of the infinity norm"),
        Hyper("eps", 1e-8, paddle="epsilon", doc="added to the decayed norm inside the max"),
        Hyper("weight_decay", 0.0, doc="L2 coefficient, added to the gradient"),
    ),
    constants=constants,
    passes=(Pass(update, writes=("param", "moment", "inf_norm")),),
    uses_step=True,
    reference="Paddle's Adamax (python/paddle/optimizer/adamax.py; phi adamax kernel).",
    examples=({}, {"beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "weight_decay": 0.05}),
    torch={"optimizer": "Adamax", "kwargs": {}, "state": {"moment": "exp_avg", "inf_norm": "exp_inf"}},
    paddle_accumulators=("moment", "inf_norm", power_counter("beta1_pow_acc", "beta1", offset=1)),
)
