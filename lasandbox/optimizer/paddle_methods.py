"""Paddle's optimizer methods on top of the protocol: learning rate, ``step``/``minimize``, gradients, state.

``PaddleMethods`` is a base of ``optimizer.Optimizer``: everything here is
written against the protocol (``select``, ``params_grads``, ``apply``) and the
optimizer's own buffers, so the module holds the Paddle-facing surface and
``optimizer.py`` the construction and the kernel runs.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from lasandbox.autograd.tensor import Tensor
from lasandbox.optimizer import paddle_state
from lasandbox.optimizer.lr import LRScheduler
from lasandbox.utils.validation import AssertedValueError, check_real


class PaddleMethods:
    """``paddle.optimizer.Optimizer``'s methods (a base of ``Optimizer``, not used alone)."""

    # ------------------------------------------------------------ learning rate
    @staticmethod
    def _validate_lr(learning_rate):
        if learning_rate is None:
            raise AssertedValueError("learning_rate is not set")  # Paddle: ValueError (or an assert)
        if isinstance(learning_rate, LRScheduler):
            return
        if isinstance(learning_rate, numbers.Integral) and not isinstance(learning_rate, bool):
            raise TypeError(f"learning rate should be float or LRScheduler, got {type(learning_rate)} here "
                            f"(as in Paddle: write {learning_rate}.0)")
        check_real("learning_rate", learning_rate, low=0.0)

    def _initial_lr(self):
        lr = self._learning_rate if hasattr(self, "_learning_rate") else None
        return 0.0 if lr is None else (float(lr()) if isinstance(lr, LRScheduler) else float(lr))

    def get_lr(self):
        """The current learning rate as a float."""
        lr = self._learning_rate
        return float(lr()) if isinstance(lr, LRScheduler) else float(lr)

    def set_lr(self, value):
        if isinstance(self._learning_rate, LRScheduler):
            raise RuntimeError("set_lr() cannot override an LRScheduler; step the scheduler instead")
        self._learning_rate = check_real("value", value, low=0.0)

    def set_lr_scheduler(self, scheduler):
        if not isinstance(scheduler, LRScheduler):
            raise TypeError(f"scheduler must be an LRScheduler, got {type(scheduler).__name__}")
        self._learning_rate = scheduler

    # ------------------------------------------------------------- stepping
    def step(self):
        """Update every parameter that has a gradient."""
        self.apply(self.select())

    def minimize(self, loss, startup_program=None, parameters=None, no_grad_set=None):
        """Apply the gradients already computed by ``loss.backward()`` (Paddle's eager semantics).

        Returns ``(optimize_ops, params_grads)``: ``optimize_ops`` is an empty list in
        eager mode; ``params_grads`` lists the (parameter, gradient) pairs updated.
        """
        selection = self.select(parameters, no_grad_set, warn_if_empty=True)
        params_grads = self.params_grads(selection)
        self.apply(selection)
        return [], params_grads

    def _selection(self, parameters, no_grad_set):
        if no_grad_set is not None and (isinstance(no_grad_set, (str, Tensor)) or not hasattr(no_grad_set, "__iter__")):
            raise TypeError(f"no_grad_set must be a set (or list) of parameters or their names, got "
                            f"{type(no_grad_set).__name__} {no_grad_set!r}")
        if parameters is None and not no_grad_set:
            return None
        chosen = list(self._space.params if parameters is None else parameters)
        unknown = [p for p in chosen if all(p is not q for q in self._space.params)]
        if unknown:
            raise ValueError("parameters passed to minimize() must be managed by this optimizer")
        excluded = no_grad_set or set()
        names = {x for x in excluded if isinstance(x, str)}
        ids = {id(x) for x in excluded if not isinstance(x, str)}
        return [p for p in chosen if id(p) not in ids and p.name not in names]

    def backward(self, loss, startup_program=None, parameters=None, no_grad_set=None, callbacks=None):
        """Paddle's first half of ``minimize``: the ``(parameter, gradient)`` pairs of the parameters that
        have gradients. As in Paddle's dygraph mode it runs no autodiff: call ``loss.backward()`` first."""
        return self.params_grads(self.select(parameters, no_grad_set))

    def apply_gradients(self, params_grads):
        """Paddle's second half of ``minimize``: update the parameters of ``params_grads`` with their gradients
        (pairs whose gradient is not the parameter's own are copied in first)."""
        by_id = {id(p): i for i, p in enumerate(self._space.params)}
        checked = []
        # Every pair is checked before any gradient is written: a bad one leaves all of them as they were.
        for k, (param, grad) in enumerate(params_grads):
            if id(param) not in by_id:
                raise ValueError(f"apply_gradients: {getattr(param, 'name', param)} is not a parameter of this "
                                 "optimizer")
            if grad is None:
                continue
            value = np.asarray(getattr(grad, "_value", grad), dtype=np.float32)
            if value.shape != tuple(param.shape):  # numpy would broadcast a scalar or a row silently
                raise ValueError(f"apply_gradients: params_grads[{k}]'s gradient has shape {list(value.shape)}, "
                                 f"its parameter {param.name} has shape {list(param.shape)}")
            checked.append((param, value))
        selection = []
        for param, value in checked:
            if param._grad is None or not np.shares_memory(value, param._grad):
                param._grad_storage[...] = value
                param._grad, param._grad_is_zero = param._grad_storage, False
            selection.append(by_id[id(param)])
        self.apply(sorted(selection))
        return []

    def get_opti_var_name_list(self):
        """The names of the optimizer's accumulators (the keys of ``state_dict()``), as Paddle lists them."""
        return [key for key in self.state_dict() if key != paddle_state.LR_SCHEDULER]

    def clear_grad(self, set_to_zero=True):
        """Zero all gradients (one buffer fill), or drop them with ``set_to_zero=False``."""
        if set_to_zero:
            self._space.grad_buffer.fill(0)
            for p in self._space.params:  # the next backward may write these outright
                p._grad_is_zero = p._grad is not None
        else:
            for p in self._space.params:
                p._grad, p._grad_is_zero = None, False

    clear_gradients = clear_grad

    # ----------------------------------------------------------------- state
    def state_dict(self):
        """The state in Paddle's layout: one Tensor per accumulator per parameter that has stepped
        (``linear_0.w_0_moment1_0`` ...; step counts as Paddle's ``beta_pow`` accumulators), plus
        ``LR_Scheduler``. ``paddle.Optimizer.set_state_dict`` reads it, and this reads Paddle's."""
        state = paddle_state.export(self)
        if isinstance(self._learning_rate, LRScheduler):
            state[paddle_state.LR_SCHEDULER] = self._learning_rate.state_dict()
        return state

    def set_state_dict(self, state_dict):
        """Restore a ``state_dict()`` (Paddle's layout, or lasandbox's earlier flat one); everything is
        checked before anything is written."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict must be a dict (from state_dict() or paddle.load), got "
                            f"{type(state_dict).__name__}")
        if paddle_state.is_legacy(state_dict):
            buffers, counts = paddle_state.parse_legacy(self, state_dict)
            powers = {}
        else:
            buffers, counts, powers = paddle_state.parse(self, state_dict)
        if paddle_state.LR_SCHEDULER in state_dict and isinstance(self._learning_rate, LRScheduler):
            # First: the scheduler checks its keys before it sets any, and a refusal leaves the optimizer as it was.
            self._learning_rate.set_state_dict(state_dict[paddle_state.LR_SCHEDULER])
        for name, array in buffers.items():
            self._state[name][...] = array
            if self._mirror:
                self._mirror.upload_state(name, self._state[name])
        self._step_counts[...] = counts
        self._powers.restore(powers)

    set_dict = set_state_dict
    load_state_dict = set_state_dict
