// Cast and CastLike kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "kernel_test_util.h"
#include "onnx/model_io.h"

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

StatusOr<std::vector<Tensor>> RunCast(const Tensor& x, DataType to, int64_t opset = 13) {
  NodeSpec spec{"Cast", {{"x", x}}, 1, {Attribute::Int("to", static_cast<int64_t>(to))}, opset, ""};
  return RunNode(spec);
}

Tensor Cast(const Tensor& x, DataType to, int64_t opset = 13) {
  auto out = RunCast(x, to, opset);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return Tensor();
  EXPECT_EQ((*out)[0].dtype(), to);
  return (*out)[0];
}

Tensor Strings(Shape shape, const std::vector<std::string>& v) {
  Tensor t(DataType::kString, std::move(shape));
  t.strings() = v;
  return t;
}

TEST(CastTest, FloatToIntegersTruncates) {
  Tensor x = F32({6}, {-2.7f, -0.5f, 0.5f, 2.7f, 100.0f, kNaN});
  EXPECT_EQ(Values<int32_t>(Cast(x, DataType::kInt32)),
            (std::vector<int32_t>{-2, 0, 0, 2, 100, 0}));
  EXPECT_EQ(Values<int64_t>(Cast(x, DataType::kInt64)),
            (std::vector<int64_t>{-2, 0, 0, 2, 100, 0}));
  // Out of the 64-bit range: saturates; within it, narrower types wrap like C/NumPy.
  Tensor big = F32({3}, {1e30f, -1e30f, -1.0f});
  EXPECT_EQ(Values<int64_t>(Cast(big, DataType::kInt64)),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::max(),
                                  std::numeric_limits<int64_t>::min(), -1}));
  EXPECT_EQ(Values<uint8_t>(Cast(F32({3}, {-1, 300, 255.9f}), DataType::kUint8)),
            (std::vector<uint8_t>{255, 44, 255}));
  EXPECT_EQ(Values<uint64_t>(Cast(F32({1}, {1.8446743e19f * 0.75f}), DataType::kUint64))[0],
            static_cast<uint64_t>(1.8446743e19f * 0.75f));
}

TEST(CastTest, IntegersBoolsAndFloats) {
  ExpectNear(Cast(I64({3}, {-3, 0, 1LL << 40}), DataType::kFloat), {3}, {-3, 0, 1099511627776.f});
  EXPECT_EQ(Values<int8_t>(Cast(I32({3}, {127, 128, -129}), DataType::kInt8)),
            (std::vector<int8_t>{127, -128, 127}));
  EXPECT_EQ(Values<uint8_t>(Cast(F32({4}, {0, -0.0f, 0.1f, kNaN}), DataType::kBool)),
            (std::vector<uint8_t>{0, 0, 1, 1}));
  ExpectNear(Cast(Make<uint8_t>(DataType::kBool, {2}, {1, 0}), DataType::kFloat), {2}, {1, 0});
  EXPECT_EQ(Values<int64_t>(Cast(Make<uint8_t>(DataType::kBool, {2}, {1, 0}), DataType::kInt64)),
            (std::vector<int64_t>{1, 0}));
  Tensor d = Cast(F32({2}, {0.1f, kInf}), DataType::kDouble);
  EXPECT_EQ(Values<double>(d), (std::vector<double>{double(0.1f), double(kInf)}));
  ExpectNear(Cast(Make<double>(DataType::kDouble, {2}, {1e300, 0.25}), DataType::kFloat), {2},
             {kInf, 0.25f});
}

TEST(CastTest, HalfAndBfloat16) {
  // float16 rounds to nearest even: 1 + 2^-11 is a tie -> 1.0; 65520 overflows to inf.
  Tensor h = Cast(F32({4}, {1.0f, 1.0f + 1.0f / 2048, 65520.0f, -2.0f}), DataType::kFloat16);
  EXPECT_EQ(Values<uint16_t>(h), (std::vector<uint16_t>{0x3c00, 0x3c00, 0x7c00, 0xc000}));
  ExpectNear(Cast(h, DataType::kFloat), {4}, {1, 1, kInf, -2});
  // bfloat16 keeps the high 16 bits (truncation, as ONNX's reference); NaN stays NaN.
  uint32_t bits = 0x3ef5eeb0;  // 0.48033667
  float f;
  std::memcpy(&f, &bits, 4);
  Tensor b = Cast(F32({3}, {f, -1.0f, kNaN}), DataType::kBfloat16);
  std::vector<uint16_t> bv = Values<uint16_t>(b);
  EXPECT_EQ(bv[0], 0x3ef5);
  EXPECT_EQ(bv[1], 0xbf80);
  EXPECT_EQ(bv[2] & 0x7f80, 0x7f80);
  EXPECT_NE(bv[2] & 0x007f, 0);
  ExpectNear(Cast(b, DataType::kFloat), {3}, {0.478515625f, -1, kNaN});
  EXPECT_EQ(Values<int32_t>(Cast(Make<uint16_t>(DataType::kFloat16, {1}, {0xc500}),  // -5
                                 DataType::kInt32)),
            (std::vector<int32_t>{-5}));
}

