"""Paddle's Adagrad: ``m += g*g``; ``param -= (lr*g) / (sqrt(m) + eps)`` (epsilon outside the sqrt)."""

from lasandbox.kernels.declare import Hyper, Pass, Rule, State
from lasandbox.kernels.rulemath import sqrt


def update(param, grad, moment, lr, eps, l2):
    g = grad + l2 * param
    moment = moment + g * g
    param = param - (lr * g) / (sqrt(moment) + eps)
    return param, moment


def constants(h, lr, step):
    return {"lr": lr, "eps": h.eps, "l2": h.weight_decay}


RULE = Rule(
    name="adagrad",
    summary="Paddle's Adagrad: ``moment += g*g``; ``param -= (lr*g) / (sqrt(moment) + eps)``.",
    state=(State("moment", paddle="moment", init="initial_accumulator_value", nonnegative=True),),
    hypers=(
        Hyper("eps", 1e-6, paddle="epsilon", doc="added to sqrt(moment)"),
        Hyper("weight_decay", 0.0, doc="L2 coefficient, added to the gradient"),
        Hyper("initial_accumulator_value", 0.0, doc="the value ``moment`` starts from (the optimizer fills it)"),
    ),
    constants=constants,
    passes=(Pass(update, writes=("param", "moment")),),
    reference="Paddle's Adagrad (python/paddle/optimizer/adagrad.py; phi adagrad kernel).",
    examples=({}, {"eps": 1e-3, "weight_decay": 0.05}),
    torch={"optimizer": "Adagrad", "kwargs": {"eps": 1e-6}, "state": {"moment": "sum"}},
)
