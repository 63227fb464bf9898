"""Record a training run's weights: fast weights every ``stride`` steps, slow weights at every sync.

    rec = TrajectoryRecorder(lookahead, stride=1)      # records theta_0 (and phi_0) now
    for x, y in batches:
        loss = loss_fn(model(x), y); loss.backward()
        lookahead.step(); lookahead.clear_grad()
        rec.record({"loss": float(loss)})              # after each step
    traj = rec.trajectory()

or ``opt = RecordingOptimizer(lookahead)`` whose ``step()`` steps and records.

What is stored, all float32 flat vectors in the optimizer's parameter order:

* ``fast``: the weights after step ``s`` for every ``s % stride == 0``;
* ``slow``: the slow weights when they first exist (step 0 with
  ``slow_init='construction'``, step 1 with Paddle's lazy init) and after
  every sync (``step % k == 0``);
* ``inner_end``: the fast weights at the end of each inner loop, just
  *before* the sync pulled them back. The sync is fused into the k-th step's
  kernel, so they are never visible after ``step()``; ``trajectory()``
  recovers them from two consecutive slow snapshots,
  ``theta_k = (slow_new - (1-alpha)*slow_old) / alpha`` in float64 (exact up
  to float32 rounding amplified by 1/alpha; not available for alpha = 0 or
  after a sync the recorder missed). Nothing is computed or stored for them
  while training.

Memory is reported by ``rec.nbytes``. Snapshots are kept in chunks of
``chunk_rows`` (default: about 4 MiB each). With ``store=<directory>`` full
chunks go to ``.npy`` files as they fill (written by a background thread), so
a long run keeps two chunks per series in memory; ``rec.close()`` writes the
rest and a manifest that ``Trajectory.load(directory)`` reads back
(memory-mapped).
"""

from __future__ import annotations

import json
import warnings
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from lasandbox.landscape.trajectory import MetricColumns, Trajectory, inner_loop_ends
from lasandbox.utils.validation import check_int

CHUNK_BYTES = 4 * 2**20
OptimizerAccess = namedtuple("OptimizerAccess", "parameters fast read_slow read_step k alpha lazy_slow_init")


def _optimizer_access(optimizer):
    """How the recorder reads an optimizer: its parameters, flat fast weights, slow weights and step."""
    from lasandbox.incubate.lookahead import LookAhead
    from lasandbox.optimizer.optimizer import Optimizer

    if isinstance(optimizer, LookAhead):
        return OptimizerAccess(list(optimizer._parameter_list), optimizer.flat_parameters(), optimizer.slow_buffer,
                               lambda: optimizer.global_step, optimizer.k, optimizer.alpha,
                               optimizer.slow_init == "first_step")
    if isinstance(optimizer, Optimizer):
        return OptimizerAccess(list(optimizer._parameter_list), optimizer.flat_parameters(), lambda: None,
                               lambda: optimizer.global_step, None, None, False)
    raise TypeError("optimizer must be a lasandbox optimizer or LookAhead (what step() is called on), "
                    f"got {type(optimizer).__name__}")


def _as_floats(metrics):
    if not isinstance(metrics, dict):
        raise TypeError(f"metrics must be None or a dict of name -> number, got {type(metrics).__name__}")
    try:
        return {str(name): float(value) for name, value in metrics.items()}
    except (TypeError, ValueError) as err:
        raise TypeError(f"metrics values must be numbers, got {metrics!r}") from err


