// Tensor basics: element counts, allocation limits, shared storage, float16/bfloat16 conversion.
#include "ir/tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "testing/test_util.h"

namespace edgefit {
namespace {

uint32_t Bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return x;
}
float FromBits(uint32_t x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

TEST(DataTypeTest, KnownTypesAndSizes) {
  EXPECT_FALSE(IsKnownDataType(0));
  for (int32_t t = 1; t <= 16; ++t) EXPECT_TRUE(IsKnownDataType(t)) << t;
  EXPECT_FALSE(IsKnownDataType(17));
  EXPECT_FALSE(IsKnownDataType(-1));
  EXPECT_EQ(DataTypeSize(DataType::kFloat), 4u);
  EXPECT_EQ(DataTypeSize(DataType::kFloat16), 2u);
  EXPECT_EQ(DataTypeSize(DataType::kBfloat16), 2u);
  EXPECT_EQ(DataTypeSize(DataType::kComplex128), 16u);
  EXPECT_EQ(DataTypeSize(DataType::kString), 0u);
  EXPECT_STREQ(DataTypeName(DataType::kFloat), "float32");
  EXPECT_STREQ(DataTypeName(DataType::kInt64), "int64");
  EXPECT_STREQ(DataTypeName(static_cast<DataType>(99)), "unknown");
}

TEST(NumElementsTest, Basics) {
  EXPECT_EQ(NumElements({}), 1);
  EXPECT_EQ(NumElements({2, 3, 4}), 24);
  EXPECT_EQ(NumElements({0, 7}), 0);
  EXPECT_EQ(NumElements({-1, 3}), -1);
  EXPECT_EQ(NumElements({0, -1}), -1);
}

TEST(NumElementsTest, Overflow) {
  const int64_t k31 = int64_t{1} << 31;
  EXPECT_EQ(NumElements({k31, k31}), int64_t{1} << 62);  // exactly the limit
  EXPECT_EQ(NumElements({k31, k31, 2}), -1);
  EXPECT_EQ(NumElements({std::numeric_limits<int64_t>::max(), 2}), -1);
  EXPECT_EQ(NumElements({int64_t{1} << 40, int64_t{1} << 40}), -1);
  // Zero anywhere wins over huge dims that would overflow in another order.
  EXPECT_EQ(NumElements({0, std::numeric_limits<int64_t>::max()}), 0);
  EXPECT_EQ(ShapeToString({1, 8, 3}), "[1,8,3]");
  EXPECT_EQ(ShapeToString({}), "[]");
}

TEST(TensorTest, ConstructionAndViews) {
  Tensor t(DataType::kFloat, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.nbytes(), 24u);
  EXPECT_EQ(t.rank(), 2u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t.data<float>()[i], 0.f);  // zero-filled
  EXPECT_FALSE(t.empty());
  EXPECT_TRUE(Tensor().empty());

  Tensor copy = t;  // shares storage
  EXPECT_TRUE(copy.SameStorage(t));
  copy.data<float>()[0] = 5.f;
  EXPECT_EQ(t.data<float>()[0], 5.f);

  Tensor clone = t.Clone();  // independent
  EXPECT_FALSE(clone.SameStorage(t));
  clone.data<float>()[0] = 7.f;
  EXPECT_EQ(t.data<float>()[0], 5.f);

  Tensor r = t.Reshaped({3, 2});
  EXPECT_TRUE(r.SameStorage(t));
  EXPECT_EQ(r.shape(), (Shape{3, 2}));

  Tensor s = Tensor::Scalar(2.5f);
  EXPECT_EQ(s.rank(), 0u);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.data<float>()[0], 2.5f);

  Tensor strings(DataType::kString, {2});
  EXPECT_EQ(strings.strings().size(), 2u);
  strings.strings()[1] = "b";
  EXPECT_EQ(strings.Clone().strings()[1], "b");
}

TEST(TensorTest, CheckedCreate) {
  auto ok = Tensor::Create(DataType::kInt64, {4}, 32);
  EDGEFIT_ASSERT_OK(ok);
  EXPECT_EQ(ok->nbytes(), 32u);

  auto too_big = Tensor::Create(DataType::kInt64, {5}, 32);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);