TEST(CastTest, Strings) {
  Tensor s = Strings({6}, {"0.5", "-1e-5", "NaN", "inf", "+INF", "-Inf"});
  ExpectNear(Cast(s, DataType::kFloat), {6}, {0.5f, -1e-5f, kNaN, kInf, kInf, -kInf});
  EXPECT_EQ(
      Values<int64_t>(Cast(Strings({3}, {"9007199254740993", "-7", "100.5"}), DataType::kInt64)),
      (std::vector<int64_t>{9007199254740993LL, -7, 100}));
  Tensor out = Cast(F32({5}, {0.6048455f, 1e-5f, 100.0f, kNaN, -kInf}), DataType::kString);
  EXPECT_EQ(out.strings(),
            (std::vector<std::string>{"0.6048455", "1e-05", "100.0", "NaN", "-INF"}));
  EXPECT_EQ(Cast(I32({2}, {-3, 12}), DataType::kString).strings(),
            (std::vector<std::string>{"-3", "12"}));
  auto bad = RunCast(Strings({1}, {"hello"}), DataType::kFloat);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("hello"), std::string::npos);
}

TEST(CastTest, SameTypeAndLegacyStringAttribute) {
  ExpectNear(Cast(F32({2}, {1, 2}), DataType::kFloat), {2}, {1, 2});
  NodeSpec spec{"Cast", {{"x", I32({2}, {1, 2})}}, 1, {Attribute::String("to", "FLOAT")}, 1, ""};
  auto out = RunNode(spec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {2}, {1, 2});
}

TEST(CastTest, UnsupportedTargetsAreRejectedAtBuild) {
  NodeSpec spec{"Cast", {{"x", F32({1}, {1})}}, 1, {Attribute::Int("to", 17)}, 19, ""};  // float8
  auto out = RunNode(spec);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnsupported);
  spec.attributes = {Attribute::Int("to", 14)};  // complex64
  out = RunNode(spec);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnsupported);
  spec.attributes = {};
  out = RunNode(spec);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidModel);
}

TEST(CastTest, CastLike) {
  NodeSpec spec{"CastLike", {{"x", F32({3}, {1.9f, -1.9f, 0})}, {"like", I64({0}, {})}}, 1, {}, 15,
                ""};
  auto out = RunNode(spec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt64);
  EXPECT_EQ(Values<int64_t>((*out)[0]), (std::vector<int64_t>{1, -1, 0}));
}

TEST(CastTest, ParallelLargeCast) {
  const int64_t n = 150001;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i % 1000) - 500.25f;
  NodeSpec spec{"Cast", {{"x", F32({n}, v)}}, 1, {Attribute::Int("to", 6)}, 13, ""};
  auto out = RunNode(spec, 2);
  ASSERT_TRUE(out.ok());
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ((*out)[0].data<int32_t>()[i], static_cast<int32_t>(v[i])) << i;
}

// ONNX 1.12's test data stores bfloat16 tensors as uint16 (so the conformance runner cannot feed
// them as they are); reinterpret them and check the exact bits against the kernel.
TEST(CastTest, MatchesOnnxBfloat16TestData) {
  const std::string dir = "/usr/share/libonnx-testdata/data/node/test_cast_FLOAT_to_BFLOAT16/";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no ONNX test data";
  auto in = LoadTensorProto(dir + "test_data_set_0/input_0.pb");
  auto want = LoadTensorProto(dir + "test_data_set_0/output_0.pb");
  ASSERT_TRUE(in.ok() && want.ok());
  Tensor got = Cast(*in, DataType::kBfloat16);
  ASSERT_EQ(got.numel(), want->numel());
  ASSERT_EQ(want->nbytes(), got.nbytes());
  EXPECT_EQ(std::memcmp(got.raw(), want->raw(), got.nbytes()), 0);
}

}  // namespace
}  // namespace edgefit
