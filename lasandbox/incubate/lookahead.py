"""``LookAhead``: k steps forward with the inner optimizer, one step back towards the slow weights.

Default behaviour is PaddlePaddle 3.x's, step for step:

* the step counter is incremented after each inner step;
* on the first step the slow weights are copied from the fast weights *after*
  the inner update (Paddle creates them lazily);
* when ``step % k == 0``: ``slow = alpha*fast + (1-alpha)*slow; fast = slow``,
  fused into the k-th inner step's kernel (one pass over the buffers);
* the inner optimizer's state (momentum, Adam moments, its step count) is kept.

Research options beyond Paddle (keywords, Paddle's behaviour by default):
``slow_init='construction'`` starts the slow weights at theta_0 as in the
paper's Algorithm 1; ``inner_state='reset'|'pullback'`` resets or
interpolates the momentum buffer at each sync (the authors' code's
``pullback_momentum``); ``slow_weights()`` evaluates with the slow weights;
``sync()`` synchronises by hand; ``state_dict()`` holds everything needed to
resume bit-identically.
"""

from __future__ import annotations

import contextlib

import numpy as np

from lasandbox.autograd.engine import no_grad
from lasandbox.optimizer.optimizer import Optimizer, _kernels
from lasandbox.utils.validation import check_choice, check_int, check_real

SLOW_INITS = ("first_step", "construction")
INNER_STATE_POLICIES = ("keep", "reset", "pullback")


