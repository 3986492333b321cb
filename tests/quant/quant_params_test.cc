// Scales, zero points, weight and bias quantization. Expected values by hand or by a plain loop.
#include "quant/quant_params.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

namespace edgefit {
namespace {

Tensor Floats(Shape shape, std::vector<float> values) {
  return Tensor::FromVector<float>(DataType::kFloat, std::move(shape), values);
}

TEST(ParamsForRangeTest, SymmetricInt8) {
  const QuantParams p = ParamsForRange({-2.0f, 1.0f}, DataType::kInt8, true);
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 127.0f);
  EXPECT_EQ(p.zero_point, 0);
  EXPECT_EQ(QuantizeValue(-2.0f, p, DataType::kInt8), -127);
  EXPECT_EQ(QuantizeValue(2.0f, p, DataType::kInt8), 127);
}

TEST(ParamsForRangeTest, SymmetricUint8) {
  const QuantParams p = ParamsForRange({-2.0f, 1.0f}, DataType::kUint8, true);
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 127.0f);
  EXPECT_EQ(p.zero_point, 128);
  EXPECT_EQ(QuantizeValue(2.0f, p, DataType::kUint8), 255);  // no saturation at +t
  EXPECT_EQ(QuantizeValue(-2.0f, p, DataType::kUint8), 1);
}

TEST(ParamsForRangeTest, AsymmetricZeroExact) {
  // [-1, 3]: scale 4/255; int8 zp = round(-128 + 1 / (4/255)) = round(-64.25) = -64
  QuantParams p = ParamsForRange({-1.0f, 3.0f}, DataType::kInt8, false);
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 255.0f);
  EXPECT_EQ(p.zero_point, -64);
  EXPECT_EQ(QuantizeValue(0.0f, p, DataType::kInt8), p.zero_point);  // 0.0 exactly representable
  // uint8: zp = round(63.75) = 64
  p = ParamsForRange({-1.0f, 3.0f}, DataType::kUint8, false);
  EXPECT_EQ(p.zero_point, 64);
  EXPECT_EQ(QuantizeValue(0.0f, p, DataType::kUint8), 64);
}

TEST(ParamsForRangeTest, RangeWidenedToContainZero) {
  QuantParams p = ParamsForRange({2.0f, 5.0f}, DataType::kUint8, false);  // -> [0, 5]
  EXPECT_FLOAT_EQ(p.scale, 5.0f / 255.0f);
  EXPECT_EQ(p.zero_point, 0);
  p = ParamsForRange({2.0f, 5.0f}, DataType::kInt8, false);
  EXPECT_EQ(p.zero_point, -128);
  p = ParamsForRange({-6.0f, -1.0f}, DataType::kInt8, false);  // -> [-6, 0]
  EXPECT_FLOAT_EQ(p.scale, 6.0f / 255.0f);
  EXPECT_EQ(p.zero_point, 127);
}

TEST(ParamsForRangeTest, DegenerateNeverScaleZero) {
  for (bool sym : {false, true}) {
    for (DataType t : {DataType::kInt8, DataType::kUint8}) {
      for (FloatRange r :
           {FloatRange{0.0f, 0.0f}, FloatRange{-1e-40f, 1e-40f}, FloatRange{NAN, NAN}}) {
        const QuantParams p = ParamsForRange(r, t, sym);
        EXPECT_EQ(p.scale, 1.0f);
        EXPECT_EQ(QuantizeValue(0.0f, p, t), p.zero_point);
      }
    }
  }
}

TEST(QuantizeValueTest, RoundHalfToEvenAndSaturate) {
  const QuantParams unit{1.0f, 0};
  EXPECT_EQ(QuantizeValue(0.5f, unit, DataType::kInt8), 0);
  EXPECT_EQ(QuantizeValue(1.5f, unit, DataType::kInt8), 2);
  EXPECT_EQ(QuantizeValue(2.5f, unit, DataType::kInt8), 2);
  EXPECT_EQ(QuantizeValue(-0.5f, unit, DataType::kInt8), 0);
  EXPECT_EQ(QuantizeValue(-1.5f, unit, DataType::kInt8), -2);
  EXPECT_EQ(QuantizeValue(300.0f, unit, DataType::kInt8), 127);
  EXPECT_EQ(QuantizeValue(-300.0f, unit, DataType::kInt8), -128);
  EXPECT_EQ(QuantizeValue(-5.0f, unit, DataType::kUint8), 0);
  EXPECT_EQ(QuantizeValue(3.5f, {1.0f, 10}, DataType::kUint8), 14);
}

