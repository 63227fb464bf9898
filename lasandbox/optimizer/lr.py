"""Learning-rate schedules (``optimizer.lr``), with Paddle's formulas and argument checks.

Every schedule follows ``LRScheduler``'s protocol (``lr_base``): read with
``sched()``, advance with ``sched.step()``. The values are Paddle 3.3.1's, in
the same floating-point order of operations (checked against numbers recorded
from Paddle in ``tests/paddle_compat``). This module holds the decays; the
cyclic and metric-driven ones are in ``lr_cycles``.
"""

from __future__ import annotations

import math
import numbers

from lasandbox.optimizer.lr_base import LRScheduler, check_rate
from lasandbox.optimizer.lr_cycles import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR, ReduceOnPlateau
from lasandbox.utils.validation import AssertedValueError, as_paddle_assert, check_int, check_real


def _check_callable(name, fn, owner):
    if not callable(fn):
        raise TypeError(f"{name} of {owner} must be a function of the epoch, got {type(fn).__name__}")
    return fn


def _check_int_type(name, value):
    """Paddle's ``isinstance(value, int)`` checks raise TypeError (bools are refused too)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


class NoamDecay(LRScheduler):
    """``lr * d_model**-0.5 * min(epoch**-0.5, warmup_steps**-1.5 * epoch)`` (epoch 0 counts as 1 in the first term)."""

    def __init__(self, d_model, warmup_steps, learning_rate=1.0, last_epoch=-1, verbose=False):
        self.d_model = check_real("d_model", d_model, low=0.0, low_open=True)
        self.warmup_steps = check_real("warmup_steps", warmup_steps, low=0.0, low_open=True)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        first = 1 if self.last_epoch == 0 else self.last_epoch ** (-0.5)
        second = self.warmup_steps ** (-1.5) * self.last_epoch
        return self.base_lr * self.d_model ** (-0.5) * min(first, second)


class PiecewiseDecay(LRScheduler):
    """``values[i]`` while ``epoch < boundaries[i]``; ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries, values, last_epoch=-1, verbose=False):
        for name, sequence in (("boundaries", boundaries), ("values", values)):
            if not isinstance(sequence, (list, tuple)):
                raise TypeError(f"{name} of PiecewiseDecay must be a list or tuple, got {type(sequence).__name__}")
        boundaries, values = list(boundaries), list(values)
        if not boundaries:
            raise ValueError("boundaries of PiecewiseDecay cannot be empty")
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"values must have one more element than boundaries: got {len(values)} values "
                             f"for {len(boundaries)} boundaries")
        for i, b in enumerate(boundaries):
            check_real(f"boundaries[{i}]", b)
        if any(b >= c for b, c in zip(boundaries, boundaries[1:], strict=False)):
            raise ValueError(f"boundaries must increase, got {boundaries}")
        for i, v in enumerate(values):
            check_rate(f"values[{i}]", v)
        self.boundaries, self.values = boundaries, values
        super().__init__(last_epoch=last_epoch, verbose=verbose)

    def get_lr(self):
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if self.last_epoch < boundary:
                return value
        return self.values[-1]


class NaturalExpDecay(LRScheduler):
    """``lr * exp(-gamma * epoch)``."""

    def __init__(self, learning_rate, gamma, last_epoch=-1, verbose=False):
        self.gamma = as_paddle_assert(check_real, "gamma", gamma, low=0.0, low_open=True)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        return self.base_lr * math.exp(-1 * self.gamma * self.last_epoch)


class InverseTimeDecay(LRScheduler):
    """``lr / (1 + gamma * epoch)``."""

    def __init__(self, learning_rate, gamma, last_epoch=-1, verbose=False):
        self.gamma = check_real("gamma", gamma, low=0.0)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        return self.base_lr / (1 + self.gamma * self.last_epoch)


