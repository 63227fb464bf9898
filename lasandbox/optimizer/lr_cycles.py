"""Cyclic and metric-driven learning-rate schedules: ``OneCycleLR``, ``CyclicLR``,
``CosineAnnealingWarmRestarts`` and ``ReduceOnPlateau`` (Paddle 3.3.1's formulas and checks).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from lasandbox.optimizer.lr_base import LRScheduler, check_epoch, check_rate
from lasandbox.utils.validation import AssertedValueError, check_choice, check_int, check_real


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_metric(name, value):
    """ReduceOnPlateau's saved ``best``: None (no metric yet), a number (NaN too: a NaN metric
    becomes the first best, and the scheduler's own state_dict must load) or a one-element array."""
    if value is None:
        return None
    if hasattr(value, "shape"):
        if int(np.prod(value.shape)) != 1:
            raise ValueError(f"{name} must have one element, got shape {list(value.shape)}")
        return value
    if not _is_number(value):
        raise TypeError(f"{name} must be None or a number, got {type(value).__name__} {value!r}")
    return value


class OneCycleLR(LRScheduler):
    """The one-cycle policy: warm up to ``max_learning_rate``, then anneal to ``end_learning_rate``.

    Two phases (up, down to ``end_learning_rate``) or, with ``three_phase``, three (up, back down
    to the initial rate ``max_learning_rate / divide_factor``, then to ``end_learning_rate``);
    ``anneal_strategy`` is ``'cos'`` or ``'linear'``. Stepping past ``total_steps`` is an error.
    """

    def __init__(self, max_learning_rate, total_steps, divide_factor=25.0, end_learning_rate=0.0001, phase_pct=0.3,
                 anneal_strategy="cos", three_phase=False, last_epoch=-1, verbose=False):
        max_lr = check_rate("max_learning_rate", max_learning_rate)
        end_lr = check_rate("end_learning_rate", end_learning_rate)
        if not _is_int(total_steps):
            raise TypeError(f"total_steps must be an int, got {type(total_steps).__name__} {total_steps!r}")
        self.total_steps = check_int("total_steps", total_steps, low=1)
        if not isinstance(phase_pct, float):
            raise TypeError(f"phase_pct must be a float, got {type(phase_pct).__name__} {phase_pct!r}")
        check_real("phase_pct", phase_pct, low=0.0, high=1.0)
        if not _is_number(divide_factor):
            raise TypeError(f"divide_factor must be a float or an int, got {type(divide_factor).__name__}")
        check_real("divide_factor", divide_factor, low=0.0, low_open=True)
        initial_lr = max_lr / float(divide_factor)
        last = self.total_steps - 1
        if three_phase:
            if phase_pct >= 0.5:
                raise ValueError(f"phase_pct must be < 0.5 when three_phase is True, got {phase_pct}")
            ends = [0, phase_pct * self.total_steps - 1, 2 * phase_pct * self.total_steps - 2, last]
            rates = [initial_lr, max_lr, initial_lr, end_lr]
        else:
            ends = [0, phase_pct * self.total_steps - 1, last]
            rates = [initial_lr, max_lr, end_lr]
        # Phase i runs from ends[i] to ends[i + 1]; the last phase's length is reused past its end.
        self._phase_ends = ends
        self._phase_lengths = [b - a for a, b in zip(ends, ends[1:], strict=False)]
        if any(length <= 0 for length in self._phase_lengths):
            raise ValueError(f"phase_pct={phase_pct} with total_steps={total_steps} leaves a phase without steps")
        self._phase_rates = rates
        self.anneal_strategy = check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
        super().__init__(initial_lr, last_epoch, verbose)

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR was stepped {step} times, more than total_steps={self.total_steps}")
        phases = len(self._phase_lengths)
        for i in range(phases):
            if step <= self._phase_ends[i + 1] or i == phases - 1:
                pct = (step - self._phase_ends[i]) / self._phase_lengths[i]
                return self._anneal(self._phase_rates[i], self._phase_rates[i + 1], pct)
        raise AssertionError("unreachable: the last phase takes every remaining step")