  auto negative = Tensor::Create(DataType::kFloat, {2, -1});
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);

  const int64_t k40 = int64_t{1} << 40;
  auto overflow = Tensor::Create(DataType::kFloat, {k40, k40});
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.status().code(), StatusCode::kInvalidArgument);

  // 2^40 floats = 4 TiB: refused by the byte limit before any allocation.
  auto huge = Tensor::Create(DataType::kFloat, {k40}, size_t{1} << 32);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
}

TEST(TensorTest, IntegerAndDoubleViews) {
  Tensor i32 = Tensor::FromVector<int32_t>(DataType::kInt32, {3}, {-1, 0, 7});
  auto v = i32.ToInt64Vector();
  EDGEFIT_ASSERT_OK(v);
  EXPECT_EQ(*v, (std::vector<int64_t>{-1, 0, 7}));
  Tensor u8 = Tensor::FromVector<uint8_t>(DataType::kUint8, {2}, {255, 1});
  EXPECT_EQ(*u8.ToInt64Vector(), (std::vector<int64_t>{255, 1}));
  EXPECT_FALSE(Tensor::Scalar(1.f).ToInt64Vector().ok());

  Tensor h = Tensor::FromVector<uint16_t>(DataType::kFloat16, {2}, {0x3C00, 0xC000});
  EXPECT_EQ(h.ToDoubleVector(), (std::vector<double>{1.0, -2.0}));
  Tensor b = Tensor::FromVector<uint16_t>(DataType::kBfloat16, {1}, {0x3F80});
  EXPECT_EQ(b.ToDoubleVector(), (std::vector<double>{1.0}));
}

TEST(Float16Test, KnownBitPatterns) {
  struct Case {
    float f;
    uint16_t h;
  };
  // Values a half represents exactly: both directions.
  const Case exact[] = {
      {0.f, 0x0000},
      {-0.f, 0x8000},
      {1.f, 0x3C00},
      {-2.f, 0xC000},
      {0.5f, 0x3800},
      {65504.f, 0x7BFF},                  // largest half
      {std::ldexp(1.f, -14), 0x0400},     // smallest normal
      {std::ldexp(1.f, -24), 0x0001},     // smallest subnormal
      {std::ldexp(1023.f, -24), 0x03FF},  // largest subnormal
      {std::numeric_limits<float>::infinity(), 0x7C00},
      {-std::numeric_limits<float>::infinity(), 0xFC00},
  };
  for (const Case& c : exact) {
    EXPECT_EQ(FloatToHalf(c.f), c.h) << c.f;
    EXPECT_EQ(Bits(HalfToFloat(c.h)), Bits(c.f)) << std::hex << c.h;
  }
  // Rounded values.
  EXPECT_EQ(FloatToHalf(0.1f), 0x2E66);
  EXPECT_EQ(FloatToHalf(1.f / 3.f), 0x3555);
  EXPECT_EQ(HalfToFloat(0x2E66), 0.0999755859375f);
  EXPECT_EQ(HalfToFloat(0x3555), 0.333251953125f);
}

