"""The public kernel functions, derived from the rule declarations: validate, combine the host scalars, dispatch.

For every registered rule there is ``lasandbox.kernels.<name>_step``, written
out (``step_function``) with the rule's own argument names: its arrays
(``param``, ``grad``, the state arrays), ``lr``, ``step`` when the rule counts
steps (from 1), its required hyperparameters, then keywords: the optional
hyperparameters, ``segments`` for rules with per-tensor reductions, ``slow`` /
``alpha`` (the Lookahead sync fused into the same pass), ``backend`` and
``validate``. Each updates its arrays in place and returns None. The
per-element math is float32; the scalars it uses (bias corrections,
``1 - beta`` ...) are computed once per call in float64 by the rule's
``constants`` and rounded to float32 by the backend.

``backend`` is ``"numpy"`` (the readable reference), ``"cpu"`` (numba,
multi-threaded above ``cpu_backend.SERIAL_THRESHOLD`` elements), ``"cuda"``
(numba.cuda, on device arrays) or ``"auto"`` (cuda when ``param`` is a device
array, else cpu). ``validate=False`` skips the checks of arrays and
hyperparameters (a few microseconds per call): for an optimizer that checked
its buffers once and calls the same kernel every step.
"""

from __future__ import annotations

import numpy as np

from lasandbox.backends import BACKEND_CHOICES, HOST_BACKENDS, KERNEL_BACKENDS
from lasandbox.kernels import checks, cpu_backend, cuda_backend, loops, numpy_backend, rules, scratch
from lasandbox.kernels.checks import flag, is_device_array, real, step_count
from lasandbox.kernels.declare import PARAM, HyperValues, Pass, Rule
from lasandbox.kernels.epilogues import LOOKAHEAD, lookahead_scalars
from lasandbox.utils.validation import check_int

_MODULES = dict(zip(KERNEL_BACKENDS, (numpy_backend, cpu_backend, cuda_backend), strict=True))
_cuda_available = None


def available_backends() -> list[str]:
    """``["numpy", "cpu"]``, plus ``"cuda"`` when ``numba.cuda.is_available()``."""
    global _cuda_available
    if _cuda_available is None:
        _cuda_available = cuda_backend.is_available()
    return list(KERNEL_BACKENDS if _cuda_available else HOST_BACKENDS)


def resolve_backend(name="auto", *arrays) -> str:
    """The concrete backend for ``name``: ``"auto"`` picks cuda for device arrays, else cpu.

    Raises ValueError for an unknown name, or for "cuda" when no GPU (nor the
    simulator) is available.
    """
    if name == "cpu" or name == "numpy":
        return name
    if name == "auto":
        first = arrays[0] if arrays else None
        if type(first) is np.ndarray:  # the common case, decided without the slower attribute probes
            return "cpu"
        first = next((array for array in arrays if array is not None), None)
        return "cuda" if first is not None and is_device_array(first) else "cpu"
    if name == "cuda":
        if "cuda" not in available_backends():
            raise ValueError("backend 'cuda' is not available: numba.cuda.is_available() is False "
                             "(no GPU visible; NUMBA_ENABLE_CUDASIM=1 runs the simulator)")
        return name
    raise ValueError(f"backend must be one of {', '.join(map(repr, BACKEND_CHOICES))}, got {name!r}")


def backend_module(name):
    """The module that runs kernels for a concrete backend name (``numpy``, ``cpu``, ``cuda``)."""
    return _MODULES[name]


def _checked_backend(backend, named_arrays, written, optional=frozenset()):
    name = resolve_backend(backend, named_arrays[0][1])
    if name == "cuda":
        checks.device_arrays(named_arrays, written, optional)
    else:
        checks.host_arrays(named_arrays, written, optional)
    return _MODULES[name]


def _unchecked_backend(backend, param):
    if backend == "auto":
        return cpu_backend if type(param) is np.ndarray else cuda_backend
    return _MODULES[backend]


def _size(array):
    return array.size if isinstance(array, np.ndarray) else cuda_backend._size(array)


_SLOW = frozenset(("slow",))


DEFAULT_ALPHA = 0.5  # the fused sync's weight when slow= is given without alpha= (Paddle's LookAhead default)


