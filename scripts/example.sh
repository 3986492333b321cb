#!/usr/bin/env bash
# The main job on the bundled example: the seed's rPPG model, exported with a dynamic batch.
set -euo pipefail
edgefit="${1:-build/tools/edgefit/edgefit}"
model=tests/fixtures/rppg_dyn_op14.onnx
echo "== edgefit inspect $model"
"$edgefit" inspect "$model"
echo
echo "== edgefit run $model (batch 1, the fixture's sample input)"
mkdir -p out/example
"$edgefit" run "$model" --input input=tests/fixtures/rppg_dyn_op14.input.npy --output-dir out/example
echo
echo "Outputs written to out/example/"
