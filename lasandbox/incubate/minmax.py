"""``LookAheadMinmax``: Lookahead for games (Chavdarova et al., "Taming GANs with Lookahead-Minmax", ICLR 2021).

Each player (generator, critic, ...) keeps its own optimizer, stepped by the
user as usual: the critic as many times per iteration as it likes. Once per
joint iteration the user calls ``LookAheadMinmax.step()``; every k-th
iteration it moves every player's slow weights at once,
``slow = alpha*fast + (1-alpha)*slow; fast = slow``, in the joint parameter
space. Two separate ``LookAhead`` wrappers are not the same algorithm: each
counts its own player's steps, so as soon as the critic steps more often than
the generator the two sync at different times (``tests/test_incubate_minmax.py``
shows the difference on the bilinear game).

The sync goes through the public optimizer protocol (``apply_epilogues`` with
the Lookahead epilogue, then ``restart``), so a player may be any optimizer of
the package, a ``LookAhead`` (its own slow weights restart from the joint
ones) or anything else implementing ``lasandbox.optimizer.protocol``.

``slow_init='construction'`` (the default here, the paper's Algorithm 1) starts
the slow weights at the players' weights when the object is built;
``'first_step'`` copies them after the first joint iteration (Paddle's lazy
LookAhead). ``alpha`` and ``k`` may be schedules: callables of the sync index
(from 0), checked at each sync. Inner optimizer state (Adam's moments) is kept
across syncs, as in the authors' code. With players under ``nonfinite="skip"``, a joint
iteration in which every player skipped (a bad batch) is not counted (``skipped_iterations``).
"""

from __future__ import annotations

import contextlib

import numpy as np

from lasandbox.incubate.lookahead import SLOW_INITS
from lasandbox.incubate.schedule import SyncSchedule
from lasandbox.optimizer.protocol import check_step_target, is_step_target
from lasandbox.utils.validation import check_choice, check_int


def _epilogues():
    from lasandbox.kernels import epilogues  # imported on use: the kernels pull in numba

    return epilogues


def _check_players(players) -> tuple:
    """The players as a tuple, after checking each is an optimizer and no parameter has two owners."""
    if is_step_target(players):
        raise TypeError(f"players must be a list of optimizers (one per player), got a single "
                        f"{type(players).__name__}; pass [optimizer, ...]")
    if isinstance(players, (str, bytes, dict)) or not hasattr(players, "__iter__"):
        raise TypeError(f"players must be a list of optimizers, got {type(players).__name__}")
    players = tuple(players)
    if not players:
        raise ValueError("players is empty: LookAheadMinmax needs at least one optimizer (one per player)")
    for i, player in enumerate(players):
        check_step_target(f"players[{i}]", player)
    owners = {}
    for i, player in enumerate(players):
        for parameter in player.parameters():
            j = owners.setdefault(id(parameter), i)
            if j != i:
                what = "the same optimizer is listed twice" if players[j] is player else \
                    "a parameter must belong to one player"
                raise ValueError(f"players[{j}] and players[{i}] both update parameter "
                                 f"{getattr(parameter, 'name', '?')!r} of shape {list(parameter.shape)} ({what})")
    return players


