"""``AdamW``: Paddle's signature over the ``adam`` rule with decoupled weight decay."""

from lasandbox.optimizer.arguments import not_implemented
from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.registry import register
from lasandbox.utils.validation import check_flags


@register("adamw", momentum_argument="beta1")
class AdamW(Optimizer):
    """Adam with decoupled weight decay (Paddle: ``p *= 1 - lr*wd`` before the Adam update).

    ``apply_decay_param_fun(name) -> bool`` picks the parameters that decay; the
    others go into their own parameter group with zero decay.
    """

    rule_name = "adam"
    decoupled_decay = True
    groups_keep_param_regularizer = True

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, parameters=None,
                 weight_decay=0.01, use_lowprecision_moment=False, lr_ratio=None, apply_decay_param_fun=None,
                 grad_clip=None, lazy_mode=False, multi_precision=False, amsgrad=False, name=None, *,
                 backend="auto", nonfinite="propagate"):
        # Paddle's own CPU kernel refuses lr_ratio too ("'lr_ratio' is unimplemented in CPU").
        not_implemented("AdamW", use_lowprecision_moment=(use_lowprecision_moment, False), lr_ratio=(lr_ratio, None),
                        amsgrad=(amsgrad, False))
        if apply_decay_param_fun is not None and parameters is not None:
            parameters = split_by_decay(parameters, apply_decay_param_fun)
        check_flags(lazy_mode=lazy_mode, multi_precision=multi_precision)
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend, nonfinite=nonfinite,
                         hypers={"beta1": beta1, "beta2": beta2, "eps": epsilon, "decoupled": True})


def split_by_decay(parameters, decides, exclude=False, by_tensor=False):
    """Parameter groups split by ``decides(name)`` (``by_tensor``: ``decides(parameter)``): the parameters
    it rejects (with ``exclude=True``: the ones it accepts) go into groups of their own with ``weight_decay`` 0."""
    items = list(parameters)
    groups = items if items and all(isinstance(i, dict) for i in items) else [{"params": items}]
    split = []
    for group in groups:
        verdicts = [bool(decides(p if by_tensor else p.name)) != exclude for p in group["params"]]
        decay = [p for p, keeps in zip(group["params"], verdicts, strict=True) if keeps]
        keep = [p for p, keeps in zip(group["params"], verdicts, strict=True) if not keeps]
        if decay:
            split.append({**group, "params": decay})
        if keep:
            split.append({**group, "params": keep, "weight_decay": 0.0})
    return split
