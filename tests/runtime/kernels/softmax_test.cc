// Softmax, LogSoftmax and Hardmax, before and after opset 13's axis change.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <random>

#include "kernel_test_util.h"

namespace edgefit {
namespace {

using testing::F32;
using testing::Make;
using testing::NodeSpec;
using testing::RunNode;
using testing::Values;

// testing::ExpectNear, but infinities must match exactly (it computes inf - inf).
void ExpectNear(const Tensor& actual, const Shape& shape, std::vector<float> expected,
                float atol = 1e-5f, float rtol = 1e-5f) {
  ASSERT_EQ(actual.dtype(), DataType::kFloat);
  ASSERT_EQ(static_cast<size_t>(actual.numel()), expected.size());
  Tensor a = actual.Clone();
  for (size_t i = 0; i < expected.size(); ++i) {
    if (std::isinf(expected[i]) || std::isinf(a.data<float>()[i])) {
      EXPECT_EQ(a.data<float>()[i], expected[i]) << "at " << i;
      a.data<float>()[i] = expected[i] = 0;
    }
  }
  testing::ExpectNear(a, shape, expected, atol, rtol);
}

StatusOr<std::vector<Tensor>> RunSm(const std::string& op, const Tensor& x, int64_t opset,
                                    std::optional<int64_t> axis = std::nullopt, int threads = 1) {
  NodeSpec spec{op, {{"x", x}}, 1, {}, opset, ""};
  if (axis) spec.attributes.push_back(Attribute::Int("axis", *axis));
  return RunNode(spec, threads);
}

Tensor Sm(const std::string& op, const Tensor& x, int64_t opset,
          std::optional<int64_t> axis = std::nullopt, int threads = 1) {
  auto out = RunSm(op, x, opset, axis, threads);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? (*out)[0] : Tensor();
}

// Independent reference in double: softmax over groups of `d` elements spaced `stride` apart,
// for each (outer, inner) start.
std::vector<float> Reference(const std::vector<float>& x, int64_t outer, int64_t d, int64_t inner,
                             bool log) {
  std::vector<float> y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return o * d * inner + k * inner + i; };
      double m = -INFINITY, s = 0;
      for (int64_t k = 0; k < d; ++k) m = std::max(m, double(x[at(k)]));
      for (int64_t k = 0; k < d; ++k) s += std::exp(x[at(k)] - m);
      for (int64_t k = 0; k < d; ++k)
        y[at(k)] = log ? float(x[at(k)] - m - std::log(s)) : float(std::exp(x[at(k)] - m) / s);
    }
  return y;
}

std::vector<float> Iota(size_t n, float scale) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(float(i)) * scale;
  return v;
}

TEST(SoftmaxTest, Simple) {
  Tensor x = F32({2, 3}, {1, 2, 3, 0, 0, 0});
  const float e1 = 0.09003057f, e2 = 0.24472847f, e3 = 0.66524096f;
  ExpectNear(Sm("Softmax", x, 13), {2, 3}, {e1, e2, e3, 1 / 3.f, 1 / 3.f, 1 / 3.f});
  ExpectNear(
      Sm("LogSoftmax", x, 13), {2, 3},
      {std::log(e1), std::log(e2), std::log(e3), -std::log(3.f), -std::log(3.f), -std::log(3.f)});
  ExpectNear(Sm("Hardmax", F32({2, 3}, {1, 3, 3, -1, -2, -3}), 13), {2, 3}, {0, 1, 0, 1, 0, 0});
  // Large values do not overflow.
  ExpectNear(Sm("Softmax", F32({1, 2}, {10000, 10001}), 13), {1, 2}, {0.26894142f, 0.7310586f});
  ExpectNear(Sm("LogSoftmax", F32({1, 2}, {-10000, 10000}), 13), {1, 2}, {-20000, 0});
}

// [2,3,4] with axis=1: opset 13 normalizes along dim 1 alone; opset < 13 over dims 1 and 2
// flattened together.
TEST(SoftmaxTest, AxisSemanticsChangeAtOpset13) {
  std::vector<float> v = Iota(24, 3);
  Tensor x = F32({2, 3, 4}, v);
  ExpectNear(Sm("Softmax", x, 13, 1), {2, 3, 4}, Reference(v, 2, 3, 4, false), 1e-6f, 1e-5f);
  ExpectNear(Sm("Softmax", x, 11, 1), {2, 3, 4}, Reference(v, 2, 12, 1, false), 1e-6f, 1e-5f);
  ExpectNear(Sm("LogSoftmax", x, 13, 1), {2, 3, 4}, Reference(v, 2, 3, 4, true), 1e-5f, 1e-5f);
  ExpectNear(Sm("LogSoftmax", x, 1, 1), {2, 3, 4}, Reference(v, 2, 12, 1, true), 1e-5f, 1e-5f);
  // Defaults: axis 1 before 13 (coerced 2-D), -1 from 13.
  ExpectNear(Sm("Softmax", x, 11), {2, 3, 4}, Reference(v, 2, 12, 1, false), 1e-6f, 1e-5f);
  ExpectNear(Sm("Softmax", x, 13), {2, 3, 4}, Reference(v, 6, 4, 1, false), 1e-6f, 1e-5f);
  // axis 0 / negative axes.
  ExpectNear(Sm("Softmax", x, 11, 0), {2, 3, 4}, Reference(v, 1, 24, 1, false), 1e-6f, 1e-5f);
  ExpectNear(Sm("Softmax", x, 13, 0), {2, 3, 4}, Reference(v, 1, 2, 12, false), 1e-6f, 1e-5f);
  ExpectNear(Sm("Softmax", x, 13, -2), {2, 3, 4}, Reference(v, 2, 3, 4, false), 1e-6f, 1e-5f);
  ExpectNear(Sm("Softmax", x, 11, -1), {2, 3, 4}, Reference(v, 6, 4, 1, false), 1e-6f, 1e-5f);
}