class SnapshotStore:
    """Rows of float32 snapshots in chunks, kept in memory or written to ``directory`` as they fill.

    On disk, a full chunk is written by a background thread while the next
    one fills a second buffer, so training does not wait for the file system
    (``np.save`` releases the GIL while it writes).
    """

    def __init__(self, width, chunk_rows, directory=None):
        self.width, self.chunk_rows = width, chunk_rows
        self.directory = None if directory is None else Path(directory)
        self._chunks, self._files = [], []
        self._current, self._fill, self.count = None, 0, 0
        self._spare, self._pending, self._next = None, None, None

    def _new_buffer(self):
        # In memory, the next chunk is allocated and its pages touched by the background thread while
        # this one fills: first-touch page faults cost ~2.5 us per 4 KiB page on this VM, which was
        # most of record()'s time when paid inside the training loop.
        if self.directory is not None:
            return np.empty((self.chunk_rows, self.width), dtype=np.float32)
        buffer = self._next.result() if self._next is not None else _prefaulted(self.chunk_rows, self.width)
        self._next = _writer().submit(_prefaulted, self.chunk_rows, self.width)
        return buffer

    def append(self, vector):
        if self._current is None:
            self._current = self._new_buffer()
        self._current[self._fill] = vector
        self._fill += 1
        self.count += 1
        if self._fill == self.chunk_rows:
            self._retire()

    def _retire(self):
        if self._fill == 0:
            return
        if self.directory is None:
            self._chunks.append(self._current[:self._fill])
            self._current = None
        else:
            self._wait()  # the spare buffer is free once its write is done
            path = self.directory / f"chunk_{len(self._files):06d}.npy"
            self._pending = _writer().submit(np.save, path, self._current[:self._fill])
            self._files.append(path.name)
            self._current, self._spare = self._spare, self._current
        self._fill = 0

    def _wait(self):
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def close(self):
        self._retire()
        self._wait()
        if self._next is not None:
            self._next.cancel()
        self._current = self._spare = self._next = None

    def array(self):
        self._wait()
        parts = [np.load(self.directory / name, mmap_mode="r") for name in self._files] + list(self._chunks)
        if self._fill:
            parts.append(self._current[:self._fill])
        if not parts:
            return np.empty((0, self.width), dtype=np.float32)
        return np.concatenate(parts) if len(parts) > 1 else np.array(parts[0])

    @property
    def nbytes(self):
        return self.count * self.width * 4

    @property
    def resident_nbytes(self):
        buffers = [self._current, self._spare, *self._chunks]
        prepared = self.chunk_rows * self.width * 4 if self._next is not None else 0
        return prepared + sum(buffer.nbytes for buffer in buffers if buffer is not None)


def _prefaulted(rows, width):
    buffer = np.empty((rows, width), dtype=np.float32)
    buffer.fill(0)  # touch every page now
    return buffer


_WRITER = []


def _writer():
    """One background thread for chunk writes and buffer preparation (run in submission order)."""
    if not _WRITER:
        _WRITER.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="lasandbox-recorder"))
    return _WRITER[0]


