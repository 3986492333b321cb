// Elementwise unary math and activation kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "kernel_test_util.h"

namespace edgefit {
namespace {

using testing::F32;
using testing::I32;
using testing::I64;
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

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Runs a one-input node and returns its only output (failing the test on error).
Tensor Run1(const std::string& op, const Tensor& x, std::vector<Attribute> attrs = {},
            int64_t opset = 17, int threads = 1) {
  NodeSpec spec{op, {{"x", x}}, 1, std::move(attrs), opset, ""};
  auto out = RunNode(spec, threads);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return Tensor();
  return (*out)[0];
}

std::vector<uint8_t> Bools(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DataType::kBool);
  return Values<uint8_t>(t);
}

TEST(ElementwiseUnaryTest, AbsNegSignOnFloatsAndInts) {
  ExpectNear(Run1("Abs", F32({4}, {-1.5f, 0, 2, -kInf})), {4}, {1.5f, 0, 2, kInf});
  Tensor ai = Run1("Abs", I32({3}, {-7, 7, std::numeric_limits<int32_t>::min()}));
  EXPECT_EQ(Values<int32_t>(ai),
            (std::vector<int32_t>{7, 7, std::numeric_limits<int32_t>::min()}));  // wraps
  Tensor au = Run1("Abs", Make<uint8_t>(DataType::kUint8, {2}, {0, 255}));
  EXPECT_EQ(Values<uint8_t>(au), (std::vector<uint8_t>{0, 255}));
  EXPECT_EQ(Values<int64_t>(Run1("Neg", I64({3}, {-2, 0, 5}))), (std::vector<int64_t>{2, 0, -5}));
  ExpectNear(Run1("Neg", F32({2}, {1.5f, -0.0f})), {2}, {-1.5f, 0.0f});
  ExpectNear(Run1("Sign", F32({5}, {-3, 0, 0.2f, kNaN, -kInf})), {5}, {-1, 0, 1, kNaN, -1});
  EXPECT_EQ(Values<int32_t>(Run1("Sign", I32({3}, {-9, 0, 4}))), (std::vector<int32_t>{-1, 0, 1}));
}

TEST(ElementwiseUnaryTest, RoundingOps) {
  Tensor x = F32({7}, {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.6f});
  ExpectNear(Run1("Round", x), {7}, {-2, -2, -0.0f, 0, 2, 2, 3});  // half to even
  ExpectNear(Run1("Floor", x), {7}, {-3, -2, -1, 0, 1, 2, 2});
  ExpectNear(Run1("Ceil", x), {7}, {-2, -1, -0.0f, 1, 2, 3, 3});
}

TEST(ElementwiseUnaryTest, MathFunctions) {
  ExpectNear(Run1("Sqrt", F32({3}, {4, 0, -1})), {3}, {2, 0, kNaN});
  ExpectNear(Run1("Exp", F32({3}, {0, 1, -kInf})), {3}, {1, 2.7182817f, 0});
  ExpectNear(Run1("Log", F32({3}, {1, 0, -1})), {3}, {0, -kInf, kNaN});
  ExpectNear(Run1("Reciprocal", F32({3}, {2, -4, 0})), {3}, {0.5f, -0.25f, kInf});
  ExpectNear(Run1("Erf", F32({3}, {0, 1, -2})), {3}, {0, 0.84270079f, -0.99532227f});
  ExpectNear(Run1("Sin", F32({2}, {0, 1.5707964f})), {2}, {0, 1});
  ExpectNear(Run1("Cos", F32({2}, {0, 3.1415927f})), {2}, {1, -1});
  ExpectNear(Run1("Tan", F32({2}, {0, 0.7853982f})), {2}, {0, 1});
  ExpectNear(Run1("Asin", F32({2}, {1, 2})), {2}, {1.5707964f, kNaN});
  ExpectNear(Run1("Acos", F32({1}, {-1})), {1}, {3.1415927f});
  ExpectNear(Run1("Atan", F32({1}, {1})), {1}, {0.7853982f});
  ExpectNear(Run1("Sinh", F32({1}, {1})), {1}, {1.1752012f});
  ExpectNear(Run1("Cosh", F32({1}, {1})), {1}, {1.5430806f});
  ExpectNear(Run1("Asinh", F32({1}, {1})), {1}, {0.8813736f});
  ExpectNear(Run1("Acosh", F32({2}, {1, 0.5f})), {2}, {0, kNaN});
  ExpectNear(Run1("Atanh", F32({2}, {0.5f, 1})), {2}, {0.54930615f, kInf});
  ExpectNear(Run1("Tanh", F32({3}, {0, 1, -100})), {3}, {0, 0.7615942f, -1});
}

TEST(ElementwiseUnaryTest, IsNaNIsInfNot) {
  Tensor x = F32({4}, {1, kNaN, kInf, -kInf});
  EXPECT_EQ(Bools(Run1("IsNaN", x)), (std::vector<uint8_t>{0, 1, 0, 0}));
  EXPECT_EQ(Bools(Run1("IsInf", x)), (std::vector<uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(Bools(Run1("IsInf", x, {Attribute::Int("detect_negative", 0)})),
            (std::vector<uint8_t>{0, 0, 1, 0}));
  EXPECT_EQ(Bools(Run1("IsInf", x, {Attribute::Int("detect_positive", 0)})),
            (std::vector<uint8_t>{0, 0, 0, 1}));
  Tensor b = Make<uint8_t>(DataType::kBool, {3}, {1, 0, 1});
  EXPECT_EQ(Bools(Run1("Not", b)), (std::vector<uint8_t>{0, 1, 0}));
}

TEST(ElementwiseUnaryTest, ReluFloatPropagatesNaNAndIntFromOpset14) {
  ExpectNear(Run1("Relu", F32({4}, {-1, 0, 2, kNaN})), {4}, {0, 0, 2, kNaN});
  EXPECT_EQ(Values<int32_t>(Run1("Relu", I32({3}, {-5, 0, 5}), {}, 14)),
            (std::vector<int32_t>{0, 0, 5}));
  EXPECT_EQ(Values<int8_t>(Run1("Relu", Make<int8_t>(DataType::kInt8, {2}, {-128, 127}))),
            (std::vector<int8_t>{0, 127}));
}

TEST(ElementwiseUnaryTest, ParametricActivations) {
  Tensor x = F32({4}, {-2, -0.5f, 0, 3});
  ExpectNear(Run1("LeakyRelu", x), {4}, {-0.02f, -0.005f, 0, 3});
  ExpectNear(Run1("LeakyRelu", x, {Attribute::Float("alpha", 0.5f)}), {4}, {-1, -0.25f, 0, 3});
  // Elu: alpha * (e^x - 1) below 0.
  ExpectNear(Run1("Elu", x, {Attribute::Float("alpha", 2)}), {4},
             {2 * (std::exp(-2.f) - 1), 2 * (std::exp(-0.5f) - 1), 0, 3});
  const float a = 1.67326319217681884765625f, g = 1.05070102214813232421875f;
  ExpectNear(Run1("Selu", x), {4},
             {g * (a * std::exp(-2.f) - a), g * (a * std::exp(-0.5f) - a), 0, g * 3});
  ExpectNear(Run1("Selu", x, {Attribute::Float("alpha", 2), Attribute::Float("gamma", 3)}), {4},
             {3 * (2 * std::exp(-2.f) - 2), 3 * (2 * std::exp(-0.5f) - 2), 0, 9});
  // Celu: max(0,x) + min(0, alpha*(exp(x/alpha)-1)).
  ExpectNear(Run1("Celu", x, {Attribute::Float("alpha", 2)}, 12), {4},
             {2 * (std::exp(-1.f) - 1), 2 * (std::exp(-0.25f) - 1), 0, 3});
  ExpectNear(Run1("ThresholdedRelu", F32({4}, {0.5f, 1, 1.5f, kNaN})), {4}, {0, 0, 1.5f, kNaN});
  ExpectNear(Run1("ThresholdedRelu", x, {Attribute::Float("alpha", -1)}), {4}, {0, -0.5f, 0, 3});
}

TEST(ElementwiseUnaryTest, SigmoidFamily) {
  Tensor x = F32({5}, {-100, -1, 0, 1, 100});
  ExpectNear(Run1("Sigmoid", x), {5}, {3.7200760e-44f, 0.26894142f, 0.5f, 0.7310586f, 1});
  ExpectNear(Run1("HardSigmoid", x), {5}, {0, 0.3f, 0.5f, 0.7f, 1});
  ExpectNear(Run1("HardSigmoid", x, {Attribute::Float("alpha", 1), Attribute::Float("beta", 0)}),
             {5}, {0, 0, 0, 1, 1});
  ExpectNear(Run1("HardSwish", F32({5}, {-4, -1, 0, 1, 4}), {}, 14), {5},
             {0, -1 * (1 / 6.f * -1 + 0.5f), 0, 1 * (1 / 6.f + 0.5f), 4});
  // Softplus must not overflow for large |x|.
  ExpectNear(Run1("Softplus", F32({4}, {-100, 0, 1, 100})), {4},
             {3.7200760e-44f, 0.6931472f, 1.3132616f, 100});
  ExpectNear(Run1("Softsign", F32({3}, {-3, 0, 1})), {3}, {-0.75f, 0, 0.5f});
}

TEST(ElementwiseUnaryTest, Shrink) {
  Tensor x = F32({5}, {-2, -0.5f, 0, 0.4f, 2});
  ExpectNear(Run1("Shrink", x, {Attribute::Float("lambd", 1), Attribute::Float("bias", 0.5f)}), {5},
             {-1.5f, 0, 0, 0, 1.5f});
  ExpectNear(Run1("Shrink", x), {5}, {-2, 0, 0, 0, 2});
  Tensor xi = I32({4}, {-5, -1, 1, 5});
  EXPECT_EQ(Values<int32_t>(
                Run1("Shrink", xi, {Attribute::Float("lambd", 2), Attribute::Float("bias", 1)})),
            (std::vector<int32_t>{-4, 0, 0, 4}));
}

TEST(ElementwiseUnaryTest, ClipAttributesBeforeOpset11) {
  Tensor x = F32({5}, {-5, -1, 0, 1, 5});
  ExpectNear(Run1("Clip", x, {Attribute::Float("min", -2), Attribute::Float("max", 2)}, 6), {5},
             {-2, -1, 0, 1, 2});
  ExpectNear(Run1("Clip", x, {Attribute::Float("max", 0)}, 6), {5}, {-5, -1, 0, 0, 0});
  // Default bounds are the float range.
  ExpectNear(Run1("Clip", F32({2}, {-kInf, kInf}), {}, 6), {2},
             {std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()});
}

TEST(ElementwiseUnaryTest, ClipInputsFromOpset11) {
  Tensor x = F32({6}, {-5, -1, 0, 1, 5, kNaN});
  auto run = [&](std::vector<testing::NodeInput> in, int64_t opset = 13) {
    NodeSpec spec{"Clip", std::move(in), 1, {}, opset, ""};
    auto out = RunNode(spec);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? (*out)[0] : Tensor();
  };
  ExpectNear(run({{"x", x}, {"lo", Tensor::Scalar(-2)}, {"hi", Tensor::Scalar(2)}}, 11), {6},
             {-2, -1, 0, 1, 2, kNaN});
  ExpectNear(run({{"x", x}, {"", Tensor()}, {"hi", Tensor::Scalar(0.5f), true}}), {6},
             {-5, -1, 0, 0.5f, 0.5f, kNaN});
  ExpectNear(run({{"x", x}, {"lo", Tensor::Scalar(0)}}), {6}, {0, 0, 0, 1, 5, kNaN});
  ExpectNear(run({{"x", x}}), {6}, {-5, -1, 0, 1, 5, kNaN});
  // min > max: everything becomes max.
  ExpectNear(run({{"x", x}, {"lo", Tensor::Scalar(3)}, {"hi", Tensor::Scalar(1)}}), {6},
             {1, 1, 1, 1, 1, kNaN});
  // Integer Clip (opset 12).
  Tensor xi = Make<int8_t>(DataType::kInt8, {4}, {-128, -3, 3, 127});
  Tensor r = run({{"x", xi},
                  {"lo", Make<int8_t>(DataType::kInt8, {}, {-2})},
                  {"hi", Make<int8_t>(DataType::kInt8, {}, {100})}},
                 12);
  EXPECT_EQ(Values<int8_t>(r), (std::vector<int8_t>{-2, -2, 3, 100}));
  // A bound that is not a scalar is an error at run time...
  NodeSpec bad{"Clip", {{"x", x}, {"lo", F32({2}, {0, 1})}}, 1, {}, 13, ""};
  auto out = RunNode(bad);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("scalar"), std::string::npos) << out.status().ToString();
  // ... and at build time when it is a constant.
  bad.inputs[1].constant = true;
  out = RunNode(bad);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidModel);
}

TEST(ElementwiseUnaryTest, PReluBroadcastsSlopeFromOpset7) {
  Tensor x = F32({1, 2, 2, 2}, {-1, 1, -2, 2, -3, 3, -4, 4});
  NodeSpec spec{"PRelu", {{"x", x}, {"slope", F32({2, 1, 1}, {0.5f, 0.25f}), true}}, 1, {}, 9, ""};
  auto out = RunNode(spec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 2, 2, 2}, {-0.5f, 1, -1, 2, -0.75f, 3, -1, 4});
  // Scalar slope.
  spec.inputs[1].value = F32({1}, {0.1f});
  out = RunNode(spec);
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 2, 2, 2}, {-0.1f, 1, -0.2f, 2, -0.3f, 3, -0.4f, 4});
  // The slope must broadcast to X (unidirectionally).
  spec.inputs[1].value = F32({3}, {1, 2, 3});
  out = RunNode(spec);
  EXPECT_FALSE(out.ok());
  spec.inputs[0].value = F32({2}, {-1, 1});
  spec.inputs[1].value = F32({2, 2}, {1, 2, 3, 4});
  out = RunNode(spec);
  EXPECT_FALSE(out.ok());  // would grow X
}