class CyclicLR(LRScheduler):
    """Cycle between ``base_learning_rate`` and ``max_learning_rate`` (triangular waves).

    One cycle is ``step_size_up`` steps up and ``step_size_down`` (default: the same) down. The
    amplitude is scaled by ``mode``: ``'triangular'`` (1), ``'triangular2'`` (halved each cycle),
    ``'exp_range'`` (``exp_gamma ** iterations``), or by a custom ``scale_fn`` of the cycle number
    or of the iteration (``scale_mode``).
    """

    def __init__(self, base_learning_rate, max_learning_rate, step_size_up, step_size_down=None, mode="triangular",
                 exp_gamma=1.0, scale_fn=None, scale_mode="cycle", last_epoch=-1, verbose=False):
        self.max_lr = check_rate("max_learning_rate", max_learning_rate)
        if not _is_int(step_size_up):
            raise TypeError(f"step_size_up must be an int, got {type(step_size_up).__name__} {step_size_up!r}")
        check_int("step_size_up", step_size_up, low=1)
        if step_size_down is not None:
            if not _is_int(step_size_down):
                raise TypeError(f"step_size_down must be an int, got {type(step_size_down).__name__}")
            check_int("step_size_down", step_size_down, low=1)
        if not isinstance(exp_gamma, float):
            raise TypeError(f"exp_gamma must be a float, got {type(exp_gamma).__name__} {exp_gamma!r}")
        # Paddle checks only the type; a negative or non-finite exp_gamma gives negative or NaN rates.
        check_real("exp_gamma", exp_gamma, low=0.0)
        up = float(step_size_up)
        down = up if step_size_down is None else float(step_size_down)
        self.cycle_size = up + down
        self.step_up_pct = up / self.cycle_size
        base = check_rate("base_learning_rate", base_learning_rate)
        self.amplitude = self.max_lr - base
        check_choice("scale_mode", scale_mode, ("cycle", "iterations"))
        if scale_fn is None:
            self.mode = check_choice("mode", mode, ("triangular", "triangular2", "exp_range"))
            self.scale_fn = {"triangular": self._triangular, "triangular2": self._triangular2,
                             "exp_range": self._exp_range}[mode]
            self.scale_mode = "iterations" if mode == "exp_range" else "cycle"
        else:
            if not callable(scale_fn):
                raise TypeError(f"scale_fn must be a function, got {type(scale_fn).__name__}")
            self.mode = mode
            self.scale_fn = scale_fn
            self.scale_mode = scale_mode
        self.gamma = exp_gamma
        super().__init__(base, last_epoch, verbose)

    @staticmethod
    def _triangular(x):
        return 1.0

    @staticmethod
    def _triangular2(x):
        return 1 / (2.0 ** (x - 1))

    def _exp_range(self, x):
        return self.gamma**x

    def get_lr(self):
        iterations = self.last_epoch
        cycle = 1 + iterations // self.cycle_size
        position = 1.0 + iterations / self.cycle_size - cycle  # fraction of the current cycle done
        if position <= self.step_up_pct:
            scale = position / self.step_up_pct
        else:
            scale = (1 - position) / (1 - self.step_up_pct)
        argument = cycle if self.scale_mode == "cycle" else iterations
        return self.base_lr + self.amplitude * scale * self.scale_fn(argument)


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every ``T_i`` epochs, ``T_i`` growing by ``T_mult`` after each restart.

    ``state_dict()`` also saves ``T_cur`` and ``T_i`` (Paddle's does not, so a Paddle scheduler
    resumed mid-cycle restarts its cosine; this one resumes exactly).
    """

    state_checks = {**LRScheduler.state_checks,
                    "T_cur": lambda name, value: check_real(name, value, low=0.0),
                    "T_i": lambda name, value: check_int(name, value, low=1)}

    def __init__(self, learning_rate, T_0, T_mult=1, eta_min=0, last_epoch=-1, verbose=False):  # noqa: N803
        if not _is_int(T_0) or T_0 <= 0:
            raise ValueError(f"T_0 must be a positive int, got {T_0!r}")
        if not _is_int(T_mult) or T_mult < 1:
            raise ValueError(f"T_mult must be an int >= 1, got {T_mult!r}")
        self.T_0 = self.T_i = int(T_0)
        self.T_mult = int(T_mult)
        self.eta_min = check_real("eta_min", eta_min, low=0.0)
        self.T_cur = last_epoch
        super().__init__(learning_rate, last_epoch, verbose)

    def get_lr(self):
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2

    def step(self, epoch=None):
        """Advance one epoch, or jump to ``epoch`` (may be fractional: the position inside the cycle)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            check_real("epoch", epoch, low=0.0)  # finite: inf/NaN would leave T_cur NaN
            self._locate(epoch)
        self.last_epoch = math.floor(epoch)
        self.last_lr = self.get_lr()
        self._report()

    def _locate(self, epoch):
        """Set ``T_cur`` / ``T_i`` for an absolute epoch (the closed form of the restarts)."""
        if epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            restarts = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**restarts - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**restarts


class ReduceOnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when a metric stops improving for ``patience`` epochs.

    Stepped with the metric: ``sched.step(loss)``. ``mode`` 'min' or 'max' says which way is
    better; ``threshold`` (relative or absolute, ``threshold_mode``) is the least change that
    counts; after a reduction the scheduler waits ``cooldown`` epochs; the rate never goes
    below ``min_lr``, and a reduction smaller than ``epsilon`` is skipped.
    """

    state_checks = {"cooldown_counter": lambda name, value: check_int(name, value, low=0),
                    "best": _check_metric,
                    "num_bad_epochs": lambda name, value: check_int(name, value, low=0),
                    **LRScheduler.state_checks}

    def __init__(self, learning_rate, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, epsilon=1e-8, verbose=False):
        self.mode = check_choice("mode", mode.lower() if isinstance(mode, str) else mode, ("min", "max"))
        self.factor = check_real("factor", factor, low=0.0, high=1.0, high_open=True)
        self.threshold_mode = check_choice(
            "threshold_mode", threshold_mode.lower() if isinstance(threshold_mode, str) else threshold_mode,
            ("rel", "abs"))
        self.base_lr = self.last_lr = check_rate("learning_rate", learning_rate)
        self.patience = check_int("patience", patience, low=0)
        self.threshold = check_real("threshold", threshold, low=0.0)
        self.cooldown = check_int("cooldown", cooldown, low=0)
        self.min_lr = check_rate("min_lr", min_lr)
        self.epsilon = check_real("epsilon", epsilon, low=0.0)
        self.cooldown_counter = 0
        self.best = None
        self.num_bad_epochs = 0
        self.last_epoch = 0
        self.verbose = verbose
        # No first step here (Paddle's doesn't either): the first metric arrives with step(metrics).

    def step(self, metrics, epoch=None):
        """Take the epoch's metric (a number, or a Tensor / array of one element)."""
        if hasattr(metrics, "shape"):  # Tensor or ndarray
            if int(np.prod(metrics.shape)) != 1:
                raise AssertedValueError(f"metrics must have one element (e.g. paddle.mean(loss)), "
                                         f"got shape {list(metrics.shape)}")
        elif not isinstance(metrics, (int, float, np.floating, np.integer)) or isinstance(metrics, bool):
            raise TypeError(f"metrics must be an int, a float, an ndarray or a Tensor, got {type(metrics).__name__}")
        self.last_epoch = self.last_epoch + 1 if epoch is None else check_epoch("epoch", epoch)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            return
        if self.best is None or self._is_better(metrics, self.best):
            self.best = metrics
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.num_bad_epochs > self.patience:
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
            reduced = max(self.last_lr * self.factor, self.min_lr)
            if self.last_lr - reduced > self.epsilon:
                self.last_lr = reduced
                self._report()

    def _is_better(self, current, best):
        # Same arithmetic as Paddle (in the metric's own dtype when it is a Tensor).
        if self.mode == "min":
            margin = best * self.threshold if self.threshold_mode == "rel" else self.threshold
            return bool(current < best - margin)
        margin = best * self.threshold if self.threshold_mode == "rel" else self.threshold
        return bool(current > best + margin)

    def get_lr(self):
        return self.last_lr
