// Range observers: expected values computed independently (by hand, or by a plain loop over the
// raw data in the test), never by the histogram code under test.
#include "quant/observer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace edgefit {
namespace {

ObserverOptions Options(CalibrationMethod method) {
  ObserverOptions o;
  o.method = method;
  return o;
}

void ObserveAll(RangeObserver& obs, const std::vector<float>& data, size_t chunk) {
  for (size_t i = 0; i < data.size(); i += chunk) {
    obs.Observe(data.data() + i, static_cast<int64_t>(std::min(chunk, data.size() - i)));
  }
}

// Exact quantile of the raw data: the smallest v with at least `fraction` of the values <= v.
double ExactQuantile(std::vector<float> v, double fraction) {
  std::sort(v.begin(), v.end());
  const double target = fraction * static_cast<double>(v.size());
  const size_t k = static_cast<size_t>(std::max(std::ceil(target), 1.0)) - 1;
  return v[std::min(k, v.size() - 1)];
}

// Squared error of quantizing `data` to the range [lo, hi] with `levels` levels (plain loop).
double SimulatedMse(const std::vector<float>& data, double lo, double hi, int levels) {
  const double scale = (hi - lo) / (levels - 1);
  const double zp = std::nearbyint(-lo / scale);
  double err = 0.0;
  for (float x : data) {
    const double q = std::clamp(std::nearbyint(x / scale) + zp, 0.0, levels - 1.0);
    const double r = (q - zp) * scale;
    err += (r - x) * (r - x);
  }
  return err / data.size();
}

std::vector<float> Gaussian(int n, double sigma, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, static_cast<float>(sigma));
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

TEST(CalibrationMethodTest, ParseAndName) {
  for (auto m : {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile,
                 CalibrationMethod::kEntropy, CalibrationMethod::kMse}) {
    auto parsed = ParseCalibrationMethod(CalibrationMethodName(m));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, m);
  }
  auto bad = ParseCalibrationMethod("kl");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("minmax, percentile, entropy or mse"), std::string::npos);
}

TEST(ObserverOptionsTest, Validate) {
  EXPECT_TRUE(ValidateObserverOptions(ObserverOptions{}).ok());
  ObserverOptions o;
  o.num_quantized_bins = 4096;
  EXPECT_FALSE(ValidateObserverOptions(o).ok());
  o = {};
  o.percentile = 0.0;
  EXPECT_FALSE(ValidateObserverOptions(o).ok());
  o = {};
  o.averaging_constant = 1.5f;
  EXPECT_FALSE(ValidateObserverOptions(o).ok());
}

TEST(MinMaxObserverTest, ExactMinMax) {
  auto obs = MakeRangeObserver(Options(CalibrationMethod::kMinMax));
  const std::vector<float> a = {0.5f, -1.25f, 3.0f}, b = {2.0f, 7.5f}, c = {-4.0f, 1.0f};
  obs->Observe(a.data(), 3);
  obs->Observe(b.data(), 2);
  obs->Observe(c.data(), 2);
  EXPECT_EQ(obs->samples(), 3);
  EXPECT_EQ(obs->observed().min, -4.0f);
  EXPECT_EQ(obs->observed().max, 7.5f);
  FloatRange r = obs->Range(/*symmetric=*/false);
  EXPECT_EQ(r.min, -4.0f);
  EXPECT_EQ(r.max, 7.5f);
  r = obs->Range(/*symmetric=*/true);
  EXPECT_EQ(r.min, -7.5f);
  EXPECT_EQ(r.max, 7.5f);
}

TEST(MinMaxObserverTest, RangeContainsZeroAndRespectsSign) {
  auto pos = MakeRangeObserver(Options(CalibrationMethod::kMinMax));
  const std::vector<float> p = {2.0f, 5.0f, 3.0f};
  pos->Observe(p.data(), 3);
  EXPECT_EQ(pos->Range(false).min, 0.0f);
  EXPECT_EQ(pos->Range(false).max, 5.0f);
  auto neg = MakeRangeObserver(Options(CalibrationMethod::kMinMax));
  const std::vector<float> n = {-2.0f, -5.0f};
  neg->Observe(n.data(), 2);
  EXPECT_EQ(neg->Range(false).min, -5.0f);
  EXPECT_EQ(neg->Range(false).max, 0.0f);
}

