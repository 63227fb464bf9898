"""Paddle's Adadelta (with its learning rate, default 0.001, multiplying the update).

``Eg = rho*Eg + (1-rho)*(g*g)``; ``update = -((sqrt(Ex + eps) / sqrt(Eg + eps)) * g)`` (the new
``Eg``, the old ``Ex``); ``param += lr*update``; ``Ex = rho*Ex + (1-rho)*(update*update)``.
"""

from lasandbox.kernels import hostmath as hm
from lasandbox.kernels.declare import Hyper, Pass, Rule, State
from lasandbox.kernels.rulemath import sqrt


def update(param, grad, avg_squared_grad, avg_squared_update, lr, rho, one_minus_rho, eps, l2):
    g = grad + l2 * param
    avg_squared_grad = rho * avg_squared_grad + one_minus_rho * (g * g)
    step = -((sqrt(avg_squared_update + eps) / sqrt(avg_squared_grad + eps)) * g)
    param = param + lr * step
    avg_squared_update = rho * avg_squared_update + one_minus_rho * (step * step)
    return param, avg_squared_grad, avg_squared_update


def constants(h, lr, step):
    return {"lr": lr, "rho": h.rho, "one_minus_rho": hm.one_minus(h.rho), "eps": h.eps, "l2": h.weight_decay}


RULE = Rule(
    name="adadelta",
    summary="Paddle's Adadelta: ``Eg = rho*Eg + (1-rho)*g*g``; "
            "``update = -sqrt(Ex + eps)/sqrt(Eg + eps)*g``; ``param += lr*update``; "
            "``Ex = rho*Ex + (1-rho)*update*update``.",
    state=(State("avg_squared_grad", paddle="_avg_squared_grad", nonnegative=True),
           State("avg_squared_update", paddle="_avg_squared_update", nonnegative=True)),
    hypers=(
        Hyper("rho", 0.95, high=1.0, doc="decay of both running averages"),
        Hyper("eps", 1e-6, paddle="epsilon", doc="added inside both square roots"),
        Hyper("weight_decay", 0.0, doc="L2 coefficient, added to the gradient"),
    ),
    constants=constants,
    passes=(Pass(update, writes=("param", "avg_squared_grad", "avg_squared_update")),),
    reference="Paddle's Adadelta (python/paddle/optimizer/adadelta.py; phi adadelta kernel).",
    examples=({}, {"rho": 0.9, "eps": 1e-2, "weight_decay": 0.05}),
    torch={"optimizer": "Adadelta", "kwargs": {"rho": 0.95, "eps": 1e-6},
           "state": {"avg_squared_grad": "square_avg", "avg_squared_update": "acc_delta"}},
)
