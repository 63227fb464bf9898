#!/usr/bin/env bash
# Everything to check on a lent NVIDIA GPU, in one go (4-5 minutes; the steps' limits add up to 530 s,
# so give the device's `run` a timeout_s of about 590):
#
#     bash tools/gpu_check.sh        (from the repository root; results under $OUT, default gpu_out/)
#
# Nothing is installed from the network: the device image's python3 already has numba, numba-cuda,
# numpy, torch and pytest; the package is used from this checkout. Everything comes back under $OUT:
# copy $OUT/kernels_gpu_<device>.csv into benchmarks/data/ and commit it (the kernels figure overlays it
# on every machine; the copy this script writes to benchmarks/data/ stays on the device machine).
set -uo pipefail
export NUMBA_ENABLE_CUDASIM=0 NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS=0 LASANDBOX_PROGRESS=0 PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# numba-cuda takes CUDA_HOME on trust (ahead of its own search for libdevice, and instead of its fallback
# for libnvvm), so set it only when unset and only to a toolkit that has libdevice.
if [ -z "${CUDA_HOME:-}" ]; then
    for d in /usr/local/cuda "$(dirname "$(dirname "$(command -v nvcc 2>/dev/null || echo /none/bin/nvcc)")")"; do
        if [ -d "$d/nvvm/libdevice" ]; then export CUDA_HOME="$d"; break; fi
    done
fi
PY="${PY:-python3}"
OUT="${OUT:-gpu_out}"
mkdir -p "$OUT" benchmarks/data

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/device.txt"
timeout 90 "$PY" tools/gpu_preflight.py 2>&1 | tee -a "$OUT/device.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "preflight failed: not running the GPU tests"; exit 1; }

# Every cuda test carries the gpu marker; a skip here means something did not run on the device.
# Only the modules that hold them (every module with a gpu mark, directly or through kernel_cases.py or
# rule_cases.py): collecting the whole suite would import every test module, and one collection error
# would stop the run.
GPU_TESTS="tests/test_kernels.py tests/test_kernels_edge.py tests/test_kernels_api.py tests/test_rules.py"
GPU_TESTS="$GPU_TESTS tests/test_paddle_reference.py tests/test_paddle_family.py tests/test_nonfinite.py"
GPU_TESTS="$GPU_TESTS tests/test_paper_nqm.py tests/test_incubate_minmax.py"
# A test stuck on the device fails alone (when pytest-timeout is there: an unknown option would stop pytest),
# and -v names each test, so a log cut by the limit still says where it stopped.
PER_TEST=""
"$PY" -c "import pytest_timeout" 2>/dev/null && PER_TEST="--timeout=90"
# shellcheck disable=SC2086
timeout 200 "$PY" -m pytest -v -rs --durations=15 $PER_TEST -m gpu -p no:cacheprovider $GPU_TESTS 2>&1 \
    | tee "$OUT/pytest.log"
tests_status=${PIPESTATUS[0]}
grep -q " skipped" "$OUT/pytest.log" && echo "NOTE: some GPU tests were skipped (reasons above)"

# Every rule is benchmarked by `lasandbox bench kernels`; here the paper's three and one of each shape
# (adaptive, two-pass with reductions, sign-based), to stay inside the device's time. The cpu rows give
# the crossover; the numpy reference and PyTorch on the CPU would take minutes at 2^26 and say nothing
# about the GPU (torch-cuda's fused Adam is timed whatever the backends). The GPU part runs first and its
# csv is written at once, so a cut in the CPU part loses no GPU numbers.
timeout 240 "$PY" benchmarks/kernels.py --sizes 14,18,20,22,24,26 --rounds 10 --no-extras \
    --backends cpu,cuda --rules sgd,momentum,adam,adagrad,lamb,lion \
    --gpu-data-dir benchmarks/data --out "$OUT" 2>&1 | tee "$OUT/bench.log"
bench_status=${PIPESTATUS[0]}
cp benchmarks/data/kernels_gpu_*.csv "$OUT"/ 2>/dev/null
ls -l "$OUT"
echo "pytest exit $tests_status, benchmark exit $bench_status"
[ "$tests_status" -eq 0 ] && [ "$bench_status" -eq 0 ]