def run_step(rule: Rule, arrays, lr, step, hypers, *, slow=None, alpha=None, segments=None, backend="auto",
             validate=True):
    """One step of ``rule`` on ``arrays`` (in ``rule.arrays`` order), in place: what every ``<name>_step`` calls."""
    if alpha is not None and slow is None:  # a sync weight with no sync would be accepted and ignored
        raise TypeError(f"alpha={alpha!r} is the weight of the fused Lookahead sync, which runs only with slow= "
                        "(the slow weights); pass slow=..., or leave alpha out")
    alpha = DEFAULT_ALPHA if alpha is None else alpha
    if validate is not True and validate is not False:  # validate="no" would have validated
        validate = flag("validate", validate)
    if validate:
        lr = real("lr", lr)
        step = step_count(step)
        hypers = rule.check_hypers(hypers)
        _refuse_start_only(rule, hypers)
        alpha = real("alpha", alpha, 0.0, 1.0)
        arrays = _slot_rows(rule, arrays, hypers, step, validate)
        named = (*zip(rule.arrays, arrays, strict=True), ("slow", slow))
        impl = _checked_backend(backend, named, rule.written | _SLOW, _SLOW)
        if rule.segmented:
            segments = loops.segment_offsets(segments, _size(arrays[0]))
        elif segments is not None:
            raise TypeError(f"rule {rule.name!r} has no per-segment reduction; segments must be None")
    else:  # float(): a numpy scalar would make numba compile another specialisation
        impl = _unchecked_backend(backend, arrays[0])
        lr, step, alpha = float(lr), int(step), float(alpha)
        hypers = rule.coerce_hypers(hypers)
        if rule.segmented:
            segments = np.array([0, _size(arrays[0])]) if segments is None else np.asarray(segments, np.int64)
    if not validate:
        arrays = _slot_rows(rule, arrays, hypers, step, validate)
    scalars = rule.step_constants(hypers, lr, step)
    named_arrays = dict(zip(rule.arrays, arrays, strict=True))
    chain = ()
    if slow is not None:
        chain = (LOOKAHEAD,)
        named_arrays["slow_e0"] = slow
        scalars = {**scalars, **{f"{k}_e0": v for k, v in lookahead_scalars(alpha).items()}}
    impl.run(rule, chain, named_arrays, scalars, loops.chunk_table(segments) if rule.segmented else None)


class _ReadRecorder(HyperValues):
    """``HyperValues`` that notes which hyperparameters ``constants`` reads."""

    __slots__ = ("_read",)

    def __init__(self, values):
        super().__init__(values)
        object.__setattr__(self, "_read", set())

    def power(self, name, t):
        self._read.add(name)
        return super().power(name, t)

    def __getattr__(self, name):
        if not name.startswith("_"):
            self._read.add(name)
        return super().__getattr__(name)


_START_ONLY = {}  # rule -> names of its hyperparameters that only give a state array its starting value


def start_only_hypers(rule: Rule) -> frozenset:
    """The hyperparameters that only say where a state array starts (``State(init=<name>)``) and that the
    step's ``constants`` never read (an initial accumulator value): the optimizer fills the state with
    them once, a kernel call updates the state array it is given."""
    if rule not in _START_ONLY:
        named = {s.init for s in rule.state if isinstance(s.init, str)} & set(rule.defaults())
        if named:  # the defaults of the named ones stand in for values; a required one has no default to use
            recorder = _ReadRecorder(rule.defaults())
            try:
                rule.constants(recorder, 0.1, 1)
            except AttributeError:  # it reads a required hyperparameter: take every named one as read
                recorder._read.update(named)
            named -= recorder._read
        _START_ONLY[rule] = frozenset(named)
    return _START_ONLY[rule]


def _refuse_start_only(rule, hypers):
    for name in start_only_hypers(rule):
        if hypers[name] != rule.hyper(name).default:  # a value the step would accept and ignore
            state = next(s.name for s in rule.state if s.init == name)
            raise TypeError(f"{name}={hypers[name]!r} only sets the value {state} starts from, which the optimizer "
                            f"fills in once; a kernel call updates the {state} array it is given: fill it yourself "
                            f"({state}[:] = {hypers[name]!r}) and leave {name} out")


def _slot_rows(rule, arrays, hypers, step, validate):
    """For a state with ``copies`` (a ring of arrays, shape ``[copies, size]``), the row this step works on."""
    if not any(s.copies for s in rule.state):
        return arrays
    arrays = list(arrays)
    for index, state in enumerate(rule.state, start=2):
        if state.copies is None:
            continue
        array, copies = arrays[index], hypers[state.copies]
        if validate:
            shape = tuple(getattr(array, "shape", ()))
            expected = (copies, _size(arrays[0]))
            if shape != expected:
                raise ValueError(f"{state.name} must have shape ({state.copies}={copies}, {expected[1]}) (one row "
                                 f"per copy, each laid out like param), got {shape}")
        arrays[index] = array[state.slot(HyperValues(hypers), step)]
    return arrays


def run_epilogues(param, chain, chain_arrays, chain_scalars, *, backend):
    """The ``chain`` of epilogues alone over ``param`` (no inner step): what ``lookahead_sync`` runs."""
    arrays = {PARAM: param, **chain_arrays}
    _MODULES[backend].run(KEEP, tuple(chain), arrays, chain_scalars, None)


def _keep(param):
    return (param,)


# The "rule" that leaves the parameters as they are: an epilogue chain runs on it alone.
KEEP = Rule(name="keep", summary="leave param unchanged", state=(), hypers=(), constants=lambda h, lr, step: {},
            passes=(Pass(_keep, writes=(PARAM,)),))


