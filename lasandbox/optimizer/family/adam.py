"""``Adam``: Paddle's signature over the ``adam`` rule (coupled L2 weight decay)."""

from lasandbox.optimizer.arguments import not_implemented
from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register
from lasandbox.utils.validation import check_flags


@register("adam", momentum_argument="beta1")
class Adam(Optimizer):
    """Adam with Paddle's bias correction: ``lr_t = lr*sqrt(1-b2^t)/(1-b1^t)``,
    ``p -= lr_t * m / (sqrt(v) + eps*sqrt(1-b2^t))``; a float ``weight_decay`` is L2.
    """

    rule_name = "adam"

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, parameters=None,
                 weight_decay=None, grad_clip=None, lazy_mode=False, multi_precision=False,
                 use_multi_tensor=False, amsgrad=False, name=None, *, backend="auto", nonfinite="propagate"):
        # lazy_mode only changes sparse (row) gradients; lasandbox's are dense, where it is the same update.
        not_implemented("Adam", amsgrad=(amsgrad, False))
        check_flags(lazy_mode=lazy_mode, multi_precision=multi_precision, use_multi_tensor=use_multi_tensor)
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"beta1": beta1, "beta2": beta2, "eps": epsilon})
