#!/bin/sh
# Builds the libFuzzer targets in build-fuzz/ (clang, ASan+UBSan) and runs load_model_fuzzer for
# a bounded time on a scratch copy of fuzz/corpus/. Exits non-zero if the fuzzer finds a crash,
# leak, timeout or out-of-memory; the reproducer is left in build-fuzz/artifacts/.
#
#   fuzz/run.sh [SECONDS]      (default 60)
#
# Environment: JOBS (build parallelism, default 2), FUZZ_ARGS (extra libFuzzer flags).
# Reproduce a crash: build-fuzz/fuzz/load_model_fuzzer build-fuzz/artifacts/crash-<hash>
set -eu

seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEDGEFIT_FUZZ=ON -DEDGEFIT_BUILD_TESTS=OFF >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "${JOBS:-2}" --target load_model_fuzzer

work="$build/corpus"
rm -rf "$work"
mkdir -p "$work" "$build/artifacts"
cp "$root"/fuzz/corpus/* "$work"/

echo "fuzzing for ${seconds}s on $(ls "$work" | wc -l) seed files"
# -rss_limit_mb: a few KB of input must never need gigabytes. -timeout: no input may take 10 s.
# ASan: report, don't return NULL, for allocations above the limit.
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  "$build/fuzz/load_model_fuzzer" "$work" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/artifacts/" ${FUZZ_ARGS:-}
