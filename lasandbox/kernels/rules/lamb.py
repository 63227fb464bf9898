"""Paddle's Lamb (You et al. 2020): Adam's direction, rescaled per parameter tensor by the trust ratio.

Two passes over memory. The first updates the moments and sums, per tensor,
``param*param`` and ``r*r`` (``SumOfSquares``, from the arrays) for the direction
``r = (m/(1-beta1^t)) / (sqrt(v/(1-beta2^t)) + eps) + weight_decay*param``. Per tensor
the trust ratio is ``||param|| / ||r||`` (1 when either norm is 0, or when the
layer is not adapted: ``weight_decay <= 0`` without ``always_adapt``, as in Paddle).
The first pass also keeps ``r`` in a scratch array, which the second pass reads
to apply ``param -= (lr*ratio)*r`` (recomputing it there would cost a square
root and two divisions per element again).
"""

from lasandbox.kernels import hostmath as hm
from lasandbox.kernels.declare import Hyper, Pass, Rule, SegmentStep, State, SumOfSquares, power_counter
from lasandbox.kernels.rulemath import select, sqrt


def direction(param, m, v, one_minus_beta1_power, one_minus_beta2_power, eps, decay):
    """Lamb's update direction ``r`` (before the trust ratio)."""
    return (m / one_minus_beta1_power) / (sqrt(v / one_minus_beta2_power) + eps) + decay * param


def moments(param, grad, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, one_minus_beta1_power,
            one_minus_beta2_power, eps, decay):
    m = beta1 * m + one_minus_beta1 * grad
    v = beta2 * v + (one_minus_beta2 * grad) * grad
    return m, v, direction(param, m, v, one_minus_beta1_power, one_minus_beta2_power, eps, decay)


def trust_ratio(param_sq, update_sq, adapt):
    """Per tensor, in float64: ``||param|| / ||r||``, or 1."""
    param_norm, update_norm = sqrt(param_sq), sqrt(update_sq)
    ratio = select(param_norm > 0, select(update_norm > 0, param_norm / update_norm, 1.0), 1.0)
    return (select(adapt, ratio, 1.0),)


def apply(param, update, ratio, lr):
    return (param - (lr * ratio) * update,)


def constants(h, lr, step):
    return {"lr": lr, "beta1": h.beta1, "one_minus_beta1": hm.one_minus(h.beta1), "beta2": h.beta2,
            "one_minus_beta2": hm.one_minus(h.beta2), "one_minus_beta1_power": hm.one_minus(hm.power(h.beta1, step)),
            "one_minus_beta2_power": hm.one_minus(hm.power(h.beta2, step)), "eps": h.eps, "decay": h.weight_decay,
            "adapt": bool(h.weight_decay > 0 or h.always_adapt)}


RULE = Rule(
    name="lamb",
    summary="Paddle's Lamb: ``r = m_hat/(sqrt(v_hat) + eps) + weight_decay*param``; "
            "``param -= lr * (||param||/||r||) * r`` with the norms per parameter tensor (``segments``).",
    state=(State("m", paddle="moment1", momentum=True), State("v", paddle="moment2", nonnegative=True)),
    hypers=(
        Hyper("beta1", 0.9, high=1.0, high_open=True, doc="decay of the first moment"),
        Hyper("beta2", 0.999, high=1.0, high_open=True, doc="decay of the second moment"),
        Hyper("eps", 1e-6, paddle="epsilon", doc="added to sqrt(v_hat)"),
        Hyper("weight_decay", 0.01, low=-1e30, paddle="lamb_weight_decay",
              doc="decoupled decay in the direction r (layers adapt only when > 0)"),
        Hyper("always_adapt", False, kind="flag", doc="use the trust ratio even without weight decay"),
    ),
    constants=constants,
    passes=(Pass(moments, writes=("m", "v", "update"),
                 reduces=(SumOfSquares("param_sq", of="param"), SumOfSquares("update_sq", of="update"))),
            SegmentStep(trust_ratio, inputs=("param_sq", "update_sq"), outputs=("ratio",)),
            Pass(apply, writes=("param",))),
    scratch=("update",),
    uses_step=True,
    bool_scalars=("adapt",),
    reference="Paddle's Lamb (python/paddle/optimizer/lamb.py; phi lamb kernel).",
    examples=({}, {"weight_decay": 0.1, "beta1": 0.8}, {"weight_decay": 0.0, "always_adapt": True},
              {"weight_decay": 0.0}),
    torch=None,  # PyTorch has no Lamb
    paddle_accumulators=("moment1", "moment2", power_counter("beta1_pow_acc", "beta1", offset=1),
                         power_counter("beta2_pow_acc", "beta2", offset=1)),
)
