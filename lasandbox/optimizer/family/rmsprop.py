"""``RMSProp``: Paddle's signature over the ``rmsprop`` rule."""

from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register


@register("rmsprop", momentum_argument="momentum")
class RMSProp(Optimizer):
    """RMSProp, centered or not, with momentum: ``mom = momentum*mom + lr*g/sqrt(ms + epsilon)``; ``p -= mom``."""

    rule_name = "rmsprop"

    def __init__(self, learning_rate, rho=0.95, epsilon=1e-6, momentum=0.0, centered=False, parameters=None,
                 weight_decay=None, grad_clip=None, name=None, *, backend="auto", nonfinite="propagate"):
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"rho": rho, "eps": epsilon, "momentum": momentum, "centered": centered})
