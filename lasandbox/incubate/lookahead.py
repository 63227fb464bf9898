"""``LookAhead``: k steps forward with the inner optimizer, one step back towards the slow weights.

Default behaviour is PaddlePaddle 3.x's, step for step:

* the step counter is incremented after each inner step;
* on the first step the slow weights are copied from the fast weights *after*
  the inner update (Paddle creates them lazily);
* when ``step % k == 0``: ``slow = alpha*fast + (1-alpha)*slow; fast = slow``,
  fused into the k-th inner step's kernel as an epilogue (one pass over the buffers);
* the inner optimizer's state (momentum, Adam moments, its step count) is kept.

Research options beyond Paddle (keywords, Paddle's behaviour by default):
``slow_init='construction'`` starts the slow weights at theta_0 as in the
paper's Algorithm 1; ``inner_state='reset'|'pullback'`` resets or
interpolates inner state buffers at each sync (the authors' code's
``pullback_momentum``; ``pullback_states`` names the buffers, default the
momentum buffer); ``alpha`` and ``k`` may be schedules (callables of the sync
index); ``slow_weights()`` evaluates with the slow weights; ``sync()``
synchronises by hand; ``state_dict()`` holds everything needed to resume
bit-identically; ``nonfinite="raise"|"skip"`` keeps one bad batch (an inf or
NaN gradient) from reaching the fast and, at the next sync, the slow weights.

LookAhead talks to its inner optimizer only through the public protocol
(``lasandbox.optimizer.protocol``) and implements it too, so the inner
optimizer may itself be a LookAhead (nested Lookahead): at an outer sync every
level below restarts from the outer slow weights.
"""

from __future__ import annotations

import contextlib

import numpy as np

from lasandbox.autograd.engine import no_grad
from lasandbox.incubate.schedule import SyncSchedule
from lasandbox.optimizer.nonfinite import NONFINITE_POLICIES
from lasandbox.optimizer.protocol import check_step_target
from lasandbox.utils.validation import check_choice, check_int

SLOW_INITS = ("first_step", "construction")
INNER_STATE_POLICIES = ("keep", "reset", "pullback")


def _epilogues():
    from lasandbox.kernels import epilogues

    return epilogues


