"""``Momentum``: Paddle's signature over the ``momentum`` rule."""

from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register
from lasandbox.utils.validation import check_flags


@register("momentum", momentum_argument="momentum")
class Momentum(Optimizer):
    """Heavy ball as Paddle writes it: ``v = mu*v + g; p -= lr*v`` (Nesterov: ``p -= lr*(g + mu*v)``)."""

    rule_name = "momentum"

    def __init__(self, learning_rate=0.001, momentum=0.9, parameters=None, use_nesterov=False,
                 weight_decay=None, grad_clip=None, multi_precision=False, rescale_grad=1.0,
                 use_multi_tensor=False, name=None, *, backend="auto", nonfinite="propagate"):
        # multi_precision: float16 master weights (ours are float32); use_multi_tensor: a launch strategy.
        check_flags(multi_precision=multi_precision, use_multi_tensor=use_multi_tensor)
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"momentum": momentum, "nesterov": use_nesterov, "rescale_grad": rescale_grad})
