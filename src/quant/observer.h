// Streaming range observers for INT8 calibration.
//
// One observer per tensor sees that tensor once per calibration sample (from the executor's
// observer hook) and keeps statistics whose size does not depend on the number of samples:
// running min/max, or a fixed-size histogram that is re-binned when a new sample widens the
// range. At the end it proposes the float range to quantize with. docs/quantize.md describes
// each method.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "edgefit/status.h"

namespace edgefit {

enum class CalibrationMethod {
  kMinMax,      // observed min and max (optionally a moving average over samples)
  kPercentile,  // clip the tails: the given percentile of |x| (symmetric) or of x (asymmetric)
  kEntropy,     // KL-divergence threshold search (TensorRT style) on a histogram of |x|
  kMse,         // the clip range that minimizes the expected squared quantization error
};

StatusOr<CalibrationMethod> ParseCalibrationMethod(std::string_view text);  // "minmax", ...
const char* CalibrationMethodName(CalibrationMethod method);

struct ObserverOptions {
  CalibrationMethod method = CalibrationMethod::kMinMax;
  bool moving_average = false;      // minmax: exponential moving average of per-sample min/max
  float averaging_constant = 0.01f;  // minmax moving average weight of the new sample
  double percentile = 99.999;       // percentile method
  int num_bins = 2048;              // histogram methods
  int num_quantized_bins = 128;     // entropy: search thresholds down to this many bins
};

struct FloatRange {
  float min = 0.0f;
  float max = 0.0f;
};

// Statistics of one tensor over all calibration samples.
class RangeObserver {
 public:
  virtual ~RangeObserver() = default;
  // One tensor of one sample. Non-finite values are counted and otherwise ignored.
  virtual void Observe(const float* data, int64_t count) = 0;
  // The range to quantize with. Always contains 0. `symmetric`: the result is [-t, t];
  // `levels`: number of integer levels of the target type (256 for int8/uint8).
  virtual FloatRange Range(bool symmetric, int levels = 256) const = 0;
  // Exact min/max of the finite values seen so far ({0, 0} before any).
  virtual FloatRange observed() const = 0;
  virtual int64_t samples() const = 0;       // Observe() calls
  virtual int64_t non_finite() const = 0;    // NaN/Inf values ignored
};

std::unique_ptr<RangeObserver> MakeRangeObserver(const ObserverOptions& options);

}  // namespace edgefit