TEST(MinMaxObserverTest, MovingAverage) {
  ObserverOptions o = Options(CalibrationMethod::kMinMax);
  o.moving_average = true;
  o.averaging_constant = 0.25f;
  auto obs = MakeRangeObserver(o);
  const std::vector<std::vector<float>> samples = {
      {-1.0f, 2.0f}, {-3.0f, 1.0f, 0.0f}, {-0.5f, 6.0f}, {-2.0f, 4.0f}};
  double mn = 0, mx = 0;  // reference: m_0 = first sample, m_k = m_{k-1} + c * (x_k - m_{k-1})
  for (size_t k = 0; k < samples.size(); ++k) {
    obs->Observe(samples[k].data(), static_cast<int64_t>(samples[k].size()));
    const double smin = *std::min_element(samples[k].begin(), samples[k].end());
    const double smax = *std::max_element(samples[k].begin(), samples[k].end());
    mn = k == 0 ? smin : mn + 0.25 * (smin - mn);
    mx = k == 0 ? smax : mx + 0.25 * (smax - mx);
  }
  // By hand: min -1, -1.5, -1.25, -1.4375; max 2, 1.75, 2.8125, 3.109375.
  EXPECT_DOUBLE_EQ(mn, -1.4375);
  EXPECT_DOUBLE_EQ(mx, 3.109375);
  const FloatRange r = obs->Range(false);
  EXPECT_FLOAT_EQ(r.min, -1.4375f);
  EXPECT_FLOAT_EQ(r.max, 3.109375f);
  // observed() stays exact
  EXPECT_EQ(obs->observed().min, -3.0f);
  EXPECT_EQ(obs->observed().max, 6.0f);
}

TEST(ObserverTest, NonFiniteIgnoredAndCounted) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (auto m : {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile,
                 CalibrationMethod::kEntropy, CalibrationMethod::kMse}) {
    auto obs = MakeRangeObserver(Options(m));
    const std::vector<float> a = {1.0f, nan, -2.0f, inf, -inf}, b = {nan, nan};
    obs->Observe(a.data(), 5);
    obs->Observe(b.data(), 2);
    EXPECT_EQ(obs->non_finite(), 5) << CalibrationMethodName(m);
    EXPECT_EQ(obs->samples(), 2);
    EXPECT_EQ(obs->observed().min, -2.0f);
    EXPECT_EQ(obs->observed().max, 1.0f);
    const FloatRange r = obs->Range(false);
    EXPECT_TRUE(std::isfinite(r.min) && std::isfinite(r.max));
    EXPECT_GE(r.min, -2.0f);
    EXPECT_LE(r.max, 1.0f);
  }
}

// The vectorized scan against a plain loop: every length up to two full steps of the main loop
// (4 x 16 values) and a tail, every position of a NaN or an infinity, extremes at the first and
// last element.
TEST(ScanFiniteTest, MatchesPlainLoop) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-5.0f, 3.0f);
  for (int n = 0; n <= 140; ++n) {
    std::vector<float> base(n);
    for (float& x : base) x = dist(rng);
    std::vector<std::vector<float>> cases = {base};
    for (int pos = 0; pos < n; ++pos) {
      for (float special : {nan, inf, -inf, -9.0f, 8.0f}) {
        cases.push_back(base);
        cases.back()[pos] = special;
      }
    }
    for (const auto& v : cases) {
      float lo = inf, hi = -inf;
      int64_t bad = 0;
      for (float x : v) {
        if (!std::isfinite(x)) {
          ++bad;
        } else {
          lo = std::min(lo, x), hi = std::max(hi, x);
        }
      }
      const FiniteScan scan = ScanFinite(v.data(), n);
      ASSERT_EQ(scan.non_finite, bad) << "n=" << n;
      if (bad == n) {
        EXPECT_EQ(scan.finite.min, 0.0f);
        EXPECT_EQ(scan.finite.max, 0.0f);
      } else {
        ASSERT_EQ(scan.finite.min, lo) << "n=" << n;
        ASSERT_EQ(scan.finite.max, hi) << "n=" << n;
      }
    }
  }
  const std::vector<float> all_nan(33, nan);
  EXPECT_EQ(ScanFinite(all_nan.data(), 33).non_finite, 33);
}

TEST(ObserverTest, EmptyAndAllZero) {
  for (auto m : {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile,
                 CalibrationMethod::kEntropy, CalibrationMethod::kMse}) {
    auto obs = MakeRangeObserver(Options(m));
    EXPECT_EQ(obs->Range(true).max, 0.0f);
    const std::vector<float> z(100, 0.0f);
    obs->Observe(z.data(), 100);
    for (bool sym : {false, true}) {
      const FloatRange r = obs->Range(sym);
      EXPECT_EQ(r.min, 0.0f) << CalibrationMethodName(m);
      EXPECT_EQ(r.max, 0.0f) << CalibrationMethodName(m);
    }
  }
}