TEST(SoftmaxTest, HardmaxAxisSemantics) {
  // [2,2,2]: per (row, column) along axis 1 at opset 13; per flattened [4] row at opset 11.
  Tensor x = F32({2, 2, 2}, {1, 5, 3, 2, 7, 7, 0, 9});
  ExpectNear(Sm("Hardmax", x, 13, 1), {2, 2, 2}, {0, 1, 1, 0, 1, 0, 0, 1});
  ExpectNear(Sm("Hardmax", x, 11, 1), {2, 2, 2}, {0, 1, 0, 0, 0, 0, 0, 1});
  ExpectNear(Sm("Hardmax", x, 13), {2, 2, 2}, {0, 1, 1, 0, 1, 0, 0, 1});  // axis -1, ties: first
}

TEST(SoftmaxTest, HalfDoubleAndEdgeCases) {
  // float16 [0, 0] -> [0.5, 0.5] (0x3800).
  Tensor h = Make<uint16_t>(DataType::kFloat16, {1, 2}, {0, 0});
  EXPECT_EQ(Values<uint16_t>(Sm("Softmax", h, 13)), (std::vector<uint16_t>{0x3800, 0x3800}));
  Tensor d = Make<double>(DataType::kDouble, {2}, {0.0, std::log(3.0)});
  Tensor dy = Sm("Softmax", d, 13);
  EXPECT_DOUBLE_EQ(Values<double>(dy)[0], 0.25);
  // NaN in a row makes the row NaN; other rows are unaffected.
  Tensor n = Sm("Softmax", F32({2, 2}, {std::nanf(""), 1, 0, 0}), 13);
  EXPECT_TRUE(std::isnan(n.data<float>()[0]) && std::isnan(n.data<float>()[1]));
  EXPECT_FLOAT_EQ(n.data<float>()[2], 0.5f);
  EXPECT_EQ(Sm("Softmax", F32({0, 3}, {}), 13).shape(), (Shape{0, 3}));
  // Axis out of range: at build time when the rank is declared.
  auto out = RunSm("Softmax", F32({2, 3}, {1, 2, 3, 4, 5, 6}), 13, 2);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidModel);
  NodeSpec spec{"Softmax", {{"x", testing::I32({2}, {1, 2})}}, 1, {}, 13, ""};
  out = RunNode(spec);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnsupported);
}

// Contiguous and strided (blocked) paths, single- and multi-threaded, against the reference.
TEST(SoftmaxTest, LargeMatchesReference) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-10, 10);
  std::vector<float> v(3 * 300 * 130);
  for (float& f : v) f = dist(rng);
  Tensor x = F32({3, 300, 130}, v);
  for (int threads : {1, 2}) {
    ExpectNear(Sm("Softmax", x, 13, 1, threads), x.shape(), Reference(v, 3, 300, 130, false), 1e-7f,
               1e-4f);
    ExpectNear(Sm("LogSoftmax", x, 13, 1, threads), x.shape(), Reference(v, 3, 300, 130, true),
               1e-5f, 1e-5f);
    ExpectNear(Sm("Softmax", x, 13, -1, threads), x.shape(), Reference(v, 900, 130, 1, false),
               1e-7f, 1e-4f);
    ExpectNear(Sm("Softmax", x, 11, 1, threads), x.shape(), Reference(v, 3, 39000, 1, false), 1e-9f,
               1e-4f);
  }
}

}  // namespace
}  // namespace edgefit

namespace edgefit {
namespace {

// Found by the ONNX Runtime oracle (node/test_logsoftmax_large_number): with inputs near 1e4,
// computing x - (max + log(sum)) rounds; (x - max) - log(sum) keeps float32 precision.
TEST(LogSoftmaxPrecisionTest, LargeInputsKeepPrecision) {
  testing::NodeSpec spec;
  spec.op_type = "LogSoftmax";
  spec.opset = 13;
  spec.inputs = {{"x", testing::F32({1, 4}, {10000.f, 10001.f, 10002.f, 10003.f})}};
  auto out = testing::RunNode(spec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // log_softmax([0,1,2,3]) computed in double: -3.4401897, -2.4401897, -1.4401897, -0.4401897
  testing::ExpectNear((*out)[0], {1, 4}, {-3.4401897f, -2.4401897f, -1.4401897f, -0.4401897f},
                      1e-6f, 1e-6f);
}

}  // namespace
}  // namespace edgefit
