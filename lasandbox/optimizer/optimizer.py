"""``Optimizer``: the base class over a flat parameter buffer (Paddle's interface).

Subclasses name their state buffers and implement ``_update_range``, which
calls one kernel from ``lasandbox.kernels`` on a contiguous slice of the flat
buffers. A step over parameters that all have gradients is one kernel call per
parameter group. When some parameters have no gradient this step (Paddle skips
those), or ``minimize`` is given a subset, each run of adjacent parameters that
step gets one call; a rule that depends on the step count (Adam's bias
correction) also splits runs where the per-parameter counts differ.
"""

from __future__ import annotations

import warnings

import numpy as np

from lasandbox.autograd.engine import no_grad
from lasandbox.autograd.tensor import Tensor
from lasandbox.optimizer.flat import DeviceMirror, FlatSpace
from lasandbox.optimizer.lr import LRScheduler
from lasandbox.optimizer.regularizer import weight_decay_coeff
from lasandbox.utils.validation import check_choice, check_real

BACKENDS = ("auto", "numpy", "cpu", "cuda")


class ParamGroup:
    """A run of parameters in the flat buffer sharing a learning-rate scale and weight decay."""

    def __init__(self, indices, start, stop, lr_scale, weight_decay):
        self.indices, self.start, self.stop = indices, start, stop
        self.lr_scale, self.weight_decay = lr_scale, weight_decay


def _kernels():
    from lasandbox import kernels

    return kernels


