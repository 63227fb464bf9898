"""``Adadelta``: Paddle's signature over the ``adadelta`` rule."""

from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register


@register("adadelta")
class Adadelta(Optimizer):
    """Adadelta with Paddle's learning rate (default 0.001) multiplying the update; a float ``weight_decay`` is L2."""

    rule_name = "adadelta"

    def __init__(self, learning_rate=0.001, epsilon=1e-6, rho=0.95, parameters=None, weight_decay=None,
                 grad_clip=None, name=None, *, backend="auto", nonfinite="propagate"):
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"eps": epsilon, "rho": rho})
