// Quantization family: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger,
// QLinearMatMul, ConvInteger, QLinearConv. Expected values are computed by hand (worked out in
// the comments), or, for the randomized differential tests, by plain reference loops in this
// file (std::nearbyint rounding, direct convolution without im2col).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "kernel_test_util.h"

namespace edgefit {
namespace {

using testing::F32;
using testing::I32;
using testing::Make;
using testing::NodeInput;
using testing::NodeSpec;
using testing::RunNode;
using testing::Values;

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNan = std::numeric_limits<float>::quiet_NaN();

Tensor U8(Shape s, const std::vector<uint8_t>& v) { return Make(DataType::kUint8, s, v); }
Tensor I8(Shape s, const std::vector<int8_t>& v) { return Make(DataType::kInt8, s, v); }
Tensor F16(Shape s, const std::vector<float>& v) {
  std::vector<uint16_t> h;
  for (float f : v) h.push_back(FloatToHalf(f));
  return Make(DataType::kFloat16, s, h);
}

// First output of a one-node run (an empty tensor and a test failure on error).
Tensor Run1(const NodeSpec& spec, int threads = 1) {
  auto out = RunNode(spec, threads);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? (*out)[0] : Tensor();
}

NodeSpec Spec(std::string op, std::vector<NodeInput> inputs, size_t num_outputs = 1) {
  NodeSpec s;
  s.op_type = std::move(op);
  s.inputs = std::move(inputs);
  s.num_outputs = num_outputs;
  return s;
}

StatusCode RunCode(const NodeSpec& spec) {
  auto out = RunNode(spec);
  return out.ok() ? StatusCode::kOk : out.status().code();
}

template <typename T>
void ExpectValues(const Tensor& t, DataType dtype, const Shape& shape, const std::vector<T>& v) {
  ASSERT_EQ(t.dtype(), dtype);
  ASSERT_EQ(t.shape(), shape);
  EXPECT_EQ(Values<T>(t), v);
}

NodeSpec Quantize(Tensor x, Tensor scale, Tensor zp, int64_t opset = 13) {
  NodeSpec s = Spec("QuantizeLinear", {{"x", x}, {"s", scale, true}});
  if (!zp.empty()) s.inputs.push_back({"z", zp, true});
  s.opset = opset;
  return s;
}

NodeSpec Dequantize(Tensor x, Tensor scale, Tensor zp, int64_t opset = 13) {
  NodeSpec s = Spec("DequantizeLinear", {{"x", x}, {"s", scale, true}});
  if (!zp.empty()) s.inputs.push_back({"z", zp, true});
  s.opset = opset;
  return s;
}

// ------------------------------------------------------------------------ QuantizeLinear

TEST(QuantizeLinearTest, PerTensorUint8RoundsHalfToEvenAndSaturates) {
  // x / 2 = [0, 1, 2.5, 3.5, -2.5, 500, -500, 1.5] -> [0, 1, 2, 4, -2, 500, -500, 2] + 128.
  for (int64_t opset : {10, 13, 19, 21}) {
    Tensor y = Run1(
        Quantize(F32({8}, {0, 2, 5, 7, -5, 1000, -1000, 3}), F32({}, {2}), U8({}, {128}), opset));
    ExpectValues<uint8_t>(y, DataType::kUint8, {8}, {128, 129, 130, 132, 126, 255, 0, 130});
  }
}

TEST(QuantizeLinearTest, PerTensorInt8) {
  // x / 0.5 = [0.5, 1.5, -0.5, 200, -200, 126.5] -> [0, 2, 0, 200, -200, 126] - 1, saturated.
  Tensor y = Run1(Quantize(F32({2, 3}, {0.25f, 0.75f, -0.25f, 100, -100, 63.25f}), F32({}, {0.5f}),
                           I8({}, {-1})));
  ExpectValues<int8_t>(y, DataType::kInt8, {2, 3}, {-1, 1, -1, 127, -128, 125});
}

TEST(QuantizeLinearTest, MissingZeroPointMeansUint8Zero) {
  Tensor y = Run1(Quantize(F32({3}, {1.4f, 1.6f, -1}), F32({}, {1}), Tensor(), 10));
  ExpectValues<uint8_t>(y, DataType::kUint8, {3}, {1, 2, 0});
}

TEST(QuantizeLinearTest, NanSaturatesLowInfinitiesSaturate) {
  // NaN has no integer value: it goes to the low end of the range (as ONNX Runtime's MLAS).
  Tensor y = Run1(Quantize(F32({3}, {kNan, kInf, -kInf}), F32({}, {1}), U8({}, {10})));
  ExpectValues<uint8_t>(y, DataType::kUint8, {3}, {0, 255, 0});
}

TEST(QuantizeLinearTest, PerAxisMiddleAxis) {
  // x = 0..11 as [2, 3, 2], axis 1: scales [1, 2, 4], zero points [0, 10, 20].
  // o=0: [0, 1] [2/2, 3/2 = 1.5 -> 2] + 10 [4/4, 5/4 -> 1] + 20; o=1: [6, 7] [4, 4.5 -> 4] + 10
  // [2.5 -> 2, 2.75 -> 3] + 20.
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[i] = static_cast<float>(i);
  NodeSpec s = Quantize(F32({2, 3, 2}, x), F32({3}, {1, 2, 4}), U8({3}, {0, 10, 20}));
  Tensor y = Run1(s);
  ExpectValues<uint8_t>(y, DataType::kUint8, {2, 3, 2},
                        {0, 1, 11, 12, 21, 21, 6, 7, 14, 14, 22, 23});
  // The same with axis = -2.
  s.attributes.push_back(Attribute::Int("axis", -2));
  ExpectValues<uint8_t>(Run1(s), DataType::kUint8, {2, 3, 2},
                        {0, 1, 11, 12, 21, 21, 6, 7, 14, 14, 22, 23});
}

TEST(QuantizeLinearTest, PerAxisLastAxis) {
  // x = [[0, 1, 2], [3, 4, 5]], axis 1: [0/1, 1/2 = 0.5 -> 0, 2/4 = 0.5 -> 0] + [0, 10, 20],
  // [3, 4/2 = 2, 5/4 -> 1] + [0, 10, 20].
  NodeSpec s = Quantize(F32({2, 3}, {0, 1, 2, 3, 4, 5}), F32({3}, {1, 2, 4}), U8({3}, {0, 10, 20}));
  s.attributes.push_back(Attribute::Int("axis", 1));
  ExpectValues<uint8_t>(Run1(s), DataType::kUint8, {2, 3}, {0, 10, 20, 3, 12, 21});
}

TEST(QuantizeLinearTest, BlockedOpset21) {
  // x = [[0, 1, 2, 3], [4, 5, 6, 7]], blocks of 2 along axis 1, scales [[1, 2], [4, 8]],
  // zero points [[0, 1], [2, 3]]: [0, 1 | 1, 1.5 -> 2 (+1)] [1, 1.25 -> 1 (+2) | 0.75, 0.875 -> 1
  // (+3)].
  NodeSpec s = Quantize(F32({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7}), F32({2, 2}, {1, 2, 4, 8}),
                        I8({2, 2}, {0, 1, 2, 3}), 21);
  s.attributes.push_back(Attribute::Int("axis", 1));
  s.attributes.push_back(Attribute::Int("block_size", 2));
  ExpectValues<int8_t>(Run1(s), DataType::kInt8, {2, 4}, {0, 1, 2, 3, 3, 3, 4, 4});
  // A last block shorter than block_size: 5 elements in blocks of 2 -> 3 scales.
  NodeSpec t = Quantize(F32({1, 5}, {1, 2, 3, 4, 5}), F32({1, 3}, {1, 2, 5}), Tensor(), 21);
  t.attributes.push_back(Attribute::Int("axis", 1));
  t.attributes.push_back(Attribute::Int("block_size", 2));
  ExpectValues<uint8_t>(Run1(t), DataType::kUint8, {1, 5}, {1, 2, 2, 2, 1});
  // A scale that does not match the blocks is a runtime error.
  NodeSpec bad = Quantize(F32({1, 5}, {1, 2, 3, 4, 5}), F32({1, 2}, {1, 2}), Tensor(), 21);
  bad.attributes.push_back(Attribute::Int("axis", 1));
  bad.attributes.push_back(Attribute::Int("block_size", 2));
  EXPECT_EQ(RunCode(bad), StatusCode::kInvalidArgument);
}

TEST(QuantizeLinearTest, OutputDtypeInt16Opset21) {
  NodeSpec s = Quantize(F32({3}, {40000, -40000, 1.5f}), F32({}, {1}), Tensor(), 21);
  s.attributes.push_back(Attribute::Int("output_dtype", static_cast<int64_t>(DataType::kInt16)));
  ExpectValues<int16_t>(Run1(s), DataType::kInt16, {3}, {32767, -32768, 2});
  // 16-bit types do not exist before opset 21.
  NodeSpec old =
      Quantize(F32({1}, {1}), F32({}, {1}), Make<int16_t>(DataType::kInt16, {}, {0}), 19);
  EXPECT_EQ(RunCode(old), StatusCode::kUnsupported);
  // output_dtype must agree with the zero point's type.
  NodeSpec clash = Quantize(F32({1}, {1}), F32({}, {1}), U8({}, {0}), 21);
  clash.attributes.push_back(Attribute::Int("output_dtype", static_cast<int64_t>(DataType::kInt8)));
  EXPECT_EQ(RunCode(clash), StatusCode::kInvalidModel);
}

TEST(QuantizeLinearTest, Float16AndInt32Inputs) {
  // float16 x and scale (opset 19): 1 / 2 = 0.5 -> 0, 3 / 2 = 1.5 -> 2.
  Tensor y = Run1(Quantize(F16({2}, {1, 3}), F16({}, {2}), U8({}, {0}), 19));
  ExpectValues<uint8_t>(y, DataType::kUint8, {2}, {0, 2});
  // float16 is not an input type before 19.
  EXPECT_EQ(RunCode(Quantize(F16({2}, {1, 3}), F32({}, {2}), U8({}, {0}), 13)),
            StatusCode::kUnsupported);
  // int32 x: 7 / 2 = 3.5 -> 4, -3.5 -> -4, 500 -> 127.
  Tensor z = Run1(Quantize(I32({3}, {7, -7, 1000}), F32({}, {2}), I8({}, {0}), 13));
  ExpectValues<int8_t>(z, DataType::kInt8, {3}, {4, -4, 127});
}

TEST(QuantizeLinearTest, Opset10IsPerTensorOnly) {
  EXPECT_EQ(RunCode(Quantize(F32({2, 3}, {0, 1, 2, 3, 4, 5}), F32({3}, {1, 2, 4}),
                             U8({3}, {0, 0, 0}), 10)),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(RunCode(Dequantize(U8({2, 3}, {0, 1, 2, 3, 4, 5}), F32({3}, {1, 2, 4}),
                               U8({3}, {0, 0, 0}), 10)),
            StatusCode::kInvalidArgument);
  // A one-element 1-D scale is still per tensor.
  ExpectValues<uint8_t>(Run1(Quantize(F32({2}, {2, 4}), F32({1}, {2}), U8({1}, {1}), 10)),
                        DataType::kUint8, {2}, {2, 3});
}

TEST(QuantizeLinearTest, BadAxisOrScaleShapeIsRuntimeError) {
  NodeSpec s = Quantize(F32({2, 3}, {0, 1, 2, 3, 4, 5}), F32({3}, {1, 2, 4}), U8({3}, {0, 0, 0}));
  s.attributes.push_back(Attribute::Int("axis", 2));
  EXPECT_EQ(RunCode(s), StatusCode::kInvalidArgument);
  NodeSpec t = Quantize(F32({2, 3}, {0, 1, 2, 3, 4, 5}), F32({2}, {1, 2}), U8({2}, {0, 0}));
  EXPECT_EQ(RunCode(t), StatusCode::kInvalidArgument);  // axis 1 has 3 elements
  NodeSpec u = Quantize(F32({2, 3}, {0, 1, 2, 3, 4, 5}), F32({3}, {1, 2, 4}), U8({2}, {0, 0}));
  EXPECT_EQ(RunCode(u), StatusCode::kInvalidArgument);  // zero point shape differs
}

// Reference: q = clamp(nearbyint(x / s) + z, lo, hi) per element, NaN -> lo.
template <typename Q>
std::vector<Q> ReferenceQuantize(const std::vector<float>& x, const std::vector<float>& s,
                                 const std::vector<int32_t>& z, int64_t inner, int64_t dim) {
  std::vector<Q> out(x.size());
  const double lo = std::numeric_limits<Q>::min(), hi = std::numeric_limits<Q>::max();
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t p = s.size() == 1 ? 0 : (i / inner) % dim;
    const float q = x[i] / s[p];
    double v = std::isnan(q) ? lo : std::nearbyint(static_cast<double>(q)) + z[p];
    out[i] = static_cast<Q>(std::min(hi, std::max(lo, v)));
  }
  return out;
}

std::vector<float> RandomFloats(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

TEST(QuantizeLinearTest, FastPathMatchesReferenceOnLargeRandomInputs) {
  // 150000 elements: above the threshold where the kernel splits across threads.
  const int64_t n = 50000;
  std::vector<float> x = RandomFloats(3 * n, -60, 60, 7);
  // Exact ties (k + 0.5) * s and specials mixed in.
  for (int64_t i = 0; i < 3 * n; i += 97) x[i] = (static_cast<float>(i % 200) - 100.5f) * 0.5f;
  x[5] = kNan;
  x[6] = kInf;
  for (int threads : {1, 2}) {
    // Per tensor, uint8 and int8.
    auto u = Run1(Quantize(F32({3 * n}, x), F32({}, {0.5f}), U8({}, {131})), threads);
    EXPECT_EQ(Values<uint8_t>(u), ReferenceQuantize<uint8_t>(x, {0.5f}, {131}, 1, 1));
    auto i8 = Run1(Quantize(F32({3 * n}, x), F32({}, {0.37f}), I8({}, {-3})), threads);
    EXPECT_EQ(Values<int8_t>(i8), ReferenceQuantize<int8_t>(x, {0.37f}, {-3}, 1, 1));
    // Per axis: [3, n] along axis 0 (long rows) and [n, 3] along axis 1 (per element).
    std::vector<float> s = {0.5f, 0.25f, 0.37f};
    NodeSpec rows = Quantize(F32({3, n}, x), F32({3}, s), I8({3}, {-3, 0, 5}));
    rows.attributes.push_back(Attribute::Int("axis", 0));
    EXPECT_EQ(Values<int8_t>(Run1(rows, threads)),
              ReferenceQuantize<int8_t>(x, s, {-3, 0, 5}, n, 3));
    NodeSpec cols = Quantize(F32({n, 3}, x), F32({3}, s), U8({3}, {128, 0, 255}));
    EXPECT_EQ(Values<uint8_t>(Run1(cols, threads)),
              ReferenceQuantize<uint8_t>(x, s, {128, 0, 255}, 1, 3));
  }
}

// ---------------------------------------------------------------------- DequantizeLinear

TEST(DequantizeLinearTest, PerTensor) {
  // (x - 128) * 0.5.
  for (int64_t opset : {10, 13, 19, 21})
    testing::ExpectNear(
        Run1(Dequantize(U8({3}, {0, 128, 255}), F32({}, {0.5f}), U8({}, {128}), opset)), {3},
        {-64, 0, 63.5f});
  testing::ExpectNear(Run1(Dequantize(I8({3}, {-128, 0, 127}), F32({}, {2}), Tensor())), {3},
                      {-256, 0, 254});
  testing::ExpectNear(Run1(Dequantize(I32({2}, {-1000, 1000}), F32({}, {0.001f}), Tensor())), {2},
                      {-1, 1});
}

TEST(DequantizeLinearTest, PerAxisAndBlocked) {
  // Default axis 1: column 0 (x - 10) * 1, column 1 (x - 20) * 0.5.
  testing::ExpectNear(
      Run1(Dequantize(U8({2, 2}, {10, 20, 30, 40}), F32({2}, {1, 0.5f}), U8({2}, {10, 20}))),
      {2, 2}, {0, 0, 20, 10});
  // axis 0: row 0 (x - 10) * 1, row 1 (x - 20) * 0.5.
  NodeSpec s = Dequantize(U8({2, 2}, {10, 20, 30, 40}), F32({2}, {1, 0.5f}), U8({2}, {10, 20}));
  s.attributes.push_back(Attribute::Int("axis", 0));
  testing::ExpectNear(Run1(s), {2, 2}, {0, 10, 5, 10});
  // Blocks of 2 along axis 1: [1, 2] * 1 - 0, [3, 4] - 1 times 10.
  NodeSpec b = Dequantize(I8({1, 4}, {1, 2, 3, 4}), F32({1, 2}, {1, 10}), I8({1, 2}, {0, 1}), 21);
  b.attributes.push_back(Attribute::Int("axis", 1));
  b.attributes.push_back(Attribute::Int("block_size", 2));
  testing::ExpectNear(Run1(b), {1, 4}, {1, 2, 20, 30});
}

TEST(DequantizeLinearTest, ScaleTypeIsOutputType) {
  Tensor y = Run1(Dequantize(U8({2}, {2, 4}), F16({}, {0.5f}), Tensor(), 19));
  ASSERT_EQ(y.dtype(), DataType::kFloat16);
  EXPECT_EQ(HalfToFloat(y.data<uint16_t>()[0]), 1.0f);
  EXPECT_EQ(HalfToFloat(y.data<uint16_t>()[1]), 2.0f);
  // Before 19 the scale must be float32.
  EXPECT_EQ(RunCode(Dequantize(U8({2}, {2, 4}), F16({}, {0.5f}), Tensor(), 13)),
            StatusCode::kUnsupported);
}

TEST(DequantizeLinearTest, SixteenBitInputsFromOpset21) {
  Tensor x = Make<int16_t>(DataType::kInt16, {2}, {-32768, 32767});
  testing::ExpectNear(Run1(Dequantize(x, F32({}, {1}), Tensor(), 21)), {2}, {-32768, 32767});
  EXPECT_EQ(RunCode(Dequantize(x, F32({}, {1}), Tensor(), 19)), StatusCode::kUnsupported);
}

TEST(DequantizeLinearTest, ZeroPointTypeMustMatch) {
  EXPECT_EQ(RunCode(Dequantize(U8({1}, {1}), F32({}, {1}), I8({}, {0}))),
            StatusCode::kInvalidModel);
}

TEST(DequantizeLinearTest, FastPathMatchesReferenceOnLargeRandomInputs) {
  const int64_t n = 40000;
  std::mt19937 rng(11);
  std::vector<uint8_t> x(3 * n);
  for (uint8_t& v : x) v = static_cast<uint8_t>(rng() & 0xff);
  const std::vector<float> s = {0.02f, 0.5f, 3.0f};
  const std::vector<uint8_t> z = {0, 128, 255};
  for (int threads : {1, 2}) {
    Tensor t = Run1(Dequantize(U8({3 * n}, x), F32({}, {0.02f}), U8({}, {7})), threads);
    ASSERT_EQ(t.numel(), 3 * n);
    for (int64_t i = 0; i < 3 * n; ++i)
      ASSERT_EQ(t.data<float>()[i], (static_cast<float>(x[i]) - 7.0f) * 0.02f) << i;
    NodeSpec rows = Dequantize(U8({3, n}, x), F32({3}, s), U8({3}, z));
    rows.attributes.push_back(Attribute::Int("axis", 0));
    Tensor r = Run1(rows, threads);
    for (int64_t i = 0; i < 3 * n; ++i)
      ASSERT_EQ(r.data<float>()[i], (static_cast<float>(x[i]) - z[i / n]) * s[i / n]) << i;
    Tensor c = Run1(Dequantize(U8({n, 3}, x), F32({3}, s), U8({3}, z)), threads);
    for (int64_t i = 0; i < 3 * n; ++i)
      ASSERT_EQ(c.data<float>()[i], (static_cast<float>(x[i]) - z[i % 3]) * s[i % 3]) << i;
  }
}

// ----------------------------------------------------------------- DynamicQuantizeLinear

std::vector<Tensor> RunDynamic(const Tensor& x) {
  NodeSpec s = Spec("DynamicQuantizeLinear", {{"x", x}}, 3);
  s.opset = 11;
  auto out = RunNode(s);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::vector<Tensor>(3);
}

TEST(DynamicQuantizeLinearTest, ScaleAndZeroPointFromRange) {
  // Range [0, 255]: scale 1, zero point 0.
  auto a = RunDynamic(F32({4}, {0, 51, 102, 255}));
  ExpectValues<uint8_t>(a[0], DataType::kUint8, {4}, {0, 51, 102, 255});
  testing::ExpectNear(a[1], {}, {1});
  ExpectValues<uint8_t>(a[2], DataType::kUint8, {}, {0});
  // Range [-255, 0]: scale 1, zero point 255; -100.5 -> -100 (half to even) + 255.
  auto b = RunDynamic(F32({3}, {-255, 0, -100.5f}));
  ExpectValues<uint8_t>(b[0], DataType::kUint8, {3}, {0, 255, 155});
  ExpectValues<uint8_t>(b[2], DataType::kUint8, {}, {255});
  // All zeros: no range; scale 1 and everything 0.
  auto c = RunDynamic(F32({2}, {0, 0}));
  ExpectValues<uint8_t>(c[0], DataType::kUint8, {2}, {0, 0});
  testing::ExpectNear(c[1], {}, {1});
  ExpectValues<uint8_t>(c[2], DataType::kUint8, {}, {0});
}

// ------------------------------------------------------------------------- MatMulInteger

NodeSpec MatMulInt(Tensor a, Tensor b, Tensor a_zp = Tensor(), Tensor b_zp = Tensor()) {
  NodeSpec s = Spec("MatMulInteger", {{"a", a}, {"b", b}});
  s.opset = 10;
  if (!a_zp.empty() || !b_zp.empty()) s.inputs.push_back({a_zp.empty() ? "" : "az", a_zp, true});
  if (!b_zp.empty()) s.inputs.push_back({"bz", b_zp, true});
  return s;
}

TEST(MatMulIntegerTest, ScalarPerRowAndPerColumnZeroPoints) {
  Tensor a = U8({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = U8({3, 2}, {1, 0, 0, 1, 1, 1});
  // a - 1 = [[0, 1, 2], [3, 4, 5]] times b.
  ExpectValues<int32_t>(Run1(MatMulInt(a, b, U8({}, {1}))), DataType::kInt32, {2, 2}, {2, 3, 8, 9});
  // Per row a: a - [1, 4] = [[0, 1, 2], [0, 1, 2]]; per column b: b - [1, 0] =
  // [[0, 0], [-1, 1], [0, 1]].
  ExpectValues<int32_t>(Run1(MatMulInt(a, b, U8({2}, {1, 4}), U8({2}, {1, 0}))), DataType::kInt32,
                        {2, 2}, {-1, 3, -1, 3});
  // Only b's zero point (a's omitted).
  // b - 1 = [[0, -1], [-1, 0], [0, 0]].
  ExpectValues<int32_t>(Run1(MatMulInt(a, b, Tensor(), U8({}, {1}))), DataType::kInt32, {2, 2},
                        {-2, -1, -5, -4});
}

TEST(MatMulIntegerTest, SignedUnsignedMixAndExtremes) {
  ExpectValues<int32_t>(Run1(MatMulInt(I8({1, 2}, {-128, 127}), U8({2, 1}, {255, 255}))),
                        DataType::kInt32, {1, 1}, {-255});
  // (0 - 255) * (-128 - 127) * 2 = 130050.
  ExpectValues<int32_t>(
      Run1(MatMulInt(U8({1, 2}, {0, 0}), I8({2, 1}, {-128, -128}), U8({}, {255}), I8({}, {127}))),
      DataType::kInt32, {1, 1}, {130050});
}

TEST(MatMulIntegerTest, BroadcastAndOneDimensionalOperands) {
  // a [2, 1, 2] x b [2, 1] -> [2, 1, 1].
  ExpectValues<int32_t>(Run1(MatMulInt(U8({2, 1, 2}, {1, 2, 3, 4}), U8({2, 1}, {10, 1}))),
                        DataType::kInt32, {2, 1, 1}, {12, 34});
  // a [2] x b [2, 3] -> [3]; a [2, 2] x b [2] -> [2].
  ExpectValues<int32_t>(Run1(MatMulInt(U8({2}, {1, 2}), U8({2, 3}, {1, 2, 3, 4, 5, 6}))),
                        DataType::kInt32, {3}, {9, 12, 15});
  ExpectValues<int32_t>(Run1(MatMulInt(U8({2, 2}, {1, 2, 3, 4}), U8({2}, {1, 1}))),
                        DataType::kInt32, {2}, {3, 7});
  // Batch of b broadcast against a's: a [1, 2] x b [3, 2, 1].
  ExpectValues<int32_t>(Run1(MatMulInt(U8({1, 2}, {1, 1}), U8({3, 2, 1}, {1, 2, 3, 4, 5, 6}))),
                        DataType::kInt32, {3, 1, 1}, {3, 7, 11});
}

TEST(MatMulIntegerTest, Errors) {
  EXPECT_EQ(RunCode(MatMulInt(U8({2, 3}, {1, 2, 3, 4, 5, 6}), U8({2, 2}, {1, 2, 3, 4}))),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      RunCode(MatMulInt(U8({2, 2}, {1, 2, 3, 4}), U8({2, 2}, {1, 2, 3, 4}), U8({3}, {1, 2, 3}))),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(RunCode(MatMulInt(F32({1, 1}, {1}), U8({1, 1}, {1}))), StatusCode::kUnsupported);
}

TEST(MatMulIntegerTest, LargeRandomMatchesReferenceAcrossThreads) {
  const int64_t m = 64, k = 300, n = 80;
  std::mt19937 rng(3);
  std::vector<uint8_t> a(m * k);
  std::vector<int8_t> b(k * n), bz(n);
  for (auto& v : a) v = static_cast<uint8_t>(rng() & 0xff);
  for (auto& v : b) v = static_cast<int8_t>(rng() & 0xff);
  for (auto& v : bz) v = static_cast<int8_t>(rng() & 0xff);
  std::vector<int32_t> ref(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int32_t acc = 0;
      for (int64_t kk = 0; kk < k; ++kk) acc += (a[i * k + kk] - 100) * (b[kk * n + j] - bz[j]);
      ref[i * n + j] = acc;
    }
  for (int threads : {1, 2}) {
    Tensor y = Run1(MatMulInt(U8({m, k}, a), I8({k, n}, b), U8({}, {100}), I8({n}, bz)), threads);
    EXPECT_EQ(Values<int32_t>(y), ref);
  }
}

// ------------------------------------------------------------------------- QLinearMatMul

NodeSpec QMatMul(Tensor a, float sa, Tensor za, Tensor b, Tensor sb, Tensor zb, float sy, Tensor zy,
                 int64_t opset = 10) {
  NodeSpec s = Spec("QLinearMatMul", {{"a", a},
                                      {"sa", F32({}, {sa}), true},
                                      {"za", za, true},
                                      {"b", b},
                                      {"sb", sb, true},
                                      {"zb", zb, true},
                                      {"sy", F32({}, {sy}), true},
                                      {"zy", zy, true}});
  s.opset = opset;
  return s;
}

TEST(QLinearMatMulTest, HandExample) {
  // Real a = 0.5 * [2, 4] = [1, 2], real b = 0.25 * ([2, 6] - 2) = [0, 1]: product 2, which
  // quantizes to 2 / 0.5 + 10 = 14. Through the integers: acc = 2*0 + 4*4 = 16, times
  // 0.5 * 0.25 / 0.5 = 4, plus 10.
  for (int64_t opset : {10, 21}) {
    Tensor y = Run1(QMatMul(U8({1, 2}, {2, 4}), 0.5f, U8({}, {0}), U8({2, 1}, {2, 6}),
                            F32({}, {0.25f}), U8({}, {2}), 0.5f, U8({}, {10}), opset));
    ExpectValues<uint8_t>(y, DataType::kUint8, {1, 1}, {14});
  }
}

TEST(QLinearMatMulTest, PerColumnScaleRoundingAndSaturation) {
  // b per column: scales [1, 2]: [3 * 1, 3 * 2]; int8 output.
  Tensor y = Run1(QMatMul(U8({1, 1}, {3}), 1, U8({}, {0}), U8({1, 2}, {1, 1}), F32({2}, {1, 2}),
                          U8({2}, {0, 0}), 1, I8({}, {0})));
  ExpectValues<int8_t>(y, DataType::kInt8, {1, 2}, {3, 6});
  // 5 * 0.5 = 2.5 -> 2, 7 * 0.5 = 3.5 -> 4 (half to even), 255 * 0.5 -> 128 -> 127.
  Tensor z = Run1(QMatMul(U8({3, 1}, {5, 7, 255}), 0.5f, U8({}, {0}), I8({1, 1}, {1}), F32({}, {1}),
                          I8({}, {0}), 1, I8({}, {0})));
  ExpectValues<int8_t>(z, DataType::kInt8, {3, 1}, {2, 4, 127});
}

// ----------------------------------------------------------------------- Conv references

struct ConvCase {
  int64_t n = 1, c = 1, m = 1, group = 1;
  Shape spatial, kernel, strides, dilations, pads;  // pads: begin..., end...
  std::string auto_pad;
};

// Direct convolution of centered integers: acc[n, m, out...].
std::vector<int32_t> ReferenceConv(const ConvCase& cc, const std::vector<int32_t>& x,
                                   const std::vector<int32_t>& w, Shape* out_shape) {
  const size_t nd = cc.spatial.size();
  Shape out(nd), pb(nd);
  for (size_t d = 0; d < nd; ++d) {
    int64_t ext = (cc.kernel[d] - 1) * cc.dilations[d] + 1;
    int64_t b = cc.pads[d], e = cc.pads[d + nd];
    if (cc.auto_pad == "SAME_UPPER" || cc.auto_pad == "SAME_LOWER") {
      int64_t o = (cc.spatial[d] + cc.strides[d] - 1) / cc.strides[d];
      int64_t total = std::max<int64_t>(0, (o - 1) * cc.strides[d] + ext - cc.spatial[d]);
      b = cc.auto_pad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
      e = total - b;
    }
    out[d] = (cc.spatial[d] + b + e - ext) / cc.strides[d] + 1;
    pb[d] = b;
  }
  *out_shape = {cc.n, cc.m};
  out_shape->insert(out_shape->end(), out.begin(), out.end());
  int64_t out_size = 1, in_size = 1, k_size = 1;
  for (size_t d = 0; d < nd; ++d) {
    out_size *= out[d];
    in_size *= cc.spatial[d];
    k_size *= cc.kernel[d];
  }
  const int64_t cg = cc.c / cc.group, mg = cc.m / cc.group;
  std::vector<int32_t> y(cc.n * cc.m * out_size, 0);
  std::vector<int64_t> oc(nd), kc(nd);
  for (int64_t n = 0; n < cc.n; ++n)
    for (int64_t m = 0; m < cc.m; ++m) {
      const int64_t g = m / mg;
      for (int64_t p = 0; p < out_size; ++p) {
        int64_t rem = p;
        for (size_t d = nd; d-- > 0;) {
          oc[d] = rem % out[d];
          rem /= out[d];
        }
        int32_t acc = 0;
        for (int64_t ci = 0; ci < cg; ++ci)
          for (int64_t kk = 0; kk < k_size; ++kk) {
            int64_t r = kk;
            for (size_t d = nd; d-- > 0;) {
              kc[d] = r % cc.kernel[d];
              r /= cc.kernel[d];
            }
            int64_t off = 0;
            bool inside = true;
            for (size_t d = 0; d < nd; ++d) {
              int64_t in = oc[d] * cc.strides[d] + kc[d] * cc.dilations[d] - pb[d];
              if (in < 0 || in >= cc.spatial[d]) inside = false;
              off = off * cc.spatial[d] + in;
            }
            if (!inside) continue;
            acc += x[(n * cc.c + g * cg + ci) * in_size + off] * w[(m * cg + ci) * k_size + kk];
          }
        y[(n * cc.m + m) * out_size + p] = acc;
      }
    }
  return y;
}

std::vector<Attribute> ConvAttributes(const ConvCase& cc) {
  std::vector<Attribute> a = {Attribute::Int("group", cc.group),
                              Attribute::Ints("strides", cc.strides),
                              Attribute::Ints("dilations", cc.dilations)};
  if (cc.auto_pad.empty())
    a.push_back(Attribute::Ints("pads", cc.pads));
  else
    a.push_back(Attribute::String("auto_pad", cc.auto_pad));
  return a;
}

// ---------------------------------------------------------------------------- ConvInteger

TEST(ConvIntegerTest, HandExamples) {
  // x - 1 = [[0, 1, 2], [3, 4, 5], [6, 7, 8]] with a 2x2 kernel of ones.
  NodeSpec s = Spec("ConvInteger", {{"x", U8({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})},
                                    {"w", U8({1, 1, 2, 2}, {1, 1, 1, 1}), true},
                                    {"xz", U8({}, {1}), true}});
  s.opset = 10;
  ExpectValues<int32_t>(Run1(s), DataType::kInt32, {1, 1, 2, 2}, {8, 12, 20, 24});
  // Padding contributes the zero point, i.e. nothing: x = [[1, 2], [3, 4]] padded by 1.
  NodeSpec p = Spec("ConvInteger", {{"x", U8({1, 1, 2, 2}, {1, 2, 3, 4})},
                                    {"w", U8({1, 1, 2, 2}, {1, 1, 1, 1}), true}});
  p.opset = 10;
  p.attributes.push_back(Attribute::Ints("pads", {1, 1, 1, 1}));
  ExpectValues<int32_t>(Run1(p), DataType::kInt32, {1, 1, 3, 3}, {1, 3, 2, 4, 10, 6, 3, 7, 4});
}

TEST(ConvIntegerTest, GroupsWithPerChannelWeightZeroPoints) {
  // Two groups of one channel; w - [1, 2] = [2, 3]: channel 0 doubled, channel 1 tripled.
  NodeSpec s = Spec("ConvInteger", {{"x", I8({1, 2, 1, 2}, {1, -2, 3, -4})},
                                    {"w", I8({2, 1, 1, 1}, {3, 5}), true},
                                    {"", Tensor()},
                                    {"wz", I8({2}, {1, 2}), true}});
  s.opset = 10;
  s.attributes.push_back(Attribute::Int("group", 2));
  ExpectValues<int32_t>(Run1(s), DataType::kInt32, {1, 2, 1, 2}, {2, -4, 9, -12});
}

TEST(ConvIntegerTest, Errors) {
  NodeSpec s = Spec("ConvInteger", {{"x", U8({1, 3, 2, 2}, std::vector<uint8_t>(12, 1))},
                                    {"w", U8({2, 2, 1, 1}, {1, 1, 1, 1}), true}});
  s.opset = 10;
  EXPECT_EQ(RunCode(s), StatusCode::kInvalidArgument);  // 3 channels, weight expects 2
  NodeSpec t = Spec("ConvInteger", {{"x", Make<int16_t>(DataType::kInt16, {1, 1, 1, 1}, {1})},
                                    {"w", U8({1, 1, 1, 1}, {1}), true}});
  t.opset = 10;
  EXPECT_EQ(RunCode(t), StatusCode::kUnsupported);
  NodeSpec u = s;
  u.attributes.push_back(Attribute::String("auto_pad", "SAME"));
  EXPECT_EQ(RunCode(u), StatusCode::kInvalidModel);
}

// Random inputs for a ConvCase: uint8 x, int8 w, per-channel weight zero points.
struct ConvData {
  std::vector<uint8_t> x;
  std::vector<int8_t> w, wz;
  uint8_t xz = 0;
  Shape x_shape, w_shape;
};

ConvData RandomConv(const ConvCase& cc, uint32_t seed) {
  ConvData d;
  std::mt19937 rng(seed);
  d.x_shape = {cc.n, cc.c};
  d.x_shape.insert(d.x_shape.end(), cc.spatial.begin(), cc.spatial.end());
  d.w_shape = {cc.m, cc.c / cc.group};
  d.w_shape.insert(d.w_shape.end(), cc.kernel.begin(), cc.kernel.end());
  d.x.resize(NumElements(d.x_shape));
  d.w.resize(NumElements(d.w_shape));
  d.wz.resize(cc.m);
  for (auto& v : d.x) v = static_cast<uint8_t>(rng() & 0xff);
  for (auto& v : d.w) v = static_cast<int8_t>(rng() & 0xff);
  for (auto& v : d.wz) v = static_cast<int8_t>(static_cast<int>(rng() % 21) - 10);
  d.xz = static_cast<uint8_t>(rng() & 0xff);
  return d;
}

std::vector<ConvCase> DifferentialConvCases() {
  std::vector<ConvCase> cases;
  ConvCase a;  // big enough for the parallel im2col and GEMM paths
  a.n = 2, a.c = 8, a.m = 6, a.spatial = {32, 32}, a.kernel = {3, 3}, a.strides = {1, 1},
  a.dilations = {1, 1}, a.pads = {1, 1, 1, 1};
  cases.push_back(a);
  ConvCase b;  // groups, strides, dilations, asymmetric pads
  b.n = 1, b.c = 4, b.m = 4, b.group = 2, b.spatial = {9, 11}, b.kernel = {3, 2},
  b.strides = {2, 3}, b.dilations = {2, 1}, b.pads = {0, 2, 1, 0};
  cases.push_back(b);
  ConvCase c;  // depthwise with SAME_LOWER
  c.n = 1, c.c = 3, c.m = 3, c.group = 3, c.spatial = {6, 5}, c.kernel = {4, 3}, c.strides = {2, 2},
  c.dilations = {1, 1}, c.pads = {0, 0, 0, 0}, c.auto_pad = "SAME_LOWER";
  cases.push_back(c);
  ConvCase d;  // 1-D, SAME_UPPER
  d.n = 2, d.c = 2, d.m = 3, d.spatial = {17}, d.kernel = {4}, d.strides = {3}, d.dilations = {1},
  d.pads = {0, 0}, d.auto_pad = "SAME_UPPER";
  cases.push_back(d);
  ConvCase e;  // 3-D
  e.n = 1, e.c = 2, e.m = 2, e.spatial = {4, 5, 3}, e.kernel = {2, 3, 2}, e.strides = {1, 2, 1},
  e.dilations = {1, 1, 2}, e.pads = {1, 0, 1, 0, 1, 1};
  cases.push_back(e);
  return cases;
}

TEST(ConvIntegerTest, MatchesDirectConvolutionOnRandomCases) {
  uint32_t seed = 100;
  for (const ConvCase& cc : DifferentialConvCases()) {
    ConvData d = RandomConv(cc, seed++);
    std::vector<int32_t> xi(d.x.begin(), d.x.end()), wi(d.w.size());
    for (auto& v : xi) v -= d.xz;
    const int64_t per = static_cast<int64_t>(d.w.size()) / cc.m;
    for (size_t i = 0; i < d.w.size(); ++i) wi[i] = d.w[i] - d.wz[i / per];
    Shape out_shape;
    std::vector<int32_t> ref = ReferenceConv(cc, xi, wi, &out_shape);
    for (bool constant_w : {true, false}) {
      for (int threads : {1, 2}) {
        NodeSpec s = Spec("ConvInteger", {{"x", U8(d.x_shape, d.x)},
                                          {"w", I8(d.w_shape, d.w), constant_w},
                                          {"xz", U8({}, {d.xz}), true},
                                          {"wz", I8({cc.m}, d.wz), constant_w}});
        s.opset = 10;
        s.attributes = ConvAttributes(cc);
        Tensor y = Run1(s, threads);
        ASSERT_EQ(y.shape(), out_shape);
        EXPECT_EQ(Values<int32_t>(y), ref) << ShapeToString(cc.spatial);
      }
    }
  }
}

// ---------------------------------------------------------------------------- QLinearConv

NodeSpec QConv(Tensor x, float sx, Tensor zx, Tensor w, Tensor sw, Tensor zw, float sy, Tensor zy,
               Tensor bias = Tensor()) {
  NodeSpec s = Spec("QLinearConv", {{"x", x},
                                    {"sx", F32({}, {sx}), true},
                                    {"zx", zx, true},
                                    {"w", w, true},
                                    {"sw", sw, true},
                                    {"zw", zw, true},
                                    {"sy", F32({}, {sy}), true},
                                    {"zy", zy, true}});
  if (!bias.empty()) s.inputs.push_back({"b", bias, true});
  s.opset = 10;
  return s;
}

TEST(QLinearConvTest, PerChannelScalesWithBias) {
  // Real x = 0.5 * ([10, 20, 30, 40] - 10) = [0, 5, 10, 15]; real w = [2 * 0.5, -4 * 0.25] =
  // [1, -1]; bias [4, 16] at scales 0.5 * [0.5, 0.25] is [1, 2]. y = w * x + b at scale 1:
  // channel 0 [1, 6, 11, 16], channel 1 [2, -3, -8, -13].
  Tensor y =
      Run1(QConv(U8({1, 1, 2, 2}, {10, 20, 30, 40}), 0.5f, U8({}, {10}), I8({2, 1, 1, 1}, {2, -4}),
                 F32({2}, {0.5f, 0.25f}), I8({2}, {0, 0}), 1, I8({}, {0}), I32({2}, {4, 16})));
  ExpectValues<int8_t>(y, DataType::kInt8, {1, 2, 2, 2}, {1, 6, 11, 16, 2, -3, -8, -13});
}

TEST(QLinearConvTest, RoundsHalfToEvenAndSaturates) {
  // acc = x * 1 at multiplier 0.5: [1, 3, 5, 7] -> [0.5, 1.5, 2.5, 3.5] -> [0, 2, 2, 4] + 100;
  // 255 * 0.5 + 200 saturates.
  Tensor y = Run1(QConv(U8({1, 1, 1, 4}, {1, 3, 5, 7}), 0.5f, U8({}, {0}), U8({1, 1, 1, 1}, {1}),
                        F32({}, {1}), U8({}, {0}), 1, U8({}, {100})));
  ExpectValues<uint8_t>(y, DataType::kUint8, {1, 1, 1, 4}, {100, 102, 102, 104});
  Tensor z = Run1(QConv(U8({1, 1, 1, 1}, {255}), 0.5f, U8({}, {0}), U8({1, 1, 1, 1}, {1}),
                        F32({}, {1}), U8({}, {0}), 1, U8({}, {200})));
  ExpectValues<uint8_t>(z, DataType::kUint8, {1, 1, 1, 1}, {255});
}

TEST(QLinearConvTest, Errors) {
  // w_scale with the wrong number of channels; bias of the wrong size.
  EXPECT_EQ(RunCode(QConv(U8({1, 1, 1, 1}, {1}), 1, U8({}, {0}), U8({2, 1, 1, 1}, {1, 1}),
                          F32({3}, {1, 1, 1}), U8({}, {0}), 1, U8({}, {0}))),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(RunCode(QConv(U8({1, 1, 1, 1}, {1}), 1, U8({}, {0}), U8({2, 1, 1, 1}, {1, 1}),
                          F32({}, {1}), U8({}, {0}), 1, U8({}, {0}), I32({1}, {0}))),
            StatusCode::kInvalidArgument);
  // Zero point types must match their inputs'.
  EXPECT_EQ(RunCode(QConv(U8({1, 1, 1, 1}, {1}), 1, I8({}, {0}), U8({1, 1, 1, 1}, {1}),
                          F32({}, {1}), U8({}, {0}), 1, U8({}, {0}))),
            StatusCode::kInvalidModel);
}

TEST(QLinearConvTest, MatchesReferenceOnRandomCases) {
  uint32_t seed = 200;
  for (const ConvCase& cc : DifferentialConvCases()) {
    ConvData d = RandomConv(cc, seed++);
    std::vector<int32_t> xi(d.x.begin(), d.x.end()), wi(d.w.size());
    for (auto& v : xi) v -= d.xz;
    const int64_t per = static_cast<int64_t>(d.w.size()) / cc.m;
    for (size_t i = 0; i < d.w.size(); ++i) wi[i] = d.w[i] - d.wz[i / per];
    Shape out_shape;
    std::vector<int32_t> acc = ReferenceConv(cc, xi, wi, &out_shape);
    std::mt19937 rng(seed);
    std::vector<float> sw(cc.m);
    std::vector<int32_t> bias(cc.m);
    for (int64_t m = 0; m < cc.m; ++m) {
      sw[m] = 0.001f + 0.01f * static_cast<float>(rng() % 100) / 100.0f;
      bias[m] = static_cast<int32_t>(rng() % 2001) - 1000;
    }
    const float sx = 0.02f, sy = 0.9f;
    const int8_t zy = -5;
    const int64_t out_size = NumElements(out_shape) / (cc.n * cc.m);
    std::vector<int8_t> ref(acc.size());
    for (size_t i = 0; i < acc.size(); ++i) {
      const int64_t m = (static_cast<int64_t>(i) / out_size) % cc.m;
      const float mult = sx * sw[m] / sy;
      double v = std::nearbyint(static_cast<double>(acc[i] + bias[m]) * mult) + zy;
      ref[i] = static_cast<int8_t>(std::min(127.0, std::max(-128.0, v)));
    }
    for (int threads : {1, 2}) {
      NodeSpec s = QConv(U8(d.x_shape, d.x), sx, U8({}, {d.xz}), I8(d.w_shape, d.w),
                         F32({cc.m}, sw), I8({cc.m}, d.wz), sy, I8({}, {zy}), I32({cc.m}, bias));
      s.attributes = ConvAttributes(cc);
      Tensor y = Run1(s, threads);
      ASSERT_EQ(y.shape(), out_shape);
      EXPECT_EQ(Values<int8_t>(y), ref) << ShapeToString(cc.spatial);
    }
  }
}

}  // namespace
}  // namespace edgefit
