"""``Rprop``: Paddle's signature over the ``rprop`` rule."""

from lasandbox.optimizer.lr import LRScheduler
from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register
from lasandbox.utils.validation import check_flags, check_real


@register("rprop")
class Rprop(Optimizer):
    """Rprop: per-element step sizes grown by ``etas[1]`` while the gradient keeps its sign, shrunk by
    ``etas[0]`` when it flips, within ``learning_rate_range``. ``learning_rate`` only sets the
    initial step sizes (as in Paddle, which also refuses a scheduler here)."""

    rule_name = "rprop"

    def __init__(self, learning_rate=0.001, learning_rate_range=(1e-5, 50), parameters=None, etas=(0.5, 1.2),
                 grad_clip=None, multi_precision=False, name=None, *, backend="auto", nonfinite="propagate"):
        if isinstance(learning_rate, LRScheduler):
            raise TypeError("Rprop takes a float learning_rate (it only sets the initial step sizes), "
                            "not an LRScheduler")
        low, high = _pair("learning_rate_range", learning_rate_range)
        eta_negative, eta_positive = _pair("etas", etas)
        lr = check_real("learning_rate", learning_rate)
        if not 0.0 < low <= lr <= high:
            raise ValueError(f"learning_rate_range and learning_rate must satisfy 0 < learning_rate_range[0] "
                             f"<= learning_rate <= learning_rate_range[1], got {learning_rate_range} and {lr}")
        if not 0.0 < eta_negative < 1.0 < eta_positive:
            raise ValueError(f"etas must satisfy 0 < etas[0] < 1 < etas[1], got {etas}")
        # Paddle's Rprop adds an L2Decay(0.0) term, 0*param: weight_decay 0.0, not None, keeps that.
        check_flags(multi_precision=multi_precision)
        super().__init__(learning_rate, parameters, 0.0, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"lr_min": low, "lr_max": high, "eta_negative": eta_negative,
                                 "eta_positive": eta_positive})


def _pair(name, value):
    try:
        first, second = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair of reals, got {value!r}") from None
    return check_real(f"{name}[0]", first), check_real(f"{name}[1]", second)