class Optimizer:
    """Base optimizer. ``parameters`` is a list of Tensors or of dicts (parameter groups)."""

    state_names: tuple = ()
    # The state LookAhead's ``inner_state='reset'|'pullback'`` acts on (the momentum-like buffer).
    momentum_state: str | None = None
    # Whether the update depends on each parameter's step count (Adam's bias correction): then only
    # parameters with equal counts share a kernel call. A rule that ignores the count may say False.
    uses_step_count: bool = True

    def __init__(self, learning_rate=0.001, parameters=None, weight_decay=None, grad_clip=None, name=None,
                 *, backend="auto"):
        self._validate_lr(learning_rate)
        default_decay = weight_decay_coeff("weight_decay", weight_decay)
        check_choice("backend", backend, BACKENDS)
        if backend == "cuda":  # before the parameters move into the flat buffers: a refusal changes nothing
            _kernels().resolve_backend("cuda")
        groups_spec = self._group_spec(parameters, default_decay)
        self._learning_rate = learning_rate
        self._grad_clip = grad_clip
        self._name = name
        params = [p for spec in groups_spec for p in spec["params"]]
        self._space = FlatSpace(params, owner=self)
        self._groups, index = [], 0
        for spec in groups_spec:
            n = len(spec["params"])
            start, stop = int(self._space.offsets[index]), int(self._space.offsets[index + n])
            self._groups.append(ParamGroup(list(range(index, index + n)), start, stop,
                                           spec["lr_scale"], spec["weight_decay"]))
            index += n
        self._state = {name: self._space.zeros() for name in self.state_names}
        self._step_counts = np.zeros(len(params), dtype=np.int64)
        self._backend = "cpu" if backend == "auto" else backend
        self._mirror = DeviceMirror(self._space, _kernels()) if self._backend == "cuda" else None

    @property
    def backend(self) -> str:
        """The kernel backend, fixed at construction: on ``cuda`` the state lives on the device."""
        return self._backend

    @backend.setter
    def backend(self, value):
        # Switching would strand the state (and LookAhead's slow weights) on the wrong side of the bus.
        raise AttributeError(f"an optimizer's backend is chosen at construction (backend={value!r} was given "
                             f"afterwards; it stays {self._backend!r}): create it with backend={value!r}")

    # ------------------------------------------------------------ validation
    @staticmethod
    def _validate_lr(learning_rate):
        if not isinstance(learning_rate, LRScheduler):
            check_real("learning_rate", learning_rate, low=0.0)

    @staticmethod
    def _group_spec(parameters, default_decay):
        if parameters is None:
            raise TypeError("parameters must be given (e.g. parameters=model.parameters()); "
                            "lasandbox runs eagerly and has no global program to take them from")
        if isinstance(parameters, Tensor):
            raise TypeError("parameters must be a list of Tensors or of dicts, not a single Tensor")
        items = list(parameters)
        if not items:
            raise ValueError("parameters is empty: the optimizer would have nothing to update")
        if not all(isinstance(i, dict) for i in items):
            items = [{"params": items}]
        seen, specs = set(), []
        for g, group in enumerate(items):
            if "params" not in group:
                raise ValueError(f"parameter group {g} has no 'params' key")
            params = []
            for p in group["params"]:
                if not isinstance(p, Tensor):
                    raise TypeError(f"parameters must be Tensors, got {type(p).__name__} in group {g}")
                if p.dtype != np.float32:
                    raise TypeError(f"parameters must be float32 (flat float32 buffers), got {p.dtype}")
                if id(p) not in seen:  # a parameter listed twice is updated once
                    seen.add(id(p))
                    params.append(p)
            lr_scale = check_real(f"parameters[{g}]['learning_rate']", group.get("learning_rate", 1.0), low=0.0)
            decay = default_decay if "weight_decay" not in group else weight_decay_coeff(
                f"parameters[{g}]['weight_decay']", group["weight_decay"])
            if params:
                specs.append({"params": params, "lr_scale": lr_scale, "weight_decay": decay})
        return specs

    # ----------------------------------------------------------- properties
    @property
    def _parameter_list(self):
        return self._space.params

    def flat_parameters(self):
        """The flat float32 buffer every parameter is a view of (writes go into the model)."""
        return self._space.param_buffer

    def flat_gradients(self):
        """The flat float32 gradient buffer, laid out like ``flat_parameters()``."""
        return self._space.grad_buffer

    @property
    def global_step(self):
        """Steps taken so far (the most any parameter has taken)."""
        return int(self._step_counts.max()) if self._step_counts.size else 0

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
    def _array(self, name):
        """The buffer a kernel should see: host array, or its device mirror on cuda."""
        if name == "param":
            return self._mirror.params if self._mirror else self._space.param_buffer
        if name == "grad":
            return self._mirror.grads if self._mirror else self._space.grad_buffer
        host = self._state[name]
        return self._mirror.state(name, host) if self._mirror else host

    def _ready(self, selected=None):
        """Indices of parameters to update now: trainable, with a gradient (and selected)."""
        self._space.reclaim_stolen()
        chosen = None if selected is None else {id(p) for p in selected}
        return [
            i for i, p in enumerate(self._space.params)
            if p._grad is not None and not p.stop_gradient and (chosen is None or id(p) in chosen)
        ]

    @no_grad()
    def _apply(self, ready, slow=None, alpha=0.5):
        """Update the parameters at ``ready``; with ``slow`` the LookAhead sync is fused in."""
        if not ready:
            return
        if self._grad_clip is not None:
            self._grad_clip.clip_([self._space.params[i]._grad for i in ready])
        lr = self.get_lr()
        ready_set = set(ready)
        if self._mirror:
            self._mirror.upload_step_inputs()
        for group in self._groups:
            members = [i for i in group.indices if i in ready_set]
            if not members:
                continue
            counts = self._step_counts[members]
            # The whole group in one call: all of it steps, and the counts agree or do not matter.
            if len(members) == len(group.indices) and (not self.uses_step_count or counts.min() == counts.max()):
                spans = [(group.start, group.stop, int(counts[0]) + 1)]
            else:
                spans = self._merged_spans(members)
            for start, stop, step in spans:
                self._update_range(group, start, stop, lr * group.lr_scale, step, slow, alpha)
            self._step_counts[members] += 1
        if self._mirror:
            self._mirror.download_params()

    def _merged_spans(self, members):
        """``(start, stop, step)`` per kernel call when only some parameters step, or their counts differ.

        Adjacent parameters share a call when their step counts agree (or when the
        rule ignores the count): after one step in which a parameter had no gradient,
        its count lags for good, and the others still go in one call.
        """
        spans, previous = [], None
        for i in members:
            start, stop = self._space.range_of(i)
            step = int(self._step_counts[i]) + 1
            if previous == i - 1 and (spans[-1][2] == step or not self.uses_step_count):
                spans[-1] = (spans[-1][0], stop, spans[-1][2])
            else:
                spans.append((start, stop, step))
            previous = i
        return spans

    def _update_range(self, group, start, stop, lr, step, slow, alpha):
        raise NotImplementedError

    def step(self):
        """Update every parameter that has a gradient."""
        self._apply(self._ready())

    def _params_grads(self, ready):
        return [(self._space.params[i], Tensor(self._space.params[i]._grad)) for i in ready]

    def minimize(self, loss, startup_program=None, parameters=None, no_grad_set=None):
        """Apply the gradients already computed by ``loss.backward()`` (Paddle's eager semantics).

        Returns ``(optimize_ops, params_grads)``: ``optimize_ops`` is an empty list in
        eager mode; ``params_grads`` lists the (parameter, gradient) pairs updated.
        """
        ready = self._minimize_targets(parameters, no_grad_set)
        params_grads = self._params_grads(ready)
        self._apply(ready)
        return [], params_grads

    def _minimize_targets(self, parameters, no_grad_set):
        """Indices ``minimize`` updates; warns when there is nothing to apply."""
        ready = self._ready(self._selection(parameters, no_grad_set))
        if not ready:
            warnings.warn("minimize() found no gradients: call loss.backward() first "
                          "(as in Paddle's eager mode, minimize does not run backward)", stacklevel=3)
        return ready

    def _selection(self, parameters, no_grad_set):
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

    def clear_grad(self, set_to_zero=True):
        """Zero all gradients (one buffer fill), or drop them with ``set_to_zero=False``."""
        if set_to_zero:
            self._space.grad_buffer.fill(0)
        else:
            for p in self._space.params:
                p._grad = None

    clear_gradients = clear_grad

    # ----------------------------------------------------------------- state
    def _host_state(self, name):
        if self._mirror:
            self._mirror.download_state(name, self._state[name])
        return self._state[name]

    def state_dict(self):
        """Copies of the optimizer state (flat buffers), step counts and scheduler state."""
        state = {name: self._host_state(name).copy() for name in self.state_names}
        state["step_counts"] = self._step_counts.copy()
        state["num_values"] = self._space.size
        if isinstance(self._learning_rate, LRScheduler):
            state["LR_Scheduler"] = self._learning_rate.state_dict()
        return state

    def set_state_dict(self, state_dict):
        """Restore a ``state_dict()``; everything is checked before anything is written."""
        missing = [k for k in (*self.state_names, "step_counts") if k not in state_dict]
        if missing:
            raise KeyError(f"optimizer state_dict is missing {missing}")
        arrays = {k: np.asarray(getattr(state_dict[k], "_value", state_dict[k])) for k in self.state_names}
        for name, arr in arrays.items():
            if arr.shape != (self._space.size,):
                raise ValueError(f"state_dict[{name!r}] has shape {list(arr.shape)}, "
                                 f"this optimizer holds {self._space.size} values")
        counts = np.asarray(state_dict["step_counts"], dtype=np.int64)
        if counts.shape != self._step_counts.shape:
            raise ValueError(f"state_dict['step_counts'] has {counts.size} entries, "
                             f"this optimizer has {self._step_counts.size} parameters")
        for name, arr in arrays.items():
            self._state[name][...] = arr
            if self._mirror:
                self._mirror.upload_state(name, self._state[name])
        self._step_counts[...] = counts
        if "LR_Scheduler" in state_dict and isinstance(self._learning_rate, LRScheduler):
            self._learning_rate.set_state_dict(state_dict["LR_Scheduler"])

    set_dict = set_state_dict