class LookAheadMinmax(SyncSchedule):
    """Joint Lookahead over the optimizers of a game's players; ``step()`` once per joint iteration."""

    def __init__(self, players, alpha=0.5, k=5, slow_init="construction", name=None):
        self.players = _check_players(players)
        self._init_schedule(alpha, k)
        self.slow_init = check_choice("slow_init", slow_init, SLOW_INITS)
        self.name = name
        self.type = "lookahead_minmax"
        self._iterations = 0
        self._since_sync = 0
        self.skipped_iterations = 0
        self._progress = self._player_progress()
        self._slow = self._new_slow() if slow_init == "construction" else None

    def _new_slow(self):
        return [player.new_buffer() for player in self.players]

    # ------------------------------------------------------------- counters
    @property
    def iterations(self) -> int:
        """Joint iterations so far (calls of ``step()``)."""
        return self._iterations

    global_step = iterations

    @property
    def syncs(self) -> int:
        """Syncs made by ``step()`` so far (the index a schedule is called with next)."""
        return self._syncs

    def slow_buffers(self):
        """Each player's slow weights as a flat host float32 array laid out like its ``flat_parameters()``
        (copies on the cuda backend), or None before they exist (``slow_init='first_step'``)."""
        return None if self._slow is None else [p.to_host(s) for p, s in zip(self.players, self._slow, strict=True)]

    def _player_progress(self):
        """Per player, ``(steps taken, steps skipped)``: its ``global_step`` and the ``skipped_steps`` of it
        and of the optimizers it wraps (a LookAhead player's inner optimizer may skip on its own policy);
        None where a player does not count them."""
        progress = []
        for player in self.players:
            skipped, level = 0, player
            while level is not None:
                skipped += getattr(level, "skipped_steps", 0)
                level = getattr(level, "inner_optimizer", None)
            progress.append((getattr(player, "global_step", None), skipped))
        return progress

    def _all_players_skipped(self):
        """True when no player took a step since the last ``step()`` and each skipped one (``nonfinite='skip'``
        on a bad batch): the iteration did not happen, so it is not counted."""
        now, before = self._player_progress(), self._progress
        self._progress = now
        return all(taken is not None and taken == last_taken and skipped > last_skipped
                   for (taken, skipped), (last_taken, last_skipped) in zip(now, before, strict=True))

    # -------------------------------------------------------------- stepping
    def step(self):
        """End one joint iteration (after the players stepped); every k-th one syncs all players. An
        iteration in which every player skipped its steps (``nonfinite='skip'``) is not one: it counts
        toward neither ``k`` nor ``iterations``, and ``skipped_iterations`` counts it."""
        if self._all_players_skipped():
            self.skipped_iterations += 1
            return
        k = self.current_k()
        sync_now = self._since_sync + 1 >= k
        alpha = self.current_alpha() if sync_now else None  # checked before anything changes
        if self._slow is None:  # slow_init='first_step': the weights after the first iteration
            self._slow = self._new_slow()
        if sync_now:
            self._sync_all(alpha)
        self._iterations += 1
        if sync_now:
            self._since_sync = 0
            self._syncs += 1
        else:
            self._since_sync += 1

    def sync(self):
        """Synchronise all players now (does not count as an iteration, nor move the cycle)."""
        alpha = self.current_alpha()
        if self._slow is None:
            self._slow = self._new_slow()
        self._sync_all(alpha)

    def _sync_all(self, alpha):
        bind = _epilogues().lookahead_epilogue
        for player, slow in zip(self.players, self._slow, strict=True):
            player.apply_epilogues((bind(slow, alpha),))
            player.restart()  # a LookAhead player restarts its own slow weights from the joint ones

    def clear_grad(self, set_to_zero=True):
        """Clear every player's gradients."""
        for player in self.players:
            player.clear_grad(set_to_zero)

    clear_gradients = clear_grad

    # ------------------------------------------------------------ evaluation
    @contextlib.contextmanager
    def slow_weights(self):
        """Temporarily put every player's slow weights into the models; the fast ones come back after.

        Before the slow weights exist (``slow_init='first_step'``, no iteration yet) nothing changes."""
        slows = self.slow_buffers()
        if slows is None:
            yield self
            return
        fasts = []
        try:
            for player, slow in zip(self.players, slows, strict=True):
                params = player.flat_parameters()
                fasts.append(params.copy())
                params[...] = slow
            yield self
        finally:
            for player, fast in zip(self.players, fasts, strict=False):
                player.flat_parameters()[...] = fast

    # ----------------------------------------------------------------- state
    def state_dict(self):
        """Slow weights, counters, options and every player's state (all copies)."""
        slows = self.slow_buffers()
        return {
            "slow": None if slows is None else [slow.copy() for slow in slows],
            "iterations": self._iterations,
            "steps_since_sync": self._since_sync,
            "syncs": self._syncs,
            "alpha": self.alpha,
            "k": self.k,
            "slow_init": self.slow_init,
            "players": [player.state_dict() for player in self.players],
        }

    def set_state_dict(self, state_dict):
        """Restore a ``state_dict()``; it is checked whole before anything changes (a player that refuses
        its part leaves every player as it was)."""
        missing = [key for key in ("slow", "iterations", "players") if key not in state_dict]
        if missing:
            raise KeyError(f"LookAheadMinmax state_dict is missing {missing}")
        players = list(state_dict["players"])
        if len(players) != len(self.players):
            raise ValueError(f"state_dict['players'] holds {len(players)} player states, this LookAheadMinmax "
                             f"has {len(self.players)} players")
        slows = state_dict["slow"]
        if slows is not None:
            slows = list(slows)
            if len(slows) != len(self.players):
                raise ValueError(f"state_dict['slow'] holds {len(slows)} buffers, expected {len(self.players)}")
            checked = []
            for i, (player, slow) in enumerate(zip(self.players, slows, strict=True)):
                slow = np.asarray(getattr(slow, "_value", slow), dtype=np.float32)
                size = player.flat_parameters().size
                if slow.shape != (size,):
                    raise ValueError(f"state_dict['slow'][{i}] has shape {list(slow.shape)}, expected [{size}]")
                checked.append(slow)
            slows = checked
        iterations = check_int("state_dict['iterations']", state_dict["iterations"], low=0)
        since = check_int("state_dict['steps_since_sync']", state_dict.get("steps_since_sync", 0), low=0)
        syncs = check_int("state_dict['syncs']", state_dict.get("syncs", 0), low=0)
        before = [player.state_dict() for player in self.players]
        done = 0
        try:
            for player, player_state in zip(self.players, players, strict=True):
                player.set_state_dict(player_state)
                done += 1
        except Exception:
            for player, previous in zip(self.players[:done], before[:done], strict=True):
                player.set_state_dict(previous)
            raise
        if slows is None:
            self._slow = None
        else:
            self._slow = self._new_slow()
            for player, buffer, slow in zip(self.players, self._slow, slows, strict=True):
                if player.backend == "cuda":
                    buffer.copy_to_device(slow)
                else:
                    buffer[...] = slow
        self._iterations, self._since_sync, self._syncs = iterations, since, syncs
        self._progress = self._player_progress()  # the players' restored counts are the new baseline

    set_dict = set_state_dict
