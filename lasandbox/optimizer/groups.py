"""An optimizer's parameter groups: Paddle's ``parameters=[{"params": ..., ...}]``, ``ParamAttr`` settings and
weight-decay arguments, resolved into runs of the flat buffer that share a learning-rate scale and hyperparameters.

``group_specs(opt, ...)`` checks every group before anything is built (errors name the group and Paddle's
names); ``claim_group_learning_rates`` then writes each group's learning rate into its parameters, as Paddle does.
"""

from __future__ import annotations

import numpy as np

from lasandbox.autograd.tensor import Tensor
from lasandbox.optimizer.regularizer import L1Decay, l1_coeff, weight_decay_coeff
from lasandbox.utils.validation import check_real


class ParamGroup:
    """A run of parameters in the flat buffer sharing a learning-rate scale and hyperparameters."""

    def __init__(self, indices, start, stop, lr_scale, hypers, grad_l2=0.0, live=(), grad_l1=0.0):
        self.indices, self.start, self.stop = indices, start, stop
        self.lr_scale, self.hypers = lr_scale, hypers
        # The optimizer's Tensor hyperparameters this group reads at every step (those it does not set itself).
        self.live = tuple(live)
        # A ParamAttr regularizer on a rule whose weight decay is decoupled: Paddle adds it to the gradient.
        self.grad_l2 = grad_l2
        # An L1Decay (the optimizer's, the group's or the parameter's own): grad += coeff * sign(param).
        self.grad_l1 = grad_l1

    @property
    def weight_decay(self):
        return self.hypers.get("weight_decay", 0.0)


def decay_value(opt, name, value, hypers):
    """A ``weight_decay`` argument (float, L2Decay, L1Decay, None) as the rule's decay hyperparameter (0 for an
    L1Decay, which goes into the gradient: ``l1_coeff``)."""
    if opt.weight_decay_hyper is not None and opt.weight_decay_hyper not in hypers:
        # A class over a rule without weight decay that kept the default name: the decay would be accepted and
        # never applied.
        raise TypeError(f"{type(opt).__name__}.weight_decay_hyper is {opt.weight_decay_hyper!r}, which rule "
                        f"{opt.rule.name!r} does not have (its hyperparameters: {', '.join(hypers) or 'none'}): "
                        f"set weight_decay_hyper = None in the class for a rule without weight decay")
    if isinstance(value, L1Decay) and opt.decoupled_decay:
        raise TypeError(f"{name} of {type(opt).__name__} is its decoupled decay: a float (or L2Decay), not "
                        f"L1Decay (L1 regularizes the gradient; give it to a parameter as ParamAttr(regularizer=...))")
    if isinstance(value, L1Decay):
        return 0.0 if opt.weight_decay_hyper is not None else None
    coeff = weight_decay_coeff(name, value)
    if opt.weight_decay_hyper is None:
        if coeff:
            raise NotImplementedError(f"{type(opt).__name__} takes no {name} (its rule has no weight decay)")
        return None
    return coeff if value is not None else hypers.get(opt.weight_decay_hyper, 0.0)


def check_grad_clip(name, value):
    """``value`` if it is a gradient clipper or None; TypeError naming ``name`` otherwise. A clipper is an
    ``nn.ClipGradBy*`` or any object with a ``clip_(grads)`` method that clips the arrays in place (one's own)."""
    if value is not None and not callable(getattr(value, "clip_", None)):
        raise TypeError(f"{name} must be None or a gradient clipper (paddle.nn.ClipGradByGlobalNorm, "
                        f"ClipGradByNorm, ClipGradByValue, or an object with a clip_(grads) method), "
                        f"got {type(value).__name__}")
    return value


