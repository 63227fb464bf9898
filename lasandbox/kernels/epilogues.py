"""Epilogues: what a step may do with each new parameter value before it is stored.

The Lookahead sync is the one the package ships: fused into the k-th inner
step, it moves the slow weights and resets the fast ones in the same pass over
memory (Adam + sync moves 36 bytes per element instead of 28 + 16). Alone,
over the parameters, it is ``lookahead_sync``.
"""

from dataclasses import dataclass

from lasandbox.kernels.declare import Epilogue


def sync(param, slow, alpha, one_minus_alpha):
    """``slow = alpha*fast + (1-alpha)*slow; fast = slow``.

    Written as Paddle writes it, ``alpha*fast + (1-alpha)*slow``, rather than
    ``slow + alpha*(fast - slow)``: both are the same number in exact arithmetic,
    but this form is exact at the end points (``alpha=1`` returns ``fast``,
    ``alpha=0`` returns ``slow``) and rounds once less in general.
    """
    synced = alpha * param + one_minus_alpha * slow
    return synced, synced


LOOKAHEAD = Epilogue("lookahead", sync, arrays=("slow",), scalars=("alpha", "one_minus_alpha"))


def lookahead_scalars(alpha: float) -> dict:
    return {"alpha": float(alpha), "one_minus_alpha": 1.0 - float(alpha)}


@dataclass(frozen=True)
class Bound:
    """An epilogue with its arrays (whole flat buffers, laid out like the parameters) and scalars:
    what an outer loop hands to ``Optimizer.apply(selection, epilogues=[...])``."""

    epilogue: Epilogue
    arrays: tuple
    scalars: dict


def lookahead_epilogue(slow, alpha) -> Bound:
    """The fused Lookahead sync towards the flat buffer ``slow`` with step size ``alpha``."""
    return Bound(LOOKAHEAD, (slow,), lookahead_scalars(alpha))