TEST(StreamingHistogramTest, ZerosApartAndBinsOfMagnitude) {
  StreamingHistogram h(16);
  const std::vector<float> v = {0.0f, 1.0f, -1.0f, 16.0f, -0.5f, 0.0f};
  h.Add(v.data(), static_cast<int64_t>(v.size()));
  EXPECT_EQ(h.bin_width(), 1.0);  // max |x| 16 over 16 bins
  EXPECT_EQ(h.zeros(), 2);
  EXPECT_EQ(h.total(), 6);
  EXPECT_EQ(h.positive()[1], 1);
  EXPECT_EQ(h.positive()[15], 1);  // the max lands in the last bin
  EXPECT_EQ(h.negative()[1], 1);
  EXPECT_EQ(h.negative()[0], 1);
}

TEST(StreamingHistogramTest, GrowByIntegerFactorKeepsCounts) {
  StreamingHistogram h(16);
  const std::vector<float> a = {0.5f, 1.5f, 3.5f, -7.9f, 8.0f};  // width 0.5
  h.Add(a.data(), 5);
  EXPECT_EQ(h.bin_width(), 0.5);
  const std::vector<float> b = {20.0f};  // needs 20 / 8 -> k = 3, width 1.5
  h.Add(b.data(), 1);
  EXPECT_EQ(h.bin_width(), 1.5);
  EXPECT_EQ(h.total(), 6);
  // old bins 1 (0.5), 3 (1.5), 7 (3.5), 15 (8.0) -> new bins 0, 1, 2, 5; new value 20 -> 13
  std::vector<int64_t> expected_pos(16, 0), expected_neg(16, 0);
  expected_pos[0] = 1, expected_pos[1] = 1, expected_pos[2] = 1, expected_pos[5] = 1;
  expected_pos[13] = 1;
  expected_neg[15 / 3] = 1;  // -7.9: old bin 15
  EXPECT_EQ(h.positive(), expected_pos);
  EXPECT_EQ(h.negative(), expected_neg);
}

TEST(StreamingHistogramTest, RebinnedMatchesOneShotWithinOneBin) {
  // Samples whose range keeps growing force many re-binnings.
  std::mt19937 rng(7);
  std::vector<float> all;
  StreamingHistogram streamed(2048);
  for (int k = 0; k < 40; ++k) {
    const float s = 0.01f * std::pow(1.3f, static_cast<float>(k));
    std::uniform_real_distribution<float> dist(-s, 2.0f * s);
    std::vector<float> sample(500);
    for (float& x : sample) x = dist(rng);
    sample[0] = 0.0f;
    streamed.Add(sample.data(), static_cast<int64_t>(sample.size()));
    all.insert(all.end(), sample.begin(), sample.end());
  }
  StreamingHistogram one_shot(2048);
  one_shot.Add(all.data(), static_cast<int64_t>(all.size()));
  EXPECT_EQ(streamed.total(), static_cast<int64_t>(all.size()));
  EXPECT_EQ(streamed.zeros(), one_shot.zeros());
  int64_t sum = streamed.zeros();
  for (int i = 0; i < 2048; ++i) sum += streamed.positive()[i] + streamed.negative()[i];
  EXPECT_EQ(sum, static_cast<int64_t>(all.size()));
  double max_abs = 0.0;
  for (float x : all) max_abs = std::max(max_abs, std::fabs(static_cast<double>(x)));
  EXPECT_LE(streamed.bin_width(), 2.0 * max_abs / 2048);  // at most 2x one-shot's resolution
  EXPECT_GE(streamed.bin_width(), one_shot.bin_width());
  const double w = streamed.bin_width();
  for (double f : {0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999}) {
    EXPECT_NEAR(streamed.Quantile(f), one_shot.Quantile(f), w) << f;
    EXPECT_NEAR(streamed.Quantile(f), ExactQuantile(all, f), w) << f;
  }
  std::vector<float> abs_all(all);
  for (float& x : abs_all) x = std::fabs(x);
  for (double f : {0.5, 0.99, 0.9999}) {
    EXPECT_NEAR(streamed.AbsQuantile(f), ExactQuantile(abs_all, f), w) << f;
  }
}

// The counting is an exact integer count, so it must give exactly the counts of a plain loop
// with the same arithmetic (|v| * float(1 / width), floored, clamped to the last bin; the
// double-precision loop when the tensor holds a non-finite value).
struct NaiveCounts {
  std::vector<int64_t> positive, negative;  // negative by magnitude; all in positive if !is_signed
  int64_t zeros = 0;
};

