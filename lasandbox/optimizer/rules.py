"""SGD, Momentum, Adam and AdamW: each a thin layer over one kernel call per step."""

from __future__ import annotations

from lasandbox.optimizer.optimizer import Optimizer, _kernels
from lasandbox.utils.validation import check_real


class SGD(Optimizer):
    """``p -= lr * (g + wd * p)`` (a float ``weight_decay`` is L2 regularisation, as in Paddle)."""

    uses_step_count = False

    def __init__(self, learning_rate=0.001, parameters=None, weight_decay=None, grad_clip=None,
                 multi_precision=False, name=None, *, backend="auto"):
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend)

    def _update_range(self, group, start, stop, lr, step, slow, alpha):
        _kernels().sgd_step(
            self._array("param")[start:stop], self._array("grad")[start:stop], lr,
            weight_decay=group.weight_decay, slow=None if slow is None else slow[start:stop],
            alpha=alpha, backend=self.backend, validate=False,
        )


class Momentum(Optimizer):
    """Heavy ball as Paddle writes it: ``v = mu*v + g; p -= lr*v`` (Nesterov: ``p -= lr*(g + mu*v)``)."""

    state_names = ("velocity",)
    momentum_state = "velocity"
    uses_step_count = False

    def __init__(self, learning_rate=0.001, momentum=0.9, parameters=None, use_nesterov=False,
                 weight_decay=None, grad_clip=None, multi_precision=False, rescale_grad=1.0,
                 use_multi_tensor=False, name=None, *, backend="auto"):
        self._momentum = check_real("momentum", momentum, low=0.0)
        self._use_nesterov = bool(use_nesterov)
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend)

    def _update_range(self, group, start, stop, lr, step, slow, alpha):
        _kernels().momentum_step(
            self._array("param")[start:stop], self._array("grad")[start:stop],
            self._array("velocity")[start:stop], lr, self._momentum, nesterov=self._use_nesterov,
            weight_decay=group.weight_decay, slow=None if slow is None else slow[start:stop],
            alpha=alpha, backend=self.backend, validate=False,
        )


class Adam(Optimizer):
    """Adam with Paddle's bias correction: ``lr_t = lr*sqrt(1-b2^t)/(1-b1^t)``,
    ``p -= lr_t * m / (sqrt(v) + eps*sqrt(1-b2^t))``; a float ``weight_decay`` is L2.
    """

    state_names = ("moment1", "moment2")
    momentum_state = "moment1"
    _decoupled = False

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, parameters=None,
                 weight_decay=None, grad_clip=None, lazy_mode=False, multi_precision=False,
                 use_multi_tensor=False, amsgrad=False, name=None, *, backend="auto"):
        self._beta1 = check_real("beta1", beta1, low=0.0, high=1.0, high_open=True)
        self._beta2 = check_real("beta2", beta2, low=0.0, high=1.0, high_open=True)
        self._epsilon = check_real("epsilon", epsilon, low=0.0)
        if amsgrad:
            raise ValueError("amsgrad=True is not supported by lasandbox's Adam kernels")
        super().__init__(learning_rate, parameters, weight_decay, grad_clip, name, backend=backend)

    def _update_range(self, group, start, stop, lr, step, slow, alpha):
        _kernels().adam_step(
            self._array("param")[start:stop], self._array("grad")[start:stop],
            self._array("moment1")[start:stop], self._array("moment2")[start:stop], lr, step,
            beta1=self._beta1, beta2=self._beta2, eps=self._epsilon, weight_decay=group.weight_decay,
            decoupled=self._decoupled, slow=None if slow is None else slow[start:stop],
            alpha=alpha, backend=self.backend, validate=False,
        )


class AdamW(Adam):
    """Adam with decoupled weight decay (Paddle: ``p *= 1 - lr*wd`` before the Adam update).

    ``apply_decay_param_fun(name) -> bool`` picks the parameters that decay; the
    others go into their own parameter group with zero decay.
    """

    _decoupled = True

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, parameters=None,
                 weight_decay=0.01, lr_ratio=None, apply_decay_param_fun=None, grad_clip=None,
                 lazy_mode=False, multi_precision=False, amsgrad=False, name=None, *, backend="auto"):
        if lr_ratio is not None:
            raise ValueError("lr_ratio is not supported; use parameter groups with 'learning_rate' instead")
        if apply_decay_param_fun is not None and parameters is not None:
            parameters = _split_by_decay(parameters, apply_decay_param_fun)
        super().__init__(learning_rate, beta1, beta2, epsilon, parameters, weight_decay, grad_clip,
                         name=name, backend=backend)


def _split_by_decay(parameters, decides):
    items = list(parameters)
    groups = items if items and all(isinstance(i, dict) for i in items) else [{"params": items}]
    split = []
    for group in groups:
        decay = [p for p in group["params"] if decides(p.name)]
        keep = [p for p in group["params"] if not decides(p.name)]
        if decay:
            split.append({**group, "params": decay})
        if keep:
            split.append({**group, "params": keep, "weight_decay": 0.0})
    return split
