"""Checks that run when a rule is registered: the slips a rule's author makes, named before anything compiles.

``declare.py`` checks a declaration's own bookkeeping (names, what the passes
write, the order of segment steps). This module checks what needs the rule's
functions, which a slip there would otherwise surface as a ``KeyError`` in a
backend, a numba typing error deep in a generated loop, or, worse, as numbers
that are merely wrong:

* hyperparameters: a known ``kind``, a default its own range accepts, examples
  that pass the checks (and give every required hyperparameter);
* element functions: plain positional arguments; no numeric literal in
  arithmetic (numba computes a Python int or float with a float32 value in
  float64, so the compiled kernels would not compute the numpy reference's
  float32 numbers; comparisons such as ``x > 0`` are exact and allowed); a
  returned array name in the position ``Pass(writes=...)`` gives it;
* a dry run of the numpy reference on three elements for every example
  setting: ``constants()`` returns a dict with exactly the scalars the passes
  take (a missing or misspelt one is named), ``bool_scalars`` are bools, and
  each pass returns a tuple of as many float32 values as it writes and reduces.

``rules.register`` and the built-in registry run ``check_rule`` (about 1.5 ms a
rule, once per process).
"""

from __future__ import annotations

import ast
import functools
import inspect
import numbers
import textwrap

import numpy as np

from lasandbox.kernels import translate
from lasandbox.kernels.declare import GRAD, PARAM, HyperValues, Pass, Rule, SegmentStep

KINDS = ("real", "int", "flag")
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_SILENT = {"over": "ignore", "under": "ignore", "invalid": "ignore", "divide": "ignore"}
DRY_SIZE = 3


def check_rule(rule: Rule) -> None:
    """A ValueError naming the first slip found in ``rule`` (see the module docstring); None if there is none."""
    _check_hypers(rule)
    _check_steps(rule)
    for index, step in enumerate(rule.passes):
        if isinstance(step, Pass):
            for function in translate.helpers_of(step.fn):
                _check_literals(rule, function)
            _check_returned_names(rule, index, step)
    for hypers in rule.example_settings():
        _dry_run(rule, hypers)


def _describe(rule, index, step) -> str:
    kind = "pass" if isinstance(step, Pass) else "SegmentStep"
    return f"rule {rule.name!r}: {kind} {index} ({getattr(step.fn, '__qualname__', step.fn)})"


# ------------------------------------------------------------------------------------ hyperparameters
def _check_hypers(rule):
    for hyper in rule.hypers:
        if hyper.kind not in KINDS:
            raise ValueError(f"rule {rule.name!r}: hyperparameter {hyper.name!r} has kind {hyper.kind!r}; "
                             f"kind must be one of {', '.join(map(repr, KINDS))}")
        if hyper.low > hyper.high:
            raise ValueError(f"rule {rule.name!r}: hyperparameter {hyper.name!r} has low={hyper.low} > "
                             f"high={hyper.high}")
        if not hyper.required:
            try:
                hyper.check(hyper.default)
            except (TypeError, ValueError) as err:
                raise ValueError(f"rule {rule.name!r}: the default of hyperparameter {hyper.name!r} "
                                 f"({hyper.default!r}) is refused by its own declaration: {err}") from None
            if hyper.kind == "int" and isinstance(hyper.default, bool):
                raise ValueError(f"rule {rule.name!r}: hyperparameter {hyper.name!r} is an int, its default is "
                                 f"the bool {hyper.default!r}")
    for index, setting in enumerate(rule.examples or ({},)):
        try:
            rule.check_hypers(dict(setting))
        except (TypeError, ValueError) as err:
            raise ValueError(f"rule {rule.name!r}: examples[{index}] {setting!r} is refused: {err} (the examples "
                             f"are what the parity tests run: they must give every required hyperparameter "
                             f"and stay in the declared ranges)") from None


