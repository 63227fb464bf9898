"""Paddle's RMSProp, centered or not, with momentum (the learning rate inside the momentum buffer).

``ms = rho*ms + ((1-rho)*g)*g``; centered: ``mg = rho*mg + (1-rho)*g`` and
``mom = mu*mom + (lr*g) / sqrt((ms - mg*mg) + eps)``, else
``mom = mu*mom + (lr*g) / sqrt(ms + eps)``; ``param -= mom``.
"""

from lasandbox.kernels import hostmath as hm
from lasandbox.kernels.declare import Hyper, Pass, Rule, State
from lasandbox.kernels.rulemath import sqrt


def update(param, grad, mom, mean_square, mean_grad, lr, rho, one_minus_rho, eps, mu, l2, centered):
    g = grad + l2 * param
    mean_square = rho * mean_square + (one_minus_rho * g) * g
    # centered is the same for every element: a loop-invariant branch.
    if centered:
        mean_grad = rho * mean_grad + one_minus_rho * g
        mom = mu * mom + (lr * g) / sqrt((mean_square - mean_grad * mean_grad) + eps)
    else:
        mom = mu * mom + (lr * g) / sqrt(mean_square + eps)
    param = param - mom
    return param, mom, mean_square, mean_grad


def constants(h, lr, step):
    return {"lr": lr, "rho": h.rho, "one_minus_rho": hm.one_minus(h.rho), "eps": h.eps, "mu": h.momentum,
            "l2": h.weight_decay, "centered": h.centered}


RULE = Rule(
    name="rmsprop",
    summary="Paddle's RMSProp: ``ms = rho*ms + (1-rho)*g*g``; ``mom = momentum*mom + lr*g/sqrt(ms + eps)`` "
            "(centered: ``sqrt(ms - mg*mg + eps)`` with ``mg = rho*mg + (1-rho)*g``); ``param -= mom``.",
    state=(State("mom", paddle="momentum", momentum=True), State("mean_square", paddle="mean_square",
                                                                 nonnegative=True),
           State("mean_grad", paddle="mean_grad")),
    hypers=(
        Hyper("rho", 0.95, doc="decay of the running averages (Paddle checks only rho >= 0)"),
        Hyper("eps", 1e-6, paddle="epsilon", doc="added inside the square root"),
        Hyper("momentum", 0.0, doc="decay of the momentum buffer"),
        Hyper("centered", False, kind="flag", doc="subtract the squared running mean of the gradient"),
        Hyper("weight_decay", 0.0, doc="L2 coefficient, added to the gradient"),
    ),
    constants=constants,
    passes=(Pass(update, writes=("param", "mom", "mean_square", "mean_grad")),),
    bool_scalars=("centered",),
    reference="Paddle's RMSProp (python/paddle/optimizer/rmsprop.py; phi rmsprop kernel).",
    examples=({}, {"momentum": 0.9}, {"rho": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.05}),
    torch={"optimizer": "RMSprop", "kwargs": {"alpha": 0.95, "eps": 1e-6, "momentum": 0.9},
           "state": {"mom": "momentum_buffer", "mean_square": "square_avg"}},
)
