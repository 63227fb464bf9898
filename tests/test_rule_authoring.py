"""Writing one's own rule, as the README's "Adding an update rule" tells it: the slips an author makes are named
when the rule is registered (not as a KeyError in a backend, a numba traceback or wrong numbers), an edited
rule is what runs next, and a redefined rule replaces its public function.

Everything here runs on the numpy backend or hashes source: nothing compiles.
"""

from __future__ import annotations

import numpy as np
import pytest

from lasandbox import kernels
from lasandbox.kernels import compiled, rules
from lasandbox.kernels.declare import Hyper, Pass, Rule, SegmentStep, State, SumOfSquares
from lasandbox.kernels.rulemath import select, sign, sqrt


def _heavy_ball(param, grad, m, lr, mu):
    m = mu * m + grad
    return param - lr * m, m


def _constants(h, lr, step):
    return {"lr": lr, "mu": h.mu}


MU = (Hyper("mu", 0.9, high=1.0),)
MOMENT = (State("m", paddle="m"),)


def _rule(name="authoring_trial", *, fn=_heavy_ball, writes=("param", "m"), hypers=MU, constants=_constants,
          state=MOMENT, **extra):
    return Rule(name, "a trial rule", state, hypers, constants, (Pass(fn, writes=writes),), **extra)


def _registers(rule):
    """Register ``rule``, then take it out again (the registry is the process's)."""
    try:
        rules.register(rule)
    finally:
        rules._registry.pop(rule.name, None)


def test_a_well_formed_rule_registers():
    _registers(_rule())


# --------------------------------------------------------------------------- slips, one per function
def _misnamed_state(param, grad, velocity, lr, mu):  # the state is called "m"
    velocity = mu * velocity + grad
    return param - lr * velocity, velocity


def _float_literal(param, grad, m, lr, mu):
    m = mu * m + 0.1 * grad
    return param - lr * m, m


def _int_literal(param, grad, m, lr, mu):
    m = mu * m + grad
    return param - lr * (2 * m), m


def _returns_one(param, grad, m, lr, mu):
    return (param - lr * grad,)


def _returns_bare(param, grad, m, lr, mu):
    return param - lr * grad


def _branches_on_data(param, grad, m, lr, mu):
    if grad > 0:
        param = param - lr
    return param, m


def _star_args(param, grad, m, *scalars):
    return param, m


def _returns_float64(param, grad, m, lr, mu):
    return param - lr * np.float64(1.5) * grad, m


SLIPS = {
    "a pass argument that names no array": (dict(fn=_misnamed_state), "takes 'velocity', which is not an array"),
    "writes in the wrong order": (dict(writes=("m", "param")), "returns 'm' in position 1"),
    "writes the gradient": (dict(writes=("param", "grad"), fn=_heavy_ball), "writes 'grad'"),
    "a float literal": (dict(fn=_float_literal), "literal 0.1"),
    "an int literal in arithmetic": (dict(fn=_int_literal), "literal 2"),
    "fewer values than writes": (dict(fn=_returns_one), "returned 1 value"),
    "a bare value, not a tuple": (dict(fn=_returns_bare, writes=("param",)), "not a tuple"),
    "a branch on array values": (dict(fn=_branches_on_data), "rulemath.select"),
    "star arguments": (dict(fn=_star_args), r"\*scalars"),
    "float64 math": (dict(fn=_returns_float64), "in float64"),
    "a default outside its own range": (dict(hypers=(Hyper("mu", 1.5, high=1.0),)), "default of hyperparameter 'mu'"),
    "a flag whose default is not a bool": (dict(hypers=(Hyper("mu", 0.9), Hyper("on", 0, kind="flag"))),
                                           "default of hyperparameter 'on'"),
    "an unknown kind": (dict(hypers=(Hyper("mu", 0.9, kind="float"),)), "kind 'float'"),
    "an example outside the range": (dict(examples=({"mu": 2.0},)), r"examples\[0\]"),
    "constants() forgetting a scalar": (dict(constants=lambda h, lr, step: {"lr": lr}), "takes 'mu'"),
    "constants() with a misspelt key": (dict(constants=lambda h, lr, step: {"lr": lr, "mu": h.mu, "mue": 1.0}),
                                        "returns 'mue', which no pass takes"),
    "constants() returning a tuple": (dict(constants=lambda h, lr, step: (lr, h.mu)), "must return a dict"),
    "constants() reading an unknown hyperparameter": (dict(constants=lambda h, lr, step: {"lr": lr, "mu": h.beta}),
                                                      "no hyperparameter 'beta'"),
    "a float in bool_scalars": (dict(bool_scalars=("mu",)), "'mu' is in bool_scalars"),
}


@pytest.mark.parametrize("slip", list(SLIPS))
def test_an_authors_slip_is_named_when_the_rule_is_registered(slip):
    changes, message = SLIPS[slip]
    rule = _rule(**changes)
    with pytest.raises(ValueError, match=message):
        _registers(rule)
    assert rule.name not in rules.names(), "a refused rule must not stay registered"


def _norms(param, grad):
    return ()


def _apply(param, grad, ratio, lr):
    return (param - (lr * ratio) * grad,)


def _ratio(param_sq, grad_sq):
    return (select(grad_sq > 0, sqrt(param_sq / grad_sq), 1.0),)  # float64 math: literals are fine here


def _segmented(*middle):
    return Rule("authoring_segmented", "", (), (), lambda h, lr, step: {"lr": lr},
                (Pass(_norms, writes=(), reduces=(SumOfSquares("param_sq", of="param"),
                                                  SumOfSquares("grad_sq", of="grad"))), *middle))


