// Cross-layer equalization (Nagel et al., "Data-Free Quantization", 2019): for two convolutions
// joined by a positively homogeneous activation (Relu, LeakyRelu(alpha), PRelu with a constant
// slope, Clip(min=0) without max, or none), scale output channel c of the first by 1/s_c and input
// channel c of the second by s_c, with s_c = sqrt(r1_c / r2_c) (r = per-channel weight range), so
// both layers' per-channel weight ranges become equal (r1_c / s_c == r2_c * s_c). The function is
// unchanged (exactly, up to float rounding) and per-tensor weight quantization loses far less
// precision. Depthwise and grouped convolutions are handled, and Gemm -> Gemm pairs.
//
// Relu6 / Clip(0, 6) between the layers is NOT positively homogeneous (scaling a channel moves its
// clipping point), so such pairs are skipped and reported. See docs/cle.md.
#pragma once

#include <string>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"

namespace edgefit {

struct CleOptions {
  int max_iterations = 10;  // sweeps over all pairs; stops early when nothing changes
  float tolerance = 1e-3f;  // a pair is balanced (left alone) when every |s_c - 1| is below this
};

struct ClePair {
  std::string first;       // name of the first Conv/Gemm node
  std::string second;      // name of the second
  std::string activation;  // op type between them ("" for none)
  int channels = 0;
  // max over channels of (weight range / mean weight range), before and after, per layer; the
  // channels are the ones CLE rescales: the first layer's output channels, the second layer's
  // input channels. A spread of 1 means every channel has the same range.
  float first_spread_before = 0, first_spread_after = 0;
  float second_spread_before = 0, second_spread_after = 0;
};

struct CleSkip {
  std::string node;    // the first layer of the would-be pair
  std::string second;  // the second layer, when one was found ("" otherwise)
  std::string reason;  // e.g. "Clip '/c' (min 0, max 6) between the layers is not positively ..."
};

struct CleReport {
  // Every eligible pair; after the call each one is balanced (within options.tolerance).
  std::vector<ClePair> equalized;
  std::vector<CleSkip> skipped;
  int iterations = 0;     // sweeps that rescaled at least one pair
  bool converged = true;  // false when max_iterations ran out before every pair was balanced
  bool changed = false;   // false: the model was left untouched (e.g. CLE had already run)
};

// Rewrites the weights (and the first layer's biases) of every eligible pair in the top-level
// graph of `model`. Rescaled tensors become new initializers ("<name>_cle") that replace the old
// ones, as the graph passes do; the old ones are removed. Shared initializers are never modified.
// BatchNormalization must already be folded (a BN between two convs makes the pair ineligible
// and is reported). "Nothing to equalize" is not an error.
StatusOr<CleReport> EqualizeCrossLayer(Model* model, const CleOptions& options = {});

}  // namespace edgefit
