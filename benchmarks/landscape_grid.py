"""Cost of loss-landscape grids (batched vs one autograd forward per point) and of trajectory recording.

Model: MLP 64-32-10 on scikit-learn digits; the grid is evaluated on all
1,797 samples (train + test split) in the plane through theta_0, theta_mid,
theta_end of a short LookAhead run.

* Grid: 11x11, 25x25 and 51x51, batched and naive, min over ``--repeats``
  round-robin runs. Each path gets its best thread setting: the batched path
  runs with numba at 1 thread and at all threads in every round (the faster
  counts, the column says which); the naive path with OpenBLAS at 1 thread
  or all threads, picked on a 7x7 probe (its small matmuls are often much
  slower multi-threaded on a busy machine). A single-thread comparison of
  both paths is printed too.
* Recording: ``--steps`` training steps (batch 32, LookAhead(Momentum),
  k = 5) without a recorder, with ``TrajectoryRecorder.record`` after every
  step in memory, and to disk: the three runs advance in turns of 250 steps
  (round-robin, so all see the same machine load) and their totals are
  compared, min over ``--record-repeats``. The time spent inside
  ``record()`` itself is printed too.

    python benchmarks/landscape_grid.py [--repeats 5] [--steps 10000] [--record-repeats 5] [--quick]

The last line is ``speedup batched/naive at 51x51: <X>x``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numba
import numpy as np
from threadpoolctl import threadpool_limits

import lasandbox as paddle
from lasandbox import nn
from lasandbox.autograd.tensor import Tensor
from lasandbox.datasets import load_digits
from lasandbox.landscape import Plane, TrajectoryRecorder, evaluate_grid
from lasandbox.training import mlp, train_epoch
from lasandbox.utils.machine import cpu_model

os.environ.setdefault("LASANDBOX_PROGRESS", "0")  # bars would disturb the timings' output


def setup_plane(data):
    paddle.seed(0)
    model = mlp([64, 32, 10])
    inner = paddle.optimizer.Momentum(learning_rate=0.1, momentum=0.9, parameters=model.parameters())
    rng = np.random.default_rng(0)
    train_epoch(model, inner, data.x_train, data.y_train, 32, rng)
    lookahead = paddle.LookAhead(inner, alpha=0.5, k=10, slow_init="construction")
    recorder = TrajectoryRecorder(lookahead)
    train_epoch(model, lookahead, data.x_train, data.y_train, 32, rng, on_step=lambda loss: recorder.record())
    return model, Plane.through_trajectory(recorder.trajectory())


def timed_grid(model, plane, x, y, resolution, method, threads):
    limit = threadpool_limits(limits=threads["blas"], user_api="blas")
    previous = numba.get_num_threads()
    numba.set_num_threads(threads["numba"])
    try:
        return evaluate_grid(model, plane, x, y, extent=(-0.5, 1.5, -0.5, 1.5), resolution=resolution,
                             method=method, show_progress=False)
    finally:
        numba.set_num_threads(previous)
        limit.unregister()


def naive_threads(model, plane, x, y):
    """BLAS at 1 thread or all threads for the naive path, whichever is faster on a 7x7 probe (min of 2).

    The probe keeps a pathological setting (multi-threaded BLAS on small
    matmuls of a busy machine can be 10x slower) out of the timed runs.
    """
    options = [{"blas": 1, "numba": 1}, {"blas": os.cpu_count() or 1, "numba": 1}]
    timings = [min(timed_grid(model, plane, x, y, 7, "naive", t).seconds for _ in range(2)) for t in options]
    return options[int(np.argmin(timings))]


def grid_benchmark(model, plane, x, y, sizes, repeats):
    all_threads = numba.config.NUMBA_NUM_THREADS
    settings = {"batched": [{"blas": 1, "numba": 1}, {"blas": 1, "numba": all_threads}],
                "naive": [naive_threads(model, plane, x, y)]}
    for threads in settings["batched"]:
        timed_grid(model, plane, x, y, 3, "batched", threads)  # compile (or load the cache), start threads
    print(f"thread settings tried: batched {settings['batched']}, naive {settings['naive']} (best on a 7x7 probe)")
    print(f"{'grid':>7} {'points':>6} | {'batched s':>9} {'us/point':>8} {'points/s':>9} {'threads':>7} | "
          f"{'naive s':>8} {'us/point':>8} {'points/s':>9} | speedup")
    results = {}
    for size in sizes:
        best = {"batched": None, "naive": None}
        used = {}
        for _ in range(repeats):  # round-robin: both paths and all settings see the same machine load
            for method in ("batched", "naive"):
                for threads in settings[method]:
                    run = timed_grid(model, plane, x, y, size, method, threads)
                    if best[method] is None or run.seconds < best[method].seconds:
                        best[method], used[method] = run, threads
        b, n = best["batched"], best["naive"]
        points = b.num_points
        print(f"{size:>3}x{size:<3} {points:>6} | {b.seconds:>9.3f} {1e6 * b.seconds / points:>8.1f} "
              f"{b.points_per_second:>9,.0f} {used['batched']['numba']:>7} | {n.seconds:>8.3f} "
              f"{1e6 * n.seconds / points:>8.1f} {n.points_per_second:>9,.0f} | {n.seconds / b.seconds:>6.1f}x")
        results[size] = best
    return results, settings


def agreement(results, size):
    b, n = results[size]["batched"], results[size]["naive"]
    loss_abs = np.abs(b.loss - n.loss)
    loss_rel = loss_abs / np.maximum(np.abs(n.loss), 1e-12)
    acc_diff = np.abs(b.accuracy - n.accuracy)
    print(f"agreement at {size}x{size}: max |loss diff| {loss_abs.max():.2e} (relative {loss_rel.max():.2e}), "
          f"max |accuracy diff| {acc_diff.max():.2e} ({int((acc_diff > 0).sum())} of {acc_diff.size} points differ)")
    return max(loss_rel.max(), acc_diff.max())


def single_thread_comparison(model, plane, x, y, size, repeats):
    one = {"blas": 1, "numba": 1}
    times = {"batched": [], "naive": []}
    for _ in range(repeats):
        for method in times:
            times[method].append(timed_grid(model, plane, x, y, size, method, one).seconds)
    ratio = min(times["naive"]) / min(times["batched"])
    print(f"single-thread (BLAS 1, numba 1) at {size}x{size}: batched {min(times['batched']):.3f} s, "
          f"naive {min(times['naive']):.3f} s, speedup {ratio:.1f}x")


class TrainingRun:
    """One 10,000-step training run that can be advanced a segment at a time (timed per segment)."""

    def __init__(self, data, steps, record, store=None):
        paddle.seed(1)
        self.model = mlp([64, 32, 10])
        self.opt = paddle.LookAhead(paddle.optimizer.Momentum(learning_rate=0.05, momentum=0.9,
                                                              parameters=self.model.parameters()), alpha=0.5, k=5)
        self.loss_fn = nn.CrossEntropyLoss()
        self.batches = np.random.default_rng(1).integers(0, len(data.x_train), size=(steps, 32))
        self.xs, self.ys = data.x_train, data.y_train
        self.recorder = TrajectoryRecorder(self.opt, store=store) if record else None
        self.position = 0
        self.seconds = 0.0
        self.inside_record = 0.0

    def advance(self, count):
        model, opt, loss_fn, recorder, clock = self.model, self.opt, self.loss_fn, self.recorder, time.perf_counter
        inside = 0.0
        start = clock()
        for idx in self.batches[self.position:self.position + count]:
            loss = loss_fn(model(Tensor(self.xs[idx])), Tensor(self.ys[idx]))
            loss.backward()
            opt.step()
            opt.clear_grad()
            value = float(loss.numpy())  # both variants read the loss, as a logging loop would
            if recorder is not None:
                before = clock()
                recorder.record({"loss": value})
                inside += clock() - before
        self.seconds += clock() - start
        self.inside_record += inside
        self.position += count
        return self.position < len(self.batches)


def recording_benchmark(data, steps, repeats, segment=250):
    """Three runs (plain, recorded, recorded to disk) advanced in turns of ``segment`` steps.

    Interleaving short segments gives all three the same machine load, which
    on a shared machine drifts over seconds; the totals are then compared,
    min over ``repeats`` such interleaved runs.
    """
    warm = TrainingRun(data, 200, True)
    warm.advance(200)
    names = ("plain", "recorded", "recorded to disk")
    totals = {name: [] for name in names}
    inside = {name: [] for name in names[1:]}
    recorder = None
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            runs = {"plain": TrainingRun(data, steps, False), "recorded": TrainingRun(data, steps, True),
                    "recorded to disk": TrainingRun(data, steps, True, store=os.path.join(tmp, "run"))}
            going = True
            while going:
                for run in runs.values():
                    going = run.advance(segment)
            for name, run in runs.items():
                totals[name].append(run.seconds)
                if run.recorder is not None:
                    run.recorder.close()
                    inside[name].append(run.inside_record)
            recorder = runs["recorded"].recorder
    plain = min(totals["plain"])
    for name in names:
        extra = f", {1e6 * min(inside[name]) / steps:.1f} us/step inside record()" if name in inside else ""
        print(f"  {name:>16}: min {min(totals[name]):.3f} s over {repeats} runs "
              f"({1e6 * min(totals[name]) / steps:.0f} us/step{extra})")
    print(f"  memory of the in-memory recording: {recorder.nbytes / 2**20:.1f} MiB ({recorder.num_snapshots})")
    wall = min(totals["recorded"]) / plain - 1
    disk = min(totals["recorded to disk"]) / plain - 1
    print(f"  time inside record(): {100 * min(inside['recorded']) / plain:.1f}% of a plain run "
          f"(to disk: {100 * min(inside['recorded to disk']) / plain:.1f}%)")
    print(f"recording overhead ({steps} steps, every step): {100 * wall:+.1f}% (to disk: {100 * disk:+.1f}%)")
    return wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="round-robin runs of each grid size")
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--record-repeats", type=int, default=5, help="round-robin runs of the recording test")
    parser.add_argument("--quick", action="store_true", help="1 repeat, 2,000 recording steps (smoke test)")
    parser.add_argument("--only", choices=("grid", "recording"), help="run one of the two parts")
    args = parser.parse_args()
    repeats, steps = (1, 2000) if args.quick else (args.repeats, args.steps)
    record_repeats = 1 if args.quick else args.record_repeats
    print(f"{cpu_model()}, {os.cpu_count()} cpus, numpy {np.__version__}, "
          f"numba {numba.__version__}")
    data = load_digits()
    x = np.concatenate([data.x_train, data.x_test])
    y = np.concatenate([data.y_train, data.y_test])
    model, plane = setup_plane(data)
    print(f"MLP 64-32-10 ({plane.size} weights), all {len(x)} digits samples; plane: {plane.description}")
    if args.only != "grid":
        print("\nrecording")
        recording_benchmark(data, steps, record_repeats)
    if args.only == "recording":
        return
    print("\ngrid evaluation (min over round-robin repeats)")
    results, _ = grid_benchmark(model, plane, x, y, (11, 25, 51), repeats)
    agreement(results, 51)
    single_thread_comparison(model, plane, x, y, 25, repeats)
    speedup = results[51]["naive"].seconds / results[51]["batched"].seconds
    print(f"speedup batched/naive at 51x51: {speedup:.1f}x")


if __name__ == "__main__":
    main()