def test_segment_steps_are_checked_too():
    _registers(_segmented(SegmentStep(_ratio, inputs=("param_sq", "grad_sq"), outputs=("ratio",)),
                          Pass(_apply, writes=("param",))))
    with pytest.raises(ValueError, match="returned 1 value"):
        _registers(_segmented(SegmentStep(_ratio, inputs=("param_sq", "grad_sq"), outputs=("ratio", "other")),
                              Pass(_apply, writes=("param",))))
    with pytest.raises(ValueError, match="no earlier pass reduces"):
        _registers(_segmented(SegmentStep(lambda update_sq: (update_sq,), inputs=("update_sq",),
                                          outputs=("ratio",)), Pass(_apply, writes=("param",))))


def _compares_with_literals(param, grad, m, lr, mu):
    m = select(grad > 0, mu * m + grad, select(-1 < grad, m, grad))
    return param - lr * m, m


def test_literals_in_comparisons_are_allowed():
    _registers(_rule(fn=_compares_with_literals))


# ------------------------------------------------------------------------------ edits and redefinitions
_SCALED = """
import numpy as np
SCALE = np.float32({scale})

def update(param, grad, lr):
    return (param - lr * (SCALE * grad),)
"""


def _scaled_rule(scale):
    namespace = {}
    exec(compile(_SCALED.format(scale=scale), "<a notebook cell>", "exec"), namespace)  # noqa: S102
    return Rule("authoring_scaled", "", (), (), lambda h, lr, step: {"lr": lr},
                (Pass(namespace["update"], writes=("param",)),))


def test_a_module_constant_of_the_rule_is_part_of_its_kernel_hash():
    # numba freezes SCALE into the machine code: a new value must name a new generated module, or the cache
    # would keep serving the old one.
    hashes = {scale: compiled.source_hash(_scaled_rule(scale), (), "same generated source") for scale in (1, 1, 3)}
    assert len(hashes) == 2 and hashes[1] != hashes[3]
    assert compiled.source_hash(_scaled_rule(1), (), "x") == compiled.source_hash(_scaled_rule(1), (), "x")


def _double(param, grad, lr):
    return (param - lr * (grad + grad),)


def _single(param, grad, lr):
    return (param - lr * grad,)


def test_redefining_a_rule_replaces_its_step_function():
    def define(fn):
        return Rule("authoring_redefined", "", (), (), lambda h, lr, step: {"lr": lr}, (Pass(fn, writes=("param",)),))

    rules.register(define(_single))
    try:
        grad = np.ones(4, np.float32)
        first = kernels.authoring_redefined_step
        param = np.ones(4, np.float32)
        first(param, grad, 0.25, backend="numpy")
        assert param[0] == np.float32(0.75)
        rules.register(define(_double), replace=True)
        param = np.ones(4, np.float32)
        kernels.authoring_redefined_step(param, grad, 0.25, backend="numpy")
        assert param[0] == np.float32(0.5), "kernels.<name>_step must run the new definition"
        with pytest.raises(RuntimeError, match="earlier definition"):
            first(np.ones(4, np.float32), grad, 0.25, backend="numpy")
    finally:
        rules._registry.pop("authoring_redefined", None)
        vars(kernels).pop("authoring_redefined_step", None)


# ------------------------------------------------------------------------------------ the optimizer class
def _sign_step(param, grad, lr):
    return (param - lr * sign(grad),)


def test_an_optimizer_class_over_a_rule_without_weight_decay_must_say_so():
    # The README's class has weight_decay; over a rule that has none, the default weight_decay_hyper had taken
    # weight_decay=5.0 and applied nothing.
    import lasandbox as paddle
    from lasandbox.optimizer.optimizer import Optimizer

    rule = Rule("authoring_signsgd", "", (), (), lambda h, lr, step: {"lr": lr}, (Pass(_sign_step, writes=("param",)),))

    class SignSGD(Optimizer):
        rule_name = "authoring_signsgd"

        def __init__(self, learning_rate=0.01, parameters=None, weight_decay=None):
            super().__init__(learning_rate, parameters, weight_decay, backend="numpy")

    class DeclaredSignSGD(SignSGD):
        weight_decay_hyper = None

    rules.register(rule)
    try:
        parameters = paddle.nn.Linear(3, 1).parameters()
        with pytest.raises(TypeError, match="weight_decay_hyper = None"):
            SignSGD(parameters=parameters, weight_decay=5.0)
        DeclaredSignSGD(parameters=parameters)
        with pytest.raises(NotImplementedError, match="weight_decay"):
            DeclaredSignSGD(parameters=parameters, weight_decay=5.0)
    finally:
        rules._registry.pop(rule.name, None)


def test_lasandbox_optimizers_describes_an_undocumented_hyperparameter_without_a_dangling_dash():
    from lasandbox.optimizer import listing, registry
    from lasandbox.optimizer.optimizer import Optimizer

    rule = _rule("authoring_listed")

    class Listed(Optimizer):
        """A trial optimizer."""

        rule_name = "authoring_listed"
        weight_decay_hyper = None

    rules.register(rule)
    registry.register("authoring_listed")(Listed)
    try:
        line = next(line for line in listing.describe("authoring_listed") if line.strip().startswith("mu:"))
        assert line == "  mu: real in [0, 1], default 0.9"
    finally:
        rules._registry.pop(rule.name, None)
        registry._entries.pop("authoring_listed", None)