NaiveCounts CountNaively(const std::vector<float>& v, int n, double width, bool is_signed) {
  NaiveCounts c{std::vector<int64_t>(n, 0), std::vector<int64_t>(is_signed ? n : 0, 0), 0};
  bool any_non_finite = false;
  for (float x : v) any_non_finite |= !std::isfinite(x);
  for (float x : v) {
    if (!std::isfinite(x)) continue;
    if (x == 0.0f) {
      ++c.zeros;
      continue;
    }
    int bin;
    if (any_non_finite) {
      const double scaled = std::fabs(static_cast<double>(x)) * (1.0 / width);
      bin = scaled >= n - 1 ? n - 1 : static_cast<int>(scaled);
    } else {
      const float scaled = std::fabs(x) * static_cast<float>(1.0 / width);
      bin = static_cast<int>(std::min(scaled, static_cast<float>(n - 1)));
    }
    (x < 0.0f && is_signed ? c.negative : c.positive)[bin] += 1;
  }
  return c;
}

void ExpectExactCounts(const std::vector<float>& v, int n, bool is_signed, const char* what) {
  StreamingHistogram h(n, is_signed);
  h.Add(v.data(), static_cast<int64_t>(v.size()));
  const NaiveCounts c = CountNaively(v, n, h.bin_width(), is_signed);
  EXPECT_EQ(h.zeros(), c.zeros) << what << " n=" << n << " size=" << v.size();
  EXPECT_EQ(h.positive(), c.positive) << what << " n=" << n << " size=" << v.size();
  EXPECT_EQ(h.negative(), c.negative) << what << " n=" << n << " size=" << v.size();
  std::vector<int64_t> abs = c.positive;
  for (size_t i = 0; i < c.negative.size(); ++i) abs[i] += c.negative[i];
  EXPECT_EQ(h.AbsCounts(), abs) << what;
}

