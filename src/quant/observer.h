// Streaming range observers for INT8 calibration.
//
// One observer per tensor sees that tensor once per calibration sample (from the executor's
// observer hook) and keeps statistics whose size does not depend on the number of samples:
// running min/max, or a fixed-size histogram that is re-binned when a new sample widens the
// range. At the end it proposes the float range to quantize with. docs/quantize.md describes
// each method.
//
// Observers are not thread-safe: one thread feeds one observer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
  bool moving_average = false;       // minmax: exponential moving average of per-sample min/max
  float averaging_constant = 0.01f;  // minmax moving average weight of the new sample
  double percentile = 99.999;        // percentile method
  int num_bins = 2048;               // histogram methods
  int num_quantized_bins = 128;      // entropy: levels of [0, t] for 8 bits (scaled by `levels`)
};

// Rejects options MakeRangeObserver would have to repair (e.g. num_bins < num_quantized_bins,
// percentile outside (0, 100], averaging_constant outside (0, 1]). For the CLI's flags.
Status ValidateObserverOptions(const ObserverOptions& options);

struct FloatRange {
  float min = 0.0f;
  float max = 0.0f;
};

// One pass over a tensor: min and max of its finite values and the number of non-finite ones
// (NaN, +-Inf). `finite` is {0, 0} when there is no finite value. The calibration hot loop:
// vectorized, with an exact scalar pass only for tensors that hold a non-finite value.
struct FiniteScan {
  FloatRange finite;
  int64_t non_finite = 0;
};
FiniteScan ScanFinite(const float* data, int64_t count);

// Statistics of one tensor over all calibration samples.
class RangeObserver {
 public:
  virtual ~RangeObserver() = default;
  // One tensor of one sample. Non-finite values are counted and otherwise ignored.
  virtual void Observe(const float* data, int64_t count) = 0;
  // The range to quantize with. Always contains 0. `symmetric`: the result is [-t, t];
  // `levels`: number of integer levels of the target type (256 for int8/uint8).
  // Asymmetric ranges respect the data's sign: never below min(observed.min, 0) nor above
  // max(observed.max, 0) (a post-ReLU tensor gets [0, t]).
  virtual FloatRange Range(bool symmetric, int levels = 256) const = 0;
  // Exact min/max of the finite values seen so far ({0, 0} before any).
  virtual FloatRange observed() const = 0;
  virtual int64_t samples() const = 0;     // Observe() calls
  virtual int64_t non_finite() const = 0;  // NaN/Inf values ignored
  // Bytes of statistics held (the object and its buffers): fixed at construction, independent
  // of the number and size of the samples observed.
  virtual size_t memory_bytes() const = 0;
};

// Invalid options are clamped to the nearest valid value (see ValidateObserverOptions).
std::unique_ptr<RangeObserver> MakeRangeObserver(const ObserverOptions& options);

// The streaming histogram behind the percentile, entropy and mse observers.
//
// Positive values and the magnitudes of negative values are counted in two arrays of
// `num_bins` bins of one common width w, covering [0, num_bins * w); bin i holds magnitudes in
// [i*w, (i+1)*w). Exact zeros are counted apart (zero is always exactly representable, so they
// never cost quantization error). w is set by the first non-zero value's sample (its max |x|
// spans all bins). When a later sample reaches beyond the covered range, w is multiplied by
// the smallest integer k that covers it and old bin i is added to new bin i / k: every old bin
// lies entirely inside one new bin, so counts are kept exactly and only resolution is lost
// (the covered range is at most 2x the max |x| seen, so w <= 2 * max|x| / num_bins).
//
// A histogram built with `signed_bins = false` only counts magnitudes: positive() holds the
// magnitudes of all non-zero values (what AbsCounts() returns for a signed one) and negative()
// is empty. The entropy method only needs |x|: half the counters, so a cheaper Add.
class StreamingHistogram {
 public:
  explicit StreamingHistogram(int num_bins, bool signed_bins = true);

  // Adds the finite values of `data`; non-finite ones are skipped (the observer counts them).
  void Add(const float* data, int64_t count);
  // The same with the caller's ScanFinite(data, count) of the same values (saves a pass).
  void Add(const float* data, int64_t count, const FiniteScan& scan);

  int num_bins() const { return static_cast<int>(positive_.size()); }
  bool signed_bins() const { return signed_; }
  double bin_width() const { return width_; }  // 0 while only zeros were seen
  const std::vector<int64_t>& positive() const { return positive_; }  // |x| if !signed_bins()
  const std::vector<int64_t>& negative() const { return negative_; }  // by magnitude
  int64_t zeros() const { return zeros_; }
  int64_t total() const { return total_; }  // all values added, zeros included
  // Histogram of |x| without the zeros: positive()[i] + negative()[i].
  std::vector<int64_t> AbsCounts() const;

  // The value below which `fraction` (in [0, 1]) of the values lie, interpolating linearly
  // inside a bin. Signed: over x (over |x| when !signed_bins()); Abs: over |x|. 0 when empty.
  double Quantile(double fraction) const;
  double AbsQuantile(double fraction) const;

  size_t memory_bytes() const;

 private:
  void Grow(double max_abs);

  bool signed_;
  std::vector<int64_t> positive_;
  std::vector<int64_t> negative_;  // empty when !signed_
  int64_t zeros_ = 0;
  int64_t total_ = 0;
  double width_ = 0.0;
};

// For tests: false makes StreamingHistogram::Add count with the AVX2 / portable code even on a
// CPU with AVX-512 (which it uses by default); both must give the same counts.
void SetHistogramAvx512(bool enabled);

// The threshold searches on a histogram of magnitudes (`counts[i]` values in [i*w, (i+1)*w),
// zeros excluded). Exposed for tests and for callers that keep their own histograms.
//
// Entropy: the t = i*w, i in [quantized_bins, counts.size()], minimizing KL(P || Q), P the
// distribution clipped at t, Q its quantization into `quantized_bins` levels.
double EntropyThreshold(const std::vector<int64_t>& counts, double bin_width, int quantized_bins);
// MSE: expected squared error of values with magnitudes in `counts` when clipped to t and
// rounded with step t / steps_per_side; returns the t minimizing it over the bin edges below
// `max_abs` and max_abs itself.
double MseThreshold(const std::vector<int64_t>& counts, double bin_width, double max_abs,
                    int steps_per_side);

}  // namespace edgefit
