#!/usr/bin/env bash
# End-to-end `edgefit quantize` on the trained fixtures (tests/fixtures/quant): the INT8 QDQ
# model passes `check --target stm32n6`, loads and runs in ONNX Runtime, and ONNX Runtime and
# edgefit's executor agree on it within one quantization step of the output (the scale of the
# output's DequantizeLinear). Also: bad calibration data gets exit code 8 and no output.
#   quantize_e2e.sh EDGEFIT SOURCE_DIR
set -euo pipefail
edgefit="$1"
src="$2"
fx="$src/tests/fixtures/quant"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail=0
samples=8

run_case() {  # stem output-name extra-quantize-args...
  local stem="$1" out_name="$2"
  shift 2
  local model="$work/$stem.int8.onnx"
  echo "== $stem $*"
  if ! "$edgefit" quantize "$fx/$stem.onnx" -o "$model" --calib "$fx/$stem.calib.npy" \
      --target stm32n6 --json "$@" > "$work/q.json" 2> "$work/q.err"; then
    cat "$work/q.err"; echo "FAIL: quantize $stem"; fail=1; return
  fi
  local step
  step=$(node -e "const r=JSON.parse(require('fs').readFileSync('$work/q.json'));
    const t=r.tensors.find(t=>t.kind==='activation'&&t.name==='$out_name');
    if(!t||r.check.verdict!=='compatible'){console.error(JSON.stringify(r.check));process.exit(1)}
    console.log(t.scale)") || { echo "FAIL: $stem: no output scale or check not clean"; fail=1; return; }
  echo "  check --target stm32n6: compatible; output step $step"
  node "$src/tests/quant/split_npy.js" "$fx/$stem.eval.npy" "$samples" "$work/in" > /dev/null
  local worst_ok=1
  for i in $(seq 0 $((samples - 1))); do
    rm -rf "$work/ours" "$work/ort"
    "$edgefit" run "$model" --input "input=$work/in/sample_$i.npy" --output-dir "$work/ours" > /dev/null
    node "$src/tools/ort/ort_run.js" "$model" --input "input=$work/in/sample_$i.npy" \
      --output-dir "$work/ort" > /dev/null
    if ! node "$src/tests/fix/compare_npy.js" "$work/ours/$out_name.npy" "$work/ort/$out_name.npy" \
        0 "$(awk "BEGIN{print $step * 1.001}")" > "$work/cmp.txt"; then
      cat "$work/cmp.txt"; worst_ok=0
    fi
  done
  if [ $worst_ok -eq 1 ]; then
    echo "  ONNX Runtime vs edgefit on $samples eval samples: within one step"
  else
    echo "FAIL: $stem: ONNX Runtime and edgefit differ by more than one step"; fail=1
  fi
}

run_case digits_cnn logits
run_case digits_dw logits --per-tensor
run_case rppg_reg bpm --calibrate entropy
run_case digits_cnn logits --calibrate mse

echo "== bad calibration data"
mkdir -p "$work/empty"
for args in "--calib $work/empty" "--calib $fx/rppg_reg.calib.npy"; do
  set +e
  # shellcheck disable=SC2086
  "$edgefit" quantize "$fx/digits_cnn.onnx" -o "$work/bad.onnx" $args > "$work/bad.log" 2>&1
  rc=$?
  set -e
  if [ $rc -ne 8 ] || [ -e "$work/bad.onnx" ]; then
    cat "$work/bad.log"; echo "FAIL: bad data ($args) gave exit $rc"; fail=1
  else
    echo "  exit 8: $(head -1 "$work/bad.log" | cut -c1-150)"
  fi
done

if [ $fail -eq 0 ]; then echo "quantize end-to-end: all cases passed"; fi
exit $fail