# ----------------------------------------------------------------------------- arguments and writes
def _check_steps(rule):
    reduced = set()
    for index, step in enumerate(rule.passes):
        where = _describe(rule, index, step)
        for parameter in inspect.signature(step.fn).parameters.values():
            if parameter.kind not in _POSITIONAL:
                raise ValueError(f"{where} takes {parameter}: an element function takes plain positional "
                                 f"arguments, each named after an array, a segment value or a scalar")
        if isinstance(step, Pass):
            if GRAD in step.writes:
                raise ValueError(f"{where} writes 'grad': the gradient is the caller's input, which no rule "
                                 f"writes (keep a modified gradient in a state array)")
            for arg in step.argument_names():
                if arg in rule.reductions:
                    raise ValueError(f"{where} reads the reduction {arg!r}: per-segment sums reach a pass only "
                                     f"through a SegmentStep (inputs={arg!r}), whose outputs the pass reads")
            reduced.update(step.reduction_names)
        else:
            for name in step.inputs:
                if name not in reduced:
                    raise ValueError(f"{where} takes the input {name!r}, which no earlier pass reduces (they "
                                     f"reduce {tuple(sorted(reduced)) or 'nothing'})")


@functools.lru_cache(maxsize=256)
def _tree(function):
    """The function's syntax tree (its def or lambda node), or None when its source is not available."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return None
    try:
        module = ast.parse(source)
    except SyntaxError:  # a lambda in the middle of a statement: its line alone does not parse
        return None
    code = function.__code__
    for node in ast.walk(module):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)) and \
                getattr(node, "name", "<lambda>") == code.co_name and \
                [a.arg for a in node.args.args] == list(code.co_varnames[:code.co_argcount]):
            return node
    return None


def _arithmetic_literals(node):
    """``(value, line)`` of each int/float literal in ``node``'s body that is not an operand of a comparison."""
    parents = {}
    body = node.body if isinstance(node.body, list) else [node.body]
    for statement in body:
        for parent in ast.walk(statement):
            for child in ast.iter_child_nodes(parent):
                parents[child] = parent
    found = []
    for statement in body:
        for item in ast.walk(statement):
            if not isinstance(item, ast.Constant) or isinstance(item.value, (bool, str, bytes, type(None))):
                continue
            if not isinstance(item.value, numbers.Number):
                continue
            above = parents.get(item)
            while isinstance(above, ast.UnaryOp):
                above = parents.get(above)
            if not isinstance(above, ast.Compare):
                found.append((item.value, item.lineno))
    return found


def _check_literals(rule, function):
    node = _tree(function)
    if node is None:  # no source (defined at a prompt): the float constants of its bytecode at least
        literals = [(c, None) for c in function.__code__.co_consts
                    if isinstance(c, (float, complex)) and not isinstance(c, bool)]
    else:
        literals = _arithmetic_literals(node)
    if literals:
        value, line = literals[0]
        first = getattr(function.__code__, "co_firstlineno", 0)
        where = f" (line {first + line - 1})" if line is not None else ""
        raise ValueError(
            f"rule {rule.name!r}: {function.__qualname__}{where} computes with the literal {value!r}. numba "
            f"computes a Python int or float with a float32 value in float64, so the cpu and cuda kernels would "
            f"not give the float32 numbers of the numpy reference: return it from constants() as a scalar "
            f"(e.g. \"two\": 2.0) and take that argument instead (literals in comparisons, x > 0, are fine)")


def _check_returned_names(rule, index, step):
    """``return m, param`` with ``writes=("param", "m")`` stores each value in the other array: refuse it."""
    node = _tree(step.fn)
    if node is None:
        return
    returns = [node.body] if isinstance(node, ast.Lambda) else \
        [r.value for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None]
    for value in returns:
        if not isinstance(value, ast.Tuple):
            continue
        for position, item in enumerate(value.elts[:len(step.writes)]):
            if isinstance(item, ast.Name) and item.id in step.writes and item.id != step.writes[position]:
                raise ValueError(f"{_describe(rule, index, step)} returns {item.id!r} in position {position}, "
                                 f"where Pass(writes={step.writes!r}) stores {step.writes[position]!r}: list the "
                                 f"writes in the order the function returns them")


# ------------------------------------------------------------------------------------------ dry run
def _dry_arrays(rule):
    arrays = {PARAM: np.array([0.5, -0.25, 1.0], np.float32), GRAD: np.array([0.1, -0.3, 0.2], np.float32)}
    for state in rule.state:
        values = [1.5, 2.0, 0.5] if state.nonnegative else [0.05, -0.1, 0.0]
        arrays[state.name] = np.array(values, np.float32)
    for name in rule.scratch:
        arrays[name] = np.zeros(DRY_SIZE, np.float32)
    return arrays