TEST(QuantizeTensorTest, RoundTripErrorAtMostHalfAStep) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-0.7f, 2.9f);
  std::vector<float> v(5000);
  for (float& x : v) x = dist(rng);
  const Tensor t = Floats({5000}, v);
  for (DataType dtype : {DataType::kInt8, DataType::kUint8}) {
    for (bool sym : {false, true}) {
      auto params = ChooseWeightParams(t, dtype, sym, -1);
      ASSERT_TRUE(params.ok()) << params.status().ToString();
      ASSERT_EQ(params->scales.size(), 1u);
      auto q = QuantizeTensor(t, *params, dtype);
      ASSERT_TRUE(q.ok()) << q.status().ToString();
      EXPECT_EQ(q->dtype(), dtype);
      const std::vector<double> qv = q->ToDoubleVector();
      const double s = params->scales[0], zp = params->zero_points[0];
      double worst = 0.0;
      for (size_t i = 0; i < v.size(); ++i) {
        worst = std::max(worst, std::fabs(s * (qv[i] - zp) - v[i]));
      }
      // asymmetric: the rounded zero point may push the top up to half a step out of range
      EXPECT_LE(worst, s / 2 * (1 + 1e-5) + (sym ? 0.0 : s / 2)) << DataTypeName(dtype) << sym;
      if (sym) {
        EXPECT_LE(worst, s / 2 * (1 + 1e-5));
      }
    }
  }
}

// The vectorized per-run quantization against QuantizeValue element by element: per-tensor and
// per-channel on axes 0 and 1 (runs of 1, 7 and 37 values), exact ties (round half to even),
// saturation both ways, both 8-bit types; and the first non-finite element is the one reported.
TEST(QuantizeTensorTest, MatchesQuantizeValueOnEveryLayout) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  const Shape shape = {3, 5, 7, 37};
  std::vector<float> v(static_cast<size_t>(NumElements(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = i % 11 == 0 ? 0.25f * (i % 9) - 1.0f : dist(rng);
  const Tensor t = Floats(shape, v);
  for (DataType dtype : {DataType::kInt8, DataType::kUint8}) {
    for (int axis : {-1, 0, 1, 3}) {
      const int64_t channels = axis < 0 ? 1 : shape[static_cast<size_t>(axis)];
      int64_t inner = 1;
      for (size_t d = static_cast<size_t>(axis) + 1; axis >= 0 && d < shape.size(); ++d)
        inner *= shape[d];
      WeightParams p{axis, {}, {}};
      for (int64_t c = 0; c < channels; ++c) {
        p.scales.push_back(c % 2 ? 0.25f : 0.0125f);  // 0.25: ties; 0.0125: saturates
        p.zero_points.push_back(dtype == DataType::kInt8 ? static_cast<int32_t>(c % 5) - 2
                                                         : static_cast<int32_t>(100 + c));
      }
      auto q = QuantizeTensor(t, p, dtype);
      ASSERT_TRUE(q.ok()) << q.status().ToString();
      const std::vector<double> qv = q->ToDoubleVector();
      for (size_t i = 0; i < v.size(); ++i) {
        const int64_t c = axis < 0 ? 0 : static_cast<int64_t>(i) / inner % channels;
        ASSERT_EQ(qv[i], QuantizeValue(v[i], {p.scales[c], p.zero_points[c]}, dtype))
            << "axis " << axis << " element " << i;
      }
    }
  }
  std::vector<float> bad = v;
  bad[1000] = INFINITY;
  bad[2000] = NAN;
  WeightParams per_channel{1, std::vector<float>(5, 0.1f), std::vector<int32_t>(5, 0)};
  auto q = QuantizeTensor(Floats(shape, bad), per_channel, DataType::kInt8);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("element 1000"), std::string::npos) << q.status().message();
  auto w = ChooseWeightParams(Floats(shape, bad), DataType::kInt8, true, 0);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("element 1000"), std::string::npos) << w.status().message();
}

TEST(QuantizeTensorTest, InRangeRoundTripHalfStep) {
  // Asymmetric, values strictly inside the representable range: error <= scale / 2.
  const QuantParams p = ParamsForRange({-1.0f, 3.0f}, DataType::kInt8, false);
  const double lo = p.scale * (-128 - p.zero_point), hi = p.scale * (127 - p.zero_point);
  for (int i = 0; i <= 1000; ++i) {
    const float x = static_cast<float>(lo + (hi - lo) * i / 1000.0);
    const int32_t q = QuantizeValue(x, p, DataType::kInt8);
    EXPECT_LE(std::fabs(p.scale * (q - p.zero_point) - x), p.scale / 2 * (1 + 1e-5)) << x;
  }
}

