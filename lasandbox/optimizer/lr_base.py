"""``LRScheduler``: the base of every learning-rate schedule (Paddle's protocol).

A scheduler is called to read the current rate (``sched()``; optimizers do
this each step) and advanced by the user with ``sched.step()``, usually once
per epoch; ``last_epoch`` counts those calls and ``last_lr`` holds the rate.
``step(epoch)`` jumps to an epoch: schedules with a closed form use it there
(Paddle does the same), the others recompute from their recursion.
"""

from __future__ import annotations

import numbers

from lasandbox.utils.validation import check_int


def check_rate(name, value):
    """A learning rate: an int or float >= 0 (TypeError otherwise, as Paddle; ValueError below 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float or an int, got {type(value).__name__} {value!r}")
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(value)


class LRScheduler:
    """Base class: subclasses implement ``get_lr()`` from ``base_lr``, ``last_epoch`` (and ``last_lr``)."""

    #: What ``state_dict()`` saves; subclasses with more state extend it.
    state_key_names = ("last_epoch", "last_lr")

    def __init__(self, learning_rate=0.1, last_epoch=-1, verbose=False):
        self.base_lr = check_rate("learning_rate", learning_rate)
        self.last_lr = self.base_lr
        self.last_epoch = check_int("last_epoch", last_epoch, low=-1)
        self.verbose = verbose
        self.step()

    def __call__(self):
        """The current learning rate."""
        return self.last_lr

    def step(self, epoch=None):
        """Advance one epoch (or jump to ``epoch``) and recompute ``last_lr``."""
        if epoch is None:
            self.last_epoch += 1
            self.last_lr = self.get_lr()
        else:
            self.last_epoch = epoch
            self.last_lr = self._lr_at_epoch()
        self._report()

    def _report(self):
        if self.verbose:
            print(f"Epoch {self.last_epoch}: {type(self).__name__} set learning rate to {self.last_lr}.")

    def _lr_at_epoch(self):
        """The rate after ``step(epoch)``: the closed form where a schedule has one."""
        return self.get_lr()

    def get_lr(self):
        """The rate at ``last_epoch``; every schedule implements it."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    # ------------------------------------------------------------------ state
    def state_keys(self):
        """Paddle's hook: sets ``self.keys`` to the attribute names ``state_dict()`` saves."""
        self.keys = list(self.state_key_names)

    def state_dict(self):
        """The schedule's state: ``last_epoch``, ``last_lr`` and whatever else it counts."""
        self.state_keys()
        state = {}
        for key in self.keys:
            value = getattr(self, key)
            if hasattr(value, "numpy"):  # a Tensor metric (ReduceOnPlateau's best): saved as a number
                value = float(value)
            state[key] = value
        return state

    def set_state_dict(self, state_dict):
        """Restore ``state_dict()``; every key must be present (checked before anything is set)."""
        self.state_keys()
        missing = [key for key in self.keys if key not in state_dict]
        if missing:
            raise KeyError(f"scheduler state_dict is missing {missing} (it holds {sorted(state_dict)})")
        for key in self.keys:
            setattr(self, key, state_dict[key])

    set_dict = set_state_dict
