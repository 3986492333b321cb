// Empirical bias correction: quantizing weights (and activations) shifts the mean of a layer's
// output per channel. Running the float and the quantized model on the calibration data and
// comparing the per-channel means of each quantized Conv/Gemm output gives that shift, which is
// then added to the layer's (int32) bias. Statistics are running sums: memory does not depend
// on the number of samples. All layers are corrected from one pair of runs (not layer by layer;
// docs/quantize.md discusses the difference).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "data/dataset.h"
#include "edgefit/status.h"
#include "ir/graph.h"

namespace edgefit {

struct BiasSite {
  std::string node;              // the Conv/Gemm node (same name in both models)
  std::string output;            // its output in the quantized model (before any Q/DQ)
  std::string bias_dequantized;  // the DequantizeLinear output feeding its bias ("" = no bias)
  int channel_axis = -1;         // axis of the output's channels; -1 = last
};

struct BiasCorrectionOptions {
  int64_t max_samples = 64;  // calibration samples used (evenly spread)
  int num_threads = 0;
  std::function<void(const std::string& stage, int64_t done, int64_t total)> progress;
};

// Returns the number of layers whose bias changed.
StatusOr<int> CorrectBiases(const Model& float_model, Model& quantized,
                            const std::map<std::string, BiasSite>& sites, const Dataset& calib,
                            const BiasCorrectionOptions& options);

}  // namespace edgefit
