"""``SGD``: Paddle's signature over the ``sgd`` rule."""

from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register
from lasandbox.utils.validation import check_flags


@register("sgd")
class SGD(Optimizer):
    """SGD: ``p -= lr * (g + wd * p)`` (a float ``weight_decay`` is L2 regularisation, as in Paddle)."""

    rule_name = "sgd"

    def __init__(self, learning_rate=0.001, parameters=None, weight_decay=None, grad_clip=None,
                 multi_precision=False, name=None, *, backend="auto", nonfinite="propagate"):
        # multi_precision keeps float32 master weights of float16 parameters; lasandbox's are float32 already.
        check_flags(multi_precision=multi_precision)
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend, nonfinite=nonfinite)
