"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): the sign of an interpolated
momentum, with decoupled weight decay. Not in Paddle: the README's worked example of adding a rule.

``update = sign(beta1*m + (1-beta1)*g)``; ``param -= lr*(update + weight_decay*param)``;
``m = beta2*m + (1-beta2)*g``.
"""

from lasandbox.kernels import hostmath as hm
from lasandbox.kernels.declare import Hyper, Pass, Rule, State
from lasandbox.kernels.rulemath import sign


def update(param, grad, m, lr, beta1, one_minus_beta1, beta2, one_minus_beta2, weight_decay):
    direction = sign(beta1 * m + one_minus_beta1 * grad)
    param = param - lr * (direction + weight_decay * param)
    m = beta2 * m + one_minus_beta2 * grad
    return param, m


def constants(h, lr, step):
    return {"lr": lr, "beta1": h.beta1, "one_minus_beta1": hm.one_minus(h.beta1), "beta2": h.beta2,
            "one_minus_beta2": hm.one_minus(h.beta2), "weight_decay": h.weight_decay}


RULE = Rule(
    name="lion",
    summary="Lion: ``param -= lr*(sign(beta1*m + (1-beta1)*g) + weight_decay*param)``; "
            "``m = beta2*m + (1-beta2)*g``.",
    state=(State("m", paddle="moment1", momentum=True),),
    hypers=(
        Hyper("beta1", 0.9, high=1.0, doc="interpolation of the update's momentum"),
        Hyper("beta2", 0.99, high=1.0, doc="decay of the momentum buffer"),
        Hyper("weight_decay", 0.0, doc="decoupled decay, scaled by lr"),
    ),
    constants=constants,
    passes=(Pass(update, writes=("param", "m")),),
    reference="Chen et al. 2023, Algorithm 2 (arXiv 2302.06675).",
    examples=({}, {"beta1": 0.95, "beta2": 0.98, "weight_decay": 0.1}),
)
