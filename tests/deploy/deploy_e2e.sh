#!/usr/bin/env bash
# End-to-end `edgefit deploy`: the seed's broken rPPG export -> stm32n6 (fix, INT8, compare,
# stedgeai hand-off) and the HRNet-like model -> kl730 (fixed float model at the hand-off
# opset, calibration inputs, ktc script). Asserts: every stage succeeds, check on the INT8
# model is clean, the INT8 model runs in ONNX Runtime, summary.json/manifest.json hold the
# measured values (against a re-run of compare), failure paths leave no OUTDIR, a non-empty
# OUTDIR is refused without --overwrite.
#   deploy_e2e.sh EDGEFIT SOURCE_DIR
set -euo pipefail
edgefit="$1"
src="$2"
fx="$src/tests/fixtures"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail=0
json() { node -e "const j=JSON.parse(require('fs').readFileSync('$1'));console.log(eval('j.'+process.argv[1]))" "$2"; }

echo "== rppg_dyn_op14 -> stm32n6"
out="$work/rppg"
if ! "$edgefit" deploy "$fx/rppg_dyn_op14.onnx" --target stm32n6 --calib random --calib-count 16 \
    --eval random -o "$out" > "$work/d.log" 2>&1; then
  cat "$work/d.log"; echo "FAIL: deploy rppg"; fail=1
else
  sed 's/^/  /' "$work/d.log" | head -20
  for f in model.fixed.onnx model.int8.onnx NEXT_STEPS.md summary.json manifest.json report.md compare.json; do
    [ -s "$out/$f" ] || { echo "FAIL: missing $f"; fail=1; }
  done
  "$edgefit" check "$out/model.int8.onnx" --target stm32n6 > "$work/c.log" 2>&1 \
    || { cat "$work/c.log"; echo "FAIL: INT8 model not clean"; fail=1; }
  grep -q "stedgeai generate --model model.int8.onnx --target stm32n6" "$out/NEXT_STEPS.md" \
    || { echo "FAIL: NEXT_STEPS.md lacks the stedgeai command"; fail=1; }
  node "$src/tools/ort/ort_bench.js" "$out/model.int8.onnx" --warmup 0 --iters 1 > /dev/null \
    || { echo "FAIL: ONNX Runtime cannot run the INT8 model"; fail=1; }
  # summary.json must hold the compare figures a re-run measures (deploy draws random
  # evaluation data with seed 1, calibration data with seed 0).
  "$edgefit" compare "$out/model.fixed.onnx" "$out/model.int8.onnx" --data random --seed 1 --json \
    > "$work/cmp.json" 2>/dev/null || true
  a=$(json "$out/summary.json" "compare.outputs[0].sqnr_db")
  b=$(json "$work/cmp.json" "outputs[0].sqnr_db")
  if [ "$a" != "$b" ]; then echo "FAIL: summary SQNR $a vs re-run $b"; fail=1; else echo "  output SQNR $a dB (re-run agrees)"; fi
  h=$(json "$out/manifest.json" "model.sha256")
  [ "$h" = "$(sha256sum "$fx/rppg_dyn_op14.onnx" | cut -d' ' -f1)" ] \
    || { echo "FAIL: manifest model hash"; fail=1; }
fi

echo "== hrnet_like_op12_dyn -> kl730"
out="$work/hrnet"
if ! "$edgefit" deploy "$fx/hrnet_like_op12_dyn.onnx" --target kl730 --calib random --calib-count 4 \
    -o "$out" > "$work/d.log" 2>&1; then
  cat "$work/d.log"; echo "FAIL: deploy hrnet"; fail=1
else
  for f in model.fixed.onnx model.float.onnx model.int8-sim.onnx kneron_compile.py NEXT_STEPS.md calib/00000.npy; do
    [ -s "$out/$f" ] || { echo "FAIL: missing $f"; fail=1; }
  done
  if command -v python3 > /dev/null; then
    python3 -m py_compile "$out/kneron_compile.py" && echo "  kneron_compile.py compiles" \
      || { echo "FAIL: kneron_compile.py is not valid Python"; fail=1; }
  fi
  "$edgefit" inspect "$out/model.float.onnx" | grep -q "opset" || true
fi

echo "== failure paths"
set +e
"$edgefit" deploy /usr/share/libonnx-testdata/data/node/test_hardmax_example/model.onnx \
  --target stm32n6 --calib random -o "$work/bad" > "$work/b.log" 2>&1
rc=$?
set -e
if [ $rc -eq 0 ] || [ -e "$work/bad" ] || ls "$work" | grep -q "bad.tmp"; then
  cat "$work/b.log"; echo "FAIL: unfixable model: exit $rc or OUTDIR left behind"; fail=1
else
  echo "  unfixable: exit $rc, no OUTDIR: $(grep -o "deploy stopped at stage '[a-z]*'" "$work/b.log")"
fi
mkdir -p "$work/full" && touch "$work/full/x"
set +e
"$edgefit" deploy "$fx/rppg_clean_op14.onnx" --target stm32n6 --calib random -o "$work/full" > "$work/f.log" 2>&1
rc=$?
set -e
if [ $rc -eq 0 ] || [ ! -e "$work/full/x" ]; then
  cat "$work/f.log"; echo "FAIL: non-empty OUTDIR not refused"; fail=1
else
  echo "  non-empty OUTDIR refused (exit $rc)"
fi

if [ $fail -eq 0 ]; then echo "deploy end-to-end: all cases passed"; fi
exit $fail
