#!/usr/bin/env bash
# Benchmark: load + inspect a >= 100M-parameter model with external data, edgefit vs Debian's
# python3-onnx (onnx.load + onnx.checker.check_model + onnx.shape_inference.infer_shapes),
# in the same run on the same files. Prints times, peak RSS and the ratios.
#   bench/load_inspect.sh [PARAMS=100000000] [REPEATS=3]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
params="${1:-100000000}"
repeats="${2:-3}"
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEFIT_BUILD_BENCH=ON \
  -DEDGEFIT_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j "$(nproc)" --target edgefit make_large_model >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
build-bench/bench/make_large_model "$work/large.onnx" "$params"
model_bytes=$(( $(stat -c %s "$work/large.onnx") + $(stat -c %s "$work/large.onnx.data") ))
py=/usr/bin/python3
cat > "$work/peer.py" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m)
onnx.shape_inference.infer_shapes(m, data_prop=True)
PY
# measure CMD...: prints "seconds max_rss_kb" of the best of $repeats runs
measure() {
  local best_t="" best_rss=""
  for _ in $(seq "$repeats"); do
    local out
    out=$( { /usr/bin/time -f "%e %M" "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -1)
    local t=${out% *} rss=${out#* }
    if [ -z "$best_t" ] || awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; best_rss=$rss; fi
  done
  echo "$best_t $best_rss"
}
read -r e_t e_rss < <(measure build-bench/tools/edgefit/edgefit inspect "$work/large.onnx")
read -r c_t c_rss < <(measure build-bench/tools/edgefit/edgefit copy "$work/large.onnx" -o "$work/copy.onnx" --external-data)
read -r p_t p_rss < <(measure "$py" "$work/peer.py" "$work/large.onnx")
model_mb=$(awk "BEGIN{printf \"%.0f\", $model_bytes/1048576}")
echo "model: $params parameters, ${model_mb} MB (with external data)"
printf "%-44s %8s %10s %12s\n" "job" "time s" "peak MB" "RSS/model"
row() { printf "%-44s %8.2f %10.0f %12.2f\n" "$1" "$2" "$(awk "BEGIN{print $3/1024}")" "$(awk "BEGIN{print $3*1024/$model_bytes}")"; }
row "edgefit inspect" "$e_t" "$e_rss"
row "edgefit copy (load all weights + save)" "$c_t" "$c_rss"
row "python3-onnx load+check+infer_shapes" "$p_t" "$p_rss"
echo "ratio edgefit inspect / python3-onnx: time $(awk "BEGIN{printf \"%.3f\", $e_t/$p_t}")x, peak RSS $(awk "BEGIN{printf \"%.3f\", $e_rss/$p_rss}")x"
echo "ratio edgefit copy / python3-onnx:    time $(awk "BEGIN{printf \"%.3f\", $c_t/$p_t}")x, peak RSS $(awk "BEGIN{printf \"%.3f\", $c_rss/$p_rss}")x"
