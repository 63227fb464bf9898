"""The one registry of optimizers by name: what the paper figures, the sweeps, the CLI and the notebooks build from.

Each Paddle-facing class registers itself in its own module of
``lasandbox.optimizer.family`` with ``@register("name", momentum_argument=...)``.
``make(name, parameters, learning_rate, momentum=..., weight_decay=..., **options)``
builds one: ``momentum`` is the generic "first-moment decay" knob of the
research tools and sets the class's own argument for it (``momentum`` for
Momentum, ``beta1`` for the Adam family, ...); the class's default applies
when a knob is not given (AdamW keeps Paddle's ``weight_decay=0.01``).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """A registered optimizer: its class and which constructor argument the generic ``momentum`` sets."""

    name: str
    cls: type
    momentum_argument: str | None

    @property
    def has_momentum_state(self) -> bool:
        """Whether the rule keeps a momentum buffer (what LookAhead's inner_state reset/pullback acts on)."""
        from lasandbox.kernels import rules

        state = rules.get(self.cls.rule_name).state
        return bool(state) and state[0].momentum

    @property
    def summary(self) -> str:
        doc = (self.cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else self.cls.__name__


_entries: dict[str, Entry] = {}
_discovered = False


def register(name, *, momentum_argument=None):
    """Class decorator: add the optimizer class under ``name``."""
    def decorate(cls):
        if name in _entries and _entries[name].cls is not cls:
            raise ValueError(f"an optimizer named {name!r} is already registered ({_entries[name].cls.__name__})")
        _entries[name] = Entry(name, cls, momentum_argument)
        cls.registry_name = name
        return cls
    return decorate


def _discover():
    global _discovered
    if not _discovered:
        from lasandbox.optimizer import family

        for info in pkgutil.iter_modules(family.__path__):
            importlib.import_module(f"{family.__name__}.{info.name}")
        _discovered = True


def names() -> tuple:
    """Every registered optimizer's name, sorted."""
    _discover()
    return tuple(sorted(_entries))


def get(name) -> Entry:
    _discover()
    try:
        return _entries[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; registered optimizers: {', '.join(names())}") from None


def classes() -> dict:
    """``{class name: class}`` of every registered optimizer (what ``lasandbox.optimizer`` exports)."""
    _discover()
    return {entry.cls.__name__: entry.cls for entry in _entries.values()}


def check_knobs(name, momentum=None):
    """A ValueError for generic knobs ``name`` does not take (``momentum`` for SGD, say), before any run."""
    entry = get(name)
    if momentum is not None and entry.momentum_argument is None:
        raise ValueError(f"optimizer {name!r} has no momentum-like argument; momentum must be None (none)")
    return entry


def make(name, parameters, learning_rate, *, momentum=None, weight_decay=None, backend="auto", **options):
    """The optimizer ``name`` over ``parameters``; ``options`` are its own (Paddle's) keyword arguments.

    ``momentum`` sets the class's momentum-like argument (``Entry.momentum_argument``) and
    ``weight_decay`` its weight decay; None keeps the class's default for either."""
    entry = check_knobs(name, momentum)
    kwargs = dict(options)
    if momentum is not None:
        if entry.momentum_argument in kwargs:
            raise ValueError(f"give either momentum or {entry.momentum_argument!r} for optimizer {name!r}, not both")
        kwargs[entry.momentum_argument] = momentum
    if weight_decay is not None:
        kwargs["weight_decay"] = weight_decay
    return entry.cls(learning_rate=learning_rate, parameters=parameters, backend=backend, **kwargs)