def _constants(rule, hypers):
    try:
        values = rule.constants(HyperValues(hypers), 0.01, 1)
    except Exception as err:
        raise ValueError(f"rule {rule.name!r}: constants(h, lr, step) raised {type(err).__name__}: {err} "
                         f"(hyperparameters {hypers})") from err
    if not isinstance(values, dict):
        raise ValueError(f"rule {rule.name!r}: constants(h, lr, step) must return a dict of scalars by name, "
                         f"got {type(values).__name__}")
    for name, value in values.items():
        if not isinstance(value, (numbers.Real, np.bool_)) or isinstance(value, np.ndarray):
            raise ValueError(f"rule {rule.name!r}: constants() gives {name!r} = {value!r}; every value must be "
                             f"a real number or a bool")
    missing = [n for n in rule.scalar_names if n not in values]
    if missing:
        arrays = ", ".join(rule.kernel_arrays)
        raise ValueError(f"rule {rule.name!r}: a pass takes {missing[0]!r}, which is not an array ({arrays}) "
                         f"nor a segment value, so it must be a scalar from constants(), which returns "
                         f"{', '.join(values) or 'nothing'} (a misspelt argument or state name?)")
    extra = [n for n in values if n not in rule.scalar_names]
    if extra:
        raise ValueError(f"rule {rule.name!r}: constants() returns {extra[0]!r}, which no pass takes (they take "
                         f"{', '.join(rule.scalar_names) or 'no scalars'}): a misspelt name?")
    for name in rule.bool_scalars:
        if not isinstance(values[name], (bool, np.bool_)):
            raise ValueError(f"rule {rule.name!r}: {name!r} is in bool_scalars, but constants() gives "
                             f"{values[name]!r}, not a bool (a bool scalar reaches the kernels uncast)")
    return rule.step_constants(hypers, 0.01, 1)


def _dry_run(rule, hypers):
    """Run the numpy reference's functions on three elements, checking what each returns."""
    scalars = _constants(rule, hypers)
    arrays = _dry_arrays(rule)
    values = {name: np.ones(DRY_SIZE, np.float32) for name in rule.segment_values}
    sums = {name: np.array([2.0]) for name in rule.reductions}
    for index, step in enumerate(rule.passes):
        where = _describe(rule, index, step)
        args = step.argument_names()
        if isinstance(step, SegmentStep):
            inputs = [sums[n] for n in step.inputs] + [scalars[a] for a in args[len(step.inputs):]]
            expected, what = len(step.outputs), f"outputs={step.outputs!r}"
        else:
            inputs = [arrays[a] if a in arrays else values[a] if a in values else
                      (scalars[a] if a in rule.bool_scalars else np.float32(scalars[a])) for a in args]
            expected = len(step.writes) + len(step.returned_reductions)
            what = f"writes={step.writes!r}" + (f" and the returned reductions {step.returned_reductions!r}"
                                                 if step.returned_reductions else "")
        try:
            with np.errstate(**_SILENT):
                out = step.fn(*inputs)
        except Exception as err:
            hint = (" (a branch on an array value: the numpy reference runs the function on whole arrays; use "
                    "rulemath.select)") if "truth value of an array" in str(err) else ""
            raise ValueError(f"{where} raised {type(err).__name__}: {err} on a trial run of the numpy "
                             f"reference{hint}") from err
        if not isinstance(out, tuple):
            raise ValueError(f"{where} returned {type(out).__name__}, not a tuple: return a tuple in the order of "
                             f"{what}, e.g. `return (param,)` for one value")
        if len(out) != expected:
            raise ValueError(f"{where} returned {len(out)} value(s), but the declaration has {expected}: {what}")
        if isinstance(step, SegmentStep):
            continue
        for name, value in zip(step.writes, out, strict=False):
            dtype = np.asarray(value).dtype
            if dtype != np.float32:
                raise ValueError(f"{where} computes {name!r} in {dtype} on float32 inputs: every value of an "
                                 f"element function is float32 (a float64 constant or numpy call?)")
            arrays[name] = np.broadcast_to(np.asarray(value, np.float32), (DRY_SIZE,)).copy()
