// Streaming range observers: min/max, percentile, entropy (KL) and MSE. The methods and their
// approximations are described in docs/quantize.md ("Calibration methods").
#include "quant/observer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#if defined(__x86_64__) && !defined(__clang__)
#include <immintrin.h>
#endif
#include <limits>
#include <utility>

namespace edgefit {

StatusOr<CalibrationMethod> ParseCalibrationMethod(std::string_view text) {
  if (text == "minmax") return CalibrationMethod::kMinMax;
  if (text == "percentile") return CalibrationMethod::kPercentile;
  if (text == "entropy") return CalibrationMethod::kEntropy;
  if (text == "mse") return CalibrationMethod::kMse;
  return InvalidArgument("unknown calibration method '" + std::string(text) +
                         "' (expected minmax, percentile, entropy or mse)");
}

const char* CalibrationMethodName(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::kMinMax: return "minmax";
    case CalibrationMethod::kPercentile: return "percentile";
    case CalibrationMethod::kEntropy: return "entropy";
    case CalibrationMethod::kMse: return "mse";
  }
  return "unknown";
}

namespace {

constexpr int kMinBins = 16;
constexpr int kMaxBins = 1 << 20;

}  // namespace

Status ValidateObserverOptions(const ObserverOptions& o) {
  if (o.num_bins < kMinBins || o.num_bins > kMaxBins) {
    return InvalidArgument("num_bins " + std::to_string(o.num_bins) + " outside [" +
                           std::to_string(kMinBins) + ", " + std::to_string(kMaxBins) + "]");
  }
  if (o.num_quantized_bins < 1 || o.num_quantized_bins > o.num_bins) {
    return InvalidArgument("num_quantized_bins " + std::to_string(o.num_quantized_bins) +
                           " outside [1, num_bins = " + std::to_string(o.num_bins) + "]");
  }
  if (!(o.percentile > 0.0 && o.percentile <= 100.0)) {
    return InvalidArgument("percentile " + std::to_string(o.percentile) + " outside (0, 100]");
  }
  if (!(o.averaging_constant > 0.0f && o.averaging_constant <= 1.0f)) {
    return InvalidArgument("averaging constant " + std::to_string(o.averaging_constant) +
                           " outside (0, 1]");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// ScanFinite

namespace {

// Exact and slow: one branch per value. Only for tensors that hold a non-finite value.
FiniteScan ScanFiniteExact(const float* data, int64_t count) {
  FiniteScan scan;
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (int64_t i = 0; i < count; ++i) {
    const float v = data[i];
    if (!std::isfinite(v)) {
      ++scan.non_finite;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (scan.non_finite < count) scan.finite = {lo, hi};
  return scan;
}

}  // namespace

// The hot loops of calibration use GCC/Clang vector extensions: eight (or sixteen) float lanes
// that compile to SSE registers by default, and to AVX (AVX-512) registers in clones built for
// AVX2 (AVX-512) and picked at load time on CPUs that have it.
typedef float Float8 __attribute__((vector_size(32)));
typedef int32_t Int8x32 __attribute__((vector_size(32)));
#if defined(__x86_64__) && !defined(__clang__)
#define EDGEFIT_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define EDGEFIT_AVX2_CLONE
#endif

// Min, max and the non-finite test in vector lanes. A NaN never wins `v < lo`; an infinity
// would, so a tensor with any non-finite value goes to the exact pass. The non-finite test is on
// the bits: |v| above the largest finite float (0x7f7fffff) is Inf or NaN. Four independent
// accumulators of 16 lanes: with one, every step waits for the previous min/max (a 4-cycle
// dependency), and the scan ran at 2 values per cycle; like this it runs at the speed of the
// loads. The AVX-512 clone keeps each accumulator in one register, the AVX2 one in two.
typedef float Float16 __attribute__((vector_size(64)));
typedef int32_t Int16x32 __attribute__((vector_size(64)));
#if defined(__x86_64__) && !defined(__clang__)
#define EDGEFIT_AVX512_CLONE __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EDGEFIT_AVX512_CLONE
#endif

EDGEFIT_AVX512_CLONE FiniteScan ScanFinite(const float* data, int64_t count) {
  constexpr int kLanes = 16, kChains = 4;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  constexpr int32_t kAbsMask = 0x7fffffff, kMaxFiniteBits = 0x7f7fffff;
  const Float16 inf = Float16{} + kInf;
  Float16 lo[kChains] = {inf, inf, inf, inf}, hi[kChains] = {-inf, -inf, -inf, -inf};
  Int16x32 bad[kChains] = {};
  int64_t i = 0;
  for (; i + kLanes * kChains <= count; i += kLanes * kChains) {
    for (int c = 0; c < kChains; ++c) {
      Float16 v;
      std::memcpy(&v, data + i + c * kLanes, sizeof(v));
      lo[c] = v < lo[c] ? v : lo[c];
      hi[c] = v > hi[c] ? v : hi[c];
      Int16x32 bits;
      std::memcpy(&bits, &v, sizeof(bits));
      bad[c] |= (bits & kAbsMask) > kMaxFiniteBits;
    }
  }
  float mn = kInf, mx = -kInf;
  bool any_bad = false;
  for (int c = 0; c < kChains; ++c) {
    for (int l = 0; l < kLanes; ++l) {
      mn = std::min(mn, lo[c][l]), mx = std::max(mx, hi[c][l]);
      any_bad |= bad[c][l] != 0;
    }
  }
  for (; i < count; ++i) {
    const float v = data[i];
    any_bad |= !std::isfinite(v);
    mn = std::min(mn, v), mx = std::max(mx, v);
  }
  if (any_bad) return ScanFiniteExact(data, count);
  FiniteScan scan;
  if (count > 0) scan.finite = {mn, mx};
  return scan;
}

namespace {

// Histogram counting of finite values: each value increments one slot of a counter array: `bin`
// for a positive value, `neg_offset + bin` for a negative one (neg_offset = n for a signed
// histogram, 0 for a histogram of |x|), `zero_slot + l` for a zero in lane l (scalar tail: lane
// 0), with bin = min(floor(|v| * inv_width), n - 1). The slots of eight values are computed in
// vector lanes and the increments go round-robin to `copies` (1, 2, 4 or 8) counter arrays
// `stride` apart: neighbouring values usually share a bin (and post-ReLU tensors are about half
// zeros), and increments of one counter in a row wait on each other (store-to-load forwarding,
// ~5 cycles). With 8 copies, lane l always goes to copy l, so one counter is incremented at most
// once per 8 values; with 4 (signed), the eight zero counters still keep zeros apart (measured:
// post-ReLU percentile Observe 1.5 -> 1.2 ns/value). The counters are 16-bit so that 8 copies of
// 2056 (|x|) or 4 copies of 4104 (signed) slots fit in L1 (33 KB of the 48 KB); the caller
// bounds `count` so that none overflows.
// A vector of eight exact zeros (dead channels of a post-ReLU tensor) skips the scatter: those
// zeros are not in the counters but in the returned count.
EDGEFIT_AVX2_CLONE int64_t CountSlots(const float* data, int64_t count, float inv_width, int n,
                                      int neg_offset, int zero_slot, uint16_t* counters, int stride,
                                      int copies) {
  constexpr int kLanes = 8;
  const float last = static_cast<float>(n - 1);
  Int8x32 lane, lane_offset;  // lane l goes to copy l % copies, at (l % copies) * stride
  for (int l = 0; l < kLanes; ++l) lane[l] = l, lane_offset[l] = (l & (copies - 1)) * stride;
  int64_t zero_vectors = 0;
  constexpr int kBuffer = 512;
  uint32_t buf[kBuffer];
  int pos = 0;
  int64_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    Float8 v;
    std::memcpy(&v, data + i, sizeof(v));
    const Int8x32 is_zero = v == 0;
    uint64_t mask[4];  // the zero masks, two lanes per word
    std::memcpy(mask, &is_zero, sizeof(mask));
    if ((mask[0] & mask[1] & mask[2] & mask[3]) == ~uint64_t{0}) {
      ++zero_vectors;
      continue;
    }
    Float8 scaled = (v < 0 ? -v : v) * inv_width;
    scaled = scaled < last ? scaled : last;
    const Int8x32 bin = __builtin_convertvector(scaled, Int8x32);
    Int8x32 slot = v < 0 ? bin + neg_offset : bin;
    slot = (is_zero ? zero_slot + lane : slot) + lane_offset;
    // Slots are buffered and counted in a tight loop: no lane extracts, and the loads of the
    // slots do not wait on the store of their vector (measured on mobilenet_v2's activations:
    // entropy Observe 25 -> 21 ms for 13.8M values; a Gaussian 1.2 -> 1.0 ns/value).
    std::memcpy(buf + pos, &slot, sizeof(slot));
    pos += kLanes;
    if (pos == kBuffer) {
      for (int k = 0; k < kBuffer; ++k) ++counters[buf[k]];
      pos = 0;
    }
  }
  for (int k = 0; k < pos; ++k) ++counters[buf[k]];
  for (; i < count; ++i) {
    const float v = data[i];
    const float scaled = std::fabs(v) * inv_width;
    const int bin = static_cast<int>(scaled < last ? scaled : last);
    ++counters[v == 0.0f ? zero_slot : (v < 0.0f ? neg_offset + bin : bin)];
  }
  return zero_vectors * kLanes;
}

// Set once from the CPU; SetHistogramAvx512 (tests) may turn it off.
std::atomic<bool> histogram_avx512 {
#if defined(__x86_64__) && !defined(__clang__)
  __builtin_cpu_supports("avx512f") != 0
#else
  false
#endif
};

#if defined(__x86_64__) && !defined(__clang__)
// The same counting with AVX-512 (used when the CPU has it): the slots of sixteen values are
// computed at once and only the non-zero values' are kept (vpcompressd into `buf`); zeros are
// only counted. The buffered slots are then counted in a tight loop, round-robin into the
// copies: buffer position k into copy k % copies. Slots are counted in groups of eight; fewer
// than eight left at the end go to copy 0, so a counter gets at most 8 / copies per 8 values
// plus 7 + 15 (the scalar tail). Measured on mobilenet_v2's activations (13.8M values, 44%
// zeros): the entropy Observe 22 -> 14 ms (scatter 1.4 -> 0.8 ns/value); on a cached Gaussian
// without zeros 1.1 -> 0.8 ns/value (no lane extracts, fewer uops per increment). Sixteen lanes
// in CountSlots itself (an avx512f clone) without the compression were slower.
__attribute__((target("avx512f"))) int64_t CountNonZeroSlots512(const float* data, int64_t count,
                                                                float inv_width, int n,
                                                                int neg_offset, int zero_slot,
                                                                uint16_t* counters, int stride,
                                                                int copies) {
  constexpr int kBuffer = 1024;
  alignas(64) int32_t buf[kBuffer + 16];
  uint16_t* copy[8];
  for (int l = 0; l < 8; ++l) copy[l] = counters + (l & (copies - 1)) * stride;
  const __m512 inv = _mm512_set1_ps(inv_width);
  const __m512 last = _mm512_set1_ps(static_cast<float>(n - 1));
  const __m512i neg = _mm512_set1_epi32(neg_offset);
  const __m512 zero = _mm512_setzero_ps();
  int pos = 0;
  int64_t zeros = 0, i = 0;
  auto count_buffered = [&](int end) {  // buf[0, end), end a multiple of 8
    for (int k = 0; k < end; k += 8) {
      for (int l = 0; l < 8; ++l) ++copy[l][buf[k + l]];
    }
  };
  for (; i + 16 <= count; i += 16) {
    const __m512 v = _mm512_loadu_ps(data + i);
    const __mmask16 non_zero = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);
    const __mmask16 negative = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
    const __m512 scaled = _mm512_min_ps(_mm512_mul_ps(_mm512_abs_ps(v), inv), last);
    __m512i slot = _mm512_cvttps_epi32(scaled);
    slot = _mm512_mask_add_epi32(slot, negative, slot, neg);
    _mm512_storeu_si512(buf + pos, _mm512_maskz_compress_epi32(non_zero, slot));
    const int kept = __builtin_popcount(non_zero);
    pos += kept;
    zeros += 16 - kept;
    if (pos >= kBuffer) {
      const int end = pos & ~7;
      count_buffered(end);
      for (int k = end; k < pos; ++k) buf[k - end] = buf[k];
      pos -= end;
    }
  }
  count_buffered(pos & ~7);
  for (int k = pos & ~7; k < pos; ++k) ++counters[buf[k]];
  const float lastf = static_cast<float>(n - 1);
  for (; i < count; ++i) {
    const float v = data[i];
    const float scaled = std::fabs(v) * inv_width;
    const int bin = static_cast<int>(scaled < lastf ? scaled : lastf);
    ++counters[v == 0.0f ? zero_slot : (v < 0.0f ? neg_offset + bin : bin)];
  }
  return zeros;
}
#endif

}  // namespace

// ---------------------------------------------------------------------------------------------
// StreamingHistogram

void SetHistogramAvx512(bool enabled) {
#if defined(__x86_64__) && !defined(__clang__)
  histogram_avx512 = enabled && __builtin_cpu_supports("avx512f");
#else
  (void)enabled;
#endif
}

StreamingHistogram::StreamingHistogram(int num_bins, bool signed_bins)
    : signed_(signed_bins),
      positive_(static_cast<size_t>(std::clamp(num_bins, kMinBins, kMaxBins)), 0),
      negative_(signed_bins ? positive_.size() : 0, 0) {}

void StreamingHistogram::Grow(double max_abs) {
  const int n = num_bins();
  if (width_ == 0.0) {  // first non-zero value: its sample's max |x| spans all bins
    width_ = max_abs / n;
    return;
  }
  const double covered = width_ * n;
  if (max_abs <= covered) return;
  // The smallest integer k with k * covered >= max_abs; old bin i lies inside new bin i / k.
  const double k = std::max(2.0, std::ceil(max_abs / covered));
  if (k >= n) {  // everything old falls into the first new bin
    int64_t pos = 0, neg = 0;
    for (int64_t c : positive_) pos += c;
    for (int64_t c : negative_) neg += c;
    std::fill(positive_.begin(), positive_.end(), 0);
    std::fill(negative_.begin(), negative_.end(), 0);
    positive_[0] = pos;
    if (signed_) negative_[0] = neg;
  } else {
    const int ki = static_cast<int>(k);
    for (int i = 0; i < n; ++i) {
      const int j = i / ki;  // j <= i: filling in increasing i never overwrites an unread bin
      if (j == i) continue;
      positive_[j] += positive_[i];
      positive_[i] = 0;
      if (signed_) {
        negative_[j] += negative_[i];
        negative_[i] = 0;
      }
    }
  }
  width_ *= k;  // values that rounding leaves just above the new range go to the last bin
}

void StreamingHistogram::Add(const float* data, int64_t count) {
  Add(data, count, ScanFinite(data, count));
}

void StreamingHistogram::Add(const float* data, int64_t count, const FiniteScan& scan) {
  const double max_abs =
      std::max(-static_cast<double>(scan.finite.min), static_cast<double>(scan.finite.max));
  if (max_abs > 0.0) Grow(max_abs);
  total_ += count - scan.non_finite;
  const int n = num_bins();
  const double inv_width = width_ > 0.0 ? 1.0 / width_ : 0.0;
  // Rare: non-finite values to skip, or a range so tiny (max |x| below ~1e-35) that 1 / width
  // overflows a float: a branch per value, in double.
  if (scan.non_finite > 0 || inv_width > 1e30) {
    const int last = n - 1;
    for (int64_t i = 0; i < count; ++i) {
      const float v = data[i];
      if (!std::isfinite(v)) continue;
      if (v == 0.0f) {
        ++zeros_;
        continue;
      }
      const double scaled = std::fabs(static_cast<double>(v)) * inv_width;
      const int bin = scaled >= last ? last : static_cast<int>(scaled);
      (v > 0.0f || !signed_ ? positive_ : negative_)[bin] += 1;
    }
    return;
  }
  // All finite: branch-free counting (CountNonZeroSlots512 or CountSlots) into 16-bit counters that
  // live in one scratch buffer per thread (reused, all zero between calls), added to the histogram
  // after each block of values small enough that no counter can overflow.
  const int bins = signed_ ? 2 * n : n;  // positive, then negative
  const int slots = bins + 8;            // then one zero counter per vector lane
  const int stride = slots;
  // As many copies as fit in 40 KB of L1 and as the tensor is large enough to pay for adding
  // (~4 values per counter): 8 for the default 2048 |x| bins, 4 signed.
  int copies = 8;
  while (copies > 1 &&
         (copies * stride * sizeof(uint16_t) > 40 * 1024 || count < int64_t{4} * copies * stride)) {
    copies /= 2;
  }
  // One copy's counter gets at most 8 / copies increments per 8 values, plus at most 22 more
  // (CountNonZeroSlots512: < 8 buffered slots and < 16 tail values; CountSlots: < 8 tail values).
  const int64_t block = (65535 - 22) / (8 / copies) * 8;
  static thread_local std::vector<uint16_t> counters;
  if (counters.size() < static_cast<size_t>(copies) * stride) {
    counters.assign(static_cast<size_t>(copies) * stride, 0);
  }
  const float inv_width_f = static_cast<float>(inv_width);
  [[maybe_unused]] const bool use_avx512 = histogram_avx512.load(std::memory_order_relaxed);
  for (int64_t start = 0; start < count; start += block) {
    const int64_t size = std::min(count - start, block);
#if defined(__x86_64__) && !defined(__clang__)
    if (use_avx512) {
      zeros_ += CountNonZeroSlots512(data + start, size, inv_width_f, n, signed_ ? n : 0, bins,
                                     counters.data(), stride, copies);
    } else
#endif
      zeros_ += CountSlots(data + start, size, inv_width_f, n, signed_ ? n : 0, bins,
                           counters.data(), stride, copies);
    uint16_t* c = counters.data();
    for (int k = 0; k < copies; ++k, c += stride) {
      for (int j = 0; j < n; ++j) positive_[j] += c[j];
      if (signed_) {
        for (int j = 0; j < n; ++j) negative_[j] += c[n + j];
      }
      for (int l = 0; l < 8; ++l) zeros_ += c[bins + l];
      std::fill(c, c + stride, uint16_t{0});
    }
  }
}

std::vector<int64_t> StreamingHistogram::AbsCounts() const {
  std::vector<int64_t> counts = positive_;
  for (size_t i = 0; i < negative_.size(); ++i) counts[i] += negative_[i];
  return counts;
}

namespace {

// Walks (lo, hi, count) intervals in increasing order of value and returns the value below
// which `target` values lie, interpolating linearly inside the interval that holds it.
struct QuantileWalk {
  double target;
  double cumulative = 0.0;
  bool done = false;
  double result = 0.0;
  void Visit(double lo, double hi, int64_t count) {
    if (done || count == 0) return;
    if (cumulative + count >= target) {
      const double f = std::clamp((target - cumulative) / count, 0.0, 1.0);
      result = lo + f * (hi - lo);
      done = true;
    }
    cumulative += count;
  }
};

}  // namespace

double StreamingHistogram::Quantile(double fraction) const {
  if (total_ == 0) return 0.0;
  QuantileWalk walk{std::clamp(fraction, 0.0, 1.0) * total_};
  const double w = width_;
  for (int i = static_cast<int>(negative_.size()) - 1; i >= 0; --i) {
    walk.Visit(-(i + 1) * w, -i * w, negative_[i]);
  }
  walk.Visit(0.0, 0.0, zeros_);
  for (int i = 0; i < num_bins(); ++i) walk.Visit(i * w, (i + 1) * w, positive_[i]);
  return walk.result;
}

double StreamingHistogram::AbsQuantile(double fraction) const {
  if (total_ == 0) return 0.0;
  QuantileWalk walk{std::clamp(fraction, 0.0, 1.0) * total_};
  walk.Visit(0.0, 0.0, zeros_);
  const double w = width_;
  for (int i = 0; i < num_bins(); ++i) {
    walk.Visit(i * w, (i + 1) * w, positive_[i] + (signed_ ? negative_[i] : 0));
  }
  return walk.result;
}

size_t StreamingHistogram::memory_bytes() const {
  return sizeof(*this) + (positive_.capacity() + negative_.capacity()) * sizeof(int64_t);
}

// ---------------------------------------------------------------------------------------------
// Entropy (KL) threshold search.
//
// For each candidate i (number of bins kept, threshold t = i * w):
//   P = counts[0..i-1] with the outliers counts[i..] added to bin i-1 (clipping moves them to t);
//   Q = counts[0..i-1] *without* the outliers, merged into m levels (bin j -> level j*m/i) and
//       expanded back: a level's mass is spread evenly over the bins of the level where P is
//       non-zero (empty bins stay empty in Q, as in TensorRT);
//   KL(P || Q) after normalizing both.
// Q is built from the raw bins, not from P: quantizing P itself would make Q == P at i == m
// (one bin per level), so the search would always answer the smallest threshold. Built from
// the raw bins, the mass clipped into bin i-1 shows up as a mismatch, which is what penalizes
// clipping. When the last level holds no raw mass but P has outliers there, Q is 0 where P is
// not: Q gets a floor of kEpsilon there and is renormalized (instead of an infinite KL, which
// would reject every threshold below a far outlier and degenerate to max). So a clipped tail
// much lighter than kEpsilon of the mass costs little, a heavy one costs a lot.
// Cost: O(m) per candidate with prefix sums over the bins (P and Q are constant per level
// except for the last bin).

constexpr double kEpsilon = 1e-4;

// The entropy method's threshold never clips more than this fraction of the values.
constexpr double kEntropyMaxClipped = 1e-3;

namespace {

// The prefix sums of the search and the KL divergence of one candidate, computed as first
// written (the reference the fast pass below must agree with).
class KlSearch {
 public:
  KlSearch(const std::vector<int64_t>& counts, int m)
      : counts_(counts), n_(static_cast<int>(counts.size())), m_(m) {
    pre_count_.assign(n_ + 1, 0.0);
    pre_nonzero_.assign(n_ + 1, 0.0);
    pre_plogp_.assign(n_ + 1, 0.0);
    tables_.resize(static_cast<size_t>(n_ / m_ + 2));
    for (int64_t c : counts) total_ += static_cast<double>(c);
    if (total_ == 0.0) return;
    for (int j = 0; j < n_; ++j) {
      const double c = static_cast<double>(counts[j]);
      pre_count_[j + 1] = pre_count_[j] + c;
      pre_nonzero_[j + 1] = pre_nonzero_[j] + (c > 0 ? 1 : 0);
      pre_plogp_[j + 1] = pre_plogp_[j] + (c > 0 ? (c / total_) * std::log(c / total_) : 0.0);
    }
  }
  double total() const { return total_; }

  // KL(P || Q) for candidate i (m <= i <= n); +infinity when nothing is kept. O(m) logs.
  double Exact(int i) const {
    const double kept = pre_count_[i];  // raw mass inside the threshold: Q's total
    if (kept == 0.0) return std::numeric_limits<double>::infinity();
    const double outliers = total_ - kept;
    const double last_p = static_cast<double>(counts_[i - 1]) + outliers;
    // sum p log p (P's bins below i-1 are the raw counts)
    double kl = pre_plogp_[i - 1] + LastPLogP(last_p);
    int floored = 0;
    for (int l = 0; l < m_; ++l) {
      const int s = static_cast<int>((static_cast<int64_t>(l) * i + m_ - 1) / m_);
      const int e = static_cast<int>((static_cast<int64_t>(l + 1) * i + m_ - 1) / m_);
      kl += LevelTerm(i, s, e, outliers, last_p, kept, &floored);
    }
    return kl + std::log1p(floored * kEpsilon);  // renormalizing Q after the floor
  }

  // The same sum with log(q) = log(raw / nonzero) - log(kept): raw * log(raw / nonzero) of a
  // level depends only on its first bin and width (i / m or i / m + 1), so it is tabulated
  // once per width (`LevelTable`) instead of computed for every candidate (~17 * n logs instead
  // of m * n). Rounds differently from Exact (a relative difference ~1e-15).
  double Fast(int i) {
    const double kept = pre_count_[i];
    if (kept == 0.0) return std::numeric_limits<double>::infinity();
    const double outliers = total_ - kept;
    const double last_p = static_cast<double>(counts_[i - 1]) + outliers;
    double kl = pre_plogp_[i - 1] + LastPLogP(last_p);
    // Levels 0 .. m-2, whose first bin s = ceil(l * i / m) advances by i / m or i / m + 1.
    const int width = i / m_, step = i % m_;
    const std::vector<double>& narrow = LevelTable(width);
    const std::vector<double>& wide = step > 0 ? LevelTable(width + 1) : narrow;
    int s = 0, rem = m_ - 1;  // s = (l * i + m - 1) / m, rem its remainder
    double sum = 0.0;
    for (int l = 0; l + 1 < m_; ++l) {
      rem += step;
      const bool carry = rem >= m_;
      rem -= carry ? m_ : 0;
      sum += carry ? wide[s] : narrow[s];
      s += width + carry;
    }
    kl += (pre_count_[s] * std::log(kept) - sum) / total_;
    int floored = 0;
    kl += LevelTerm(i, s, i, outliers, last_p, kept, &floored);  // the last level
    return kl + std::log1p(floored * kEpsilon);
  }

 private:
  double LastPLogP(double last_p) const {
    return last_p > 0 ? (last_p / total_) * std::log(last_p / total_) : 0;
  }
  // -p log q of level [s, e) of candidate i.
  double LevelTerm(int i, int s, int e, double outliers, double last_p, double kept,
                   int* floored) const {
    const double raw = pre_count_[e] - pre_count_[s];
    double nonzero = pre_nonzero_[e] - pre_nonzero_[s];
    double p_mass = raw;
    if (e == i) {
      p_mass += outliers;
      if (counts_[i - 1] == 0 && last_p > 0) nonzero += 1;
    }
    if (p_mass == 0.0) return 0.0;
    double q;  // Q's value in each bin of the level where P > 0
    if (raw > 0.0) {
      q = raw / nonzero / kept;
    } else {  // only possible in the last level: P's mass is the outliers in bin i-1
      q = kEpsilon;
      ++*floored;
    }
    return -(p_mass / total_) * std::log(q);
  }
  // raw * log(raw / nonzero) of the levels [s, s + width), for every s.
  const std::vector<double>& LevelTable(int width) {
    std::vector<double>& t = tables_[width];
    if (t.empty()) {
      t.assign(n_ - width + 1, 0.0);
      for (int s = 0; s + width <= n_; ++s) {
        const double raw = pre_count_[s + width] - pre_count_[s];
        const double nonzero = pre_nonzero_[s + width] - pre_nonzero_[s];
        if (raw > 0.0) t[s] = raw * std::log(raw / nonzero);
      }
    }
    return t;
  }

  const std::vector<int64_t>& counts_;
  int n_, m_;
  double total_ = 0.0;
  std::vector<double> pre_count_, pre_nonzero_, pre_plogp_;
  // By level width, i / m or i / m + 1 <= n / m + 1. Sized once: Fast holds references to two
  // tables at a time.
  std::vector<std::vector<double>> tables_;
};

}  // namespace

// The answer must not depend on rounding: Fast ranks all candidates, then Exact decides among
// those within kFastSlack of Fast's best (the only ones that can be Exact's first minimum, as
// |Fast - Exact| is ~1e-14 here), in increasing order with the same strict comparison as a full
// Exact scan, which is what this search was before (tests compare with it). Measured on a
// 2048-bin histogram with m = 128: 2.5 ms -> 0.3 ms.
double EntropyThreshold(const std::vector<int64_t>& counts, double bin_width, int quantized_bins) {
  const int n = static_cast<int>(counts.size());
  if (n == 0 || bin_width <= 0.0) return 0.0;
  const int m = std::clamp(quantized_bins, 1, n);
  KlSearch search(counts, m);
  if (search.total() == 0.0) return 0.0;
  // Tables of n / m + 2 widths cost about as many logs as Exact when m is small.
  const bool fast = n / m + 2 <= m / 2;
  constexpr double kFastSlack = 1e-9;
  std::vector<double> approx(n + 1, std::numeric_limits<double>::infinity());
  double best_approx = std::numeric_limits<double>::infinity();
  if (fast) {
    for (int i = m; i <= n; ++i) {
      approx[i] = search.Fast(i);
      best_approx = std::min(best_approx, approx[i]);
    }
  }
  double best_kl = std::numeric_limits<double>::infinity();
  int best_i = n;
  for (int i = m; i <= n; ++i) {
    if (fast && approx[i] > best_approx + kFastSlack * (1.0 + std::fabs(best_approx))) continue;
    const double kl = search.Exact(i);
    if (kl < best_kl) {
      best_kl = kl;
      best_i = i;
    }
  }
  return best_i * bin_width;
}

// ---------------------------------------------------------------------------------------------
// MSE threshold search.
//
// Model of the expected squared error of a value x quantized with clip t and step s:
//   |x| <= t: rounding error, uniform over a step: s^2 / 12;
//   |x| >  t: clipping error (|x| - t)^2, with x uniform inside its bin: (c - t)^2 + w^2 / 12
//             for the bin center c.
// Exact zeros never cost anything (0 is exactly representable) and are not in the counts.
// Candidates are the bin edges below the largest magnitude, and the largest magnitude itself
// (no clipping); sums over the clipped bins come from suffix sums, so each candidate is O(1).

namespace {

class ClipModel {
 public:
  ClipModel(const std::vector<int64_t>& counts, double bin_width, double max_abs)
      : w_(bin_width), max_abs_(max_abs), n_(static_cast<int>(counts.size())) {
    s0_.assign(n_ + 1, 0.0);
    s1_.assign(n_ + 1, 0.0);
    s2_.assign(n_ + 1, 0.0);
    for (int j = n_ - 1; j >= 0; --j) {
      const double c = static_cast<double>(counts[j]);
      const double x = (j + 0.5) * w_;
      s0_[j] = s0_[j + 1] + c;
      s1_[j] = s1_[j + 1] + c * x;
      s2_[j] = s2_[j + 1] + c * x * x;
    }
    // Candidate edges i * w < max_abs, then max_abs (index num_candidates() - 1).
    edges_ = 0;
    if (w_ > 0.0 && max_abs_ > 0.0) {
      while (edges_ + 1 <= n_ && (edges_ + 1) * w_ < max_abs_) ++edges_;
    }
  }
  int num_candidates() const { return max_abs_ > 0.0 && w_ > 0.0 ? edges_ + 1 : 1; }
  double threshold(int k) const { return k < edges_ ? (k + 1) * w_ : max_abs_; }
  double inside(int k) const { return k < edges_ ? s0_[0] - s0_[k + 1] : s0_[0]; }
  double clip_error(int k) const {
    if (k >= edges_) return 0.0;
    const int i = k + 1;
    const double t = i * w_;
    return s2_[i] - 2.0 * t * s1_[i] + t * t * s0_[i] + s0_[i] * w_ * w_ / 12.0;
  }

 private:
  double w_, max_abs_;
  int n_;
  int edges_;
  std::vector<double> s0_, s1_, s2_;
};

}  // namespace

double MseThreshold(const std::vector<int64_t>& counts, double bin_width, double max_abs,
                    int steps_per_side) {
  if (max_abs <= 0.0 || bin_width <= 0.0) return std::max(max_abs, 0.0);
  const ClipModel model(counts, bin_width, max_abs);
  const double steps = std::max(steps_per_side, 1);
  double best = std::numeric_limits<double>::infinity();
  double best_t = max_abs;
  for (int k = 0; k < model.num_candidates(); ++k) {
    const double t = model.threshold(k);
    const double s = t / steps;
    const double err = model.inside(k) * s * s / 12.0 + model.clip_error(k);
    if (err < best) {
      best = err;
      best_t = t;
    }
  }
  return best_t;
}

namespace {

// Asymmetric MSE: clip magnitudes (neg_t, pos_t) with step (neg_t + pos_t) / steps. The two
// clips are coupled only through the step, so coordinate descent (best pos_t for the current
// neg_t, then the reverse, until neither moves) finds the optimum in a few O(num_bins) scans
// instead of a num_bins^2 grid.
std::pair<double, double> MseRangeAsymmetric(const StreamingHistogram& h, double max_neg,
                                             double max_pos, int steps) {
  const ClipModel neg(h.negative(), h.bin_width(), max_neg);
  const ClipModel pos(h.positive(), h.bin_width(), max_pos);
  int kn = neg.num_candidates() - 1, kp = pos.num_candidates() - 1;  // start unclipped
  auto error = [&](int a, int b) {
    const double s = (neg.threshold(a) + pos.threshold(b)) / std::max(steps, 1);
    return (neg.inside(a) + pos.inside(b)) * s * s / 12.0 + neg.clip_error(a) + pos.clip_error(b);
  };
  double best = error(kn, kp);
  for (int round = 0; round < 64; ++round) {
    bool moved = false;
    for (int b = 0; b < pos.num_candidates(); ++b) {
      const double e = error(kn, b);
      if (e < best) best = e, kp = b, moved = true;
    }
    for (int a = 0; a < neg.num_candidates(); ++a) {
      const double e = error(a, kp);
      if (e < best) best = e, kn = a, moved = true;
    }
    if (!moved) break;
  }
  return {neg.threshold(kn), pos.threshold(kp)};
}

// ---------------------------------------------------------------------------------------------
// Observers

class ObserverBase : public RangeObserver {
 public:
  FloatRange observed() const override { return seen_ ? FloatRange{min_, max_} : FloatRange{}; }
  int64_t samples() const override { return samples_; }
  int64_t non_finite() const override { return non_finite_; }

 protected:
  // Updates the exact statistics; returns false if the sample has no finite value.
  bool Scan(const FiniteScan& scan, int64_t count) {
    ++samples_;
    non_finite_ += scan.non_finite;
    if (scan.non_finite == count) return false;
    min_ = seen_ ? std::min(min_, scan.finite.min) : scan.finite.min;
    max_ = seen_ ? std::max(max_, scan.finite.max) : scan.finite.max;
    seen_ = true;
    return true;
  }
  // [lo, hi] widened to contain 0, or [-t, t] with t = max(|lo|, |hi|).
  static FloatRange Finish(double lo, double hi, bool symmetric) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
    if (symmetric) {
      const float t = static_cast<float>(std::max(-lo, hi));
      return {-t, t};
    }
    return {static_cast<float>(lo), static_cast<float>(hi)};
  }
  bool seen_ = false;
  float min_ = 0.0f, max_ = 0.0f;

 private:
  int64_t samples_ = 0;
  int64_t non_finite_ = 0;
};

class MinMaxObserver final : public ObserverBase {
 public:
  explicit MinMaxObserver(const ObserverOptions& o)
      : moving_average_(o.moving_average),
        constant_(std::clamp(static_cast<double>(o.averaging_constant), 1e-9, 1.0)) {}

  void Observe(const float* data, int64_t count) override {
    const bool first = !seen_;
    const FiniteScan scan = ScanFinite(data, count);
    if (!Scan(scan, count)) return;
    const float lo = scan.finite.min, hi = scan.finite.max;
    if (first) {
      avg_min_ = lo;
      avg_max_ = hi;
    } else {  // exponential moving average of the per-sample min and max
      avg_min_ += constant_ * (lo - avg_min_);
      avg_max_ += constant_ * (hi - avg_max_);
    }
  }
  FloatRange Range(bool symmetric, int /*levels*/) const override {
    if (!seen_) return {};
    if (moving_average_) return Finish(avg_min_, avg_max_, symmetric);
    return Finish(min_, max_, symmetric);
  }
  size_t memory_bytes() const override { return sizeof(*this); }

 private:
  bool moving_average_;
  double constant_;
  double avg_min_ = 0.0, avg_max_ = 0.0;
};

class HistogramObserver final : public ObserverBase {
 public:
  explicit HistogramObserver(const ObserverOptions& o)
      : method_(o.method),
        percentile_(std::clamp(o.percentile, 0.0, 100.0)),
        quantized_bins_(std::max(o.num_quantized_bins, 1)),
        histogram_(o.num_bins, /*signed_bins=*/o.method != CalibrationMethod::kEntropy) {}

  void Observe(const float* data, int64_t count) override {
    const FiniteScan scan = ScanFinite(data, count);
    if (!Scan(scan, count)) return;
    histogram_.Add(data, count, scan);
  }

  FloatRange Range(bool symmetric, int levels) const override {
    if (!seen_) return {};
    levels = std::max(levels, 2);
    const double obs_min = std::min<double>(min_, 0.0), obs_max = std::max<double>(max_, 0.0);
    const double max_abs = std::max(-obs_min, obs_max);
    const bool one_signed = obs_min == 0.0 || obs_max == 0.0;
    double lo = obs_min, hi = obs_max;  // the clip range before the final widening to 0
    switch (method_) {
      case CalibrationMethod::kPercentile: {
        const double clipped = (100.0 - percentile_) / 100.0;
        if (symmetric) {
          const double t = std::min(histogram_.AbsQuantile(1.0 - clipped), max_abs);
          lo = -t, hi = t;
        } else if (one_signed) {  // the whole clipped fraction on the side that has data
          if (obs_max > 0.0) hi = std::min(histogram_.Quantile(1.0 - clipped), obs_max);
          if (obs_min < 0.0) lo = std::max(histogram_.Quantile(clipped), obs_min);
        } else {  // equal tails
          lo = std::max(histogram_.Quantile(clipped / 2.0), obs_min);
          hi = std::min(histogram_.Quantile(1.0 - clipped / 2.0), obs_max);
        }
        break;
      }
      case CalibrationMethod::kEntropy: {
        // num_quantized_bins are the levels of [0, t] for 8 bits: scaled with `levels`. One-signed
        // asymmetric data really gets twice as many over [0, t]; searching with the symmetric
        // count is conservative (a slightly larger t) and keeps the search start at 1/16 of the
        // histogram's range instead of 1/8.
        const double m = quantized_bins_ * (levels / 256.0);
        const int mi =
            static_cast<int>(std::clamp(std::round(m), 1.0, 1.0 * histogram_.num_bins()));
        double t = EntropyThreshold(histogram_.AbsCounts(), histogram_.bin_width(), mi);
        // Guard: never clip more than kEntropyMaxClipped of the values. On sparse data with few
        // distinct levels (8-bit image pixels: mostly 0, then multiples of 1/16) the KL search
        // can land below most of the non-zero mass (measured: t = 0.063 on digits in [0, 1]).
        t = std::min(std::max(t, histogram_.AbsQuantile(1.0 - kEntropyMaxClipped)), max_abs);
        lo = std::max(obs_min, -t), hi = std::min(obs_max, t);
        if (symmetric) lo = -t, hi = t;
        break;
      }
      case CalibrationMethod::kMse: {
        if (symmetric) {
          const double t =
              MseThreshold(histogram_.AbsCounts(), histogram_.bin_width(), max_abs, levels / 2 - 1);
          lo = -t, hi = t;
        } else {
          const auto [neg_t, pos_t] = MseRangeAsymmetric(histogram_, -obs_min, obs_max, levels - 1);
          lo = -neg_t, hi = pos_t;
        }
        break;
      }
      case CalibrationMethod::kMinMax: break;
    }
    FloatRange r = Finish(lo, hi, symmetric);
    // float rounding must not push the range outside the data
    if (!symmetric) {
      r.min = std::max(r.min, std::min(min_, 0.0f));
      r.max = std::min(r.max, std::max(max_, 0.0f));
    }
    return r;
  }

  size_t memory_bytes() const override {
    return sizeof(*this) - sizeof(histogram_) + histogram_.memory_bytes();
  }
  const StreamingHistogram& histogram() const { return histogram_; }

 private:
  CalibrationMethod method_;
  double percentile_;
  int quantized_bins_;
  StreamingHistogram histogram_;
};

}  // namespace

std::unique_ptr<RangeObserver> MakeRangeObserver(const ObserverOptions& options) {
  if (options.method == CalibrationMethod::kMinMax) {
    return std::make_unique<MinMaxObserver>(options);
  }
  return std::make_unique<HistogramObserver>(options);
}

}  // namespace edgefit
