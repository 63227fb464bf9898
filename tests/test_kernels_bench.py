"""The kernel benchmark's plumbing at toy sizes: rows, csv, figure, GPU-file overlay, target lines.

These check that the benchmark runs and reports; the speed claims themselves are
printed by ``lasandbox bench kernels`` (never asserted by timed unit tests).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from lasandbox.kernels import bench, bench_cases, bench_extras, bench_plot, rules


def test_run_benchmark_writes_rows_csv_and_figure(tmp_path):
    rows = bench.run_benchmark(sizes=[10], backends=["numpy", "cpu"], rounds=1, out_dir=tmp_path,
                               show_progress=False)
    kernels = {row["kernel"] for row in rows if row["backend"] == "cpu"}
    # Every registered rule, plain and fused, and the sync: a rule added to the registry is benchmarked too.
    assert kernels == set(bench_cases.kernel_labels())
    assert all(f"{name}+sync" in kernels for name in rules.names())
    assert {row["backend"] for row in rows} >= {"numpy", "cpu", "stream-serial"}
    for row in rows:
        assert row["seconds"] > 0 and row["gbps"] > 0 and row["roofline_fraction"] > 0
    header, stored = bench_plot.read_csv(tmp_path / "kernels.csv")
    assert "date" in header and "versions" in header and len(stored) == len(rows)
    assert (tmp_path / "kernels.png").stat().st_size > 10_000
    lines = bench.target_lines(rows, {})
    assert any(line.startswith("adam cpu 2^10: ") and "of roofline" in line for line in lines)
    assert any("no real GPU" in line for line in lines)


def test_stored_gpu_files_are_read_back_and_overlaid(tmp_path):
    gpu_rows = [{"kernel": kernel, "backend": backend, "size": 2**e, "log2_size": e, "seconds": 1e-4,
                 "gbps": 1000.0 + e, "roofline_gbps": 2000.0, "roofline_fraction": 0.5, "torch_seconds": math.nan,
                 "speedup_vs_torch": math.nan}
                for e in (20, 24) for kernel, backend in (("adam", "cuda"), ("copy", "cuda-d2d-copy"))]
    path = tmp_path / "data" / "kernels_gpu_nvidia_h100.csv"
    bench_plot.write_csv(path, gpu_rows, {"device": "NVIDIA H100 80GB HBM3", "date": "2030-01-02T03:04:05"})
    header, rows = bench_plot.read_csv(path)
    assert header["device"] == "NVIDIA H100 80GB HBM3"
    assert rows[0]["gbps"] == pytest.approx(1020.0) and rows[0]["size"] == 2**20
    assert bench_plot.stored_gpu_files([tmp_path / "data"])[-1] == path
    host_rows = [{**row, "backend": "cpu", "gbps": 20.0, "roofline_gbps": 25.0} for row in rows
                 if row["kernel"] == "adam"]
    out = bench_plot.plot_kernels(host_rows, tmp_path / "fig.png", [path], "test machine")
    assert out.stat().st_size > 10_000


def test_gpu_rows_are_written_before_the_cpu_part_runs(tmp_path, monkeypatch):
    """A lent GPU's csv exists as soon as its part ends: a time limit during the CPU part loses none of it."""
    from lasandbox.kernels import bench_gpu

    fake = [{"kernel": "adam", "backend": "cuda", "size": 2**10, "log2_size": 10, "seconds": 1e-5, "gbps": 99.0,
             "roofline_gbps": 100.0, "roofline_fraction": 0.99, "torch_seconds": math.nan,
             "speedup_vs_torch": math.nan}]
    monkeypatch.setattr(bench_gpu, "gpu_present", lambda: True)
    monkeypatch.setattr(bench_gpu, "run_gpu", lambda sizes, kernels, rounds, progress_update=None: list(fake))
    monkeypatch.setattr(bench_gpu, "device_name", lambda: "Test GPU 1")
    monkeypatch.setattr(bench_gpu, "gpu_versions", lambda: "driver 0")

    class Stop(Exception):
        pass

    def cpu_part(*args, **kwargs):
        assert (tmp_path / "kernels_gpu_test_gpu_1.csv").exists(), "the GPU csv must exist before the CPU part"
        raise Stop

    monkeypatch.setattr(bench, "time_round_robin", cpu_part)
    with pytest.raises(Stop):
        bench.main(["--sizes", "10", "--rounds", "1", "--backends", "cpu,cuda", "--no-extras", "--rules", "adam",
                    "--out", str(tmp_path), "--gpu-data-dir", str(tmp_path / "data")])
    header, rows = bench_plot.read_csv(tmp_path / "data" / "kernels_gpu_test_gpu_1.csv")
    assert header["device"] == "Test GPU 1" and "driver 0" in header["versions"]
    assert [(row["kernel"], row["backend"]) for row in rows] == [("adam", "cuda")]


