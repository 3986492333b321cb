// Bias correction: quantizing a layer's weights shifts the mean of its output per channel by
// E[conv(x, W - W_q)] = conv(E[x], W - W_q) (the layer is linear in its input). E[x] is the mean
// of the layer's actual input in the quantized model over the calibration samples (a running
// sum of one tensor per layer: memory does not depend on the number of samples); the shift is
// computed exactly by running the layer alone on E[x] with weight W - W_q on edgefit's executor,
// averaged per output channel, and added to the layer's int32 bias. Each layer corrects only
// its own weight error, so corrections do not add up along the network (comparing whole-model
// float vs quantized output means does, and over-corrects: measured, docs/quantize.md).
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
  std::string node;              // the Conv/ConvTranspose/Gemm node (same name in both models)
  std::string bias_dequantized;  // the DequantizeLinear output feeding its bias
  int channel_axis = -1;         // axis of the output's channels; -1 = last
};

struct BiasCorrectionOptions {
  int64_t max_samples = 64;  // calibration samples used (evenly spread)
  int num_threads = 0;
  std::function<void(const std::string& stage, int64_t done, int64_t total)> progress;
};

// `float_model` holds the float weights (same node names). Returns the number of layers whose
// bias changed.
StatusOr<int> CorrectBiases(const Model& float_model, Model& quantized,
                            const std::map<std::string, BiasSite>& sites, const Dataset& calib,
                            const BiasCorrectionOptions& options);

}  // namespace edgefit
