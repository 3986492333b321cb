#!/usr/bin/env bash
# End-to-end `edgefit fix` (issue: fix --target): every dynamic-batch fixture -> fix ->
# check reports zero violations -> outputs equal to the original (fix's own verification at
# 1e-5, on seeded inputs and the fixture's sample) -> the fixed model runs in ONNX Runtime with
# the same outputs as edgefit. Also: an unfixable model exits non-zero and writes nothing.
#   fix_e2e.sh EDGEFIT SOURCE_DIR
set -euo pipefail
edgefit="$1"
src="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail=0

run_case() {  # fixture target
  local stem="$1" target="$2"
  local model="$src/tests/fixtures/$stem.onnx" input="$src/tests/fixtures/$stem.input.npy"
  local out="$work/$stem.$target.onnx"
  echo "== $stem --target $target"
  if ! "$edgefit" fix "$model" -o "$out" --target "$target" --tolerance 1e-5 \
      --data "input=$input" > "$work/fix.log" 2>&1; then
    cat "$work/fix.log"; echo "FAIL: fix $stem $target"; fail=1; return
  fi
  grep -E "Verified|max abs|->  " "$work/fix.log" | sed 's/^/  /'
  if ! "$edgefit" check "$out" --target "$target" > "$work/check.log" 2>&1; then
    cat "$work/check.log"; echo "FAIL: check reports violations on the fixed $stem"; fail=1; return
  fi
  mkdir -p "$work/ours" "$work/ort"
  "$edgefit" run "$out" --input "input=$input" --output-dir "$work/ours" >/dev/null
  node "$src/tools/ort/ort_run.js" "$out" --input "input=$input" --output-dir "$work/ort" >/dev/null
  for f in "$work"/ours/*.npy; do
    node "$src/tests/fix/compare_npy.js" "$f" "$work/ort/$(basename "$f")" 1e-4 1e-5 \
      | sed 's/^/  ORT vs edgefit: /' || { echo "FAIL: ORT disagrees on $stem"; fail=1; }
  done
  rm -rf "$work/ours" "$work/ort"
}

for stem in rppg_dyn_op14 rppg_dyn_op13 rppg_dyn_op11 hrnet_like_op12_dyn mobilenet_like_op13; do
  run_case "$stem" stm32n6
done
run_case hrnet_like_op12_dyn kl730

echo "== unfixable: Hardmax is not supported by stm32n6"
unfixable="/usr/share/libonnx-testdata/data/node/test_hardmax_example/model.onnx"
set +e
"$edgefit" fix "$unfixable" -o "$work/unfixable.onnx" --target stm32n6 > "$work/u.log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 1 ] || [ -e "$work/unfixable.onnx" ] || ! grep -q "no edgefit pass can fix this" "$work/u.log"; then
  cat "$work/u.log"; echo "FAIL: unfixable model (exit $rc)"; fail=1
else
  grep -E "op.unsupported|why:" "$work/u.log" | head -2 | sed 's/^/  /'
  echo "  exit 1, no output written"
fi

if [ $fail -eq 0 ]; then echo "fix end-to-end: all cases passed"; fi
exit $fail
