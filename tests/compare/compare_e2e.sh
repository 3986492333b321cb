#!/usr/bin/env bash
# End-to-end `edgefit compare` on the trained fixtures (tests/fixtures/quant), cross-checked by
# ONNX Runtime: quantize a fixture, run `edgefit compare --json` on eval samples, then
# recompute every number from ORT's outputs of both models (compare_ort.js, which states the
# tolerance). Also the exit codes (1 DEGRADED, 3 mismatched models, 8 bad labels / NaN data)
# and that layer-wise compare's peak RSS does not grow from 50 to 500 samples.
#   compare_e2e.sh EDGEFIT SOURCE_DIR
set -euo pipefail
edgefit="$1"
src="$2"
fx="$src/tests/fixtures/quant"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail=0

run_case() {  # stem output-name count extra-quantize-args...
  local stem="$1" out_name="$2" count="$3"
  shift 3
  local model="$work/$stem.int8.onnx"
  echo "== $stem ($count eval samples) $*"
  if ! "$edgefit" quantize "$fx/$stem.onnx" -o "$model" --calib "$fx/$stem.calib.npy" --json "$@" \
      > "$work/q.json" 2> "$work/q.err"; then
    cat "$work/q.err"; echo "FAIL: quantize $stem"; fail=1; return
  fi
  local step
  step=$(node -e "const r=JSON.parse(require('fs').readFileSync('$work/q.json'));
    const t=r.tensors.find(t=>t.kind==='activation'&&t.name==='$out_name');
    console.log(t ? t.scale : 0)")
  local rc=0
  "$edgefit" compare "$fx/$stem.onnx" "$model" --data "$fx/$stem.eval.npy" --data-count "$count" \
    --labels "$fx/$stem.eval_labels.npy" --layers --json > "$work/c.json" 2> "$work/c.err" || rc=$?
  if [ $rc -gt 1 ]; then cat "$work/c.err"; echo "FAIL: compare $stem exit $rc"; fail=1; return; fi
  node -e "const r=JSON.parse(require('fs').readFileSync('$work/c.json'));
    console.log('  edgefit: ' + r.verdict)"
  if ! node "$src/tests/compare/compare_ort.js" "$fx/$stem.onnx" "$model" "$fx/$stem.eval.npy" \
      "$fx/$stem.eval_labels.npy" "$count" "$step" "$work/c.json"; then
    echo "FAIL: $stem: edgefit compare and ONNX Runtime disagree"; fail=1
  fi
}

run_case rppg_reg bpm 48
run_case digits_cnn logits 200
run_case digits_dw logits 400 --per-tensor

expect_exit() {  # want description command...
  local want="$1" what="$2"
  shift 2
  local rc=0
  "$@" > "$work/out.txt" 2> "$work/err.txt" || rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: $what: exit $rc, expected $want"; cat "$work/err.txt"; fail=1
  else
    echo "  ok: $what: exit $rc $(head -c 200 "$work/err.txt")"
  fi
}

echo "== exit codes"
m="$work/rppg_reg.int8.onnx"
expect_exit 0 "ACCEPTABLE within --max-metric-increase 2.0" "$edgefit" compare "$fx/rppg_reg.onnx" "$m" \
  --data "$fx/rppg_reg.eval.npy" --labels "$fx/rppg_reg.eval_labels.npy" --max-metric-increase 2.0
expect_exit 1 "DEGRADED below --min-sqnr 80" "$edgefit" compare "$fx/rppg_reg.onnx" "$m" \
  --data "$fx/rppg_reg.eval.npy" --min-sqnr 80
expect_exit 3 "models with different inputs" "$edgefit" compare "$fx/rppg_reg.onnx" \
  "$fx/digits_cnn.onnx" --data "$fx/rppg_reg.eval.npy"
expect_exit 8 "labels of the wrong length" "$edgefit" compare "$fx/rppg_reg.onnx" "$m" \
  --data "$fx/rppg_reg.eval.npy" --labels "$fx/digits_cnn.eval_labels.npy"
node -e "const npy=require('$src/tools/ort/npy.js'); const d=new Float32Array(2*64); d[70]=NaN;
  npy.writeNpy('$work/nan.npy','float32',[2,1,8,8],d)"
expect_exit 8 "NaN in the data" "$edgefit" compare "$fx/digits_cnn.onnx" "$fx/digits_cnn.onnx" \
  --data "$work/nan.npy"
expect_exit 2 "--task regression without labels" "$edgefit" compare "$fx/rppg_reg.onnx" "$m" \
  --data "$fx/rppg_reg.eval.npy" --task regression

echo "== memory: layer-wise compare, 50 vs 500 random samples"
dm="$work/digits_dw.int8.onnx"
rss() {
  /usr/bin/time -f "%M" -o "$work/rss.txt" "$edgefit" compare "$fx/digits_dw.onnx" "$dm" \
    --data random --data-count "$1" --layers --json --threads 1 > "$work/m.json" 2> /dev/null || true
  cat "$work/rss.txt"
}
r50=$(rss 50); s50=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$work/m.json')).state_bytes)")
r500=$(rss 500); s500=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$work/m.json')).state_bytes)")
echo "  peak RSS: 50 samples ${r50} KiB, 500 samples ${r500} KiB; streaming state ${s50} / ${s500} bytes"
if [ "$s50" != "$s500" ] || [ $((r500 - r50)) -gt 4096 ]; then
  echo "FAIL: memory grows with the number of samples"; fail=1
fi

if [ $fail -ne 0 ]; then echo "compare_e2e: FAILED"; exit 1; fi
echo "compare_e2e: all passed"