class PolynomialDecay(LRScheduler):
    """``(lr - end_lr) * (1 - epoch/decay_steps)**power + end_lr``; ``cycle`` stretches decay_steps by whole periods."""

    def __init__(self, learning_rate, decay_steps, end_lr=0.0001, power=1.0, cycle=False, last_epoch=-1,
                 verbose=False):
        self.decay_steps = as_paddle_assert(check_int, "decay_steps", decay_steps, low=1)
        self.end_lr = check_rate("end_lr", end_lr)
        self.power = as_paddle_assert(check_real, "power", power, low=0.0, low_open=True)
        self.cycle = bool(cycle)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        epoch, steps = self.last_epoch, self.decay_steps
        if self.cycle:
            periods = 1 if epoch == 0 else math.ceil(float(epoch) / float(steps))
            steps = steps * periods
        else:
            epoch = min(epoch, steps)
        return (self.base_lr - self.end_lr) * (1 - float(epoch) / float(steps)) ** self.power + self.end_lr


class LinearWarmup(LRScheduler):
    """Linear ramp ``start_lr -> end_lr`` over ``warmup_steps``, then ``learning_rate``.

    ``learning_rate`` is a number or another scheduler (stepped to ``epoch - warmup_steps``
    after the warm-up), kept as ``self.learning_rate`` as in Paddle.
    """

    def __init__(self, learning_rate, warmup_steps, start_lr, end_lr, last_epoch=-1, verbose=False):
        if not isinstance(learning_rate, LRScheduler):
            check_rate("learning_rate", learning_rate)
        self.learning_rate = learning_rate
        self.warmup_steps = as_paddle_assert(check_int, "warmup_steps", warmup_steps, low=1)
        self.start_lr = check_rate("start_lr", start_lr)
        self.end_lr = check_rate("end_lr", end_lr)
        if not self.end_lr > self.start_lr:
            raise AssertedValueError(f"end_lr ({end_lr}) must be greater than start_lr ({start_lr})")
        super().__init__(start_lr, last_epoch, verbose)

    def get_lr(self):
        if self.last_epoch < self.warmup_steps:
            ramp = (self.end_lr - self.start_lr) * float(self.last_epoch) / float(self.warmup_steps)
            return ramp + self.start_lr
        if isinstance(self.learning_rate, LRScheduler):
            self.learning_rate.step(self.last_epoch - self.warmup_steps)
            return self.learning_rate()
        return self.learning_rate

    def state_dict(self):
        state = super().state_dict()
        if isinstance(self.learning_rate, LRScheduler):
            state["LinearWarmup_LR"] = self.learning_rate.state_dict()
        return state

    def _parse_state(self, state_dict):
        # The wrapped scheduler's state is checked too before either is set.
        assignments = super()._parse_state(state_dict)
        if isinstance(self.learning_rate, LRScheduler):
            if "LinearWarmup_LR" not in state_dict:
                raise KeyError("LinearWarmup state_dict is missing 'LinearWarmup_LR' (the wrapped scheduler's state)")
            assignments += self.learning_rate._parse_state(state_dict["LinearWarmup_LR"])
        return assignments


class ExponentialDecay(LRScheduler):
    """``lr * gamma**epoch`` with ``0 < gamma < 1``."""

    def __init__(self, learning_rate, gamma, last_epoch=-1, verbose=False):
        self.gamma = as_paddle_assert(check_real, "gamma", gamma, low=0.0, high=1.0, low_open=True, high_open=True)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        return self.base_lr * self.gamma**self.last_epoch


class MultiStepDecay(LRScheduler):
    """Multiply by ``gamma`` at each epoch in ``milestones`` (a strictly increasing list)."""

    def __init__(self, learning_rate, milestones, gamma=0.1, last_epoch=-1, verbose=False):
        if not isinstance(milestones, (tuple, list)):
            raise TypeError(f"milestones must be a list or tuple, got {type(milestones).__name__}")
        for i, m in enumerate(milestones):
            check_int(f"milestones[{i}]", m, low=0)
        if any(a >= b for a, b in zip(milestones, milestones[1:], strict=False)):
            raise ValueError(f"milestones must increase, got {list(milestones)}")
        self.milestones = list(milestones)
        self.gamma = check_real("gamma", gamma, low=0.0, high=1.0, high_open=True)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        for i, milestone in enumerate(self.milestones):
            if self.last_epoch < milestone:
                return self.base_lr * self.gamma**i
        return self.base_lr * self.gamma ** len(self.milestones)