void CheckCountsExactlyLikeAPlainLoop() {
  std::mt19937 rng(11);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  const float edge = 4.0f / 2048;  // bin edges of a [-4, 4] range over 2048 bins
  for (bool is_signed : {true, false}) {
    for (int n : {16, 2048, 5000}) {
      // Sizes around the vector width, around the copy-count thresholds, and crossing the
      // 16-bit counters' flush blocks (65528 * copies values).
      for (size_t size : {0, 1, 7, 8, 9, 15, 17, 100, 20003, 40000, 70001, 600007}) {
        std::vector<float> v(size);
        for (size_t i = 0; i < size; ++i) {
          switch (i % 7) {
            case 0: v[i] = 0.0f; break;
            case 1: v[i] = -0.0f; break;
            case 2: v[i] = edge * static_cast<float>(rng() % 2048); break;  // on a bin edge
            case 3: v[i] = -edge * static_cast<float>(rng() % 2048); break;
            default: v[i] = std::max(gauss(rng), 0.0f) * (i % 2 ? 1.0f : -1.0f); break;
          }
        }
        if (size > 0) v[size / 2] = 4.0f;  // the max: the last bin
        if (size > 1) v[size / 3] = -4.0f;
        ExpectExactCounts(v, n, is_signed, "mixed");
        std::vector<float> relu(v);
        for (float& x : relu) x = std::max(x, 0.0f);
        for (size_t i = 0; i + 64 < relu.size(); i += 200) {
          std::fill(relu.begin() + i, relu.begin() + i + 64, 0.0f);  // runs of zero vectors
        }
        ExpectExactCounts(relu, n, is_signed, "relu");
      }
    }
    // One value repeated: every value in one counter (the 16-bit counters must be flushed),
    // and all zeros (the zero-vector shortcut), both crossing several flush blocks.
    for (float x : {1.0f, -2.5f, 0.0f, -0.0f}) {
      ExpectExactCounts(std::vector<float>(2'000'003, x), 2048, is_signed, "constant");
      ExpectExactCounts(std::vector<float>(70'001, x), 16, is_signed, "constant");
    }
    // Non-finite values: skipped, the rest counted by the double-precision loop.
    std::vector<float> nf = {1.0f,  std::numeric_limits<float>::quiet_NaN(), -3.0f,
                             0.0f,  std::numeric_limits<float>::infinity(),  2.9999f,
                             -0.0f, -std::numeric_limits<float>::infinity(), 0.001f};
    ExpectExactCounts(nf, 16, is_signed, "non-finite");
  }
}

TEST(StreamingHistogramTest, CountsExactlyLikeAPlainLoop) {
  // Both counting paths: AVX-512 (where the CPU has it) and AVX2 / portable.
  for (bool avx512 : {true, false}) {
    SCOPED_TRACE(avx512 ? "avx512" : "avx2/portable");
    SetHistogramAvx512(avx512);
    CheckCountsExactlyLikeAPlainLoop();
  }
  SetHistogramAvx512(true);
}

TEST(StreamingHistogramTest, MagnitudeOnlyMatchesTheSignedSumAcrossRebinning) {
  std::mt19937 rng(5);
  StreamingHistogram with_sign(2048), magnitudes(2048, /*signed_bins=*/false);
  for (int k = 0; k < 30; ++k) {
    std::normal_distribution<float> dist(0.0f, 0.1f * (k + 1));
    std::vector<float> sample(10000 + k);
    for (float& x : sample) x = k % 3 == 0 ? std::max(dist(rng), 0.0f) : dist(rng);
    with_sign.Add(sample.data(), static_cast<int64_t>(sample.size()));
    magnitudes.Add(sample.data(), static_cast<int64_t>(sample.size()));
    ASSERT_EQ(magnitudes.bin_width(), with_sign.bin_width());
    ASSERT_EQ(magnitudes.positive(), with_sign.AbsCounts()) << k;
    ASSERT_EQ(magnitudes.zeros(), with_sign.zeros());
    ASSERT_TRUE(magnitudes.negative().empty());
    for (double f : {0.5, 0.99, 0.99999}) {
      ASSERT_EQ(magnitudes.AbsQuantile(f), with_sign.AbsQuantile(f));
    }
  }
  EXPECT_LT(magnitudes.memory_bytes(), with_sign.memory_bytes());
}

TEST(PercentileObserverTest, UniformIntegers) {
  std::vector<float> v(1000);
  for (int i = 0; i < 1000; ++i) v[i] = static_cast<float>(i);
  ObserverOptions o = Options(CalibrationMethod::kPercentile);
  o.percentile = 99.0;
  auto obs = MakeRangeObserver(o);
  obs->Observe(v.data(), 1000);
  const double width = 999.0 / 2048;
  // 990 of the 1000 values are <= 989
  FloatRange r = obs->Range(true);
  EXPECT_NEAR(r.max, 989.0, width);
  EXPECT_EQ(r.min, -r.max);
  // one-signed asymmetric data: the whole 1% clipped above, the range starts at 0
  r = obs->Range(false);
  EXPECT_EQ(r.min, 0.0f);
  EXPECT_NEAR(r.max, 989.0, width);
}

TEST(PercentileObserverTest, AsymmetricEqualTails) {
  std::vector<float> v;
  for (int i = -500; i < 1500; ++i) v.push_back(static_cast<float>(i));  // 2000 values
  ObserverOptions o = Options(CalibrationMethod::kPercentile);
  o.percentile = 99.0;  // 0.5% = 10 values clipped on each side
  auto obs = MakeRangeObserver(o);
  ObserveAll(*obs, v, 300);
  const FloatRange r = obs->Range(false);
  const double width = 1500.0 / 2048;
  EXPECT_NEAR(r.min, ExactQuantile(v, 0.005), width + 1.0);  // -491 (10 values below)
  EXPECT_NEAR(r.max, ExactQuantile(v, 0.995), width + 1.0);  // 1489
  EXPECT_GT(r.min, -500.0f);
  EXPECT_LT(r.max, 1499.0f);
}

TEST(EntropyObserverTest, GaussianWithOutliersClipsWellBelowMax) {
  std::vector<float> v = Gaussian(100000, 1.0, 1);
  for (int i = 0; i < 10; ++i) v[i * 9973] = (i % 2 ? -1.0f : 1.0f) * 100.0f;  // 0.01% outliers
  auto obs = MakeRangeObserver(Options(CalibrationMethod::kEntropy));
  ObserveAll(*obs, v, 5000);
  const FloatRange r = obs->Range(true);
  EXPECT_EQ(obs->observed().max, 100.0f);
  EXPECT_LT(r.max, 10.0f);  // well below max (100)
  EXPECT_GT(r.max, 2.5f);   // and not absurdly tight for a unit Gaussian
  EXPECT_EQ(r.min, -r.max);
  // The bulk (all but the outliers) is quantized much better than with min/max.
  std::vector<float> bulk;
  for (float x : v) {
    if (std::fabs(x) < 50.0f) bulk.push_back(x);
  }
  EXPECT_LT(SimulatedMse(bulk, r.min, r.max, 255), 0.1 * SimulatedMse(bulk, -100.0, 100.0, 255));
}

// The KL search as first written (one log per level and candidate): the fast search must pick
// exactly the same threshold, near-ties included.
double ReferenceEntropyThreshold(const std::vector<int64_t>& counts, double bin_width,
                                 int quantized_bins) {
  constexpr double kEpsilon = 1e-4;
  const int n = static_cast<int>(counts.size());
  if (n == 0 || bin_width <= 0.0) return 0.0;
  const int m = std::clamp(quantized_bins, 1, n);
  std::vector<double> pre_count(n + 1, 0.0), pre_nonzero(n + 1, 0.0), pre_plogp(n + 1, 0.0);
  double total = 0.0;
  for (int64_t c : counts) total += static_cast<double>(c);
  if (total == 0.0) return 0.0;
  for (int j = 0; j < n; ++j) {
    const double c = static_cast<double>(counts[j]);
    pre_count[j + 1] = pre_count[j] + c;
    pre_nonzero[j + 1] = pre_nonzero[j] + (c > 0 ? 1 : 0);
    pre_plogp[j + 1] = pre_plogp[j] + (c > 0 ? (c / total) * std::log(c / total) : 0.0);
  }
  double best_kl = std::numeric_limits<double>::infinity();
  int best_i = n;
  for (int i = m; i <= n; ++i) {
    const double kept = pre_count[i];  // raw mass inside the threshold: Q's total
    if (kept == 0.0) continue;         // everything clipped: no quantized distribution
    const double outliers = total - kept;
    const double last_p = static_cast<double>(counts[i - 1]) + outliers;
    // sum p log p (P's bins below i-1 are the raw counts)
    double kl = pre_plogp[i - 1] + (last_p > 0 ? (last_p / total) * std::log(last_p / total) : 0);
    int floored = 0;
    for (int l = 0; l < m; ++l) {
      const int s = static_cast<int>((static_cast<int64_t>(l) * i + m - 1) / m);
      const int e = static_cast<int>((static_cast<int64_t>(l + 1) * i + m - 1) / m);
      const double raw = pre_count[e] - pre_count[s];
      double nonzero = pre_nonzero[e] - pre_nonzero[s];
      double p_mass = raw;
      if (e == i) {
        p_mass += outliers;
        if (counts[i - 1] == 0 && last_p > 0) nonzero += 1;
      }
      if (p_mass == 0.0) continue;
      double q;  // Q's value in each bin of the level where P > 0
      if (raw > 0.0) {
        q = raw / nonzero / kept;
      } else {  // only possible in the last level: P's mass is the outliers in bin i-1
        q = kEpsilon;
        ++floored;
      }
      kl -= (p_mass / total) * std::log(q);
    }
    kl += std::log1p(floored * kEpsilon);  // renormalizing Q after the floor
    if (kl < best_kl) {
      best_kl = kl;
      best_i = i;
    }
  }
  return best_i * bin_width;
}

void ExpectSameEntropyThreshold(const std::vector<int64_t>& counts, int m, const char* what) {
  EXPECT_EQ(EntropyThreshold(counts, 0.5, m), ReferenceEntropyThreshold(counts, 0.5, m))
      << what << " n=" << counts.size() << " m=" << m;
}

TEST(EntropyThresholdTest, SameAsTheReferenceSearch) {
  std::mt19937 rng(17);
  // Real-shaped: |x| histograms of activations, streamed through StreamingHistogram.
  for (int k = 0; k < 12; ++k) {
    StreamingHistogram h(2048, /*signed_bins=*/false);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::exponential_distribution<float> expo(1.0f + k);
    for (int sample = 0; sample < 5; ++sample) {
      std::vector<float> v(50000);
      for (float& x : v) {
        switch (k % 4) {
          case 0: x = gauss(rng); break;                  // signed bulk
          case 1: x = std::max(gauss(rng), 0.0f); break;  // post-ReLU
          case 2: x = expo(rng); break;                   // long tail
          default:
            x = static_cast<float>(rng() % 256) / 255.0f * (rng() % 4 == 0);
            break;  // pixels
        }
      }
      if (k % 3 == 0) v[0] = 40.0f * (sample + 1);  // far outliers
      h.Add(v.data(), static_cast<int64_t>(v.size()));
    }
    for (int m : {128, 256, 64}) ExpectSameEntropyThreshold(h.positive(), m, "streamed");
  }
  // Constructed shapes with many near-ties: flat, one bin, sparse levels, a far outlier.
  for (int n : {16, 128, 300, 2048}) {
    std::vector<int64_t> flat(n, 1000), one(n, 0), sparse(n, 0), outlier(n, 0);
    one[n / 3] = 12345;
    for (int i = 0; i < n; i += 16) sparse[i] = 100 + i % 7;
    for (int i = 0; i < n / 20 + 1; ++i) outlier[i] = 1000 - 9 * i;
    outlier[n - 1] = 1;
    for (int m : {1, 4, 8, 64, 128, 256}) {
      if (m > n) continue;
      ExpectSameEntropyThreshold(flat, m, "flat");
      ExpectSameEntropyThreshold(one, m, "one bin");
      ExpectSameEntropyThreshold(sparse, m, "sparse");
      ExpectSameEntropyThreshold(outlier, m, "outlier");
    }
  }
  // Random: sparsity, magnitudes up to 1e9 per bin, sizes, levels.
  for (int trial = 0; trial < 300; ++trial) {
    const int n = std::vector<int>{16, 100, 512, 2048}[trial % 4];
    const int m = std::min(n, std::vector<int>{128, 128, 256, 32, 7}[trial % 5]);
    const int64_t scale = std::vector<int64_t>{3, 1000, 1000000000}[trial % 3];
    const unsigned empty_one_in = 1 + trial % 5;
    std::vector<int64_t> counts(n, 0);
    for (int64_t& c : counts) {
      if (rng() % empty_one_in == 0) c = static_cast<int64_t>(rng() % scale);
    }
    if (trial % 7 == 0) std::sort(counts.rbegin(), counts.rend());  // decreasing, like |x|
    ExpectSameEntropyThreshold(counts, m, "random");
  }
}

TEST(EntropyObserverTest, OutlierFarBeyondTheSearchStart) {
  // All the mass within the first 100 of 2048 bins and one far value: every threshold between
  // has an empty last level. An infinite KL there would force the max; ours must not.
  std::vector<int64_t> counts(2048, 0);
  for (int i = 0; i < 100; ++i) counts[i] = 1000 - 9 * i;
  counts[2047] = 1;
  const double t = EntropyThreshold(counts, 1.0, 128);
  EXPECT_LT(t, 400.0);
  EXPECT_GE(t, 100.0);  // keeps all the real mass
}

TEST(EntropyObserverTest, UniformKeepsNearlyTheMax) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(200000);
  for (float& x : v) x = dist(rng);
  auto obs = MakeRangeObserver(Options(CalibrationMethod::kEntropy));
  ObserveAll(*obs, v, 10000);
  EXPECT_GT(obs->Range(true).max, 0.95f * obs->observed().max);
}

TEST(EntropyObserverTest, PostReluGetsZeroToT) {
  std::vector<float> v = Gaussian(50000, 1.0, 2);
  for (float& x : v) x = std::max(x, 0.0f);  // half exact zeros
  v[123] = 80.0f;
  auto obs = MakeRangeObserver(Options(CalibrationMethod::kEntropy));
  ObserveAll(*obs, v, 5000);
  const FloatRange r = obs->Range(false);
  EXPECT_EQ(r.min, 0.0f);
  EXPECT_LT(r.max, 10.0f);
  EXPECT_GT(r.max, 2.5f);
}

TEST(MseObserverTest, HeavyTailClipsBelowMaxNearTheSimulatedOptimum) {
  // Student-t with 4 degrees of freedom: heavy tails, finite variance (with 2, the clipping
  // error of the far tail dominates and the best clip is close to the max).
  std::mt19937 rng(5);
  std::student_t_distribution<float> dist(4.0f);
  std::vector<float> v(100000);
  for (float& x : v) x = dist(rng);
  auto obs = MakeRangeObserver(Options(CalibrationMethod::kMse));
  ObserveAll(*obs, v, 4000);
  const double max_abs = std::max(-obs->observed().min, obs->observed().max);
  const FloatRange r = obs->Range(true);
  EXPECT_LT(r.max, 0.95 * max_abs);
  // Brute force on the raw data: the simulated error of 1000 clips between 0 and max.
  double best = std::numeric_limits<double>::infinity();
  for (int k = 1; k <= 1000; ++k) {
    const double t = max_abs * k / 1000;
    best = std::min(best, SimulatedMse(v, -t, t, 255));
  }
  const double chosen = SimulatedMse(v, r.min, r.max, 255);
  EXPECT_LE(chosen, 1.01 * best);
  EXPECT_LT(chosen, 0.9 * SimulatedMse(v, -max_abs, max_abs, 255));
}

TEST(MseObserverTest, UniformKeepsNearlyTheMax) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> v(100000);
  for (float& x : v) x = dist(rng);
  auto obs = MakeRangeObserver(Options(CalibrationMethod::kMse));
  ObserveAll(*obs, v, 10000);
  EXPECT_GT(obs->Range(true).max, 0.95f * obs->observed().max);
}