def lookahead_sync(fast, slow, alpha, *, backend="auto", validate=True):
    """The Lookahead "step back", in place: ``slow = alpha*fast + (1-alpha)*slow; fast = slow``."""
    if validate is not True and validate is not False:
        validate = flag("validate", validate)
    if validate:
        impl = _checked_backend(backend, (("fast", fast), ("slow", slow)), frozenset(("fast", "slow")))
        alpha = real("alpha", alpha, 0.0, 1.0)
    else:
        impl = _unchecked_backend(backend, fast)
        alpha = float(alpha)
    scalars = {f"{k}_e0": v for k, v in lookahead_scalars(alpha).items()}
    impl.run(KEEP, (LOOKAHEAD,), {PARAM: fast, "slow_e0": slow}, scalars, None)


# ------------------------------------------------------------------------------ the generated functions
def _signature_parts(rule: Rule):
    positional = [*rule.arrays, "lr"] + (["step"] if rule.uses_step else [])
    positional += [h.name for h in rule.hypers if h.required]
    keywords = [f"{h.name}={h.default!r}" for h in rule.hypers if not h.required]
    if rule.segmented:
        keywords.append("segments=None")
    keywords += ["slow=None", "alpha=None", 'backend="auto"', "validate=True"]
    return positional, keywords


def _docstring(rule: Rule) -> str:
    lines = [rule.summary, "", "In place on contiguous 1-D float32 arrays of one size (``step`` counts from 1)."]
    for h in rule.hypers:
        paddle = f"; Paddle: ``{h.paddle}``" if h.paddle else ""
        default = "required" if h.required else f"default {h.default!r}"
        lines.append(f"``{h.name}``: {h.doc} ({h.describe()}, {default}{paddle}).")
    for s in rule.state:
        lines.append(f"``{s.name}``: state array (Paddle's accumulator ``{s.paddle}``, starts at {s.init!r}).")
    for name in sorted(start_only_hypers(rule)):
        lines.append(f"``{name}`` only says where the optimizer starts a state array: a kernel call refuses "
                     "any other value than the default (fill the array instead).")
    if rule.segmented:
        lines.append("``segments``: int offsets ``[0, ..., size]``; the reductions are per segment "
                     "(per parameter tensor); None = one segment.")
    lines.append("With ``slow``, the Lookahead sync is fused into the same pass: "
                 f"``slow = alpha*param + (1-alpha)*slow; param = slow`` (``alpha`` default {DEFAULT_ALPHA}; "
                 "without ``slow`` it is refused).")
    if rule.reference:
        lines += ["", rule.reference]
    return "\n".join(lines)


def step_function(rule):
    """``lasandbox.kernels.<name>_step`` for ``rule`` (a Rule or a registered name), written out with
    explicit arguments so that calls cost what a hand-written function costs."""
    rule = rules.get(rule)
    positional, keywords = _signature_parts(rule)
    hypers = ", ".join(f"{h.name!r}: {h.name}" for h in rule.hypers)
    step = "step" if rule.uses_step else "1"
    segments = "segments" if rule.segmented else "None"
    source = (f"def {rule.name}_step({', '.join(positional)}, *, {', '.join(keywords)}):\n"
              f"    return _run(_rule, ({', '.join(rule.arrays)},), lr, {step}, {{{hypers}}}, slow=slow, "
              f"alpha=alpha, segments={segments}, backend=backend, validate=validate)\n")
    namespace = {"_run": run_step, "_rule": rule}
    exec(compile(source, f"<lasandbox.kernels.{rule.name}_step>", "exec"), namespace)  # noqa: S102
    function = namespace[f"{rule.name}_step"]
    function.__doc__ = _docstring(rule)
    function.__module__ = "lasandbox.kernels"
    function.rule = rule
    return function


def retire(function):
    """Make a ``<name>_step`` built for a rule that has since been redefined (``rules.register(...,
    replace=True)``) raise instead of running the old definition."""
    rule = function.rule

    def refuse(*args, **kwargs):
        raise RuntimeError(f"{rule.name}_step was built for an earlier definition of rule {rule.name!r}, which "
                           f"rules.register(..., replace=True) has replaced: use lasandbox.kernels.{rule.name}_step "
                           f"again (or import it again) for the new one")

    function.__globals__["_run"] = refuse


def step_functions() -> dict:
    """``{"<name>_step": function}`` for every registered rule."""
    return {f"{rule.name}_step": step_function(rule) for rule in rules.all_rules()}


# ------------------------------------------------------------------------------------------- buffers
def aligned_zeros(size: int) -> np.ndarray:
    """A zeroed 1-D float32 array whose data starts on a 64-byte (cache-line) boundary (``scratch.aligned``).

    The cpu kernels cope with unaligned arrays (they peel the unaligned head), but aligned
    flat buffers let every backend, and PyTorch on the same memory, use aligned vector loads
    from the first element.
    """
    return scratch.aligned(np.zeros, check_int("size", size, low=0))  # int(size) took 2.5 as 2 and True as 1


def to_device(array):
    """Copy a host array to the GPU (a numba device array of float32)."""
    return cuda_backend.to_device(array)


def to_host(array):
    """Copy a device array back to a numpy array (numpy arrays are returned as they are)."""
    return cuda_backend.to_host(array)


__all__ = ["run_step", "run_epilogues", "lookahead_sync", "step_function", "step_functions", "retire", "aligned_zeros",
           "to_device", "to_host", "available_backends", "resolve_backend"]
