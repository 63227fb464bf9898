"""How well a sweep scales over local dask workers, and what the sweep machinery costs per run.

1. Scaling: the same 48 digits-mlp runs (24 configs x 2 seeds, ~1-2 s each)
   one after another in this process (``workers=0``: the same code path,
   store writes included, without dask), then on a local cluster of 2
   single-threaded worker processes. Target: parallel <= 0.6 x sequential.
   Both sides run with one numba / BLAS thread per process (the variables are
   set below before numpy is imported, as the cluster sets them in its
   workers), so neither side fights the other for cores. The main ratio
   compares warm processes (the baseline did one untimed run first, every
   worker one through ``client.run``): the median over ``--repeats`` rounds,
   each a sequential sweep followed at once by a parallel one, so both sides
   of a ratio see similar background load. Each round also says how many
   cores other jobs kept busy meanwhile (machine busy time minus this process
   tree's), and the CPU time per run from the store gives what the ratio
   would be with a core per process. "End to end" adds the cluster's start-up
   and the cold workers' imports (sklearn alone is seconds).
2. Overhead: sweeps of trivial runs (the ``debug`` task, sleeping 0 s), so the
   whole time is the machinery: in-process (planning + store writes), and on
   the 2-worker cluster (dask scheduling + result transfer + store writes).
   Target: <= 50 ms per run. A raw ``client.map`` of a no-op shows dask's part.

    python benchmarks/sweep_scaling.py [--epochs 30] [--repeats 3] [--trivial 400] [--skip-scaling]

The machine this was written on has 2 cores shared with other jobs: timings
are lower bounds on what the code can do, and ratios move by +-0.05 between runs.
"""

from __future__ import annotations

import os

# Before numpy / numba are imported: one thread per process, like the cluster's workers.
SINGLE_THREAD = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                 "MKL_NUM_THREADS": "1"}
os.environ.update(SINGLE_THREAD)
os.environ.setdefault("LASANDBOX_PROGRESS", "0")

import argparse  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from lasandbox.sweep import execute_run, get_task, load_results, run_sweep, start_local_cluster  # noqa: E402
from lasandbox.utils.extras import exit_if_missing  # noqa: E402
from lasandbox.utils.machine import cpu_model  # noqa: E402

SCALING_GRID = "lr=0.02,0.05,0.1,0.2 alpha=none,0.5,0.8 k=5,10"  # 24 configs
SCALING_SEEDS = 2
TARGET_RATIO, TARGET_OVERHEAD_MS = 0.6, 50.0


def _quiet(message):
    pass


def _warm_up(epochs=1):
    """One short digits run: imports sklearn, loads the numba kernels, fills the data cache."""
    task = get_task("digits-mlp")
    execute_run(task, task.configs({"epochs": [epochs]})[0], 0)
    return os.getpid()


def _final_metrics(store):
    return {(r["config_hash"], r["seed"]): r["final_metrics"] for r in load_results(store)}


def _cpu_seconds_per_run(store):
    rows = load_results(store)
    return sum(r["cpu_time_s"] for r in rows) / len(rows)


class ContentionMeter:
    """Cores that *other* jobs kept busy during a block: machine busy time minus this process tree's CPU time."""

    def __enter__(self):
        import psutil

        self._psutil = psutil
        self._machine, self._mine, self._start = self._busy(), self._tree(), time.perf_counter()
        return self

    def _busy(self):
        times = self._psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def _tree(self):
        me = self._psutil.Process()
        total = 0.0
        for process in [me, *me.children(recursive=True)]:
            try:
                cpu = process.cpu_times()
                total += cpu.user + cpu.system
            except self._psutil.Error:  # a process that ended in between
                pass
        return total

    def __exit__(self, *exc):
        wall = time.perf_counter() - self._start
        self.mine = (self._tree() - self._mine) / wall
        self.others = max(0.0, (self._busy() - self._machine) / wall - self.mine)


