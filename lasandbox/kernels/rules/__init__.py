"""The registry of update rules: one module per rule in this package, listed once here.

Adding a rule is writing its module (see ``sgd.py`` for the smallest one and
the README's "Adding an update rule") and adding its name to ``RULE_MODULES``.
Everything else (the numpy reference, the cpu and cuda kernels, the public
``lasandbox.kernels.<name>_step`` function, the benchmark cases and the parity
tests) is derived from the module's ``RULE``. ``register(rule)`` adds a rule
defined elsewhere (a notebook, a user's package) for the running process.
Every rule, built-in or registered, first passes ``rulecheck.check_rule``: an
author's slip (a misspelt argument, writes in the wrong order, a float literal,
a ``constants()`` missing a scalar, ...) is a ValueError naming it here, not an
error inside a kernel or wrong numbers.
"""

from __future__ import annotations

import importlib
import sys

from lasandbox.kernels import rulecheck
from lasandbox.kernels.declare import Rule

RULE_MODULES = (
    "sgd",
    "momentum",
    "adam",
    "adagrad",
    "adadelta",
    "adamax",
    "rmsprop",
    "lamb",
    "nadam",
    "radam",
    "asgd",
    "rprop",
    "lion",
)

_registry: dict[str, Rule] = {}


def _load_builtin():
    if not _registry:
        for module in RULE_MODULES:
            rule = importlib.import_module(f"{__name__}.{module}").RULE
            rulecheck.check_rule(rule)
            _registry[rule.name] = rule


def get(name) -> Rule:
    """The rule registered as ``name`` (a clear ValueError listing the known ones otherwise)."""
    if isinstance(name, Rule):
        return name
    _load_builtin()
    try:
        return _registry[name]
    except KeyError:
        raise ValueError(f"unknown update rule {name!r}; registered rules: {', '.join(_registry)}") from None


def names() -> tuple:
    """Every registered rule's name, built-in ones first in ``RULE_MODULES`` order."""
    _load_builtin()
    return tuple(_registry)


def all_rules() -> tuple:
    _load_builtin()
    return tuple(_registry.values())


def register(rule: Rule, *, replace=False) -> Rule:
    """Add ``rule`` to the registry (``replace=True`` to redefine one of the same name), after
    ``rulecheck.check_rule`` (a ValueError naming the slip; nothing registered then).

    A redefined rule gets a new ``lasandbox.kernels.<name>_step`` at the next attribute access; the
    function built for the old definition (one bound by ``from lasandbox.kernels import <name>_step``)
    raises instead of running the old rule."""
    if not isinstance(rule, Rule):
        raise TypeError(f"rule must be a lasandbox.kernels.declare.Rule, got {type(rule).__name__}")
    _load_builtin()
    previous = _registry.get(rule.name)
    if previous is not None and not replace and previous is not rule:
        raise ValueError(f"a rule named {rule.name!r} is already registered (pass replace=True to redefine it)")
    rulecheck.check_rule(rule)
    _registry[rule.name] = rule
    if previous is not None and previous is not rule:
        _retire_step_function(rule.name)
    return rule


def _retire_step_function(name):
    """Drop ``lasandbox.kernels.<name>_step`` of a redefined rule, and make that old function refuse to run."""
    kernels = sys.modules.get("lasandbox.kernels")
    old = vars(kernels).pop(f"{name}_step", None) if kernels is not None else None
    if old is not None:
        from lasandbox.kernels.api import retire

        retire(old)
