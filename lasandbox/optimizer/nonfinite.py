"""The ``nonfinite`` policy of optimizers and outer loops: what a step does when a gradient holds inf or NaN.

``"propagate"`` (Paddle's behaviour) updates anyway; ``"raise"`` raises FloatingPointError naming the
parameter and the step, nothing written; ``"skip"`` skips the step whole and warns
(``NonFiniteGradientWarning``). The check reads the selected gradients once before anything is
written (``kernels.finite``), run by run of adjacent selected parameters in the flat buffer.
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


def first_nonfinite(space, selection, backend):
    """The first selected parameter whose gradient holds inf or NaN, as ``(index, name)``, or None.
    ``backend``: ``"numpy"`` or ``"cpu"`` (gradients live on the host on every backend)."""
    from lasandbox.kernels.finite import first_nonfinite as first_in_array  # numba, imported on use

    for start, stop in selected_runs(space, selection):
        found = first_in_array(space.grad_buffer[start:stop], backend)
        if found >= 0:
            index = int(np.searchsorted(space.offsets, start + found, side="right")) - 1
            return index, space.params[index].name or f"param_{index}"
    return None


def refuse(bad, policy, step):
    """True if the step must not happen: ``bad`` is ``first_nonfinite``'s answer, ``policy`` not
    ``"propagate"``. Raises for ``"raise"``; warns (at the user's ``step()`` call) for ``"skip"``."""
    if bad is None:
        return False
    index, name = bad
    if policy == "raise":
        raise FloatingPointError(f"the gradient of parameter {name} (#{index}) holds inf or NaN at step {step}; "
                                 f"nothing was updated (nonfinite='raise')")
    warn_at_caller(f"skipped step {step}: the gradient of parameter {name} (#{index}) holds inf or NaN "
                   f"(nonfinite='skip'; nothing was updated)", NonFiniteGradientWarning)
    return True
