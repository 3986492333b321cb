#!/usr/bin/env bash
# End-to-end `edgefit quantize` on the trained fixtures (tests/fixtures/quant): the INT8 QDQ
# model passes `check --target stm32n6`, loads and runs in ONNX Runtime, and ONNX Runtime and
# edgefit's executor agree on it within one quantization step of the output (the scale of the
# output's DequantizeLinear). Also: bad calibration data (empty folder, wrong shape, NaN) gets
# exit code 8 and no output, and calibration's peak RSS does not grow from 10 to 200 samples.
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
node -e "const npy=require('$src/tools/ort/npy.js'); const d=new Float32Array(64); d[5]=NaN;
  npy.writeNpy('$work/nan.npy','float32',[1,1,8,8],d)"
for args in "--calib $work/empty" "--calib $fx/rppg_reg.calib.npy" "--calib $work/nan.npy"; do
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

echo "== models quantize refuses"
expect_exit() {  # code message-part args...
  local code="$1" part="$2"
  shift 2
  set +e
  "$edgefit" quantize "$@" > "$work/r.log" 2>&1
  local rc=$?
  set -e
  if [ $rc -ne "$code" ] || ! grep -q "$part" "$work/r.log"; then
    cat "$work/r.log"; echo "FAIL: expected exit $code with '$part' (got $rc)"; fail=1
  else
    echo "  exit $code: $(head -1 "$work/r.log" | cut -c1-140)"
  fi
}
"$edgefit" quantize "$fx/digits_cnn.onnx" -o "$work/q1.onnx" --calib "$fx/digits_cnn.calib.npy" \
  --calib-count 8 > /dev/null
expect_exit 6 "already quantized" "$work/q1.onnx" -o "$work/q2.onnx" --calib "$fx/digits_cnn.calib.npy"
expect_exit 6 "dynamic" "$src/tests/fixtures/rppg_dyn_op14.onnx" -o "$work/q3.onnx" --calib random
expect_exit 4 "overwrite" "$fx/digits_cnn.onnx" -o "$fx/digits_cnn.onnx" --calib "$fx/digits_cnn.calib.npy"

echo "== calibration memory does not grow with the number of samples"
rss() {  # quantize args... -> peak RSS in KB
  /usr/bin/time -f "%M" "$edgefit" quantize "$@" -o "$work/mem.onnx" > /dev/null 2> "$work/time.txt" \
    || { cat "$work/time.txt"; echo 0; return; }
  tail -1 "$work/time.txt"
}
for method in minmax entropy; do
  small=$(rss "$src/tests/fixtures/rppg_clean_op14.onnx" --calib random --calib-count 10 --calibrate $method)
  large=$(rss "$src/tests/fixtures/rppg_clean_op14.onnx" --calib random --calib-count 200 --calibrate $method)
  # Allowed: 10% + 4 MB of allocator noise.
  if [ "$small" -eq 0 ] || [ "$large" -gt $(( small * 11 / 10 + 4096 )) ]; then
    echo "FAIL: $method: peak RSS $small KB with 10 samples, $large KB with 200"; fail=1
  else
    echo "  $method: peak RSS $small KB with 10 samples, $large KB with 200"
  fi
done
files_small=$(rss "$fx/digits_cnn.onnx" --calib "$fx/digits_cnn.calib.npy" --calib-count 10 --calibrate entropy)
files_large=$(rss "$fx/digits_cnn.onnx" --calib "$fx/digits_cnn.calib.npy" --calibrate entropy)
if [ "$files_small" -eq 0 ] || [ "$files_large" -gt $(( files_small * 11 / 10 + 4096 )) ]; then
  echo "FAIL: files: peak RSS $files_small KB with 10 samples, $files_large KB with 200"; fail=1
else
  echo "  .npy file, entropy: peak RSS $files_small KB with 10 samples, $files_large KB with 200"
fi

if [ $fail -eq 0 ]; then echo "quantize end-to-end: all cases passed"; fi
exit $fail