class StepDecay(LRScheduler):
    """``lr * gamma ** (epoch // step_size)``."""

    def __init__(self, learning_rate, step_size, gamma=0.1, last_epoch=-1, verbose=False):
        _check_int_type("step_size", step_size)
        self.gamma = check_real("gamma", gamma, low=0.0, high=1.0, high_open=True)
        self.step_size = as_paddle_assert(check_int, "step_size", step_size, low=1)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


class LambdaDecay(LRScheduler):
    """``lr * lr_lambda(epoch)``."""

    def __init__(self, learning_rate, lr_lambda, last_epoch=-1, verbose=False):
        self.lr_lambda = _check_callable("lr_lambda", lr_lambda, "LambdaDecay")
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        return self.base_lr * self.lr_lambda(self.last_epoch)


class MultiplicativeDecay(LRScheduler):
    """``lr * prod(lr_lambda(e) for e in 1..epoch)``."""

    def __init__(self, learning_rate, lr_lambda, last_epoch=-1, verbose=False):
        self.lr_lambda = _check_callable("lr_lambda", lr_lambda, "MultiplicativeDecay")
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        rate = self.base_lr
        for epoch in range(1, self.last_epoch + 1):
            rate = rate * self.lr_lambda(epoch)
        return rate


class CosineAnnealingDecay(LRScheduler):
    """Cosine annealing from ``learning_rate`` to ``eta_min`` over ``T_max`` epochs.

    ``step()`` follows Paddle's recursion (each rate from the previous one);
    ``step(epoch)`` uses the closed form ``eta_min + (lr - eta_min)(1 + cos(pi t/T_max))/2``.
    ``eta_min`` must be finite and >= 0, as a plain ``learning_rate`` (Paddle also accepts a negative
    one, which anneals to a negative rate: the optimizer would step uphill).
    """

    def __init__(self, learning_rate, T_max, eta_min=0, last_epoch=-1, verbose=False):  # noqa: N803 - Paddle's name
        _check_int_type("T_max", T_max)
        self.T_max = as_paddle_assert(check_int, "T_max", T_max, low=1)
        self.eta_min = check_rate("eta_min", eta_min)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        t, period = self.last_epoch, self.T_max
        if t == 0:
            return self.base_lr
        if (t - 1 - period) % (2 * period) == 0:  # the bottom of a cycle: climb back by one cosine step
            return self.last_lr + (self.base_lr - self.eta_min) * (1 - math.cos(math.pi / period)) / 2
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return ratio * (self.last_lr - self.eta_min) + self.eta_min

    def _lr_at_epoch(self):
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cosine


class LinearLR(LRScheduler):
    """Scale ``learning_rate`` linearly from ``start_factor`` to ``end_factor`` over ``total_steps``."""

    def __init__(self, learning_rate, total_steps, start_factor=1.0 / 3, end_factor=1.0, last_epoch=-1,
                 verbose=False):
        self.start_factor = check_real("start_factor", start_factor, low=0.0, high=1.0, low_open=True)
        self.end_factor = check_real("end_factor", end_factor, low=0.0, high=1.0)
        self.total_steps = check_int("total_steps", total_steps, low=1)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        if self.last_epoch == 0:
            return self.base_lr * self.start_factor
        if self.last_epoch > self.total_steps:
            return self.last_lr
        start = self.total_steps * self.start_factor
        change = self.end_factor - self.start_factor
        rate = self.last_lr * (1.0 + change / (start + (self.last_epoch - 1) * change))
        # end_factor=0 lands on -3e-18 by rounding (Paddle returns that); the schedule means 0, and a
        # negative rate is refused when read, so clamp (the factors keep every exact rate >= 0).
        return max(rate, 0.0)


__all__ = [
    "LRScheduler", "NoamDecay", "PiecewiseDecay", "NaturalExpDecay", "InverseTimeDecay", "PolynomialDecay",
    "LinearWarmup", "ExponentialDecay", "MultiStepDecay", "StepDecay", "LambdaDecay", "MultiplicativeDecay",
    "CosineAnnealingDecay", "LinearLR", "ReduceOnPlateau", "OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts",
]
