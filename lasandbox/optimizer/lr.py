"""Learning-rate schedules (``optimizer.lr``), Paddle style.

A scheduler is called to read the current rate (``sched()`` or
``sched.get_lr()``) and advanced by the user with ``sched.step()``, usually
once per epoch; ``last_epoch`` counts those calls.
"""

from __future__ import annotations

import math

from lasandbox.utils.validation import check_int, check_real


class LRScheduler:
    """Base class: subclasses implement ``get_lr()`` from ``base_lr`` and ``last_epoch``."""

    def __init__(self, learning_rate=0.1, last_epoch=-1, verbose=False):
        self.base_lr = check_real("learning_rate", learning_rate, low=0.0)
        self.last_epoch = last_epoch
        self.verbose = verbose
        self.last_lr = self.base_lr
        self.step()

    def __call__(self):
        return self.last_lr

    def step(self, epoch=None):
        """Advance one epoch (or jump to ``epoch``) and recompute ``last_lr``."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        self.last_lr = float(self.get_lr())
        if self.verbose:
            print(f"Epoch {self.last_epoch}: {type(self).__name__} set learning rate to {self.last_lr}.")

    def get_lr(self):
        raise NotImplementedError

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "last_lr": self.last_lr}

    def set_state_dict(self, state):
        missing = {"last_epoch", "last_lr"} - set(state)
        if missing:
            raise KeyError(f"scheduler state is missing {sorted(missing)}")
        self.last_epoch = int(state["last_epoch"])
        self.last_lr = float(state["last_lr"])

    set_dict = set_state_dict


class StepDecay(LRScheduler):
    """``lr = base_lr * gamma ** (last_epoch // step_size)``."""

    def __init__(self, learning_rate, step_size, gamma=0.1, last_epoch=-1, verbose=False):
        self.step_size = check_int("step_size", step_size, low=1)
        self.gamma = check_real("gamma", gamma, low=0.0, high=1.0, high_open=True)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


class MultiStepDecay(LRScheduler):
    """Multiply by ``gamma`` at each epoch in ``milestones``."""

    def __init__(self, learning_rate, milestones, gamma=0.1, last_epoch=-1, verbose=False):
        self.milestones = sorted(check_int("milestones", m, low=0) for m in milestones)
        self.gamma = check_real("gamma", gamma, low=0.0, high=1.0, high_open=True)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        passed = sum(1 for m in self.milestones if self.last_epoch >= m)
        return self.base_lr * self.gamma**passed


class CosineAnnealingDecay(LRScheduler):
    """``eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``.

    The closed form; Paddle's recursive form gives the same values for t <= T_max.
    """

    def __init__(self, learning_rate, T_max, eta_min=0, last_epoch=-1, verbose=False):
        self.T_max = check_int("T_max", T_max, low=1)
        self.eta_min = check_real("eta_min", eta_min, low=0.0)
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cosine


class LinearWarmup(LRScheduler):
    """Linear ramp ``start_lr -> end_lr`` over ``warmup_steps``, then ``learning_rate``.

    ``learning_rate`` may be a float or another scheduler, which is stepped after warm-up.
    """

    def __init__(self, learning_rate, warmup_steps, start_lr, end_lr, last_epoch=-1, verbose=False):
        if isinstance(learning_rate, LRScheduler):
            self.after = learning_rate
            base = learning_rate.base_lr
        else:
            self.after = None
            base = learning_rate
        self.warmup_steps = check_int("warmup_steps", warmup_steps, low=1)
        self.start_lr = check_real("start_lr", start_lr, low=0.0)
        self.end_lr = check_real("end_lr", end_lr, low=0.0)
        super().__init__(base, last_epoch, verbose)

    def get_lr(self):
        if self.last_epoch < self.warmup_steps:
            frac = self.last_epoch / self.warmup_steps
            return self.start_lr + (self.end_lr - self.start_lr) * frac
        if self.after is not None:
            self.after.step(self.last_epoch - self.warmup_steps)
            return self.after()
        return self.base_lr

    def state_dict(self):
        state = super().state_dict()
        if self.after is not None:
            state["after"] = self.after.state_dict()
        return state

    def set_state_dict(self, state):
        super().set_state_dict(state)
        if self.after is not None and "after" in state:
            self.after.set_state_dict(state["after"])


__all__ = ["LRScheduler", "StepDecay", "MultiStepDecay", "CosineAnnealingDecay", "LinearWarmup"]