def test_main_prints_table_and_targets(tmp_path, capsys):
    assert bench.main(["--sizes", "10", "--rounds", "1", "--backends", "numpy,cpu", "--no-extras",
                       "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "targets:" in out and "of roofline (" in out and "(target >= 0.85)" in out
    assert (tmp_path / "kernels.csv").exists()


def test_cli_arguments_are_checked():
    with pytest.raises(SystemExit):
        bench.parse_args(["--backends", "tpu"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--sizes", "40"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--rounds", "0"])
    args = bench.parse_args(["--quick"])
    assert args.sizes == list(bench.QUICK_SIZES) and args.rounds == 3


def test_side_measurements_run_at_toy_sizes():
    sizes = bench_extras.mixed_tensor_sizes(count=20, total=10_000)
    assert len(sizes) == 20 and 9_000 < sum(sizes) < 11_000 and min(sizes) >= 1
    many = bench_extras.many_tensors(rounds=1, count=5, total=5_000)
    assert many["tensors"] == 5 and many["cpu-flat"] > 0 and many["numpy-per-tensor"] > 0
    assert many["optimizer-step"] > 0
    small = bench_extras.small_arrays(size=100, rounds=1, kernels=["adam"])
    assert small[("adam", "cpu")] > 0 and small[("adam", "cpu-unvalidated")] > 0
    crossover, table = bench_extras.serial_parallel_crossover(exponents=[10], rounds=1)
    assert set(crossover) == {"adam", "sgd", "sync"} and 10 in table
    check = bench_extras.nonfinite_check_cost(size=5_000, rounds=1)
    assert set(check) == {"step", "check", "check+step", "size"} and min(check.values()) > 0
    lines = bench.target_lines([], {"many_tensors": many, "small_arrays": small, "crossover": crossover,
                                    "nonfinite": check})
    assert any("gradient check before an adam step" in line for line in lines)
    floor = next(line for line in lines if "a separate read costs" in line)
    assert "(4 vs 28 bytes per element)" in floor and "costs 14% of the step at equal rates" in floor
    assert any("per-tensor loop of the numpy backend" in line for line in lines)
    assert any("lasandbox.optimizer.Adam(backend='cpu').step()" in line for line in lines)


@pytest.mark.slow
def test_startup_measurement_reports_cold_and_cached_first_steps():
    result = bench_extras.startup(repeats=1)
    cold, warm = result["direct"]["cold"], result["direct"]["warm"]
    assert cold["compiled_at_import"] == [] and cold["cuda_imported"] is False
    assert warm["first_step_large"] < cold["first_step_large"]
    assert np.isfinite(warm["first_step_small"]) and result["after_setup"]["warm"]["numba_setup"] > 0
    scipy = result["after_scipy"]
    assert scipy["warm"]["first_step_large"] < scipy["cold"]["first_step_large"]
    lines = bench.target_lines([], {"startup": result})
    assert any("ratio" in line for line in lines) and any("already imported scipy" in line for line in lines)


def test_gpu_code_path_runs_on_the_simulator(tmp_path, monkeypatch):
    # The GPU benchmark normally refuses the simulator (it says nothing about speed);
    # here it is let through at a toy size to exercise the code that a real GPU runs.
    from lasandbox.kernels import bench_gpu, cuda_backend

    if not (cuda_backend.is_available() and cuda_backend.is_simulator()):
        pytest.skip("needs the CUDA simulator (NUMBA_ENABLE_CUDASIM=1, set by tests/conftest.py without a GPU)")
    monkeypatch.setattr(bench_gpu, "gpu_present", lambda: True)
    rows = bench.run_benchmark(sizes=[5], backends=["cpu", "cuda"], rounds=1, kernels=["adam", "sync"],
                               show_progress=False)
    backends = {row["backend"] for row in rows}
    assert {"cpu", "cuda", "cuda-d2d-copy", "cuda+transfers"} <= backends
    lines = bench.target_lines(rows, {})
    assert any("of device-to-device copy" in line for line in lines)
    assert any("launches per fused adam+sync step: 1 " in line for line in lines)
    assert any("crossover" in line for line in lines)
    data_dir = tmp_path / "data"
    bench.write_outputs(rows, tmp_path / "out", gpu_data_dir=data_dir)
    stored = list(data_dir.glob("kernels_gpu_*.csv"))
    assert len(stored) == 1
    header, gpu_rows = bench_plot.read_csv(stored[0])
    assert header["device"] and {row["backend"] for row in gpu_rows} >= {"cuda", "cuda-d2d-copy"}
    assert "numba " in header["versions"]
    # The same device's file in the output folder and in the data folder is drawn once.
    assert [p.name for p in bench_plot.stored_gpu_files([data_dir, tmp_path / "out"])].count(stored[0].name) == 1


def test_a_torch_tensor_that_cannot_export_its_interface_gets_a_named_type_error():
    from lasandbox.kernels import checks

    class RequiresGrad:  # what a PyTorch CUDA tensor with requires_grad=True does
        @property
        def __cuda_array_interface__(self):
            raise RuntimeError("Can't get __cuda_array_interface__ on Variable that requires grad")

    assert checks.is_device_array(RequiresGrad())
    with pytest.raises(TypeError, match="param cannot be shared.*detach"):
        checks.device_arrays([("param", RequiresGrad())], written={"param"})


def test_round_robin_cleans_the_cache_before_each_single_call_sample_only():
    from lasandbox.kernels.bench_cases import Case, time_round_robin

    log = []
    slow = Case("sgd", "slow", lambda: (log.append("slow"), time.sleep(0.002)))
    fast = Case("sgd", "fast", lambda: log.append("fast"))
    time_round_robin([slow, fast], rounds=3, max_repeats=50, clean_cache=lambda: log.append("clean"))
    timed = log[4:]  # after each case's warm-up and sizing call
    # The 2 ms case runs once per sample, after a clean; the fast one runs many times per sample, no clean.
    assert timed.count("clean") == 3 == timed.count("slow")
    assert all(timed[i + 1] == "slow" for i, entry in enumerate(timed) if entry == "clean")
    assert timed.count("fast") > 3
    assert slow.best >= 0.002 and fast.best < slow.best


def test_timed_arrays_hold_distinct_values_in_every_page():
    from lasandbox.kernels.bench_cases import CacheCleaner, random_arrays

    for array in random_arrays(2**16, (1.0, 1e-3), seed=4):
        pages = array.reshape(-1, 1024)  # 4 KiB of float32 per row
        assert array.flags.c_contiguous and array.ctypes.data % 64 == 0
        assert np.all(pages.std(axis=1) > 0) and np.unique(pages[:, 0]).size == pages.shape[0]
    cleaner = CacheCleaner(megabytes=1)
    assert cleaner.buffer.nbytes == 2**20
    cleaner()


def test_each_size_has_one_timing_regime_for_every_case(monkeypatch):
    from lasandbox.kernels import bench_cases
    from lasandbox.kernels.bench_cases import DRAM_REGIME_FROM, sampling

    cleaner = object()
    assert sampling(2**10, cleaner) == (512, None) and sampling(DRAM_REGIME_FROM // 2, cleaner) == (2, None)
    assert sampling(DRAM_REGIME_FROM, cleaner) == (1, cleaner) and sampling(2**26, cleaner) == (1, cleaner)
    # What run_benchmark hands the timer, per size: every case of a size is timed in one call, so
    # one (max_repeats, clean_cache) pair per size means one regime for all of its cases.
    seen = []
    real_timer = bench_cases.time_round_robin

    def recording(cases, rounds, max_repeats, clean_cache=None, **kwargs):
        seen.append((max_repeats, clean_cache))
        return real_timer(cases, 1, max_repeats, clean_cache=clean_cache, **kwargs)

    monkeypatch.setattr(bench, "time_round_robin", recording)
    exponent = DRAM_REGIME_FROM.bit_length() - 1
    bench.run_benchmark(sizes=[exponent - 1, exponent], backends=["cpu"], rounds=1, kernels=["sgd"],
                        show_progress=False)
    (warm_repeats, warm_clean), (dram_repeats, dram_clean) = seen
    assert warm_repeats == 2 and warm_clean is None
    assert dram_repeats == 1 and isinstance(dram_clean, bench_cases.CacheCleaner)


def test_without_matplotlib_the_csv_is_still_written(tmp_path, monkeypatch, capsys):
    def no_matplotlib(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")

    rows = bench.run_benchmark(sizes=[6], backends=["numpy"], rounds=1, kernels=["sgd"], show_progress=False)
    monkeypatch.setattr(bench_plot, "plot_kernels", no_matplotlib)
    assert bench.write_outputs(rows, tmp_path) is None
    assert (tmp_path / "kernels.csv").exists() and not (tmp_path / "kernels.png").exists()
    assert "no figure" in capsys.readouterr().out
