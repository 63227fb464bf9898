"""The sync schedule both outer loops share: ``alpha`` and ``k`` as numbers or as callables of the sync index."""

from __future__ import annotations

from lasandbox.utils.validation import check_int, check_real


class SyncSchedule:
    """``alpha`` (in [0, 1]) and ``k`` (>= 1), each a number, checked now, or a schedule: a callable of the
    sync index (from 0) whose value is checked when it is used. A base of ``LookAhead`` and
    ``LookAheadMinmax``, which count ``self._syncs``."""

    def _init_schedule(self, alpha, k):
        self._alpha_schedule = alpha if callable(alpha) else None
        self._k_schedule = k if callable(k) else None
        self.alpha = None if callable(alpha) else check_real("alpha", alpha, low=0.0, high=1.0)
        self.k = None if callable(k) else check_int("k", k, low=1)
        self._syncs = 0

    def current_alpha(self) -> float:
        """The alpha of the next sync (a schedule is called with the sync index, from 0)."""
        if self._alpha_schedule is None:
            return self.alpha
        return check_real(f"alpha({self._syncs})", self._alpha_schedule(self._syncs), low=0.0, high=1.0)

    def current_k(self) -> int:
        """The length of the current cycle, in steps of the outer loop (a schedule is called with the sync
        index, from 0)."""
        if self._k_schedule is None:
            return self.k
        return check_int(f"k({self._syncs})", self._k_schedule(self._syncs), low=1)