// Reference per-channel quantization by a plain loop over a [d0, d1, d2] tensor.
void CheckPerChannel(const Tensor& w, int axis) {
  auto params = ChooseWeightParams(w, DataType::kInt8, /*symmetric=*/true, axis);
  ASSERT_TRUE(params.ok()) << params.status().ToString();
  const Shape& s = w.shape();
  ASSERT_EQ(params->scales.size(), static_cast<size_t>(s[axis]));
  EXPECT_EQ(params->axis, axis);
  std::vector<double> max_abs(s[axis], 0.0);
  const float* x = w.data<float>();
  auto channel = [&](int64_t i, int64_t j, int64_t k) { return axis == 0 ? i : axis == 1 ? j : k; };
  for (int64_t i = 0; i < s[0]; ++i)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t k = 0; k < s[2]; ++k) {
        const double v = std::fabs(x[(i * s[1] + j) * s[2] + k]);
        max_abs[channel(i, j, k)] = std::max(max_abs[channel(i, j, k)], v);
      }
  for (int64_t c = 0; c < s[axis]; ++c) {
    EXPECT_FLOAT_EQ(params->scales[c], static_cast<float>(max_abs[c] / 127.0)) << c;
    EXPECT_EQ(params->zero_points[c], 0);
  }
  auto q = QuantizeTensor(w, *params, DataType::kInt8);
  ASSERT_TRUE(q.ok());
  const int8_t* qd = q->data<int8_t>();
  for (int64_t i = 0; i < s[0]; ++i)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t k = 0; k < s[2]; ++k) {
        const int64_t flat = (i * s[1] + j) * s[2] + k;
        const float scale = params->scales[channel(i, j, k)];
        EXPECT_EQ(qd[flat], static_cast<int8_t>(std::nearbyint(x[flat] / scale))) << flat;
      }
}

TEST(WeightParamsTest, PerChannelAxis0And1) {
  std::mt19937 rng(2);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(4 * 3 * 5);
  for (size_t i = 0; i < v.size(); ++i) v[i] = dist(rng) * static_cast<float>(1 + i / 15);
  const Tensor w = Floats({4, 3, 5}, v);
  CheckPerChannel(w, 0);
  CheckPerChannel(w, 1);
  CheckPerChannel(w, 2);
}

TEST(WeightParamsTest, ChannelScalesDifferByChannel) {
  // [2, 2]: channel 0 of axis 0 is {1, -4}, channel 1 is {0.5, 0.25}
  const Tensor w = Floats({2, 2}, {1.0f, -4.0f, 0.5f, 0.25f});
  auto p0 = ChooseWeightParams(w, DataType::kInt8, true, 0);
  ASSERT_TRUE(p0.ok());
  EXPECT_FLOAT_EQ(p0->scales[0], 4.0f / 127);
  EXPECT_FLOAT_EQ(p0->scales[1], 0.5f / 127);
  auto p1 = ChooseWeightParams(w, DataType::kInt8, true, 1);  // columns {1, 0.5}, {-4, 0.25}
  ASSERT_TRUE(p1.ok());
  EXPECT_FLOAT_EQ(p1->scales[0], 1.0f / 127);
  EXPECT_FLOAT_EQ(p1->scales[1], 4.0f / 127);
  auto pt = ChooseWeightParams(w, DataType::kInt8, true, -1);
  ASSERT_TRUE(pt.ok());
  ASSERT_EQ(pt->scales.size(), 1u);
  EXPECT_FLOAT_EQ(pt->scales[0], 4.0f / 127);
  EXPECT_EQ(pt->zero_points[0], 0);
}

TEST(WeightParamsTest, AllZeroTensor) {
  const Tensor w = Floats({3, 2}, std::vector<float>(6, 0.0f));
  for (int axis : {-1, 0}) {
    auto p = ChooseWeightParams(w, DataType::kInt8, true, axis);
    ASSERT_TRUE(p.ok());
    for (size_t c = 0; c < p->scales.size(); ++c) {
      EXPECT_EQ(p->scales[c], 1.0f);
      EXPECT_EQ(p->zero_points[c], 0);
    }
    auto q = QuantizeTensor(w, *p, DataType::kInt8);
    ASSERT_TRUE(q.ok());
    for (double x : q->ToDoubleVector()) EXPECT_EQ(x, 0.0);
  }
}

TEST(WeightParamsTest, Errors) {
  const Tensor w = Floats({2, 2}, {1.0f, 2.0f, 3.0f, 4.0f});
  EXPECT_FALSE(ChooseWeightParams(w, DataType::kInt8, true, 2).ok());
  EXPECT_FALSE(ChooseWeightParams(w, DataType::kInt8, true, -2).ok());
  EXPECT_FALSE(ChooseWeightParams(w, DataType::kInt32, true, 0).ok());
  const Tensor bad = Floats({2}, {1.0f, NAN});
  auto r = ChooseWeightParams(bad, DataType::kInt8, true, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("element 1"), std::string::npos);
  WeightParams wrong{0, {1.0f}, {0}};  // one scale for two channels
  EXPECT_FALSE(QuantizeTensor(w, wrong, DataType::kInt8).ok());
  WeightParams zero_scale{-1, {0.0f}, {0}};
  EXPECT_FALSE(QuantizeTensor(w, zero_scale, DataType::kInt8).ok());
}

