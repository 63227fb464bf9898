"""``Lamb``: Paddle's signature over the ``lamb`` rule (trust ratio per parameter tensor)."""

from lasandbox.optimizer.family.adamw import split_by_decay
from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register
from lasandbox.utils.validation import check_flags


@register("lamb", momentum_argument="beta1")
class Lamb(Optimizer):
    """Lamb: Adam's direction plus ``lamb_weight_decay*p``, scaled per tensor by ``||p||/||r||``.

    ``exclude_from_weight_decay_fn(param) -> bool`` (called with the parameter Tensor,
    as Paddle does) puts the parameters it accepts into a group without decay, which
    Paddle then also leaves unadapted (trust ratio 1) unless ``always_adapt``.
    """

    rule_name = "lamb"
    decoupled_decay = True

    def __init__(self, learning_rate=0.001, lamb_weight_decay=0.01, beta1=0.9, beta2=0.999, epsilon=1e-6,
                 parameters=None, grad_clip=None, exclude_from_weight_decay_fn=None, multi_precision=False,
                 always_adapt=False, name=None, *, backend="auto", nonfinite="propagate"):
        if exclude_from_weight_decay_fn is not None and parameters is not None:
            parameters = split_by_decay(parameters, exclude_from_weight_decay_fn, exclude=True, by_tensor=True)
        check_flags(multi_precision=multi_precision)
        super().__init__(learning_rate, parameters, None, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"weight_decay": lamb_weight_decay, "beta1": beta1, "beta2": beta2, "eps": epsilon,
                                 "always_adapt": always_adapt})
