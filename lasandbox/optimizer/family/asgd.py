"""``ASGD``: Paddle's signature over the ``asgd`` rule (stochastic *average* gradient, Paddle's meaning)."""

from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register
from lasandbox.utils.validation import check_flags


@register("asgd")
class ASGD(Optimizer):
    """ASGD as Paddle defines it: the step follows the mean of the last ``batch_num`` gradients (SAG)."""

    rule_name = "asgd"

    def __init__(self, learning_rate=0.001, batch_num=1, parameters=None, weight_decay=None, grad_clip=None,
                 multi_precision=False, name=None, *, backend="auto", nonfinite="propagate"):
        # multi_precision keeps float32 master weights of float16 parameters; lasandbox's are float32 already.
        check_flags(multi_precision=multi_precision)
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"batch_num": batch_num})
