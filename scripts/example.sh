#!/usr/bin/env bash
# The main job on the bundled example (examples/rppg-stm32n6): the seed's rPPG heart-rate model,
# trained, exported from PyTorch the way the seed engineer did (dynamic batch, a 6-D
# Reshape/Transpose, Convs running on batch 24, Squeeze axes as tensors), deployed to the
# STM32N6 in one command: check -> fix -> check -> quantize -> compare -> hand-off -> report.
set -euo pipefail
edgefit="${1:-build/tools/edgefit/edgefit}"
ex=examples/rppg-stm32n6
out=out/rppg-stm32n6
echo "== edgefit deploy $ex/rppg_broken.onnx --target stm32n6 ... -o $out"
"$edgefit" deploy "$ex/rppg_broken.onnx" --target stm32n6 \
  --calib "$ex/calib.npy" --eval "$ex/eval.npy" --labels "$ex/eval_bpm.npy" \
  --max-drop 1.5 -o "$out" --overwrite
echo
echo "== FP32 vs INT8 on the 48 evaluation clips ($out/compare.txt)"
grep -A4 '^task:' "$out/compare.txt"
echo "== The report: $out/report.html   The vendor's next steps: $out/NEXT_STEPS.md"
