"""``Trajectory``: the recorded weights of one run, as arrays, with save/load."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class MetricColumns:
    """Per-snapshot metrics as one list of floats per name, NaN where a snapshot lacks the name.

    Columns rather than one dict per snapshot: a 10,000-step recording then
    holds a few lists of floats, which the garbage collector never scans.
    """

    def __init__(self):
        self.columns = {}
        self.rows = 0

    def append(self, values):
        """Add one row; ``values`` is None or a dict of name -> float (already converted)."""
        if values:
            for name, value in values.items():
                column = self.columns.get(name)
                if column is None:
                    column = self.columns[name] = [np.nan] * self.rows
                column.append(value)
        self.rows += 1
        for column in self.columns.values():
            if len(column) < self.rows:
                column.append(np.nan)

    def arrays(self):
        return {name: np.array(column, dtype=np.float64) for name, column in self.columns.items()}


def inner_loop_ends(slow, inner_ends, alpha):
    """The fast weights just before each recorded sync, from consecutive slow snapshots.

    ``inner_ends`` lists ``(step, row, previous_row)``: the sync at ``step``
    produced ``slow[row]`` from ``slow[previous_row]`` and the inner loop's
    end theta_k, so ``theta_k = (slow[row] - (1-alpha)*slow[previous_row]) / alpha``
    (float64, then float32); ``previous_row = -1`` means theta_k equals
    ``slow[row]`` (slow weights created and synced in the same step).
    Returns the ``inner_end`` and ``inner_end_steps`` fields of a ``Trajectory``.
    """
    width = slow.shape[1] if slow.ndim == 2 else 0
    ends = np.empty((len(inner_ends), width), dtype=np.float32)
    for i, (_, row, previous) in enumerate(inner_ends):
        if previous < 0:
            ends[i] = slow[row]
        else:
            ends[i] = (slow[row].astype(np.float64) - (1 - alpha) * slow[previous].astype(np.float64)) / alpha
    steps = np.array([step for step, _, _ in inner_ends], dtype=np.int64)
    return {"inner_end": ends, "inner_end_steps": steps}


@dataclass
class Trajectory:
    """Recorded flat weights (float32 rows) with the optimizer step of each row.

    ``fast``/``fast_steps``/``metrics``: fast weights after each recorded
    step and the metrics passed to ``record``; ``slow``/``slow_steps``: the
    slow weights when created and after each sync; ``inner_end``: the fast
    weights at the end of each inner loop, just before its sync (see
    ``lasandbox.landscape.recorder``). ``k``/``alpha`` are None for a plain
    optimizer.
    """

    fast: np.ndarray
    fast_steps: np.ndarray
    slow: np.ndarray
    slow_steps: np.ndarray
    inner_end: np.ndarray
    inner_end_steps: np.ndarray
    metrics: dict = field(default_factory=dict)
    slow_metrics: dict = field(default_factory=dict)
    k: int | None = None
    alpha: float | None = None
    shapes: list = field(default_factory=list)

    @property
    def nbytes(self):
        arrays = (self.fast, self.fast_steps, self.slow, self.slow_steps, self.inner_end, self.inner_end_steps)
        return int(sum(a.nbytes for a in arrays))

    def fast_path(self):
        """The fast weights in the order they were visited: ``(steps, points, is_inner_end)``.

        At a sync step the inner loop's end point comes first, then the fast
        weights after the sync (equal to the new slow weights): drawn as a line
        the path shows the pull-back of each sync.
        """
        keys = [(int(s), 1, i) for i, s in enumerate(self.fast_steps)]
        keys += [(int(s), 0, i) for i, s in enumerate(self.inner_end_steps)]
        keys.sort()
        width = self.fast.shape[1] if self.fast.size else self.inner_end.shape[1]
        points = np.empty((len(keys), width), dtype=np.float32)
        for row, (_, kind, i) in enumerate(keys):
            points[row] = self.fast[i] if kind else self.inner_end[i]
        steps = np.array([key[0] for key in keys], dtype=np.int64)
        return steps, points, np.array([key[1] == 0 for key in keys], dtype=bool)

    def fast_updates(self):
        """``(steps, points)``: the result of each recorded fast update, taking the pre-sync weights at syncs.

        This is what a per-update curve (the paper's Figure 10) plots: at a
        sync step the recorded fast row already equals the new slow weights,
        so the inner loop's end point stands in for it.
        """
        ends = {int(s): i for i, s in enumerate(self.inner_end_steps)}
        points = np.array(self.fast, dtype=np.float32, copy=True)
        for row, step in enumerate(self.fast_steps):
            if int(step) in ends:
                points[row] = self.inner_end[ends[int(step)]]
        return np.asarray(self.fast_steps, dtype=np.int64), points

    def inner_loop(self, index):
        """``(steps, points)`` of inner loop ``index``: its start (a slow point) to its end before the sync."""
        if self.k is None:
            raise ValueError("inner loops exist only for a LookAhead trajectory")
        if not 0 <= index < len(self.inner_end_steps):
            raise ValueError(f"index must be in [0, {len(self.inner_end_steps) - 1}], got {index}")
        end = int(self.inner_end_steps[index])
        start = end - self.k
        # The loop starts from the fast weights at `start`: theta_0, or the slow weights of the sync at `start`.
        at_start = np.flatnonzero(self.fast_steps == start)
        synced = np.flatnonzero(self.slow_steps == start)
        if at_start.size:
            first = self.fast[at_start[0]]
        elif synced.size:
            first = self.slow[synced[-1]]
        else:
            raise ValueError(f"the weights at step {start}, where inner loop {index} starts, were not recorded")
        inside = np.flatnonzero((self.fast_steps > start) & (self.fast_steps < end))
        steps = np.concatenate([[start], self.fast_steps[inside], [end]]).astype(np.int64)
        return steps, np.concatenate([first[None], self.fast[inside], self.inner_end[index][None]])

    # ------------------------------------------------------------------ files
    def save(self, path):
        """Write everything to one ``.npz`` file; returns its path."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"k": self.k, "alpha": self.alpha, "shapes": [list(s) for s in self.shapes],
                "metrics": list(self.metrics), "slow_metrics": list(self.slow_metrics)}
        arrays = {f"metric_{i}": v for i, v in enumerate(self.metrics.values())}
        arrays.update({f"slow_metric_{i}": v for i, v in enumerate(self.slow_metrics.values())})
        np.savez(path, fast=self.fast, fast_steps=self.fast_steps, slow=self.slow, slow_steps=self.slow_steps,
                 inner_end=self.inner_end, inner_end_steps=self.inner_end_steps, meta=json.dumps(meta), **arrays)
        return path

    @classmethod
    def load(cls, path):
        """Read a ``save()``d ``.npz`` file or a recorder's ``store`` directory (chunks memory-mapped)."""
        path = Path(path)
        if path.is_dir():
            return cls._load_store(path)
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            metrics = {name: data[f"metric_{i}"] for i, name in enumerate(meta["metrics"])}
            slow_metrics = {name: data[f"slow_metric_{i}"] for i, name in enumerate(meta["slow_metrics"])}
            return cls(data["fast"], data["fast_steps"], data["slow"], data["slow_steps"], data["inner_end"],
                       data["inner_end_steps"], metrics, slow_metrics, meta["k"], meta["alpha"],
                       [tuple(s) for s in meta["shapes"]])

    @classmethod
    def _load_store(cls, directory):
        manifest_path = directory / "trajectory.json"
        if not manifest_path.exists():
            raise FileNotFoundError(f"{manifest_path} is missing: was the recorder closed (rec.close())?")
        manifest = json.loads(manifest_path.read_text())
        width = manifest["width"]

        def series(name):
            parts = [np.load(directory / name / f, mmap_mode="r") for f in manifest["files"][name]]
            return np.concatenate(parts) if parts else np.empty((0, width), dtype=np.float32)

        def steps(name):
            return np.array(manifest["steps"][name], dtype=np.int64)

        slow = series("slow")
        ends = inner_loop_ends(slow, manifest["inner_ends"], manifest["alpha"])
        return cls(series("fast"), steps("fast"), slow, steps("slow"), ends["inner_end"], ends["inner_end_steps"],
                   {k: np.array(v, dtype=np.float64) for k, v in manifest["metrics"].items()},
                   {k: np.array(v, dtype=np.float64) for k, v in manifest["slow_metrics"].items()},
                   manifest["k"], manifest["alpha"], [tuple(s) for s in manifest["shapes"]])
