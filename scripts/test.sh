#!/usr/bin/env bash
# Every test: the unit/integration suite (incl. ONNX conformance and the ONNX Runtime oracle),
# the same suite under ASan+UBSan, and a short fuzzing run of the model loader.
# Expects a Release build in build/ (scripts/bootstrap.sh test does that first).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="${EDGEFIT_JOBS:-$(nproc)}"
status=0

echo "== tests (Release)"
ctest --test-dir build -j "$jobs" --output-on-failure || status=1

echo "== tests (ASan + UBSan)"
# -O0: compiles in ~60% of the time of -O1 (the CI budget is 2 cores); the tests take longer,
# so the ONNX Runtime comparisons (oracle: end-to-end flows, already run above) and the
# accuracy measurements (QuantQualityTest: the same code paths as the quantize tests) are left
# to the Release stage.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DEDGEFIT_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -j "$jobs" --output-on-failure -LE "oracle|slow" \
  -E "QuantQualityTest" || status=1

if [ -x fuzz/run.sh ]; then
  echo "== fuzz (model loader, ${EDGEFIT_FUZZ_SECONDS:-60} s)"
  fuzz/run.sh "${EDGEFIT_FUZZ_SECONDS:-60}" || status=1
fi

if [ $status -eq 0 ]; then echo "== all test stages passed"; else echo "== some test stage FAILED"; fi
exit $status