TEST(MseObserverTest, AsymmetricPostReluHeavyTail) {
  std::mt19937 rng(6);
  std::exponential_distribution<float> expo(1.0f);
  std::vector<float> v(100000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = i % 2 ? 0.0f : expo(rng) * expo(rng);
  auto obs = MakeRangeObserver(Options(CalibrationMethod::kMse));
  ObserveAll(*obs, v, 5000);
  const FloatRange r = obs->Range(false);
  EXPECT_EQ(r.min, 0.0f);
  EXPECT_LT(r.max, obs->observed().max);
  EXPECT_LT(SimulatedMse(v, 0.0, r.max, 256), SimulatedMse(v, 0.0, obs->observed().max, 256));
}

TEST(MseObserverTest, AsymmetricTwoSidedNearTheSimulatedOptimum) {
  // Long positive tail, shorter negative side: the clip is asymmetric too.
  std::mt19937 rng(8);
  std::student_t_distribution<float> dist(4.0f);
  std::vector<float> v(20000);
  for (float& x : v) {
    x = dist(rng);
    if (x < 0) x *= 0.3f;
  }
  auto obs = MakeRangeObserver(Options(CalibrationMethod::kMse));
  ObserveAll(*obs, v, 5000);
  const FloatRange r = obs->Range(false);
  const FloatRange seen = obs->observed();
  EXPECT_LT(r.min, 0.0f);
  EXPECT_GE(r.min, seen.min);
  EXPECT_LT(r.max, seen.max);
  // Brute force over a 40 x 40 grid of (low, high) clips on the raw data.
  double best = std::numeric_limits<double>::infinity();
  for (int a = 1; a <= 40; ++a) {
    for (int b = 1; b <= 40; ++b) {
      best = std::min(best, SimulatedMse(v, seen.min * a / 40.0, seen.max * b / 40.0, 256));
    }
  }
  const double chosen = SimulatedMse(v, r.min, r.max, 256);
  EXPECT_LE(chosen, 1.01 * best);
  EXPECT_LT(chosen, SimulatedMse(v, seen.min, seen.max, 256));
}

TEST(ObserverTest, MemoryDoesNotGrowWithSamples) {
  for (auto m : {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile,
                 CalibrationMethod::kEntropy, CalibrationMethod::kMse}) {
    auto obs = MakeRangeObserver(Options(m));
    std::mt19937 rng(9);
    size_t after10 = 0;
    for (int k = 1; k <= 1000; ++k) {
      std::normal_distribution<float> dist(0.0f, 1.0f + k * 0.01f);  // growing range: re-binning
      std::vector<float> sample(64 + k % 7);
      for (float& x : sample) x = dist(rng);
      obs->Observe(sample.data(), static_cast<int64_t>(sample.size()));
      if (k == 10) after10 = obs->memory_bytes();
    }
    EXPECT_GT(after10, 0u);
    EXPECT_EQ(obs->memory_bytes(), after10) << CalibrationMethodName(m);
    EXPECT_EQ(obs->samples(), 1000);
  }
}

TEST(ObserverTest, HistogramMethodsStayInsideTheData) {
  std::vector<float> v = Gaussian(20000, 1.0, 11);
  for (float& x : v) x = x * 0.5f + 3.0f;  // all positive: [0, t] with t <= max
  for (auto m :
       {CalibrationMethod::kPercentile, CalibrationMethod::kEntropy, CalibrationMethod::kMse}) {
    auto obs = MakeRangeObserver(Options(m));
    ObserveAll(*obs, v, 1000);
    for (bool sym : {false, true}) {
      const FloatRange r = obs->Range(sym);
      EXPECT_LE(r.min, 0.0f);
      EXPECT_GE(r.max, 0.0f);
      EXPECT_LE(r.max, obs->observed().max) << CalibrationMethodName(m);
      if (!sym) {
        EXPECT_EQ(r.min, 0.0f) << CalibrationMethodName(m);
      }
    }
  }
}

}  // namespace
}  // namespace edgefit