TEST(ElementwiseUnaryTest, PReluOpset6AppliesOneDimSlopeAlongChannels) {
  Tensor x = F32({1, 2, 3}, {-1, -2, -3, -1, -2, -3});
  NodeSpec spec{"PRelu", {{"x", x}, {"slope", F32({2}, {0.5f, 2}), true}}, 1, {}, 6, ""};
  auto out = RunNode(spec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 2, 3}, {-0.5f, -1, -1.5f, -2, -4, -6});
}

TEST(ElementwiseUnaryTest, HalfAndDoubleInputs) {
  // float16: 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800.
  Tensor h = Make<uint16_t>(DataType::kFloat16, {3}, {0x3c00, 0xc000, 0x3800});
  Tensor y = Run1("Relu", h);
  ASSERT_EQ(y.dtype(), DataType::kFloat16);
  EXPECT_EQ(Values<uint16_t>(y), (std::vector<uint16_t>{0x3c00, 0x0000, 0x3800}));
  Tensor d = Make<double>(DataType::kDouble, {2}, {0.0, 1.0});
  Tensor e = Run1("Exp", d);
  ASSERT_EQ(e.dtype(), DataType::kDouble);
  EXPECT_DOUBLE_EQ(Values<double>(e)[1], std::exp(1.0));
}