class LookAhead(SyncSchedule):
    """Wrap ``inner_optimizer`` with Lookahead (Zhang et al. 2019), Paddle's semantics by default."""

    def __init__(self, inner_optimizer, alpha=0.5, k=5, name=None, *, slow_init="first_step",
                 inner_state="keep", pullback_states=None, nonfinite="propagate"):
        check_step_target("inner_optimizer", inner_optimizer)
        self._init_schedule(alpha, k)
        self.slow_init = check_choice("slow_init", slow_init, SLOW_INITS)
        self.nonfinite = check_choice("nonfinite", nonfinite, NONFINITE_POLICIES)
        self.skipped_steps = 0
        self.inner_state = check_choice("inner_state", inner_state, INNER_STATE_POLICIES)
        self.pullback_states = self._check_pullback_states(inner_optimizer, inner_state, pullback_states)
        self.inner_optimizer = inner_optimizer
        self.name = name
        self.type = "lookahead"
        self._global_step = 0
        self._since_sync = 0
        self._slow = inner_optimizer.new_buffer() if slow_init == "construction" else None
        # The buffers at the last sync, for inner_state='pullback' (zeros at the start, as in the authors' code).
        self._cached = {name: np.zeros_like(inner_optimizer.state_buffer(name)) for name in self.pullback_states} \
            if inner_state == "pullback" else {}

    @staticmethod
    def _check_pullback_states(inner, policy, names):
        if names is not None and policy == "keep":
            raise ValueError("pullback_states is given but inner_state='keep' leaves every buffer alone; "
                             "use inner_state='pullback' or 'reset'")
        if policy == "keep":
            return ()
        if names is None:
            if inner.momentum_state is None:
                raise ValueError(f"inner_state={policy!r} needs an inner optimizer with a momentum buffer; "
                                 f"{type(inner).__name__} has none (use 'keep', or name buffers in pullback_states)")
            return (inner.momentum_state,)
        names = (names,) if isinstance(names, str) else tuple(names)
        unknown = [n for n in names if n not in inner.state_names]
        if not names or unknown:
            raise ValueError(f"pullback_states must name state buffers of {type(inner).__name__} "
                             f"{inner.state_names}, got {names!r}")
        return names

    # ---------------------------------------------------------------- helpers
    @property
    def _parameter_list(self):  # Paddle's attribute name
        return self.inner_optimizer.parameters()

    @property
    def global_step(self):
        """Inner steps taken so far (Paddle's ``lookahead_step``)."""
        return self._global_step

    @property
    def backend(self):
        return self.inner_optimizer.backend

    def slow_buffer(self):
        """The slow weights as a flat host float32 array laid out like ``flat_parameters()``
        (a copy on the cuda backend), or None before they exist (Paddle's lazy init)."""
        return None if self._slow is None else self.inner_optimizer.to_host(self._slow)

    def get_lr(self):
        return self.inner_optimizer.get_lr()

    def set_lr(self, value):
        self.inner_optimizer.set_lr(value)

    # ------------------------------------------------------- protocol (nesting)
    def parameters(self):
        return self.inner_optimizer.parameters()

    def flat_parameters(self):
        """The fast weights: the inner optimizer's flat parameter buffer."""
        return self.inner_optimizer.flat_parameters()

    def flat_gradients(self):
        return self.inner_optimizer.flat_gradients()

    def select(self, parameters=None, no_grad_set=None, *, warn_if_empty=False):
        return self.inner_optimizer.select(parameters, no_grad_set, warn_if_empty=warn_if_empty)

    def params_grads(self, selection):
        return self.inner_optimizer.params_grads(selection)

    def new_buffer(self, copy_of_parameters=True):
        return self.inner_optimizer.new_buffer(copy_of_parameters)

    def to_host(self, buffer):
        return self.inner_optimizer.to_host(buffer)

    @property
    def state_names(self):
        return self.inner_optimizer.state_names

    @property
    def momentum_state(self):
        return self.inner_optimizer.momentum_state

    def state_buffer(self, name):
        return self.inner_optimizer.state_buffer(name)

    def edit_state(self, name):
        return self.inner_optimizer.edit_state(name)

    def apply_epilogues(self, epilogues):
        self.inner_optimizer.apply_epilogues(epilogues)

    def restart(self):
        """An outer Lookahead just synced: the slow weights (and every level below) restart from the parameters."""
        if self._slow is not None:
            self._copy_parameters_into_slow()
        self.inner_optimizer.restart()

    def _copy_parameters_into_slow(self):
        fresh = self.inner_optimizer.new_buffer()
        if self.backend == "cuda":
            self._slow.copy_to_device(fresh)
        else:
            self._slow[...] = fresh

    # -------------------------------------------------------------- stepping
    def first_nonfinite(self, selection):
        return self.inner_optimizer.first_nonfinite(selection)

    def refuse_nonfinite(self, selection, policy, step):
        return self.inner_optimizer.refuse_nonfinite(selection, policy, step)

    @no_grad()
    def apply(self, selection, epilogues=()):
        """One Lookahead step: an inner step, fused with the sync every k-th time, then ``epilogues``
        (an outer loop's, e.g. the outer sync of a nested Lookahead). A step the policy ``nonfinite``
        (here or the inner optimizer's) skips is not counted: it moves neither the slow weights nor
        the cycle. Returns whether the step happened."""
        k = self.current_k()
        sync_now = self._since_sync + 1 >= k
        alpha = self.current_alpha() if sync_now else None  # checked before anything changes
        inner = self.inner_optimizer
        if selection and self.refuse_nonfinite(selection, self.nonfinite, self._global_step + 1):
            self.skipped_steps += 1
            return False
        if self._slow is None:
            # Paddle: at step 1 the slow weights are the fast weights after the inner update.
            if selection and not inner.apply(selection, epilogues):
                return False
            self._slow = inner.new_buffer()
            if sync_now:
                self._sync_alone(alpha)
        elif sync_now:
            if selection:
                if not inner.apply(selection, (_epilogues().lookahead_epilogue(self._slow, alpha), *epilogues)):
                    return False
                self._after_sync(alpha)
            else:
                inner.apply(selection, epilogues)
        elif selection and not inner.apply(selection, epilogues):
            return False
        self._global_step += 1
        if sync_now:
            self._since_sync = 0
            self._syncs += 1
        else:
            self._since_sync += 1
        return True

    def step(self):
        """One inner step; every k-th step also moves the slow weights and resets the fast ones."""
        self.apply(self.select())

    def minimize(self, loss, startup_program=None, parameters=None, no_grad_set=None):
        """Eager-mode minimize: apply the gradients of ``loss.backward()``.

        Returns ``(optimize_ops, params_grads)``; ``optimize_ops`` is empty (eager mode).
        """
        selection = self.select(parameters, no_grad_set, warn_if_empty=True)
        params_grads = self.params_grads(selection)
        self.apply(selection)
        return [], params_grads

    def clear_grad(self, set_to_zero=True):
        self.inner_optimizer.clear_grad(set_to_zero)

    clear_gradients = clear_grad

    def _sync_alone(self, alpha):
        self.inner_optimizer.apply_epilogues((_epilogues().lookahead_epilogue(self._slow, alpha),))
        self._after_sync(alpha)

    def _after_sync(self, alpha):
        self.inner_optimizer.restart()  # a nested level below restarts from our slow weights
        self._apply_inner_state_policy(alpha)

    @no_grad()
    def sync(self):
        """Synchronise now: ``slow = alpha*fast + (1-alpha)*slow; fast = slow`` (does not count as a step)."""
        alpha = self.current_alpha()
        if self._slow is None:
            self._slow = self.inner_optimizer.new_buffer()
        self._sync_alone(alpha)

    def _apply_inner_state_policy(self, alpha):
        if self.inner_state == "keep":
            return
        for name in self.pullback_states:
            with self.inner_optimizer.edit_state(name) as buffer:
                if self.inner_state == "reset":
                    buffer.fill(0)
                else:  # pullback: interpolate towards the buffer at the previous sync
                    buffer *= np.float32(alpha)
                    buffer += np.float32(1 - alpha) * self._cached[name]
                    self._cached[name][...] = buffer

    # ------------------------------------------------------------ evaluation
    @contextlib.contextmanager
    def slow_weights(self, recompute_bn=None, model=None):
        """Temporarily put the slow weights into the model (e.g. to evaluate); fast ones come back after.

        Batch-norm running statistics belong to the weights that made them: the fast ones. With
        ``recompute_bn=loader`` (and ``model=``, the Layer holding these parameters), the statistics
        are recomputed for the slow weights by one pass over the loader (SWA's ``update_bn``:
        ``lasandbox.nn.bn_stats``) and the fast statistics come back too, on leaving the block.
        Before the slow weights exist (Paddle's lazy init, step 0) the model is left as it is.
        """
        if recompute_bn is not None and model is None:
            raise TypeError("slow_weights(recompute_bn=loader) needs model= (the Layer whose batch-norm "
                            "statistics to recompute): LookAhead holds parameters, not the model")
        if model is not None:  # checked before the swap: an unused or a foreign model was silently a no-op
            if recompute_bn is None:
                raise TypeError("slow_weights(model=...) is the Layer whose batch-norm statistics recompute_bn= "
                                "recomputes; without recompute_bn it changes nothing: pass both, or neither")
            mine = {id(p) for p in self.parameters()}
            if not any(id(p) in mine for p in getattr(model, "parameters", lambda: ())()):
                raise ValueError("slow_weights(model=...) holds none of this LookAhead's parameters, so its "
                                 "statistics would be recomputed with weights other than the slow ones: pass the "
                                 "model these parameters belong to")
        slow = self.slow_buffer()
        if slow is None:
            yield self
            return
        params = self.inner_optimizer.flat_parameters()
        fast = params.copy()
        with contextlib.ExitStack() as restore:
            params[...] = slow
            restore.callback(params.__setitem__, Ellipsis, fast)
            if recompute_bn is not None:
                from lasandbox.nn import bn_stats

                restore.enter_context(bn_stats.kept_statistics(model))
                bn_stats.update_bn(model, recompute_bn)
            yield self

    # ----------------------------------------------------------------- state
    def state_dict(self):
        """Slow weights, counters, options and the inner optimizer's state (all copies)."""
        slow = self.slow_buffer()
        return {
            "slow": None if slow is None else slow.copy(),
            "global_step": self._global_step,
            "steps_since_sync": self._since_sync,
            "syncs": self._syncs,
            "alpha": self.alpha,
            "k": self.k,
            "slow_init": self.slow_init,
            "inner_state": self.inner_state,
            "pullback_states": list(self.pullback_states),
            "cached_states": {name: cached.copy() for name, cached in self._cached.items()},
            "inner": self.inner_optimizer.state_dict(),
        }

    def set_state_dict(self, state_dict):
        """Restore a ``state_dict()``; it is checked whole before anything changes."""
        missing = [key for key in ("slow", "global_step", "inner") if key not in state_dict]
        if missing:
            raise KeyError(f"LookAhead state_dict is missing {missing}")
        size = self.inner_optimizer.flat_parameters().size
        slow = state_dict["slow"]
        if slow is not None:
            slow = np.asarray(getattr(slow, "_value", slow), dtype=np.float32)
            if slow.shape != (size,):
                raise ValueError(f"state_dict['slow'] has shape {list(slow.shape)}, expected [{size}]")
        step = check_int("state_dict['global_step']", state_dict["global_step"], low=0)
        self._check_saved_options(state_dict)
        # Files written before schedules existed: the cycle phase follows from the step (constant k).
        since = state_dict.get("steps_since_sync", step % self.k if self.k else 0)
        since = check_int("state_dict['steps_since_sync']", since, low=0, high=self.k - 1 if self.k else None)
        syncs = check_int("state_dict['syncs']", state_dict.get("syncs", step // self.k if self.k else 0), low=0)
        cached = dict(state_dict.get("cached_states") or {})
        if "cached_momentum" in state_dict and state_dict["cached_momentum"] is not None and self.pullback_states:
            cached = {self.pullback_states[0]: state_dict["cached_momentum"]}
        checked = {}
        for name in self._cached:
            if name in cached and cached[name] is not None:
                array = np.asarray(cached[name], dtype=np.float32)
                if array.shape != (size,):
                    raise ValueError(f"state_dict['cached_states'][{name!r}] has shape {list(array.shape)}, "
                                     f"expected [{size}]")
                checked[name] = array
        self.inner_optimizer.set_state_dict(state_dict["inner"])  # validates itself before writing
        if slow is None:
            self._slow = None
        else:
            self._slow = self.inner_optimizer.new_buffer()
            if self.backend == "cuda":
                self._slow.copy_to_device(slow)
            else:
                self._slow[...] = slow
        self._global_step, self._since_sync, self._syncs = step, since, syncs
        for name, array in checked.items():
            self._cached[name][...] = array

    set_dict = set_state_dict

    def _check_saved_options(self, state_dict):
        """The options a file records must be this LookAhead's: a checkpoint written with k=7 would otherwise
        resume at the constructor's k without a word (an exact resume needs the same options)."""
        current = {"alpha": self.alpha, "k": self.k, "slow_init": self.slow_init, "inner_state": self.inner_state,
                   "pullback_states": list(self.pullback_states)}
        for key, value in current.items():
            if key not in state_dict:  # files of earlier versions record fewer of them
                continue
            saved = state_dict[key]
            saved = list(saved) if key == "pullback_states" and saved is not None else saved
            if saved != value:
                raise ValueError(f"state_dict[{key!r}] = {saved!r}, but this LookAhead has {key}={value!r}: the "
                                 f"checkpoint was written with other options (build LookAhead with them to resume)")
