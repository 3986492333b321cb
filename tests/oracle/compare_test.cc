// The oracle's comparison: tolerances, NaN/Inf, dtypes, shapes, integers.
#include "oracle/compare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace edgefit::oracle {
namespace {

Tensor F32(std::vector<float> v) {
  Shape s = {static_cast<int64_t>(v.size())};
  return Tensor::FromVector<float>(DataType::kFloat, s, v);
}

TEST(OracleCompare, FloatTolerance) {
  EXPECT_EQ(Compare(F32({1.0f, 100.0f}), F32({1.0f, 100.0f})), "");
  // atol 1e-5 + rtol 1e-4 * |ort|.
  EXPECT_EQ(Compare(F32({1.0f + 1.05e-4f, 0.0f}), F32({1.0f, 0.0f})), "");
  EXPECT_EQ(Compare(F32({1e-6f}), F32({0.0f})), "");
  std::string d = Compare(F32({1.0f, 100.05f}), F32({1.0f, 100.0f}));
  EXPECT_NE(d.find("element [1] is 100.05"), std::string::npos) << d;
  EXPECT_NE(d.find("ORT has 100"), std::string::npos) << d;
  EXPECT_NE(d.find("1 of 2 elements differ"), std::string::npos) << d;
  EXPECT_NE(Compare(F32({2e-5f}), F32({0.0f})), "");
}

TEST(OracleCompare, NanAndInf) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Compare(F32({nan, inf, -inf}), F32({nan, inf, -inf})), "");
  EXPECT_NE(Compare(F32({nan}), F32({1.0f})), "");
  EXPECT_NE(Compare(F32({1.0f}), F32({nan})), "");
  EXPECT_NE(Compare(F32({inf}), F32({-inf})), "");
  EXPECT_NE(Compare(F32({inf}), F32({3e38f})), "");
}

TEST(OracleCompare, DtypeShapeAndIntegers) {
  EXPECT_NE(Compare(F32({1, 2}), F32({1, 2}).Reshaped({2, 1})).find("shape [2], ORT has [2,1]"),
            std::string::npos);
  Tensor i64 = Tensor::FromVector<int64_t>(DataType::kInt64, {2}, {1, 2});
  EXPECT_NE(Compare(F32({1, 2}), i64).find("dtype float32, ORT has int64"), std::string::npos);
  EXPECT_EQ(Compare(i64, i64.Clone()), "");
  Tensor off = Tensor::FromVector<int64_t>(DataType::kInt64, {2}, {1, 3});
  EXPECT_NE(Compare(off, i64).find("element [1] is 3"), std::string::npos);
  // Integers are exact even beyond double precision.
  Tensor big1 = Tensor::FromVector<int64_t>(DataType::kInt64, {1}, {(int64_t{1} << 60) + 1});
  Tensor big2 = Tensor::FromVector<int64_t>(DataType::kInt64, {1}, {(int64_t{1} << 60)});
  EXPECT_NE(Compare(big1, big2), "");
  Tensor b1 = Tensor::FromVector<uint8_t>(DataType::kBool, {2, 1}, {1, 0});
  Tensor b2 = Tensor::FromVector<uint8_t>(DataType::kBool, {2, 1}, {1, 1});
  EXPECT_NE(Compare(b1, b2).find("element [1,0]"), std::string::npos);
}

TEST(OracleCompare, HalfPrecisionUsesItsOwnStep) {
  auto f16 = [](float v) {
    return Tensor::FromVector<uint16_t>(DataType::kFloat16, {1}, {FloatToHalf(v)});
  };
  EXPECT_EQ(Compare(f16(1.0f), f16(1.0f + 1.0f / 1024)), "");  // one half-precision step
  EXPECT_NE(Compare(f16(1.0f), f16(1.0f + 4.0f / 1024)), "");
}

}  // namespace
}  // namespace edgefit::oracle
