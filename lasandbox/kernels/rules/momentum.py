"""Momentum as Paddle writes it: ``v = mu*v + g``; ``param -= lr*v`` (Nesterov: ``lr*(g + mu*v)``)."""

from lasandbox.kernels.declare import REQUIRED, Hyper, Pass, Rule, State


def update(param, grad, velocity, lr, mu, l2, nesterov, rescale):
    g = grad * rescale + l2 * param
    velocity = mu * velocity + g
    # nesterov is the same for every element: the branch is loop-invariant and costs nothing.
    if nesterov:
        param = param - lr * (g + mu * velocity)
    else:
        param = param - lr * velocity
    return param, velocity


def constants(h, lr, step):
    return {"lr": lr, "mu": h.momentum, "l2": h.weight_decay, "nesterov": h.nesterov,
            "rescale": h.rescale_grad}


RULE = Rule(
    name="momentum",
    summary="``velocity = momentum*velocity + g``; ``param -= lr*velocity`` (Nesterov: ``lr*(g + momentum*velocity)``)"
            ", with ``g = rescale_grad*grad + weight_decay*param``.",
    state=(State("velocity", paddle="velocity", momentum=True),),
    hypers=(
        Hyper("momentum", REQUIRED, doc="heavy-ball coefficient"),
        Hyper("nesterov", False, kind="flag", paddle="use_nesterov", doc="Nesterov's look-ahead form"),
        Hyper("weight_decay", 0.0, doc="L2 coefficient, added to the gradient"),
        Hyper("rescale_grad", 1.0, doc="the gradient is multiplied by this first (Paddle's rescale_grad)"),
    ),
    constants=constants,
    passes=(Pass(update, writes=("param", "velocity")),),
    bool_scalars=("nesterov",),
    examples=({"momentum": 0.9}, {"momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
              {"momentum": 0.9, "rescale_grad": 0.5}),
    torch={"optimizer": "SGD", "kwargs": {"momentum": 0.9}, "state": {"velocity": "momentum_buffer"}},
    reference="Paddle's Momentum (python/paddle/optimizer/momentum.py; phi momentum kernel, "
              "regularization_method='l2_decay').",
)
