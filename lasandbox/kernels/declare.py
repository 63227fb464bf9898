"""How an update rule is declared: the data every backend, the optimizer, the tests and the benchmark read.

A rule module (``lasandbox/kernels/rules/<name>.py``) builds one ``Rule``:

* ``state``: the arrays it keeps besides the parameters (``State``: the kernel's
  argument name, Paddle's accumulator name, the initial value);
* ``hypers``: its hyperparameters (``Hyper``, in ``hypers.py``: default, type, accepted range,
  Paddle's name), checked from this declaration before anything is written;
* ``constants(h, lr, step)``: the host-side scalars of one step (bias
  corrections, ``1 - beta``, ...), computed in float64 from the checked
  hyperparameters ``h`` (attribute access), returned as a dict by name;
  ``h.power("beta1", step)`` is a power as Paddle's float32 accumulator holds
  it (a running product when the rule's ``power_counter`` has ``tensor_start``
  and the hyperparameter was given as a Tensor);
* ``passes``: what runs over the elements. Most rules are one ``Pass``: a
  plain function of one element whose argument names say what it reads
  (``param``, ``grad``, state names, then scalar names) and which returns the
  arrays it ``writes``, in that order. A rule that needs per-tensor reductions
  (a trust ratio per tensor) is several passes: a pass may also return values to be
  summed per segment (``reduces``; ``SumOfSquares(name, of=array)`` sums the squares of
  an array it reads or writes without returning them), a ``SegmentStep`` turns those sums
  into per-segment values, and a later pass reads them by name.

Every element function computes in float32: scalars arrive rounded to float32,
and it contains no numeric literal in arithmetic (numba computes an int or a
float literal with float32 values in float64; a number the math needs is a
scalar from ``constants``); comparisons such as ``x > 0`` are fine. Math goes
through ``lasandbox.kernels.rulemath``. ``rulecheck.check_rule`` enforces these,
and runs the functions once, when a rule is registered.

The bytes a step moves per element follow from the declaration (every array a
pass reads once, every array it writes once): ``Rule.bytes_per_element``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np

from lasandbox.kernels.hypers import REQUIRED, Hyper, HyperValues  # noqa: F401 - part of the declaration vocabulary

PARAM, GRAD = "param", "grad"
ITEMSIZE = 4  # float32


@dataclass(frozen=True)
class State:
    """A state array of the rule: kernel argument ``name``, Paddle's accumulator name, initial value.

    ``init`` is a number, or the name of a hyperparameter (an initial accumulator
    value), or ``"lr"`` (per-element step sizes that start at the learning rate).
    ``nonnegative``: the rule only ever stores values >= 0 here (Adam's second
    moment); tests and benchmarks draw such arrays from ``|normal|``.
    ``momentum``: this is the rule's first-moment (momentum) buffer, the one
    LookAhead's ``inner_state="reset"|"pullback"`` acts on by default.
    ``copies``: the name of an int hyperparameter; the state then holds that
    many arrays (a ring of past gradients: shape ``[copies, size]``), and
    each step works on the one ``slot(h, step)`` picks.
    """

    name: str
    paddle: str
    init: float | str = 0.0
    nonnegative: bool = False
    momentum: bool = False
    copies: str | None = None
    slot: object = None
    doc: str = ""


@dataclass(frozen=True)
class Counter:
    """A Paddle accumulator that holds a function of a parameter's step count, not an array the kernel
    updates: Adam's ``beta1_pow_acc`` is ``beta1^(t+1)`` after ``t`` steps. lasandbox keeps the count;
    ``value(h, t)`` writes Paddle's accumulator, and reading one back finds the smallest ``t`` whose
    value matches (``monotone="decreasing"``: powers; ``"identity"``: the count itself).

    ``shape``: ``"one"`` (a [1] tensor) or ``"param"`` (Paddle keeps some at the
    parameter's shape, every element equal).
    """

    paddle: str
    value: object
    shape: str = "one"
    dtype: str = "float32"
    monotone: str = "decreasing"
    # A power counter's hyperparameter, and where Paddle starts the accumulator when that hyperparameter
    # is given as a Tensor (Adam's beta1_pow_acc: 0.9 whatever the Tensor holds, then times each step's
    # value). The optimizer then keeps the running product per parameter, and ``constants`` reads it
    # through ``h.power``; None: the accumulator is always a power of the current value.
    hyper: str | None = None
    tensor_start: float | None = None


def power_counter(paddle, hyper, offset=0, shape="one", tensor_start=None):
    """``hyper^(t + offset)`` in Paddle's float32 accumulator (``offset=1``: Adam's, which starts at beta).

    ``tensor_start``: Paddle's initial value of the accumulator when ``hyper`` is a Tensor (see
    ``Counter``); only for ``offset=1`` accumulators, which hold the power the next step uses."""
    if tensor_start is not None and offset != 1:
        raise ValueError(f"power_counter({paddle!r}): tensor_start needs offset=1 (the accumulator holds the "
                         f"power the next step uses), got offset={offset}")
    return Counter(paddle, lambda h, t: h.power(hyper, t + offset), shape=shape, hyper=hyper,
                   tensor_start=tensor_start)


@dataclass(frozen=True)
class SumOfSquares:
    """A reduction of an array the pass reads or writes: per segment, the sum of ``x*x`` (float32 products)
    over the values the pass leaves in array ``of``. Declared in ``Pass.reduces`` instead of returned by the
    pass's function, it is summed straight from the array (in cache after each chunk's loop on the cpu
    backend) rather than stored element by element first; the same bits either way."""

    name: str
    of: str


@dataclass(frozen=True)
class Pass:
    """One sweep over the elements: ``fn(<arrays>, <segment values>, <scalars>) -> (<writes>, <reductions>)``.

    ``reduces``: per-segment sums, in order; a name is a value ``fn`` returns after its writes, a
    ``SumOfSquares`` one computed from an array."""

    fn: object
    writes: tuple
    reduces: tuple = ()

    def argument_names(self) -> tuple:
        return tuple(inspect.signature(self.fn).parameters)

    @property
    def reduction_names(self) -> tuple:
        return tuple(r.name if isinstance(r, SumOfSquares) else r for r in self.reduces)

    @property
    def returned_reductions(self) -> tuple:
        """The reductions ``fn`` returns (after its writes), by name."""
        return tuple(r for r in self.reduces if not isinstance(r, SumOfSquares))

    @property
    def squares(self) -> tuple:
        """The ``SumOfSquares`` reductions."""
        return tuple(r for r in self.reduces if isinstance(r, SumOfSquares))


@dataclass(frozen=True)
class SegmentStep:
    """Per segment: ``fn(<sums named in inputs>, <scalars>) -> <values named in outputs>`` (float64 math)."""

    fn: object
    inputs: tuple
    outputs: tuple

    def argument_names(self) -> tuple:
        return tuple(inspect.signature(self.fn).parameters)


# eq=False: a rule is its own identity (hashed by id, cheaply, in the kernel caches).
@dataclass(frozen=True, eq=False)
class Rule:
    """An update rule, declared once (see the module docstring)."""

    name: str
    summary: str
    state: tuple
    hypers: tuple
    constants: object
    passes: tuple
    uses_step: bool = False
    bool_scalars: tuple = ()
    reference: str = ""
    # Hyperparameter settings the parity tests run (the first also the benchmark's); each a dict by kernel
    # name, the required ones included. Empty: the defaults alone.
    examples: tuple = ()
    # PyTorch's version of the rule, for the benchmark: {"optimizer": "Adam", "kwargs": {...},
    # "state": {our state name: torch's state key}}; None when torch has none.
    torch: dict | None = None
    # Paddle's accumulators in the order Paddle creates them (its state_dict order): state arrays by
    # their Paddle names, and Counters for those Paddle derives from the step count. Empty: the states.
    paddle_accumulators: tuple = ()
    # Working arrays of one step, laid out like param, that a pass writes and a later pass reads (a two-pass
    # rule's update direction, so the second pass need not recompute it). The backends provide them; callers
    # never see them.
    scratch: tuple = ()
    # filled in by __post_init__
    arrays: tuple = field(init=False)
    kernel_arrays: tuple = field(init=False)
    scalar_names: tuple = field(init=False)
    segment_values: tuple = field(init=False)
    reductions: tuple = field(init=False)

    def __post_init__(self):
        arrays = (PARAM, GRAD, *(s.name for s in self.state))
        object.__setattr__(self, "arrays", arrays)
        object.__setattr__(self, "kernel_arrays", (*arrays, *self.scratch))
        arrays = self.kernel_arrays
        reductions = tuple(r for p in self.passes if isinstance(p, Pass) for r in p.reduction_names)
        values = tuple(o for p in self.passes if isinstance(p, SegmentStep) for o in p.outputs)
        object.__setattr__(self, "reductions", reductions)
        object.__setattr__(self, "segment_values", values)
        scalars = []
        for step in self.passes:
            for arg in step.argument_names():
                if arg not in arrays and arg not in values and arg not in reductions and arg not in scalars:
                    scalars.append(arg)
        object.__setattr__(self, "scalar_names", tuple(scalars))
        _check_declaration(self)

    # ------------------------------------------------------------------ derived facts
    @property
    def state_names(self) -> tuple:
        return tuple(s.name for s in self.state)

    @property
    def paddle_layout(self) -> tuple:
        """Paddle's accumulators in creation order: State objects and Counters."""
        if not self.paddle_accumulators:
            return self.state
        by_name = {s.paddle: s for s in self.state}
        return tuple(by_name[a] if isinstance(a, str) else a for a in self.paddle_accumulators)

    @property
    def segmented(self) -> bool:
        """Whether the rule reduces over segments (per parameter tensor), so takes ``segments``."""
        return bool(self.reductions)

    @property
    def written(self) -> frozenset:
        """The caller's arrays a step writes (the scratch arrays are the backend's own)."""
        return frozenset(a for p in self.passes if isinstance(p, Pass) for a in p.writes if a in self.arrays)

    def bytes_per_element(self, fused_sync=False) -> int:
        """Bytes one step must move per element: each pass reads its arrays once and writes its outputs once."""
        total = 0
        for step in self.passes:
            if isinstance(step, Pass):
                names = step.argument_names()
                reads = [a for a in names if a in self.kernel_arrays]
                writes = [a for a in step.writes if a in self.kernel_arrays]
                total += ITEMSIZE * (len(reads) + len(writes))
        return total + (2 * ITEMSIZE if fused_sync else 0)  # the sync reads and writes the slow weights

    def example_settings(self) -> tuple:
        """The declared example hyperparameters (or the defaults), each checked complete."""
        settings = self.examples or ({},)
        return tuple(self.check_hypers(dict(s)) for s in settings)

    def hyper(self, name) -> Hyper:
        for h in self.hypers:
            if h.name == name:
                return h
        raise KeyError(f"rule {self.name!r} has no hyperparameter {name!r}")

    def defaults(self) -> dict:
        return {h.name: h.default for h in self.hypers if not h.required}

    def check_hypers(self, values: dict, naming="kernel") -> dict:
        """All hyperparameters checked from the declaration (defaults filled in); unknown names are an error."""
        known = {h.name for h in self.hypers}
        unknown = [k for k in values if k not in known]
        if unknown:
            raise TypeError(f"rule {self.name!r} has no hyperparameter {unknown[0]!r}; it takes "
                            f"{', '.join(sorted(known)) or 'none'}")
        checked = {}
        for h in self.hypers:
            if h.name in values:
                checked[h.name] = h.check(values[h.name], naming)
            elif h.required:
                raise TypeError(f"{self.name}: hyperparameter {h.label(naming)!r} is required")
            else:
                checked[h.name] = h.default
        return checked

    def coerce_hypers(self, values: dict) -> dict:
        """Defaults filled in and each value made its kind's Python type, without range checks (the
        ``validate=False`` path: the caller has checked them once)."""
        kinds = {"flag": bool, "int": int, "real": float}
        out = self.defaults()
        for h in self.hypers:
            if h.name in values:
                out[h.name] = kinds[h.kind](values[h.name])
        return out

    def initial_value(self, state: State, hypers: dict, lr: float) -> float:
        if isinstance(state.init, str):
            return float(lr) if state.init == "lr" else float(hypers[state.init])
        return float(state.init)

    @property
    def running_powers(self) -> tuple:
        """The power counters kept as running products when their hyperparameter is a Tensor."""
        return tuple(c for c in self.paddle_accumulators if isinstance(c, Counter) and c.tensor_start is not None)

    def step_constants(self, hypers: dict, lr: float, step: int, powers=None) -> dict:
        """The scalars every pass takes, for one step (``hypers`` already checked), as Python floats and
        bools: a numpy scalar would make numba compile another specialisation of every loop.
        ``powers``: running products by hyperparameter name (``Counter.tensor_start``), which ``h.power``
        returns instead of a power of the current value."""
        values = self.constants(HyperValues(hypers, powers), lr, step)
        return {k: v if type(v) is bool or type(v) is float else _plain(v) for k, v in values.items()}