class LookAhead:
    """Wrap ``inner_optimizer`` with Lookahead (Zhang et al. 2019), Paddle's semantics by default."""

    def __init__(self, inner_optimizer, alpha=0.5, k=5, name=None, *, slow_init="first_step",
                 inner_state="keep"):
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                "inner_optimizer must be a lasandbox optimizer (SGD, Momentum, Adam, AdamW, ...), "
                f"got {type(inner_optimizer).__name__}"
            )
        self.alpha = check_real("alpha", alpha, low=0.0, high=1.0)
        self.k = check_int("k", k, low=1)
        self.slow_init = check_choice("slow_init", slow_init, SLOW_INITS)
        self.inner_state = check_choice("inner_state", inner_state, INNER_STATE_POLICIES)
        if inner_state != "keep" and inner_optimizer.momentum_state is None:
            raise ValueError(f"inner_state={inner_state!r} needs an inner optimizer with a momentum buffer; "
                             f"{type(inner_optimizer).__name__} has none (use 'keep')")
        self.inner_optimizer = inner_optimizer
        self.name = name
        self.type = "lookahead"
        self._global_step = 0
        self._slow = self._copy_of_fast() if slow_init == "construction" else None
        # The momentum at the last sync, for inner_state='pullback' (zeros at the start, as in the authors' code).
        self._cached_momentum = (
            np.zeros_like(inner_optimizer._state[inner_optimizer.momentum_state])
            if inner_state == "pullback" else None
        )

    # --------------------------------------------------------------- helpers
    @property
    def _parameter_list(self):
        return self.inner_optimizer._parameter_list

    @property
    def global_step(self):
        """Inner steps taken so far (Paddle's ``lookahead_step``)."""
        return self._global_step

    def _copy_of_fast(self):
        inner = self.inner_optimizer
        host = inner._space.param_buffer.copy()
        return _kernels().to_device(host) if inner.backend == "cuda" else host

    def _slow_host(self):
        if self._slow is None:
            return None
        return self._slow.copy_to_host() if self.inner_optimizer.backend == "cuda" else self._slow

    def slow_buffer(self):
        """The slow weights as a flat host float32 array laid out like ``flat_parameters()``
        (a copy on the cuda backend), or None before they exist (Paddle's lazy init)."""
        return self._slow_host()

    def flat_parameters(self):
        """The fast weights: the inner optimizer's flat parameter buffer."""
        return self.inner_optimizer.flat_parameters()

    def get_lr(self):
        return self.inner_optimizer.get_lr()

    def set_lr(self, value):
        self.inner_optimizer.set_lr(value)

    # -------------------------------------------------------------- stepping
    @no_grad()
    def _step_with(self, ready):
        inner = self.inner_optimizer
        step = self._global_step + 1
        sync_now = step % self.k == 0
        if self._slow is None:
            # Paddle: at step 1 the slow weights are the fast weights after the inner update.
            inner._apply(ready)
            self._slow = self._copy_of_fast()
            if sync_now:
                self._sync_buffers()
        elif sync_now:
            if ready:
                inner._apply(ready, slow=self._slow, alpha=self.alpha)
                self._apply_inner_state_policy()
        else:
            inner._apply(ready)
        self._global_step = step

    def step(self):
        """One inner step; every k-th step also moves the slow weights and resets the fast ones."""
        self._step_with(self.inner_optimizer._ready())

    def minimize(self, loss, startup_program=None, parameters=None, no_grad_set=None):
        """Eager-mode minimize: apply the gradients of ``loss.backward()``.

        Returns ``(optimize_ops, params_grads)``; ``optimize_ops`` is empty (eager mode).
        """
        inner = self.inner_optimizer
        ready = inner._minimize_targets(parameters, no_grad_set)
        params_grads = inner._params_grads(ready)
        self._step_with(ready)
        return [], params_grads

    def clear_grad(self, set_to_zero=True):
        self.inner_optimizer.clear_grad(set_to_zero)

    clear_gradients = clear_grad

    def _sync_buffers(self):
        inner = self.inner_optimizer
        _kernels().lookahead_sync(inner._array("param"), self._slow, self.alpha, backend=inner.backend)
        if inner._mirror:
            inner._mirror.download_params()

    @no_grad()
    def sync(self):
        """Synchronise now: ``slow += alpha*(fast - slow); fast = slow`` (does not count as a step)."""
        inner = self.inner_optimizer
        if inner._mirror:
            inner._mirror.upload_step_inputs()
        if self._slow is None:
            self._slow = self._copy_of_fast()
        self._sync_buffers()
        self._apply_inner_state_policy()

    def _apply_inner_state_policy(self):
        if self.inner_state == "keep":
            return
        inner = self.inner_optimizer
        name = inner.momentum_state
        momentum = inner._host_state(name)
        if self.inner_state == "reset":
            momentum.fill(0)
        else:  # pullback: interpolate towards the momentum at the previous sync
            momentum *= np.float32(self.alpha)
            momentum += np.float32(1 - self.alpha) * self._cached_momentum
            self._cached_momentum[...] = momentum
        if inner._mirror:
            inner._mirror.upload_state(name, momentum)

    # ------------------------------------------------------------ evaluation
    @contextlib.contextmanager
    def slow_weights(self):
        """Temporarily put the slow weights into the model (e.g. to evaluate); fast ones come back after.

        Before the slow weights exist (Paddle's lazy init, step 0) the model is left as it is.
        """
        slow = self._slow_host()
        if slow is None:
            yield self
            return
        params = self.inner_optimizer._space.param_buffer
        fast = params.copy()
        params[...] = slow
        try:
            yield self
        finally:
            params[...] = fast

    # ----------------------------------------------------------------- state
    def state_dict(self):
        """Slow weights, step counter, options and the inner optimizer's state (all copies)."""
        slow = self._slow_host()
        return {
            "slow": None if slow is None else slow.copy(),
            "global_step": self._global_step,
            "alpha": self.alpha,
            "k": self.k,
            "slow_init": self.slow_init,
            "inner_state": self.inner_state,
            "cached_momentum": None if self._cached_momentum is None else self._cached_momentum.copy(),
            "inner": self.inner_optimizer.state_dict(),
        }

    def set_state_dict(self, state_dict):
        """Restore a ``state_dict()``; it is checked whole before anything changes."""
        missing = [key for key in ("slow", "global_step", "inner") if key not in state_dict]
        if missing:
            raise KeyError(f"LookAhead state_dict is missing {missing}")
        size = self.inner_optimizer._space.size
        slow = state_dict["slow"]
        if slow is not None:
            slow = np.asarray(getattr(slow, "_value", slow), dtype=np.float32)
            if slow.shape != (size,):
                raise ValueError(f"state_dict['slow'] has shape {list(slow.shape)}, expected [{size}]")
        step = check_int("state_dict['global_step']", state_dict["global_step"], low=0)
        cached = state_dict.get("cached_momentum")
        if self._cached_momentum is not None and cached is not None:
            cached = np.asarray(cached, dtype=np.float32)
            if cached.shape != (size,):
                raise ValueError(f"state_dict['cached_momentum'] has shape {list(cached.shape)}, expected [{size}]")
        self.inner_optimizer.set_state_dict(state_dict["inner"])  # validates itself before writing
        if slow is None:
            self._slow = None
        else:
            self._slow = _kernels().to_device(slow.copy()) if self.inner_optimizer.backend == "cuda" else slow.copy()
        self._global_step = step
        if self._cached_momentum is not None and cached is not None:
            self._cached_momentum[...] = cached

    set_dict = set_state_dict
