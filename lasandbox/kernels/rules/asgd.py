"""Paddle's ASGD: stochastic *average* gradient (SAG) over a ring of the last ``batch_num`` gradients.

Not Polyak-averaged SGD: at step ``t`` the slot ``(t-1) % batch_num`` of the ring ``y``
is replaced by the new gradient, ``d`` keeps the ring's sum, and the step follows
their mean: ``d = (d - y[slot]) + g; y[slot] = g; param -= (lr/min(t, batch_num)) * d``.
With ``batch_num=1`` it is exactly SGD. Weight decay (L2) is added to the gradient
before it enters the ring, as Paddle does.
"""

from lasandbox.kernels import hostmath as hm
from lasandbox.kernels.declare import Counter, Hyper, Pass, Rule, State


def update(param, grad, d, y, lr_over_n, l2):
    g = grad + l2 * param
    d = (d - y) + g
    y = g
    param = param - lr_over_n * d
    return param, d, y


def constants(h, lr, step):
    return {"lr_over_n": hm.f32(lr) / hm.f32(min(step, h.batch_num)), "l2": h.weight_decay}


def ring_slot(h, step):
    """The ring slot step ``step`` (from 1) overwrites."""
    return (step - 1) % h.batch_num


RULE = Rule(
    name="asgd",
    summary="Paddle's ASGD (stochastic average gradient): ``d = d - y[slot] + g``; ``y[slot] = g``; "
            "``param -= lr/min(step, batch_num) * d``.",
    state=(State("d", paddle="d"),
           State("y", paddle="y", copies="batch_num", slot=ring_slot,
                 doc="the last batch_num gradients, shape [batch_num, size]")),
    hypers=(
        Hyper("batch_num", 1, kind="int", low=1, doc="how many past gradients the average spans"),
        Hyper("weight_decay", 0.0, doc="L2 coefficient, added to the gradient before it enters the ring"),
    ),
    constants=constants,
    passes=(Pass(update, writes=("param", "d", "y")),),
    uses_step=True,
    reference="Paddle's ASGD (python/paddle/optimizer/asgd.py; phi asgd kernel).",
    examples=({}, {"batch_num": 3, "weight_decay": 0.05}),
    torch=None,  # torch.optim.ASGD is Polyak-averaged SGD, a different rule
    paddle_accumulators=("d", "y", Counter("m", lambda h, t: t, dtype="int64", monotone="identity")),
)
