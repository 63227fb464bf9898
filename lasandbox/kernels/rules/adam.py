"""Paddle's Adam, and AdamW as its decoupled-decay form.

Host constants of step ``t`` (float32, as Paddle computes them from its
``beta_pow`` accumulators): ``lr_t = lr*(sqrt(1-beta2^t)/(1-beta1^t))`` and
``eps_hat = eps*sqrt(1-beta2^t)``. Per element: ``m = beta1*m + (1-beta1)*g``,
``v = beta2*v + (1-beta2)*(g*g)``, ``param -= lr_t * (m / (sqrt(v) + eps_hat))``.
Adam adds ``weight_decay*param`` to the gradient (L2); AdamW (``decoupled=True``)
instead first scales ``param *= 1 - lr*weight_decay``, with the un-corrected lr.

Paddle's CPU kernel (on AVX-512 machines) fuses some of these multiply-adds;
lasandbox rounds each operation, so results agree to about one float32 ulp.
"""

from lasandbox.kernels import hostmath as hm
from lasandbox.kernels.declare import Hyper, Pass, Rule, State, power_counter
from lasandbox.kernels.rulemath import sqrt


def update(param, grad, m, v, lr_t, beta1, one_minus_beta1, beta2, one_minus_beta2, eps_hat, l2, decay_keep):
    g = grad + l2 * param
    param = param * decay_keep
    m = beta1 * m + one_minus_beta1 * g
    v = beta2 * v + one_minus_beta2 * (g * g)
    param = param - lr_t * (m / (sqrt(v) + eps_hat))
    return param, m, v


def constants(h, lr, step):
    f = hm.f32
    sqrt_bias_correction2 = hm.sqrt(hm.one_minus(h.power("beta2", step)))
    if h.decoupled:
        l2, decay_keep = 0.0, hm.one_minus(f(lr) * f(h.weight_decay))
    else:
        l2, decay_keep = h.weight_decay, 1.0
    return {"lr_t": f(lr) * (sqrt_bias_correction2 / hm.one_minus(h.power("beta1", step))),
            "beta1": h.beta1, "one_minus_beta1": hm.one_minus(h.beta1), "beta2": h.beta2,
            "one_minus_beta2": hm.one_minus(h.beta2), "eps_hat": f(h.eps) * sqrt_bias_correction2,
            "l2": l2, "decay_keep": decay_keep}


RULE = Rule(
    name="adam",
    summary="Paddle's Adam (AdamW with ``decoupled=True``): ``m = beta1*m + (1-beta1)*g``; "
            "``v = beta2*v + (1-beta2)*g*g``; ``param -= lr_t*m/(sqrt(v) + eps*sqrt(1-beta2^step))`` with "
            "``lr_t = lr*sqrt(1-beta2^step)/(1-beta1^step)``.",
    state=(State("m", paddle="moment1", momentum=True), State("v", paddle="moment2", nonnegative=True)),
    hypers=(
        Hyper("beta1", 0.9, high=1.0, high_open=True, doc="decay of the first moment"),
        Hyper("beta2", 0.999, high=1.0, high_open=True, doc="decay of the second moment"),
        Hyper("eps", 1e-8, paddle="epsilon", doc="added to sqrt(v), scaled by sqrt(1-beta2^step) as Paddle does"),
        Hyper("weight_decay", 0.0, doc="L2 coefficient (Adam) or decoupled decay (AdamW)"),
        Hyper("decoupled", False, kind="flag", doc="AdamW: decay the parameters by 1 - lr*weight_decay first"),
    ),
    constants=constants,
    passes=(Pass(update, writes=("param", "m", "v")),),
    uses_step=True,
    reference="Paddle's Adam/AdamW (python/paddle/optimizer/adam.py, adamw.py; phi adam/adamw kernels).",
    examples=({}, {"beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.01},
              {"beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.01, "decoupled": True}),
    torch={"optimizer": "Adam", "kwargs": {}, "state": {"m": "exp_avg", "v": "exp_avg_sq"}},
    paddle_accumulators=("moment1", "moment2", power_counter("beta1_pow_acc", "beta1", offset=1, tensor_start=0.9),
                         power_counter("beta2_pow_acc", "beta2", offset=1, tensor_start=0.999)),
)