TEST(BiasTest, ScaleIsInputTimesWeightScale) {
  WeightParams wp{0, {0.01f, 0.02f}, {0, 0}};
  const Tensor bias = Floats({2}, {0.5f, -1.0f});
  EXPECT_EQ(EnlargeScalesForBias(bias, 0.1f, &wp), 0);
  auto q = QuantizeBias(bias, 0.1f, wp);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->dtype(), DataType::kInt32);
  EXPECT_EQ(q->data<int32_t>()[0], 500);   // 0.5 / (0.1 * 0.01)
  EXPECT_EQ(q->data<int32_t>()[1], -500);  // -1 / (0.1 * 0.02)
  EXPECT_EQ(BiasScale(0.1f, 0.01f), 0.1f * 0.01f);
}

TEST(BiasTest, HugeBiasEnlargesThatChannelsWeightScale) {
  const float s_in = 1e-3f;
  WeightParams wp{0, {1e-4f, 2e-4f, 3e-4f}, {0, 0, 0}};
  const Tensor bias = Floats({3}, {1.0e6f, -0.5f, -3.0e6f});  // 1e6 / 1e-7 = 1e13: overflow
  EXPECT_FALSE(QuantizeBias(bias, s_in, wp).ok());            // never saturated silently
  const WeightParams before = wp;
  EXPECT_EQ(EnlargeScalesForBias(bias, s_in, &wp), 2);
  EXPECT_GT(wp.scales[0], before.scales[0]);
  EXPECT_EQ(wp.scales[1], before.scales[1]);
  EXPECT_GT(wp.scales[2], before.scales[2]);
  EXPECT_EQ(wp.zero_points, before.zero_points);  // symmetric weights keep zero points 0
  // just enough: about |b| / (s_in * 2^31)
  EXPECT_NEAR(wp.scales[0], 1.0e6 / (1e-3 * 2147483647.0), 1e-3 * wp.scales[0]);
  auto q = QuantizeBias(bias, s_in, wp);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  const int32_t* qd = q->data<int32_t>();
  const float bv[3] = {1.0e6f, -0.5f, -3.0e6f};
  for (int c = 0; c < 3; ++c) {
    EXPECT_LE(std::fabs(static_cast<double>(qd[c])), static_cast<double>(kBiasLimit));
    const double bias_scale = BiasScale(s_in, wp.scales[c]);
    EXPECT_NEAR(qd[c] * bias_scale, bv[c], bias_scale / 2 * (1 + 1e-6)) << c;
  }
  EXPECT_EQ(EnlargeScalesForBias(bias, s_in, &wp), 0);  // idempotent
}

TEST(BiasTest, PerTensorWeightsGetOneScale) {
  WeightParams wp{-1, {1e-4f}, {0}};
  const Tensor bias = Floats({3}, {1.0e6f, 2.0f, -4.0e6f});
  EXPECT_EQ(EnlargeScalesForBias(bias, 1e-3f, &wp), 1);
  ASSERT_EQ(wp.scales.size(), 1u);
  EXPECT_NEAR(wp.scales[0], 4.0e6 / (1e-3 * 2147483647.0), 1e-3 * wp.scales[0]);
  auto q = QuantizeBias(bias, 1e-3f, wp);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  for (int c = 0; c < 3; ++c) {
    EXPECT_LE(std::abs(static_cast<int64_t>(q->data<int32_t>()[c])), kBiasLimit);
  }
}

TEST(BiasTest, ZeroWeightChannelAndErrors) {
  // An all-zero weight channel has scale 1: its bias quantizes at the input scale.
  auto wp = ChooseWeightParams(Floats({2, 1}, {0.0f, 0.5f}), DataType::kInt8, true, 0);
  ASSERT_TRUE(wp.ok());
  EXPECT_EQ(wp->scales[0], 1.0f);
  auto q = QuantizeBias(Floats({2}, {0.25f, 0.0f}), 0.05f, *wp);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->data<int32_t>()[0], 5);
  EXPECT_EQ(q->data<int32_t>()[1], 0);
  EXPECT_FALSE(QuantizeBias(Floats({3}, {0, 0, 0}), 0.05f, *wp).ok());  // 3 values, 2 scales
  EXPECT_FALSE(QuantizeBias(Floats({2}, {0, 0}), 0.0f, *wp).ok());      // input scale 0
  EXPECT_FALSE(QuantizeBias(Floats({2}, {NAN, 0}), 0.05f, *wp).ok());
}

}  // namespace
}  // namespace edgefit
