"""``NAdam``: Paddle's signature over the ``nadam`` rule."""

from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register


@register("nadam", momentum_argument="beta1")
class NAdam(Optimizer):
    """NAdam: Nesterov-accelerated Adam with a momentum schedule; a float ``weight_decay`` is L2."""

    rule_name = "nadam"

    def __init__(self, learning_rate=0.002, beta1=0.9, beta2=0.999, epsilon=1e-8, momentum_decay=0.004,
                 parameters=None, weight_decay=None, grad_clip=None, name=None, *, backend="auto",
                 nonfinite="propagate"):
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"beta1": beta1, "beta2": beta2, "eps": epsilon, "momentum_decay": momentum_decay})
