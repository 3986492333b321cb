// Cross-layer equalization (Nagel et al., "Data-Free Quantization", 2019): for two convolutions
// joined by a positively homogeneous activation (Relu, LeakyRelu(alpha), PRelu with scalar slope,
// or none), scale output channel c of the first by 1/s_c and input channel c of the second by
// s_c, with s_c = sqrt(r1_c / r2_c) (r = per-channel weight range), so both layers' per-channel
// weight ranges become equal. The function is unchanged (exactly, up to float rounding) and
// per-tensor weight quantization loses far less precision. Depthwise convolutions are handled.
#pragma once

#include <string>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"

namespace edgefit {

struct CleOptions {
  int max_iterations = 10;     // sweeps over all pairs; stops early when nothing changes
  float tolerance = 1e-3f;     // a sweep "changes nothing" when every |s_c - 1| is below this
};

struct ClePair {
  std::string first;       // name of the first Conv/Gemm node
  std::string second;      // name of the second
  std::string activation;  // op between them ("" for none)
  int channels = 0;
  // max over channels of (weight range / mean weight range), before and after, per layer
  float first_spread_before = 0, first_spread_after = 0;
  float second_spread_before = 0, second_spread_after = 0;
};

struct CleSkip {
  std::string node;
  std::string reason;  // e.g. "Clip(0,6) between the layers is not positively homogeneous"
};

struct CleReport {
  std::vector<ClePair> equalized;
  std::vector<CleSkip> skipped;
  int iterations = 0;
};

// Rewrites the weights (and biases) of every eligible pair in `model`. BatchNormalization must
// already be folded (a BN between two convs makes the pair ineligible and is reported).
StatusOr<CleReport> EqualizeCrossLayer(Model* model, const CleOptions& options = {});

}  // namespace edgefit
