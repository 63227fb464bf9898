"""``Lion``: the ``lion`` rule with a Paddle-style signature (Paddle has no Lion)."""

from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register


@register("lion", momentum_argument="beta1")
class Lion(Optimizer):
    """Lion (Chen et al. 2023): ``p -= lr*(sign(beta1*m + (1-beta1)*g) + weight_decay*p)``;
    ``m = beta2*m + (1-beta2)*g``. ``weight_decay`` is decoupled, as in the paper."""

    rule_name = "lion"
    decoupled_decay = True
    groups_keep_param_regularizer = True

    def __init__(self, learning_rate=1e-4, beta1=0.9, beta2=0.99, parameters=None, weight_decay=0.0,
                 grad_clip=None, name=None, *, backend="auto", nonfinite="propagate"):
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"beta1": beta1, "beta2": beta2})
