#!/usr/bin/env bash
# The main job on the bundled example: the seed's rPPG model, exported from PyTorch with a
# dynamic batch, a 6-D Reshape/Transpose, Convs running on batch 24 and Squeeze axes as tensors.
#   inspect -> check (STM32N6) -> fix (proved equivalent by running both) -> check -> run
set -euo pipefail
edgefit="${1:-build/tools/edgefit/edgefit}"
model=tests/fixtures/rppg_dyn_op14.onnx
out=out/example
mkdir -p "$out"
echo "== edgefit inspect $model"
"$edgefit" inspect "$model"
echo
echo "== edgefit check $model --target stm32n6"
"$edgefit" check "$model" --target stm32n6 || true   # exit 1: violations found (expected here)
echo
echo "== edgefit fix $model -o $out/rppg_stm32n6.onnx --target stm32n6"
rm -f "$out/rppg_stm32n6.onnx"
"$edgefit" fix "$model" -o "$out/rppg_stm32n6.onnx" --target stm32n6 \
  --data input=tests/fixtures/rppg_dyn_op14.input.npy
echo
echo "== edgefit check $out/rppg_stm32n6.onnx --target stm32n6"
"$edgefit" check "$out/rppg_stm32n6.onnx" --target stm32n6
echo
echo "== edgefit run $out/rppg_stm32n6.onnx (the fixture's sample input)"
"$edgefit" run "$out/rppg_stm32n6.onnx" --input input=tests/fixtures/rppg_dyn_op14.input.npy \
  --output-dir "$out"
echo
echo "The fixed model and its output are in $out/"
