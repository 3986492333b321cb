#!/usr/bin/env bash
# Benchmark: `edgefit fix --target stm32n6` on a generated 10,000-node model (bench/make_fix_model:
# dynamic batch, Conv+BN+Relu+Identity and a run-time computed Reshape per block, opset 13), vs
# Debian's python3-onnx doing less: load + check_model + infer_shapes(data_prop=True), and the
# same plus version_converter to opset 17 (what fix's convert-opset step does). Wall time and
# peak RSS, best of REPEATS (with the CPU time, user + sys, of that run), same files, same run.
# Also `fix --target kl730` (Kneron's opset 12: convert-opset goes down, and at opset 12 ONNX
# inference does not follow the computed Reshape targets, so fold-constants runs the executor).
#   bench/fix_10k.sh [NODES=10000] [REPEATS=3]
# BUILD_DIR (default build-bench) is configured and built first unless NO_BUILD=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
nodes="${1:-10000}"
repeats="${2:-3}"
build="${BUILD_DIR:-build-bench}"
if [ "${NO_BUILD:-0}" != 1 ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEFIT_BUILD_BENCH=ON \
    -DEDGEFIT_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" --target edgefit make_fix_model >/dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build"/bench/make_fix_model "$work/model.onnx" "$nodes"
py=/usr/bin/python3
cat > "$work/infer.py" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m)
onnx.shape_inference.infer_shapes(m, data_prop=True)
PY
cat > "$work/convert.py" <<'PY'
import sys, onnx
from onnx import version_converter
m = onnx.load(sys.argv[1])
m = version_converter.convert_version(m, 17)
onnx.checker.check_model(m)
onnx.shape_inference.infer_shapes(m, data_prop=True)
PY
measure() {  # CMD...: "seconds cpu_seconds max_rss_kb" of the best run (by wall time)
  local best_t="" best_cpu="" best_rss=""
  for _ in $(seq "$repeats"); do
    local t cpu rss
    /usr/bin/time -o "$work/time.txt" -f "%e %U %S %M" "$@" >/dev/null 2>&1 || true
    read -r t cpu rss < <(tail -1 "$work/time.txt" | awk '{print $1, $2 + $3, $4}')
    if [ -z "$best_t" ] || awk "BEGIN{exit !($t < $best_t)}"; then
      best_t=$t best_cpu=$cpu best_rss=$rss
    fi
  done
  echo "$best_t $best_cpu $best_rss"
}
ef="$build"/tools/edgefit/edgefit
read -r f_t f_cpu f_rss < <(measure bash -c "rm -f '$work/fixed.onnx'; '$ef' fix '$work/model.onnx' -o '$work/fixed.onnx' --target stm32n6")
read -r n_t n_cpu n_rss < <(measure bash -c "rm -f '$work/fixed.onnx'; '$ef' fix '$work/model.onnx' -o '$work/fixed.onnx' --target stm32n6 --no-verify")
read -r k_t k_cpu k_rss < <(measure bash -c "rm -f '$work/fixed.onnx'; '$ef' fix '$work/model.onnx' -o '$work/fixed.onnx' --target kl730")
read -r i_t i_cpu i_rss < <(measure "$py" "$work/infer.py" "$work/model.onnx")
read -r c_t c_cpu c_rss < <(measure "$py" "$work/convert.py" "$work/model.onnx")
rm -f "$work/fixed.onnx"
"$ef" fix "$work/model.onnx" -o "$work/fixed.onnx" --target stm32n6 | grep -E "nodes:|->  "
printf "%-58s %8s %8s %9s\n" "job ($nodes-node model)" "time s" "CPU s" "peak MB"
row() { printf "%-58s %8.2f %8.2f %9.0f\n" "$1" "$2" "$3" "$(awk "BEGIN{print $4/1024}")"; }
row "edgefit fix --target stm32n6 (check, 13 passes, verify)" "$f_t" "$f_cpu" "$f_rss"
row "edgefit fix --target stm32n6 --no-verify" "$n_t" "$n_cpu" "$n_rss"
row "edgefit fix --target kl730 (opset 13 -> 12, verify)" "$k_t" "$k_cpu" "$k_rss"
row "python3-onnx load + check_model + infer_shapes" "$i_t" "$i_cpu" "$i_rss"
row "python3-onnx load + convert_version(17) + check + infer" "$c_t" "$c_cpu" "$c_rss"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ratio edgefit fix / python3-onnx infer_shapes: $(awk "BEGIN{printf \"%.2f\", $f_t/$i_t}")x time"
echo "ratio edgefit fix / python3-onnx convert+infer: $(awk "BEGIN{printf \"%.2f\", $f_t/$c_t}")x time"
