"""``Adamax``: Paddle's signature over the ``adamax`` rule."""

from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register


@register("adamax", momentum_argument="beta1")
class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm, ``u = max(|g|, beta2*u + epsilon)``; a float ``weight_decay`` is L2."""

    rule_name = "adamax"

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, parameters=None,
                 weight_decay=None, grad_clip=None, name=None, *, backend="auto", nonfinite="propagate"):
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"beta1": beta1, "beta2": beta2, "eps": epsilon})