namespace edgefit {
namespace {

// Image-like data: half the pixels 0, the rest on 16 levels k/16 in (0, 1]. The KL search alone
// picks t ~ 1/16 here (clipping almost all non-zero pixels, measured on the digits fixture);
// the guard keeps the clipped fraction at or below 0.1%.
TEST(EntropyGuardTest, SparseFewLevelDataIsNotClippedAway) {
  ObserverOptions o;
  o.method = CalibrationMethod::kEntropy;
  auto obs = MakeRangeObserver(o);
  std::vector<float> pixels;
  for (int i = 0; i < 64 * 200; ++i) pixels.push_back(i % 2 ? 0.0f : ((i / 2) % 16 + 1) / 16.0f);
  obs->Observe(pixels.data(), static_cast<int64_t>(pixels.size()));
  FloatRange r = obs->Range(/*symmetric=*/false);
  EXPECT_FLOAT_EQ(r.min, 0.0f);
  int64_t clipped = 0;
  const float half_step = (r.max - r.min) / 255.0f / 2.0f;  // closer than this is not clipped
  for (float p : pixels) clipped += p > r.max + half_step;
  EXPECT_LE(clipped, static_cast<int64_t>(pixels.size() / 1000)) << "t = " << r.max;
}

}  // namespace
}  // namespace edgefit