def group_specs(opt, parameters, default_decay, hypers, default_clip=None, default_l1=0.0):
    """``(specs, claims, clips)`` for an optimizer's ``parameters`` argument: one spec (``params``,
    ``lr_scale``, ``hypers``, ``grad_l2``, ``set_by_group``, ``user_group``) per run of parameters with equal
    settings; the ``(parameters, learning_rate)`` of each explicit group for ``claim_group_learning_rates``;
    and each group's gradient clipper (its ``grad_clip`` key, else ``default_clip``). Paddle clips each
    group on its own (a global norm is the group's), since its ``step`` optimizes group by group."""
    if parameters is None:
        raise TypeError("parameters must be given (e.g. parameters=model.parameters()); "
                        "lasandbox runs eagerly and has no global program to take them from")
    if isinstance(parameters, Tensor):
        raise TypeError("parameters must be a list of Tensors or of dicts, not a single Tensor")
    items = list(parameters)
    if not items:
        raise ValueError("parameters is empty: the optimizer would have nothing to update")
    grouped = all(isinstance(i, dict) for i in items)
    if not grouped:
        items = [{"params": items}]
    by_paddle_name = {h.label("paddle"): h.name for h in opt.rule.hypers}
    seen, specs, claims, clips = {}, [], [], []  # seen: id(parameter) -> its group
    for g, group in enumerate(items):
        if "params" not in group:
            raise ValueError(f"parameter group {g} has no 'params' key")
        params = []
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"parameters must be Tensors, got {type(p).__name__} in group {g}")
            if p.dtype != np.float32:
                raise TypeError(f"parameters must be float32 (flat float32 buffers), got {p.dtype}")
            if id(p) in seen and seen[id(p)] != g:  # which group's settings would it take? (one was ignored)
                raise ValueError(f"parameter {p.name} is in parameter groups {seen[id(p)]} and {g}: a parameter "
                                 "may be in one group only")
            if id(p) not in seen:  # a parameter listed twice in one group is updated once
                seen[id(p)] = g
                params.append(p)
        lr_scale = check_real(f"parameters[{g}]['learning_rate']", group.get("learning_rate", 1.0), low=0.0)
        group_hypers, set_by_group = dict(hypers), set()
        copies = {s.copies for s in opt.rule.state if s.copies}
        clips.append(check_grad_clip(f"parameters[{g}]['grad_clip']", group["grad_clip"])
                     if "grad_clip" in group else default_clip)
        for key, value in group.items():
            if key in ("params", "learning_rate", "weight_decay", "grad_clip"):
                continue
            if by_paddle_name.get(key) in copies:
                raise ValueError(f"parameter group {g} sets {key!r}, which sizes the optimizer's state and "
                                 f"must be the same for every group")
            if key not in by_paddle_name:
                raise ValueError(f"parameter group {g} sets {key!r}, which {type(opt).__name__} does not "
                                 f"take; a group may set learning_rate, weight_decay, grad_clip, "
                                 f"{', '.join(sorted(by_paddle_name))}")
            hyper = opt.rule.hyper(by_paddle_name[key])
            group_hypers[hyper.name] = hyper.check(value, naming="paddle")
            set_by_group.add(hyper.name)
        if opt.weight_decay_hyper is not None:
            decay = default_decay if "weight_decay" not in group else decay_value(
                opt, f"parameters[{g}]['weight_decay']", group["weight_decay"], hypers)
            group_hypers[opt.weight_decay_hyper] = decay
        elif "weight_decay" in group:
            decay_value(opt, f"parameters[{g}]['weight_decay']", group["weight_decay"], hypers)
        group_l1 = l1_coeff(group["weight_decay"]) if "weight_decay" in group else default_l1
        # Paddle: with parameter groups, the group's learning_rate (default 1.0) is each parameter's scale
        # (it overwrites ParamAttr's, see claim_group_learning_rates) and the group's weight decay its
        # regularizer (but AdamW keeps ParamAttr's); a plain list keeps ParamAttr's settings.
        for spec in _split_by_parameter_attrs(
                opt, g, params, lr_scale, group_hypers, own_scales=not grouped,
                own_regularizers=not grouped or opt.groups_keep_param_regularizer, l1=group_l1):
            specs.append(spec | {"set_by_group": frozenset(set_by_group), "user_group": g})
        if grouped:
            claims.append((params, lr_scale))
    return specs, claims, clips


def _split_by_parameter_attrs(opt, g, params, lr_scale, hypers, own_scales, own_regularizers, l1=0.0):
    """Runs of a group's parameters with equal per-parameter settings (``ParamAttr``'s learning-rate
    scale and regularizer, as Paddle applies them), each its own group in the flat buffer. ``l1``: the
    group's L1 coefficient, which a parameter's own regularizer replaces too."""
    runs = []
    for p in params:
        scale = 1.0
        if own_scales:
            scale = check_real(f"{p.name}.optimize_attr['learning_rate']",
                               getattr(p, "optimize_attr", {}).get("learning_rate", 1.0), low=0.0)
        own, grad_l2, grad_l1 = dict(hypers), 0.0, l1
        regularizer = getattr(p, "regularizer", None) if own_regularizers else None
        if regularizer is not None:  # Paddle: a parameter's own regularizer replaces the optimizer's
            coeff = weight_decay_coeff(f"{p.name}.regularizer", regularizer)
            grad_l1 = l1_coeff(regularizer)
            if opt.decoupled_decay or opt.weight_decay_hyper is None:
                grad_l2 = coeff
            else:
                own[opt.weight_decay_hyper] = coeff
        key = (lr_scale * scale, grad_l2, grad_l1, tuple(sorted(own.items())))
        if runs and runs[-1][0] == key:
            runs[-1][1]["params"].append(p)
        else:
            runs.append((key, {"params": [p], "lr_scale": lr_scale * scale, "hypers": own, "grad_l2": grad_l2,
                               "grad_l1": grad_l1}))
    return [spec for _, spec in runs]


def claim_group_learning_rates(claims):
    """Paddle's ``_add_param_group`` writes each group's learning_rate into its parameters'
    ``optimize_attr``; done likewise (once everything else is checked), so a later optimizer over the
    same parameters sees what Paddle's would. ``claims``: ``(parameters, scale)`` per group."""
    for params, scale in claims:
        for p in params:
            if hasattr(p, "optimize_attr"):
                p.optimize_attr["learning_rate"] = scale
