#!/usr/bin/env bash
# Benchmark: `edgefit quantize` over N calibration samples vs N plain inferences of the same
# float model in ONNX Runtime (session creation + N runs, onnxruntime-node, default session
# optimizations), same machine, same thread count, same run; and edgefit's peak RSS against N.
# edgefit's time includes everything the command does: load, prepare (BN folding, shapes),
# N calibration runs with an observer per quantized tensor, the QDQ rewrite, ONNX's checker,
# check --target and the save. The calibration samples are read from one .npy file of N rows
# (uniform [-1, 1), written before timing), as users calibrate with data files; ONNX Runtime
# gets one prepared input of the same distribution.
# Each figure is the best of REPEATS runs (default 3), ORT and edgefit alternated, so that a
# slow phase of a shared machine does not land on one side only.
#   bench/quantize_vs_ort.sh [THREADS=1] [SAMPLES="50 200"]   (NO_BUILD=1: use build-bench as it is)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
threads="${1:-1}"
samples="${2:-50 200}"
[ "${NO_BUILD:-0}" = 1 ] || cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEFIT_BUILD_BENCH=ON \
  -DEDGEFIT_BUILD_TESTS=OFF >/dev/null
[ "${NO_BUILD:-0}" = 1 ] || cmake --build build-bench -j "$(nproc)" --target edgefit make_zoo_models >/dev/null
tools/ort/setup.sh >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
build-bench/bench/make_zoo_models "$work" >/dev/null
ef=build-bench/tools/edgefit/edgefit
smaller() {  # A B: the smaller number (B when A is empty)
  if [ -z "$1" ] || awk "BEGIN{exit !($2 < $1)}"; then echo "$2"; else echo "$1"; fi
}
printf "| model | method | N | edgefit quantize s | ORT N inferences s | ratio | edgefit peak RSS MB |\n"
printf "|---|---|---:|---:|---:|---:|---:|\n"
for model in tests/fixtures/rppg_clean_op14.onnx "$work/mobilenet_v2.onnx"; do
  name=$(basename "$model" .onnx)
  for n in $samples; do
    # N rows of the model's (batch-1) input shape, uniform [-1, 1), seeded.
    node -e "
      const ort = require('./tools/ort/node_modules/onnxruntime-node');
      const npy = require('./tools/ort/npy.js');
      ort.InferenceSession.create(process.argv[1]).then(s => {
        const meta = s.inputMetadata[0];
        const shape = meta.shape.map(d => (typeof d === 'number' ? d : 1));
        shape[0] = ${n};
        const count = shape.reduce((a, b) => a * b, 1);
        const data = new Float32Array(count);
        let a = 42;
        for (let i = 0; i < count; ++i) {
          a = (a + 0x6d2b79f5) >>> 0;
          let t = Math.imul(a ^ (a >>> 15), a | 1);
          t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
          data[i] = (((t ^ (t >>> 14)) >>> 0) >>> 8) / 8388608 - 1;
        }
        npy.writeNpy(process.argv[2], 'float32', shape, data);
      });" "$model" "$work/calib.npy"
    # Best of REPEATS, ORT and edgefit alternated.
    ort=""
    declare -A best=() rss=()
    for _ in $(seq "${REPEATS:-3}"); do
      o=$(node tools/ort/ort_bench.js "$model" --threads "$threads" --warmup 0 --iters "$n" |
        node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const r=JSON.parse(s);
          console.log(((r.load_ms+r.mean_ms*r.iters)/1000).toFixed(3))})")
      ort=$(smaller "$ort" "$o")
      for method in minmax entropy; do
        rm -f "$work/q.onnx"
        out=$( { /usr/bin/time -f "%e %M" "$ef" quantize "$model" -o "$work/q.onnx" \
          --calib "$work/calib.npy" --calibrate "$method" --threads "$threads" >/dev/null; } 2>&1 | tail -1)
        best[$method]=$(smaller "${best[$method]:-}" "${out% *}")
        rss[$method]=${out#* }
      done
    done
    for method in minmax entropy; do
      t=${best[$method]}
      printf "| %s | %s | %d | %.2f | %.2f | %.2fx | %.0f |\n" "$name" "$method" "$n" "$t" "$ort" \
        "$(awk "BEGIN{print $t/$ort}")" "$(awk "BEGIN{print ${rss[$method]}/1024}")"
    done
  done
done
