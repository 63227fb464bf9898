"""``LRScheduler``: the base of every learning-rate schedule (Paddle's protocol).

A scheduler is called to read the current rate (``sched()``; optimizers do
this each step) and advanced by the user with ``sched.step()``, usually once
per epoch; ``last_epoch`` counts those calls and ``last_lr`` holds the rate.
``step(epoch)`` jumps to an epoch: schedules with a closed form use it there
(Paddle does the same), the others recompute from their recursion.

Rates follow lasandbox's rule for a plain ``learning_rate`` (finite, >= 0):
arguments are checked when given, and a computed rate (a user's ``lr_lambda``,
or arithmetic overflow) is checked when it is read, so the optimizer step
that would use a negative or non-finite rate raises before it writes anything.
"""

from __future__ import annotations

import math
import numbers

from lasandbox.utils.validation import check_int


def check_rate(name, value):
    """A learning rate: a finite int or float >= 0 (TypeError otherwise, as Paddle; ValueError if
    negative, as Paddle, or infinite/NaN, which Paddle accepts and which would write inf/NaN weights)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float or an int, got {type(value).__name__} {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


# A stored rate this far below 0 is a rounding of 0: Paddle's LinearLR(end_factor=0) ends on -2.96e-18.
SAVED_RATE_ROUNDING = 1e-12


def check_saved_rate(name, value):
    """``check_rate`` for a rate read back from a file, which takes a rounding negative as 0 (a Paddle
    LinearLR checkpoint saved at its end holds one)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and -SAVED_RATE_ROUNDING <= value < 0:
        return 0.0
    return check_rate(name, value)


def check_epoch(name, value):
    """An epoch a schedule is stepped to or restored at: an int >= 0 (the constructor's
    ``last_epoch >= -1`` is the epoch *before* its first step, which lands on >= 0)."""
    return check_int(name, value, low=0)


class LRScheduler:
    """Base class: subclasses implement ``get_lr()`` from ``base_lr``, ``last_epoch`` (and ``last_lr``)."""

    #: What ``state_dict()`` saves, each key with the check ``set_state_dict`` applies to its value
    #: (``check(name, value) -> value``); subclasses with more state extend it.
    state_checks = {"last_epoch": check_epoch, "last_lr": check_saved_rate}

    def __init__(self, learning_rate=0.1, last_epoch=-1, verbose=False):
        self.base_lr = check_rate("learning_rate", learning_rate)
        self.last_lr = self.base_lr
        self.last_epoch = check_int("last_epoch", last_epoch, low=-1)
        self.verbose = verbose
        self.step()

    def __call__(self):
        """The current learning rate; a negative or non-finite one raises ValueError naming the schedule.

        The one place a computed rate is checked: optimizers read the rate here before they update.
        """
        rate = self.last_lr
        try:
            good = math.isfinite(float(rate)) and float(rate) >= 0
        except (TypeError, ValueError):
            raise TypeError(f"{type(self).__name__} computed a learning rate of type {type(rate).__name__} "
                            f"({rate!r}) at epoch {self.last_epoch}; it must be a float") from None
        if not good:
            raise ValueError(f"{type(self).__name__} computed learning rate {rate!r} at epoch {self.last_epoch}; "
                             f"a learning rate must be finite and >= 0 (check the schedule's arguments or lr_lambda)")
        return rate

    def step(self, epoch=None):
        """Advance one epoch (or jump to ``epoch``, an int >= 0) and recompute ``last_lr``.

        If computing the rate raises (a user's ``lr_lambda``), ``last_epoch`` is left as it was.
        """
        previous = self.last_epoch
        if epoch is None:
            self.last_epoch += 1
            compute = self.get_lr
        else:
            self.last_epoch = check_epoch("epoch", epoch)
            compute = self._lr_at_epoch
        try:
            self.last_lr = compute()
        except BaseException:
            self.last_epoch = previous
            raise
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
        self.keys = list(self.state_checks)

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
        """Restore ``state_dict()``: every key present and its value checked (KeyError, TypeError or
        ValueError naming it) before anything is set."""
        for owner, key, value in self._parse_state(state_dict):
            setattr(owner, key, value)

    set_dict = set_state_dict

    def _parse_state(self, state_dict):
        """The checked ``(owner, attribute, value)`` assignments ``state_dict`` asks for; sets nothing."""
        owner = type(self).__name__
        if not isinstance(state_dict, dict):
            raise TypeError(f"{owner} state_dict must be a dict, got {type(state_dict).__name__}")
        self.state_keys()
        missing = [key for key in self.keys if key not in state_dict]
        if missing:
            raise KeyError(f"{owner}: scheduler state_dict is missing {missing} "
                           f"(it holds {sorted(map(str, state_dict))})")
        return [(self, key, self.state_checks[key](f"{owner} state_dict[{key!r}]", state_dict[key]))
                for key in self.keys]
