"""The ``nonfinite`` policy of optimizers and outer loops: what a step does when a gradient holds inf or NaN.

``"propagate"`` (Paddle's behaviour) updates anyway; ``"raise"`` raises FloatingPointError naming the
parameter and the step, nothing written; ``"skip"`` skips the step whole and warns
(``NonFiniteGradientWarning``). The check reads the selected gradients, then the selected parameters
(a parameter that already holds inf or NaN poisons the state as a bad gradient does), once each before
anything is written (``kernels.finite``), run by run of adjacent selected parameters in the flat buffer.
"""

from __future__ import annotations

import numpy as np

from lasandbox.utils.warn import warn_at_caller

NONFINITE_POLICIES = ("propagate", "raise", "skip")


class NonFiniteGradientWarning(UserWarning):
    """A step was skipped because a gradient held inf or NaN (``nonfinite="skip"``)."""


def selected_runs(space, selection):
    """``(start, stop)`` of each run of adjacent selected parameters in the flat buffer of ``space``."""
    runs = []
    for i in sorted(selection):
        start, stop = space.range_of(i)
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], stop)
        else:
            runs.append((start, stop))
    return runs


def first_nonfinite(space, selection, backend, buffer="grad"):
    """The first selected parameter whose gradient (``buffer="grad"``) or value (``"param"``) holds inf
    or NaN, as ``(index, name)``, or None. ``backend``: ``"numpy"`` or ``"cpu"`` (gradients and
    parameters live on the host on every backend)."""
    from lasandbox.kernels.finite import first_nonfinite as first_in_array  # numba, imported on use

    flat = space.grad_buffer if buffer == "grad" else space.param_buffer
    for start, stop in selected_runs(space, selection):
        found = first_in_array(flat[start:stop], backend)
        if found >= 0:
            index = int(np.searchsorted(space.offsets, start + found, side="right")) - 1
            return index, space.params[index].name or f"param_{index}"
    return None


def refuse_step(space, selection, policy, step, backend):
    """``refuse`` for a step over ``selection``: its gradients are checked, then the parameters
    themselves. A parameter that already holds inf or NaN would poison the state as a bad gradient
    does (L1/L2 decay adds it to the gradient, Adam's moments keep it; Lamb's trust ratio, a
    LookAhead sync's slow weights take it), so ``"raise"`` and ``"skip"`` treat it the same way."""
    if policy == "propagate":
        return False
    bad = first_nonfinite(space, selection, backend)
    if bad is not None:
        return refuse(bad, policy, step)
    return refuse(first_nonfinite(space, selection, backend, "param"), policy, step, "value")


def refuse(bad, policy, step, what="gradient"):
    """True if the step must not happen: ``bad`` is ``first_nonfinite``'s answer (for the parameters'
    ``what``: ``"gradient"`` or ``"value"``), ``policy`` not ``"propagate"``. Raises for ``"raise"``;
    warns (at the user's ``step()`` call) for ``"skip"``."""
    if bad is None:
        return False
    index, name = bad
    subject = f"the {what} of parameter {name} (#{index})"
    if policy == "raise":
        raise FloatingPointError(f"{subject} holds inf or NaN at step {step}; nothing was updated "
                                 "(nonfinite='raise')")
    warn_at_caller(f"skipped step {step}: {subject} holds inf or NaN (nonfinite='skip'; nothing was updated)",
                   NonFiniteGradientWarning)
    return True