def scaling(folder, epochs, workers, repeats):
    """Alternating sequential / parallel sweeps (both warm), ``repeats`` rounds, then one cold end-to-end sweep."""
    grid = f"{SCALING_GRID} epochs={epochs}"
    start = time.perf_counter()
    _warm_up()
    cold_start = time.perf_counter() - start
    start = time.perf_counter()
    cluster, client = start_local_cluster(workers, dashboard_address=None)
    started = time.perf_counter() - start
    rounds = []
    try:
        client.run(_warm_up)
        warmed = time.perf_counter() - start
        print(f"cluster of {workers} started in {started:.1f} s, workers warm after {warmed:.1f} s; "
              f"this process warm after {cold_start:.1f} s")
        print("  (cores: this process tree / other jobs on the machine, averaged over the sweep)")
        for repeat in range(repeats):
            with ContentionMeter() as seq_meter:
                sequential = run_sweep("digits-mlp", grid, SCALING_SEEDS, folder / f"sequential{repeat}.sqlite",
                                       workers=0, log=_quiet)
            with ContentionMeter() as par_meter:
                parallel = run_sweep("digits-mlp", grid, SCALING_SEEDS, folder / f"parallel{repeat}.sqlite",
                                     client=client, log=_quiet)
            seq_cpu = _cpu_seconds_per_run(folder / f"sequential{repeat}.sqlite")
            par_cpu = _cpu_seconds_per_run(folder / f"parallel{repeat}.sqlite")
            rounds.append({"ratio": parallel.wall_time_s / sequential.wall_time_s, "sequential": sequential.wall_time_s,
                           "cpu_ratio": par_cpu / (workers * seq_cpu)})
            print(f"  round {repeat + 1}: sequential {sequential.wall_time_s:5.1f} s ({seq_cpu:.2f} s CPU per run; "
                  f"cores {seq_meter.mine:.2f} / {seq_meter.others:.2f}) | {workers} workers "
                  f"{parallel.wall_time_s:5.1f} s ({par_cpu:.2f} s CPU per run; cores {par_meter.mine:.2f} / "
                  f"{par_meter.others:.2f}) | ratio {rounds[-1]['ratio']:.2f}")
    finally:
        client.close()
        cluster.close()
    end_to_end = run_sweep("digits-mlp", grid, SCALING_SEEDS, folder / "end_to_end.sqlite", workers=workers,
                           dashboard_address=None, log=_quiet)
    print(f"  end to end: {end_to_end.ran} runs in {end_to_end.wall_time_s:.1f} s (run_sweep starting its own "
          f"cluster of {workers}, cold workers; compare with a sequential round + {cold_start:.1f} s cold start)")
    metrics = [_final_metrics(folder / f"{name}.sqlite") for name in ("sequential0", "parallel0", "end_to_end")]
    identical = metrics[0] == metrics[1] == metrics[2]
    print(f"  final metrics identical in every sweep: {identical}")
    ratios = sorted(r["ratio"] for r in rounds)
    return {"median_ratio": ratios[len(ratios) // 2], "best_ratio": ratios[0],
            "cpu_ratio": sorted(r["cpu_ratio"] for r in rounds)[len(rounds) // 2], "identical": identical,
            "e2e_ratio": end_to_end.wall_time_s / (sorted(r["sequential"] for r in rounds)[len(rounds) // 2]
                                                   + cold_start)}


def overhead(folder, trivial, workers):
    grid = {"x": [float(i) for i in range(trivial // 4)]}  # x 4 seeds = `trivial` runs
    in_process = run_sweep("debug", grid, 4, folder / "trivial_in_process.sqlite", workers=0, log=_quiet)
    cluster, client = start_local_cluster(workers, dashboard_address=None)
    try:
        client.run(lambda: execute_run("debug", {**get_task("debug").configs({})[0]}, 0))  # import everything
        start = time.perf_counter()
        client.gather(client.map(lambda i: i, range(trivial), pure=False))
        raw = time.perf_counter() - start
        on_dask = run_sweep("debug", grid, 4, folder / "trivial_dask.sqlite", client=client, log=_quiet)
    finally:
        client.close()
        cluster.close()
    per_run = {
        "in process (plan + run + store)": in_process.wall_time_s / in_process.ran,
        "raw client.map of a no-op": raw / trivial,
        f"run_sweep on {workers} dask workers": on_dask.wall_time_s / on_dask.ran,
    }
    for what, seconds in per_run.items():
        print(f"  {what:<38} {1e3 * seconds:7.2f} ms per run ({trivial} runs)")
    return 1e3 * per_run[f"run_sweep on {workers} dask workers"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30, help="epochs per digits-mlp run (default 30: ~1-2 s)")
    parser.add_argument("--repeats", type=int, default=3, help="sequential/parallel rounds (median reported)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trivial", type=int, default=400, help="trivial runs for the overhead measurement")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args(argv)
    exit_if_missing("distributed", "the sweep scaling benchmark (dask workers)", prog="sweep_scaling.py")
    import dask
    import distributed

    print(f"{cpu_model()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, dask {dask.__version__}, distributed {distributed.__version__}; "
          f"load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result = None
        if not args.skip_scaling:
            result = scaling(folder, args.epochs, args.workers, args.repeats)
        print("overhead of the sweep machinery (trivial runs):")
        overhead_ms = overhead(folder, args.trivial, args.workers)
    print(f"load average {os.getloadavg()[0]:.1f} at the end (other jobs on this machine slow both sides)")
    print("\nsummary")
    if result is not None:
        ok = result["median_ratio"] <= TARGET_RATIO
        print(f"  parallel / sequential wall time, median of rounds: {result['median_ratio']:.2f} "
              f"(target <= {TARGET_RATIO}: {'met' if ok else 'NOT met'}); best round {result['best_ratio']:.2f}")
        print(f"  the same from CPU time per run (each process on a core of its own; an estimate for a quiet "
              f"machine, not a measurement): {result['cpu_ratio']:.2f}")
        print(f"  end to end (cluster start + cold workers vs a cold process): {result['e2e_ratio']:.2f}")
    ok = overhead_ms <= TARGET_OVERHEAD_MS
    print(f"  machinery per run on dask:             {overhead_ms:.1f} ms "
          f"(target <= {TARGET_OVERHEAD_MS:g} ms: {'met' if ok else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