def _plain(value):
    return bool(value) if isinstance(value, (bool, np.bool_)) else float(value)


@dataclass(frozen=True, eq=False)
class Epilogue:
    """What a step does with each new parameter value before storing it (the fused Lookahead sync).

    ``fn(param, <arrays>, <scalars>) -> (param, <arrays>)``: it gets the value the
    rule just computed and returns the value to store, and new values for its
    own arrays (e.g. ``slow``). An optimizer's apply call takes a chain of them.
    """

    name: str
    fn: object
    arrays: tuple
    scalars: tuple

    def __post_init__(self):
        names = tuple(inspect.signature(self.fn).parameters)
        expected = (PARAM, *self.arrays, *self.scalars)
        if names != expected:
            raise ValueError(f"epilogue {self.name!r}: fn takes {names}, the declaration says {expected}")


def _check_declaration(rule: Rule) -> None:
    """Catch a contributor's slip when the rule is declared, not when a kernel first compiles."""
    for name in (*rule.kernel_arrays, *rule.scalar_names, *rule.reductions, *rule.segment_values):
        if name.startswith("_"):
            raise ValueError(f"rule {rule.name!r}: names may not start with '_' (the generated code's own), "
                             f"got {name!r}")
    if not rule.name.isidentifier():
        raise ValueError(f"rule name {rule.name!r} must be a Python identifier (it names "
                         f"lasandbox.kernels.<name>_step)")
    if not rule.passes or not isinstance(rule.passes[-1], Pass) or PARAM not in rule.passes[-1].writes:
        raise ValueError(f"rule {rule.name!r}: the last pass must write 'param' (the epilogue runs there)")
    names = [h.name for h in rule.hypers] + list(rule.state_names)
    if len(set(names)) != len(names):
        raise ValueError(f"rule {rule.name!r}: hyperparameter and state names must be distinct, got {names}")
    if set(rule.state_names) & {PARAM, GRAD, "lr", "step", "slow", "alpha", "backend", "validate", "segments"}:
        raise ValueError(f"rule {rule.name!r}: state names may not shadow the kernel function's own arguments")
    seen_values = set()
    for step in rule.passes:
        args = step.argument_names()
        if isinstance(step, Pass):
            for name in step.writes:
                if name not in rule.kernel_arrays:
                    raise ValueError(f"rule {rule.name!r}: a pass writes {name!r}, which is neither param nor a "
                                     f"state array {rule.state_names} nor a scratch array {rule.scratch}")
            if not step.writes and not step.reduces:
                raise ValueError(f"rule {rule.name!r}: a pass must write an array or reduce one (writes and reduces "
                                 f"are both empty)")
            for square in step.squares:
                if square.of not in rule.kernel_arrays or (square.of not in args and square.of not in step.writes):
                    raise ValueError(f"rule {rule.name!r}: SumOfSquares {square.name!r} is of {square.of!r}, which "
                                     f"the pass neither reads nor writes (it reads {args}, writes {step.writes})")
            for arg in args:
                if arg in rule.segment_values and arg not in seen_values:
                    raise ValueError(f"rule {rule.name!r}: a pass reads the segment value {arg!r} before the "
                                     f"SegmentStep that computes it")
        else:
            expected = tuple(step.inputs)
            if args[:len(expected)] != expected:
                raise ValueError(f"rule {rule.name!r}: a SegmentStep's fn must take its inputs {expected} first, "
                                 f"got {args}")
            seen_values.update(step.outputs)
    for state in rule.state:
        if state.copies is not None and (state.copies not in {h.name for h in rule.hypers if h.kind == "int"}
                                         or state.slot is None):
            raise ValueError(f"rule {rule.name!r}: state {state.name!r} has copies={state.copies!r}, which must "
                             f"name an int hyperparameter, and needs slot(h, step)")
    if rule.paddle_accumulators:
        listed = [a for a in rule.paddle_accumulators if isinstance(a, str)]
        if sorted(listed) != sorted(s.paddle for s in rule.state):
            raise ValueError(f"rule {rule.name!r}: paddle_accumulators must list every state's Paddle name once, "
                             f"got {listed}")
        if rule.uses_step and not any(isinstance(a, Counter) for a in rule.paddle_accumulators):
            raise ValueError(f"rule {rule.name!r} counts steps: paddle_accumulators needs a Counter to carry them")
    for name in rule.bool_scalars:
        if name not in rule.scalar_names:
            raise ValueError(f"rule {rule.name!r}: bool scalar {name!r} is not an argument of any pass")
