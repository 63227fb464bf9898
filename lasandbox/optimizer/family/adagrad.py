"""``Adagrad``: Paddle's signature over the ``adagrad`` rule."""

from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register


@register("adagrad")
class Adagrad(Optimizer):
    """Adagrad: ``moment += g*g``; ``p -= lr*g / (sqrt(moment) + epsilon)``; a float ``weight_decay`` is L2."""

    rule_name = "adagrad"

    def __init__(self, learning_rate, epsilon=1e-6, parameters=None, weight_decay=None, grad_clip=None, name=None,
                 initial_accumulator_value=0.0, *, backend="auto", nonfinite="propagate"):
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"eps": epsilon, "initial_accumulator_value": initial_accumulator_value})
