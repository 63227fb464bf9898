"""Paddle's Rprop: per-element step sizes that grow while the gradient keeps its sign.

``prod = g*prev``; the step size is multiplied by ``eta_pos`` (``prod > 0``), ``eta_neg``
(``prod < 0``) or 1, then clipped into ``[lr_min, lr_max]``; on a sign flip the gradient
is forgotten (``g = 0``: no move this step); ``param -= sign(g)*step_size``; ``prev = g``.
The learning rate only sets the initial step sizes, as in Paddle.
"""

from lasandbox.kernels.declare import Hyper, Pass, Rule, State
from lasandbox.kernels.rulemath import select, sign


def update(param, grad, prev, step_size, eta_neg, eta_pos, lr_min, lr_max, zero, one, l2):
    g = grad + l2 * param
    prod = g * prev
    eta = select(prod > 0, eta_pos, select(prod < 0, eta_neg, one))
    g = select(prod < 0, zero, g)
    step_size = step_size * eta
    step_size = select(step_size > lr_max, lr_max, select(step_size < lr_min, lr_min, step_size))
    param = param - sign(g) * step_size
    return param, g, step_size


def constants(h, lr, step):
    return {"eta_neg": h.eta_negative, "eta_pos": h.eta_positive, "lr_min": h.lr_min, "lr_max": h.lr_max,
            "zero": 0.0, "one": 1.0, "l2": h.weight_decay}


RULE = Rule(
    name="rprop",
    summary="Paddle's Rprop: per-element step sizes times eta_pos / eta_neg on equal / flipped gradient "
            "signs, clipped to [lr_min, lr_max]; ``param -= sign(g)*step_size``.",
    state=(State("prev", paddle="prevs", doc="the previous (masked) gradient"),
           State("step_size", paddle="learning_rates", init="lr", nonnegative=True,
                 doc="per-element step sizes, starting at the learning rate")),
    hypers=(
        Hyper("eta_negative", 0.5, low=0.0, high=1.0, low_open=True, high_open=True, paddle="etas[0]",
              doc="step-size factor after a sign flip"),
        Hyper("eta_positive", 1.2, low=1.0, low_open=True, paddle="etas[1]",
              doc="step-size factor while the sign holds"),
        Hyper("lr_min", 1e-5, low=0.0, low_open=True, paddle="learning_rate_range[0]",
              doc="smallest step size"),
        Hyper("lr_max", 50.0, low=0.0, low_open=True, paddle="learning_rate_range[1]", doc="largest step size"),
        Hyper("weight_decay", 0.0, doc="L2 coefficient, added to the gradient (Paddle's Rprop adds 0*param)"),
    ),
    constants=constants,
    passes=(Pass(update, writes=("param", "prev", "step_size")),),
    reference="Paddle's Rprop (python/paddle/optimizer/rprop.py; phi rprop kernel).",
    examples=({}, {"eta_negative": 0.3, "eta_positive": 1.5, "lr_min": 0.02, "lr_max": 0.3}),
    torch={"optimizer": "Rprop", "kwargs": {}, "state": {"prev": "prev", "step_size": "step_size"}},
)