TEST(Float16Test, RoundsToNearestEven) {
  // Halfway between 1 (0x3C00, even) and 1+2^-10 (0x3C01): down to even.
  EXPECT_EQ(FloatToHalf(1.f + std::ldexp(1.f, -11)), 0x3C00);
  // Halfway between 0x3C01 (odd) and 0x3C02: up to even.
  EXPECT_EQ(FloatToHalf(1.f + 3 * std::ldexp(1.f, -11)), 0x3C02);
  // Just above halfway rounds up.
  EXPECT_EQ(FloatToHalf(FromBits(Bits(1.f + std::ldexp(1.f, -11)) + 1)), 0x3C01);
  // Carry into the exponent: halfway between 0x3FFF (odd) and 2.0.
  EXPECT_EQ(FloatToHalf(1.99951171875f), 0x4000);
  // Overflow: 65520 is halfway between 65504 and 65536 and rounds to infinity.
  EXPECT_EQ(FloatToHalf(65520.f), 0x7C00);
  EXPECT_EQ(FloatToHalf(65519.f), 0x7BFF);
  EXPECT_EQ(FloatToHalf(1e10f), 0x7C00);
  EXPECT_EQ(FloatToHalf(-1e10f), 0xFC00);
  // Subnormals: 2^-25 is halfway between 0 and the smallest subnormal: to even (0).
  EXPECT_EQ(FloatToHalf(std::ldexp(1.f, -25)), 0x0000);
  EXPECT_EQ(FloatToHalf(std::ldexp(3.f, -26)), 0x0001);  // 0.75 ulp -> 1
  EXPECT_EQ(FloatToHalf(std::ldexp(3.f, -25)), 0x0002);  // 1.5 ulp -> 2 (even)
  EXPECT_EQ(FloatToHalf(std::ldexp(1.f, -30)), 0x0000);
  EXPECT_EQ(FloatToHalf(-std::ldexp(1.f, -30)), 0x8000);
  // Largest subnormal + half ulp rounds up into the smallest normal.
  EXPECT_EQ(FloatToHalf(std::ldexp(2047.f, -25)), 0x0400);
}

TEST(Float16Test, NaN) {
  uint16_t h = FloatToHalf(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(h & 0x7C00, 0x7C00);
  EXPECT_NE(h & 0x03FF, 0);
  EXPECT_TRUE(std::isnan(HalfToFloat(0x7E00)));
  EXPECT_TRUE(std::isnan(HalfToFloat(0xFC01)));
}

TEST(Float16Test, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    bool nan = (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0;
    if (nan) continue;
    ASSERT_EQ(FloatToHalf(HalfToFloat(static_cast<uint16_t>(h))), h) << std::hex << h;
  }
}

TEST(Bfloat16Test, KnownBitPatterns) {
  EXPECT_EQ(FloatToBfloat16(1.f), 0x3F80);
  EXPECT_EQ(FloatToBfloat16(-2.f), 0xC000);
  EXPECT_EQ(FloatToBfloat16(0.f), 0x0000);
  EXPECT_EQ(FloatToBfloat16(-0.f), 0x8000);
  EXPECT_EQ(FloatToBfloat16(3.14159265f), 0x4049);  // 0x40490FDB rounds down
  EXPECT_EQ(FloatToBfloat16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(FloatToBfloat16(std::numeric_limits<float>::max()), 0x7F80);  // rounds to inf
  // Ties to even.
  EXPECT_EQ(FloatToBfloat16(FromBits(0x3F808000)), 0x3F80);
  EXPECT_EQ(FloatToBfloat16(FromBits(0x3F818000)), 0x3F82);
  EXPECT_EQ(FloatToBfloat16(FromBits(0x3F808001)), 0x3F81);
  uint16_t nan = FloatToBfloat16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(std::isnan(Bfloat16ToFloat(nan)));
  // A NaN whose payload sits only in the low bits must stay NaN (not become infinity).
  EXPECT_TRUE(std::isnan(Bfloat16ToFloat(FloatToBfloat16(FromBits(0x7F800001)))));

  EXPECT_EQ(Bfloat16ToFloat(0x3F80), 1.f);
  EXPECT_EQ(Bfloat16ToFloat(0xC000), -2.f);
  EXPECT_EQ(Bits(Bfloat16ToFloat(0x4049)), 0x40490000u);
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    float f = Bfloat16ToFloat(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToBfloat16(f), b) << std::hex << b;
  }
}

}  // namespace
}  // namespace edgefit