class TrajectoryRecorder:
    """Snapshots of an optimizer's flat weights along a run (see the module docstring)."""

    def __init__(self, optimizer, *, stride=1, store=None, chunk_rows=None, record_initial=True):
        self.stride = check_int("stride", stride, low=1)
        access = _optimizer_access(optimizer)
        if chunk_rows is None:  # about 4 MiB per chunk: few files, little memory held ahead
            chunk_rows = int(np.clip(CHUNK_BYTES // (4 * max(access.fast.size, 1)), 16, 65536))
        chunk_rows = check_int("chunk_rows", chunk_rows, low=1)
        directory = None
        if store is not None:
            directory = Path(store)
            if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
                raise ValueError(f"store must be a new or empty directory, {str(directory)!r} is not "
                                 "(recording into it would mix two runs)")
            for series in ("fast", "slow"):
                (directory / series).mkdir(parents=True, exist_ok=True)
        self.optimizer = optimizer
        self.directory = directory
        self._access = access
        self._fast_buffer = access.fast
        self._read_step = access.read_step
        width = access.fast.size
        self._series = {name: SnapshotStore(width, chunk_rows, None if directory is None else directory / name)
                        for name in ("fast", "slow")}
        self._steps = {name: [] for name in self._series}
        self._fast_metrics, self._slow_metrics = MetricColumns(), MetricColumns()
        # (step, slow row, previous slow row or -1 for "equal to the slow row") of each inner-loop end
        self._inner_ends = []
        self._last_step = None
        self._closed = False
        if record_initial:
            self.record()

    # -------------------------------------------------------------- recording
    def record(self, metrics=None):
        """Store what this step calls for; call it once after each ``step()`` (metrics: dict of numbers)."""
        if self._closed:
            raise RuntimeError("this recorder was closed; start a new TrajectoryRecorder to record more")
        if metrics is not None:
            metrics = _as_floats(metrics)
        step = self._read_step()
        last = self._last_step
        if last is not None and step <= last:
            raise ValueError(f"record() was already called at optimizer step {last} and the optimizer is now at "
                             f"step {step}: call record() once after each step()")
        if step % self.stride == 0:
            self._series["fast"].append(self._fast_buffer)
            self._steps["fast"].append(step)
            self._fast_metrics.append(metrics)
        if self._access.k is not None:
            self._record_slow(step, last, metrics)
        self._last_step = step

    def _record_slow(self, step, last, metrics):
        k, alpha = self._access.k, self._access.alpha
        if not self._steps["slow"]:
            slow = self._access.read_slow()
            if slow is None:  # Paddle's lazy init: no slow weights before the first step
                return
            late = (self._access.lazy_slow_init and step > 1) or (step - 1) // k >= 1
            if late and last is not None:  # attaching mid-run (the initial record) is fine
                warnings.warn(f"the recorder first saw the slow weights at step {step}: earlier slow points "
                              "are missing (create it before training and call record() after every step)",
                              stacklevel=3)
            self._append_slow(step, slow, metrics)
            if step == 1 and k == 1 and self._access.lazy_slow_init:
                # created from the fast weights and synced in the same step: both equal theta_1
                self._inner_ends.append((step, 0, -1))
            return
        missed = (step - 1) // k > last // k  # a multiple of k strictly between the two calls
        if missed:
            warnings.warn(f"the recorder missed a sync between steps {last} and {step}: call record() after "
                          "every step (the slow trajectory has a gap)", stacklevel=3)
        if step % k:
            return
        rows = len(self._steps["slow"])
        if alpha > 0 and not missed:
            self._inner_ends.append((step, rows, rows - 1))
        self._append_slow(step, self._access.read_slow(), metrics)

    def _append_slow(self, step, slow, metrics):
        self._series["slow"].append(slow)
        self._steps["slow"].append(step)
        self._slow_metrics.append(metrics)


    # ---------------------------------------------------------------- reading
    @property
    def num_snapshots(self):
        counts = {name: store.count for name, store in self._series.items()}
        counts["inner_end"] = len(self._inner_ends)  # recovered from the slow snapshots, not stored
        return counts

    @property
    def nbytes(self):
        """Bytes of all recorded snapshots and their step indices (in memory or on disk)."""
        snapshots = sum(store.nbytes for store in self._series.values())
        return snapshots + 8 * sum(len(steps) for steps in self._steps.values())

    @property
    def resident_nbytes(self):
        """Bytes of snapshot buffers held in memory now (one chunk per series with ``store``)."""
        return sum(store.resident_nbytes for store in self._series.values())

    def trajectory(self):
        """Everything recorded so far as a ``Trajectory`` (arrays copied out of the chunks)."""
        slow = self._series["slow"].array()
        return Trajectory(
            fast=self._series["fast"].array(), fast_steps=np.array(self._steps["fast"], dtype=np.int64),
            slow=slow, slow_steps=np.array(self._steps["slow"], dtype=np.int64),
            **inner_loop_ends(slow, self._inner_ends, self._access.alpha),
            metrics=self._fast_metrics.arrays(), slow_metrics=self._slow_metrics.arrays(),
            k=self._access.k, alpha=self._access.alpha,
            shapes=[tuple(p._value.shape) for p in self._access.parameters],
        )

    def close(self):
        """Write the last partial chunks and the manifest (``store`` mode); recording stops."""
        if self._closed:
            return
        self._closed = True
        if self.directory is None:
            return
        for store in self._series.values():
            store.close()
        manifest = {
            "files": {name: store._files for name, store in self._series.items()},
            "steps": self._steps,
            "inner_ends": self._inner_ends,
            "metrics": {k: v.tolist() for k, v in self._fast_metrics.arrays().items()},
            "slow_metrics": {k: v.tolist() for k, v in self._slow_metrics.arrays().items()},
            "k": self._access.k, "alpha": self._access.alpha,
            "shapes": [list(p._value.shape) for p in self._access.parameters],
            "width": int(self._fast_buffer.size),
        }
        (self.directory / "trajectory.json").write_text(json.dumps(manifest))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RecordingOptimizer:
    """Wrap an optimizer so that ``step()`` steps and records; everything else is passed through.

    ``step(metrics=None)`` and ``minimize(loss, ...)`` (which records the loss)
    both record; the recorder is ``.recorder``.
    """

    def __init__(self, optimizer, **recorder_options):
        self.optimizer = optimizer
        self.recorder = TrajectoryRecorder(optimizer, **recorder_options)

    def step(self, metrics=None):
        self.optimizer.step()
        self.recorder.record(metrics)

    def minimize(self, loss, startup_program=None, parameters=None, no_grad_set=None):
        result = self.optimizer.minimize(loss, startup_program, parameters, no_grad_set)
        self.recorder.record({"loss": float(np.asarray(loss.numpy()).ravel()[0])})
        return result

    def __getattr__(self, name):
        return getattr(self.optimizer, name)