TEST(ElementwiseUnaryTest, UnsupportedTypeIsRejectedAtBuild) {
  NodeSpec spec{"Sqrt", {{"x", I32({2}, {4, 9})}}, 1, {}, 13, ""};
  auto out = RunNode(spec);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(out.status().message().find("Sqrt"), std::string::npos);
  spec.op_type = "Sin";
  spec.opset = 6;  // Sin exists from opset 7
  out = RunNode(spec);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnsupported);
}

TEST(ElementwiseUnaryTest, EmptyTensor) {
  Tensor y = Run1("Sigmoid", F32({0, 3}, {}));
  EXPECT_EQ(y.shape(), (Shape{0, 3}));
}

// The parallel path (>= 64K elements, 2 threads) against a plain loop on random data.
TEST(ElementwiseUnaryTest, ParallelMatchesReferenceLoop) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-8, 8);
  const int64_t n = 200003;
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  Tensor x = F32({n}, v);
  Tensor relu = Run1("Relu", x, {}, 17, 2);
  Tensor sig = Run1("Sigmoid", x, {}, 17, 2);
  Tensor clip = Run1("Clip", x, {Attribute::Float("min", -1), Attribute::Float("max", 6)}, 6, 2);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(relu.data<float>()[i], v[i] > 0 ? v[i] : 0.0f) << i;
    ASSERT_NEAR(sig.data<float>()[i], 1.0 / (1.0 + std::exp(-double(v[i]))), 1e-6) << i;
    ASSERT_EQ(clip.data<float>()[i], std::min(6.0f, std::max(-1.0f, v[i]))) << i;
  }
}

}  // namespace
}  // namespace edgefit
