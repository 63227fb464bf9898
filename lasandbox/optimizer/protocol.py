"""The public protocol outer loops use to drive an optimizer (``LookAhead`` and its variants, or your own).

An outer loop never reaches into an optimizer's private members; it uses:

``select(parameters=None, no_grad_set=None, *, warn_if_empty=False)``
    which parameters step now (trainable, with a gradient): an opaque selection.
``params_grads(selection)``
    the ``(parameter, gradient)`` pairs of a selection (``minimize``'s return value).
``apply(selection, epilogues=())``
    one update of the selection by the optimizer's rule, each new parameter
    value passed through the ``epilogues`` chain (``kernels.epilogues.Bound``:
    an epilogue, its flat buffers, its scalars) in the same pass over memory.
    LookAhead supplies its sync this way: ``lookahead_epilogue(slow, alpha)``.
``first_nonfinite(selection)`` / ``refuse_nonfinite(selection, policy, step)``
    the first parameter whose gradient holds inf or NaN, and the ``nonfinite``
    policies (``"propagate" | "raise" | "skip"``) applied to it; ``apply`` returns
    False for a step it skipped, which an outer loop must then not count.
``apply_epilogues(epilogues)``
    the chain alone over all parameters (a manual sync).
``flat_parameters()`` / ``flat_gradients()``
    the host float32 buffers every parameter / gradient is a view of.
``new_buffer(copy_of_parameters=True)`` / ``to_host(buffer)``
    a flat buffer on the optimizer's side (on the GPU for ``backend="cuda"``),
    and a host view or copy of it.
``state_names``, ``state_buffer(name)``, ``edit_state(name)``, ``momentum_state``
    the rule's state buffers by Paddle's names (``moment1`` ...), read as host
    arrays or changed in place inside ``with opt.edit_state(name) as array:``.
``restart()``
    an outer loop has just reset the parameters (its sync): restart from them
    (a plain optimizer does nothing; ``LookAhead`` moves its slow weights there).
``parameters()``, ``backend``, ``get_lr()``, ``set_lr()``, ``clear_grad()``, ``state_dict()``,
``set_state_dict()``
    as in Paddle.

``LookAhead`` implements the protocol itself, so it can be the inner optimizer of
another ``LookAhead`` (nested Lookahead) or a player of ``LookAheadMinmax``.
"""

from __future__ import annotations

PROTOCOL_METHODS = ("select", "params_grads", "apply", "apply_epilogues", "flat_parameters", "flat_gradients",
                    "new_buffer", "to_host", "state_buffer", "edit_state", "restart", "parameters", "get_lr",
                    "clear_grad", "state_dict", "set_state_dict", "first_nonfinite", "refuse_nonfinite")


def is_step_target(obj) -> bool:
    """Whether ``obj`` implements the protocol (every method above). A class is not (``LookAhead(SGD)`` for
    ``LookAhead(SGD(...))``: its methods are there, unbound, and the first step failed inside)."""
    if isinstance(obj, type):
        return False
    return all(callable(getattr(obj, name, None)) for name in PROTOCOL_METHODS) and hasattr(obj, "backend")


def missing_methods(obj) -> list:
    return [name for name in PROTOCOL_METHODS if not callable(getattr(obj, name, None))]


def check_step_target(name, obj):
    """``obj`` if it implements the protocol; else a TypeError naming the argument ``name`` and what is wrong
    (a class where an instance was meant, or the methods it lacks)."""
    if isinstance(obj, type):
        raise TypeError(f"{name} must be an optimizer instance, got the class {obj.__name__} (build it first: "
                        f"{obj.__name__}(learning_rate, parameters=...))")
    if not is_step_target(obj):
        missing = missing_methods(obj)
        raise TypeError(f"{name} must be a lasandbox optimizer (SGD, Momentum, Adam, ..., or a LookAhead) or implement "
                        f"lasandbox.optimizer.protocol; got {type(obj).__name__}"
                        + (f", which lacks {', '.join(missing)}" if missing else ""))
    return obj
