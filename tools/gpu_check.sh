#!/usr/bin/env bash
# Everything to check on a lent NVIDIA GPU, in one go (about 5 minutes; each step has a time limit):
#
#     bash tools/gpu_check.sh        (from the repository root; results under $OUT, default gpu_out/)
#
# Nothing is installed from the network: the device image's python3 already has numba, numba-cuda,
# numpy, torch and pytest; the package is used from this checkout. Commit what it leaves in
# benchmarks/data/kernels_gpu_<device>.csv (the kernels figure overlays it on every machine).
set -uo pipefail
export NUMBA_ENABLE_CUDASIM=0 NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS=0 LASANDBOX_PROGRESS=0 PYTHONUNBUFFERED=1
export CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}" PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY="${PY:-python3}"
OUT="${OUT:-gpu_out}"
mkdir -p "$OUT" benchmarks/data

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/device.txt"
timeout 120 "$PY" tools/gpu_preflight.py 2>&1 | tee -a "$OUT/device.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "preflight failed: not running the GPU tests"; exit 1; }

# Every cuda test carries the gpu marker; a skip here means something did not run on the device.
# Only the modules that hold them: the others import packages (matplotlib, scikit-learn) the image
# may lack, and one collection error would stop the whole run.
GPU_TESTS="tests/test_kernels.py tests/test_kernels_edge.py tests/test_kernels_api.py tests/test_rules.py"
GPU_TESTS="$GPU_TESTS tests/test_paddle_reference.py tests/test_paddle_family.py tests/test_nonfinite.py"
GPU_TESTS="$GPU_TESTS tests/test_paper_nqm.py"
# shellcheck disable=SC2086
timeout 240 "$PY" -m pytest -q -rs -m gpu -p no:cacheprovider $GPU_TESTS 2>&1 | tee "$OUT/pytest.log"
tests_status=${PIPESTATUS[0]}
grep -q " skipped" "$OUT/pytest.log" && echo "NOTE: some GPU tests were skipped (reasons above)"

# Every rule is benchmarked by `lasandbox bench kernels`; here the paper's three and one of each shape
# (adaptive, two-pass with reductions, sign-based), to stay inside the device's time.
timeout 330 "$PY" benchmarks/kernels.py --sizes 14,18,20,22,24,26 --rounds 10 --no-extras \
    --rules sgd,momentum,adam,adagrad,lamb,lion \
    --gpu-data-dir benchmarks/data --out "$OUT" 2>&1 | tee "$OUT/bench.log"
bench_status=${PIPESTATUS[0]}
cp benchmarks/data/kernels_gpu_*.csv "$OUT"/ 2>/dev/null
ls -l "$OUT"
echo "pytest exit $tests_status, benchmark exit $bench_status"
[ "$tests_status" -eq 0 ] && [ "$bench_status" -eq 0 ]
