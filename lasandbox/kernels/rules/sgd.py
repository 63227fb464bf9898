"""SGD: ``param -= lr * (grad + weight_decay*param)`` (Paddle's SGD; a float weight decay is L2)."""

from lasandbox.kernels.declare import Hyper, Pass, Rule


def update(param, grad, lr, l2):
    g = grad + l2 * param
    return (param - lr * g,)


def constants(h, lr, step):
    return {"lr": lr, "l2": h.weight_decay}


RULE = Rule(
    name="sgd",
    summary="``param -= lr * (grad + weight_decay*param)``.",
    state=(),
    hypers=(Hyper("weight_decay", 0.0, doc="L2 coefficient, added to the gradient"),),
    constants=constants,
    passes=(Pass(update, writes=("param",)),),
    reference="Paddle's SGD (python/paddle/optimizer/sgd.py; the sgd kernel).",
    examples=({}, {"weight_decay": 0.01}),
    torch={"optimizer": "SGD", "kwargs": {}, "state": {}},
)
