"""``Optimizer``: Paddle's optimizer interface over a flat parameter buffer, driven by a declared update rule.

A subclass is thin: it names its rule (``rule_name``, a key of
``lasandbox.kernels.rules``) and maps its Paddle-signature arguments onto the
rule's hyperparameters (``hypers=``). The base class keeps every parameter,
gradient and state array in one flat float32 buffer each and runs the rule's
kernel over it: one call per parameter group when every parameter has a
gradient. When some parameters have no gradient this step (Paddle skips
those), or ``minimize`` is given a subset, each run of adjacent parameters that
step gets one call; a rule that counts steps (Adam's bias correction) also
splits runs where the per-parameter counts differ, as Paddle counts per parameter.

The methods under "protocol" below are the public interface outer loops
(``LookAhead``, its nested and minimax variants, a user's own) drive an
optimizer through; see ``protocol.py``. Paddle's own methods (``step``,
``minimize``, the learning rate, ``state_dict``) are written on top of it, in
``paddle_methods.py``.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

from lasandbox.autograd.engine import no_grad
from lasandbox.autograd.tensor import Tensor
from lasandbox.backends import BACKEND_CHOICES
from lasandbox.optimizer import groups
from lasandbox.optimizer import nonfinite as nonfinite_policy
from lasandbox.optimizer.flat import DeviceMirror, FlatSpace
from lasandbox.optimizer.paddle_methods import PaddleMethods
from lasandbox.optimizer.regularizer import l1_coeff
from lasandbox.optimizer.running_powers import RunningPowers
from lasandbox.utils.validation import check_choice


def HyperValues(values):  # noqa: N802 - a class, imported on use
    from lasandbox.kernels.declare import HyperValues as values_class

    return values_class(values)


def _kernels():
    # Imported on use: the kernels pull in numba, and `import lasandbox` stays light.
    from lasandbox import kernels

    return kernels


class Optimizer(PaddleMethods):
    """Base optimizer. ``parameters`` is a list of Tensors or of dicts (parameter groups).

    ``hypers``: the rule's hyperparameters by the rule's names (checked from the
    declaration, errors in Paddle's names); a parameter group may override any of
    them (by Paddle's name) besides ``learning_rate`` (a scale) and ``weight_decay``.

    ``nonfinite``: what a step does when a gradient holds inf or NaN. ``"propagate"``
    (Paddle's behaviour) updates anyway; ``"raise"`` raises FloatingPointError naming
    the parameter and the step, nothing written; ``"skip"`` skips the step whole
    (no parameter or state written, the step not counted: ``skipped_steps`` counts
    it, and a ``NonFiniteGradientWarning`` says so). The check is one read of the
    selected gradients before the update (about a seventh of an Adam step's memory
    traffic; nothing when ``"propagate"``); the parameters themselves are not read.
    """

    rule_name: str | None = None
    # The rule hyperparameter that a float ``weight_decay`` (or L2Decay) sets; None: the rule takes none.
    weight_decay_hyper: str | None = "weight_decay"
    # True where that decay is decoupled (set by those classes): a parameter's own regularizer (ParamAttr)
    # is then added to its gradient, the decoupled decay kept, as Paddle does; otherwise it replaces the decay.
    decoupled_decay = False
    # Paddle's AdamW keeps a parameter's own regularizer inside parameter groups; the others replace it by
    # the group's weight decay.
    groups_keep_param_regularizer = False

    def __init__(self, learning_rate=0.001, parameters=None, weight_decay=None, grad_clip=None, name=None,
                 *, backend="auto", hypers=None, nonfinite="propagate"):
        if self.rule_name is None:
            raise TypeError(f"{type(self).__name__} names no update rule (set rule_name, a key of "
                            "lasandbox.kernels.rules); Optimizer itself is abstract")
        self.rule = _kernels().rules.get(self.rule_name)
        self._validate_lr(learning_rate)
        check_choice("backend", backend, BACKEND_CHOICES)
        self.nonfinite = check_choice("nonfinite", nonfinite, nonfinite_policy.NONFINITE_POLICIES)
        self.skipped_steps = 0
        hypers, self._live_hypers = self._split_live(dict(hypers or {}))
        hypers = self.rule.check_hypers(hypers, naming="paddle")
        default_decay = groups.decay_value(self, "weight_decay", weight_decay, hypers)
        if backend == "cuda":  # before the parameters move into the flat buffers: a refusal changes nothing
            _kernels().resolve_backend("cuda")
        grad_clip = groups.check_grad_clip("grad_clip", grad_clip)
        groups_spec, lr_claims, clips = groups.group_specs(self, parameters, default_decay, hypers, grad_clip,
                                                           l1_coeff(weight_decay))
        self._learning_rate = learning_rate
        self._grad_clip = grad_clip  # Paddle's attribute, for code that reads it; steps clip with _clip_groups
        self._name = name
        params = [p for spec in groups_spec for p in spec["params"]]
        self._space = FlatSpace(params, owner=self)
        self._groups, index = [], 0
        for spec in groups_spec:
            n = len(spec["params"])
            start, stop = int(self._space.offsets[index]), int(self._space.offsets[index + n])
            live = [name for name in self._live_hypers if name not in spec["set_by_group"]]
            self._groups.append(groups.ParamGroup(list(range(index, index + n)), start, stop, spec["lr_scale"],
                                                  spec["hypers"], spec["grad_l2"], live, spec["grad_l1"]))
            index += n
        # The parameters each clipper clips together: one entry per group of the parameters argument.
        self._clip_groups = [([i for group, spec in zip(self._groups, groups_spec, strict=True)
                               if spec["user_group"] == g for i in group.indices], clip)
                             for g, clip in enumerate(clips) if clip is not None]
        groups.claim_group_learning_rates(lr_claims)
        self._state = {}
        for state in self.rule.state:
            # A ring of copies (of past gradients, say) is one row per copy, each laid out like the parameters.
            copies = hypers[state.copies] if state.copies else None
            buffer = self._space.zeros() if copies is None else self._space.zeros(copies).reshape(copies, -1)
            for group in self._groups:  # initial accumulator values, initial per-element rates ...
                buffer[..., group.start:group.stop] = self.rule.initial_value(
                    state, group.hypers, self._initial_lr() * group.lr_scale)
            self._state[state.paddle] = buffer
        self._step_counts = np.zeros(len(params), dtype=np.int64)
        self._powers = RunningPowers(self.rule, self._live_hypers, len(params))
        self._backend = "cpu" if backend == "auto" else backend
        self._mirror = DeviceMirror(self._space, _kernels()) if self._backend == "cuda" else None
        self._tables = {}

    @property
    def backend(self) -> str:
        """The kernel backend, fixed at construction: on ``cuda`` the state lives on the device."""
        return self._backend

    @backend.setter
    def backend(self, value):
        # Switching would strand the state (and LookAhead's slow weights) on the wrong side of the bus.
        raise AttributeError(f"an optimizer's backend is chosen at construction (backend={value!r} was given "
                             f"afterwards; it stays {self._backend!r}): create it with backend={value!r}")

    @property
    def state_names(self) -> tuple:
        """Paddle's names of the rule's state buffers (``("moment1", "moment2")`` for Adam)."""
        return tuple(s.paddle for s in self.rule.state)

    @property
    def momentum_state(self) -> str | None:
        """The first-moment buffer (what LookAhead's ``inner_state='pullback'`` acts on by default), or None."""
        return self.rule.state[0].paddle if self.rule.state and self.rule.state[0].momentum else None

    # ------------------------------------------------------------ validation
    def _split_live(self, hypers):
        """Hyperparameters given as Tensors (Paddle: ``beta1: float | Tensor``) are read at every step;
        their current value is checked now, the Tensors kept."""
        live = {}
        for name, value in list(hypers.items()):
            if isinstance(value, Tensor):
                hyper = self.rule.hyper(name)
                if value._value.size != 1:
                    raise ValueError(f"{hyper.label('paddle')} given as a Tensor must hold one value, got shape "
                                     f"{list(value.shape)}")
                hypers[name] = hyper.check(float(value._value.reshape(-1)[0]), naming="paddle")
                live[name] = value
        return hypers, live

    def _hypers_now(self, group):
        """The group's hyperparameters at this step (the optimizer's Tensor-valued ones read now, unless the
        group sets its own value: Paddle's ``_update_param_group`` lets the group's float win)."""
        if not group.live:
            return group.hypers
        now = dict(group.hypers)
        for name in group.live:
            now[name] = self.rule.hyper(name).check(float(self._live_hypers[name]._value.reshape(-1)[0]),
                                                    naming="paddle")
        return now

    # ----------------------------------------------------------- properties
    @property
    def _parameter_list(self):  # Paddle's attribute name; lasandbox code uses parameters()
        return self._space.params

    def parameters(self) -> list:
        """The parameters this optimizer updates, in flat-buffer order (each listed once)."""
        return list(self._space.params)

    def flat_parameters(self):
        """The flat float32 host buffer every parameter is a view of (writes go into the model)."""
        return self._space.param_buffer

    def flat_gradients(self):
        """The flat float32 gradient buffer, laid out like ``flat_parameters()``."""
        return self._space.grad_buffer

    @property
    def global_step(self):
        """Steps taken so far (the most any parameter has taken)."""
        return int(self._step_counts.max()) if self._step_counts.size else 0

    # ------------------------------------------------------------- protocol
    def select(self, parameters=None, no_grad_set=None, *, warn_if_empty=False):
        """The parameters to update now (trainable, with a gradient; within ``parameters``, minus
        ``no_grad_set``), as an opaque selection for ``apply`` and ``params_grads``."""
        self._space.reclaim_stolen()
        chosen = self._selection(parameters, no_grad_set)
        chosen_ids = None if chosen is None else {id(p) for p in chosen}
        ready = [
            i for i, p in enumerate(self._space.params)
            if p._grad is not None and not p.stop_gradient and (chosen_ids is None or id(p) in chosen_ids)
        ]
        if warn_if_empty and not ready:
            warnings.warn("minimize() found no gradients: call loss.backward() first "
                          "(as in Paddle's eager mode, minimize does not run backward)", stacklevel=3)
        return ready

    def params_grads(self, selection):
        """``[(parameter, gradient Tensor), ...]`` of a selection (what ``minimize`` returns)."""
        return [(self._space.params[i], Tensor(self._space.params[i]._grad)) for i in selection]

    def first_nonfinite(self, selection):
        """The first selected parameter whose gradient holds inf or NaN, as ``(index, name)``, or None."""
        return nonfinite_policy.first_nonfinite(self._space, selection, "numpy" if self._backend == "numpy" else "cpu")

    def refuse_nonfinite(self, selection, policy, step):
        """Apply ``policy`` to the selection's gradients: True if the step must not happen (after raising
        or warning as the policy says). Outer loops (LookAhead) use it with their own policy."""
        if policy == "propagate":
            return False
        return nonfinite_policy.refuse(self.first_nonfinite(selection), policy, step)

    @no_grad()
    def apply(self, selection, epilogues=()):
        """One update of the selected parameters by the rule; ``epilogues`` (``kernels.epilogues.Bound``
        over flat buffers laid out like the parameters, e.g. LookAhead's sync) run fused on every new value.
        Returns False when the step did not happen (nothing selected, or skipped for a non-finite gradient)."""
        if not selection:
            return False
        if self.refuse_nonfinite(selection, self.nonfinite, self.global_step + 1):
            self.skipped_steps += 1
            return False
        lr = self.get_lr()  # first: a scheduler's bad rate raises here, before the gradients are clipped
        chosen = set(selection)
        for members, clip in self._clip_groups:
            grads = [self._space.params[i]._grad for i in members if i in chosen]
            if grads:
                clip.clip_(grads)
        self._add_grad_regularizers(chosen)
        if self._mirror:
            self._mirror.upload_step_inputs()
        impl = _kernels().api.backend_module(self._backend)
        for group in self._groups:
            members = [i for i in group.indices if i in chosen]
            if not members:
                continue
            counts = self._step_counts[members]
            # The whole group in one call: all of it steps, and the counts (and running powers) agree or do
            # not matter.
            if len(members) == len(group.indices) and (not self.rule.uses_step or counts.min() == counts.max()) \
                    and all(r[members].min() == r[members].max() for r in self._powers.of(group).values()):
                spans = [(group.start, group.stop, int(counts[0]) + 1, self._powers.at(members[0], group))]
            else:
                spans = self._merged_spans(members, group)
            hypers = self._hypers_now(group)
            for start, stop, step, powers in spans:
                self._run_span(impl, group, hypers, start, stop, lr * group.lr_scale, step, powers, epilogues)
            self._step_counts[members] += 1
            self._powers.advance(group, members, hypers)
        if self._mirror:
            self._mirror.download_params()
        return True

    def _add_grad_regularizers(self, chosen):
        """``grad += coeff*param`` for parameters whose own regularizer goes into the gradient (after
        clipping, as Paddle's ``append_regularization_ops``; float32 products rounded as Paddle's scale op)."""
        for group in self._groups:
            if not (group.grad_l2 or group.grad_l1):
                continue
            for i in group.indices:
                if i in chosen:
                    p = self._space.params[i]
                    if group.grad_l2:
                        p._grad += np.float32(group.grad_l2) * p._value
                    if group.grad_l1:  # Paddle's L1Decay: scale(sign(param), coeff), then added
                        p._grad += np.sign(p._value) * np.float32(group.grad_l1)

    def _run_span(self, impl, group, hypers, start, stop, lr, step, powers, epilogues):
        arrays = {name: buffer[start:stop] for name, buffer in self._kernel_buffers().items()}
        for state in self.rule.state:
            if state.copies:  # the ring's row this step overwrites
                slot = state.slot(HyperValues(group.hypers), step)
                arrays[state.name] = self._kernel_buffers()[state.name][slot, start:stop]
        scalars = self.rule.step_constants(hypers, lr, step, powers)
        chain = []
        for j, bound in enumerate(epilogues):
            chain.append(bound.epilogue)
            for name, array in zip(bound.epilogue.arrays, bound.arrays, strict=True):
                arrays[f"{name}_e{j}"] = array[start:stop]
            scalars.update({f"{k}_e{j}": v for k, v in bound.scalars.items()})
        impl.run_in_training(self.rule, tuple(chain), arrays, scalars,
                             self._table(start, stop) if self.rule.segmented else None)

    def _kernel_buffers(self) -> dict:
        """The buffers the kernels see, by the rule's array names: host arrays, or device mirrors on cuda."""
        mirror = self._mirror
        buffers = {"param": mirror.params if mirror else self._space.param_buffer,
                   "grad": mirror.grads if mirror else self._space.grad_buffer}
        for state in self.rule.state:
            host = self._state[state.paddle]
            buffers[state.name] = mirror.state(state.paddle, host) if mirror else host
        return buffers

    def _table(self, start, stop):
        """The per-tensor segments of ``[start, stop)`` (a rule with per-tensor reductions needs them)."""
        key = (start, stop)
        if key not in self._tables:
            offsets = self._space.offsets
            inside = offsets[(offsets >= start) & (offsets <= stop)] - start
            self._tables[key] = _kernels().api.loops.ChunkTable(inside)
        return self._tables[key]

    def _merged_spans(self, members, group):
        """``(start, stop, step, powers)`` per kernel call when only some parameters step, or their counts
        (or running powers) differ.

        Adjacent parameters share a call when their step counts agree (or when the
        rule ignores the count) and so do their running powers: after one step in which
        a parameter had no gradient, its count lags for good, and the others still go in one call.
        """
        spans, previous = [], None
        for i in members:
            start, stop = self._space.range_of(i)
            step, powers = int(self._step_counts[i]) + 1, self._powers.at(i, group)
            if previous == i - 1 and (spans[-1][2] == step or not self.rule.uses_step) and spans[-1][3] == powers:
                spans[-1] = (spans[-1][0], stop, *spans[-1][2:])
            else:
                spans.append((start, stop, step, powers))
            previous = i
        return spans

    @no_grad()
    def apply_epilogues(self, epilogues):
        """Run ``epilogues`` over all parameters with no update (a manual LookAhead sync)."""
        if self._mirror:
            self._mirror.upload_step_inputs()
        arrays, scalars, chain = {}, {}, []
        for j, bound in enumerate(epilogues):
            chain.append(bound.epilogue)
            arrays.update({f"{name}_e{j}": array for name, array in zip(bound.epilogue.arrays, bound.arrays,
                                                                        strict=True)})
            scalars.update({f"{k}_e{j}": v for k, v in bound.scalars.items()})
        kernels = _kernels()
        param = self._mirror.params if self._mirror else self._space.param_buffer
        kernels.api.run_epilogues(param, chain, arrays, scalars, backend=self._backend)
        if self._mirror:
            self._mirror.download_params()

    def new_buffer(self, copy_of_parameters=True):
        """A flat float32 buffer on this optimizer's side (the device on cuda), laid out like the
        parameters: a copy of them, or zeros."""
        host = self._space.param_buffer.copy() if copy_of_parameters else self._space.zeros()
        return _kernels().to_device(host) if self._backend == "cuda" else host

    def to_host(self, buffer):
        """A host view (numpy) or copy (device) of a buffer made by ``new_buffer``."""
        return buffer.copy_to_host() if self._backend == "cuda" else buffer

    def state_buffer(self, name):
        """The host array of state buffer ``name`` (downloaded first on cuda); read it, or write
        inside ``edit_state`` so the change reaches the device."""
        if name not in self._state:
            raise KeyError(f"{type(self).__name__} has no state {name!r}; it keeps {self.state_names}")
        if self._mirror:
            self._mirror.download_state(name, self._state[name])
        return self._state[name]

    @contextlib.contextmanager
    def edit_state(self, name):
        """``with opt.edit_state("moment1") as m: m *= 0.5``: change a state buffer in place (host array)."""
        array = self.state_buffer(name)
        yield array
        if self._mirror:
            self._mirror.upload_state(name, array)

    def restart(self):
        """An outer loop just reset the parameters (a sync): nothing to do for a plain optimizer.

        ``LookAhead`` restarts its slow weights from the parameters (nested Lookahead)."""
