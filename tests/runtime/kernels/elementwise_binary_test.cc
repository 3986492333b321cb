// Elementwise binary / variadic kernels with broadcasting.
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
using testing::NodeInput;
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

StatusOr<std::vector<Tensor>> RunOp(const std::string& op, std::vector<Tensor> inputs,
                                    std::vector<Attribute> attrs = {}, int64_t opset = 17,
                                    int threads = 1) {
  NodeSpec spec{op, {}, 1, std::move(attrs), opset, ""};
  for (size_t i = 0; i < inputs.size(); ++i)
    spec.inputs.push_back({"in" + std::to_string(i), inputs[i]});
  return RunNode(spec, threads);
}

Tensor Eval(const std::string& op, std::vector<Tensor> inputs, std::vector<Attribute> attrs = {},
            int64_t opset = 17, int threads = 1) {
  auto out = RunOp(op, std::move(inputs), std::move(attrs), opset, threads);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? (*out)[0] : Tensor();
}

Tensor Bool(Shape shape, const std::vector<uint8_t>& v) {
  return Make<uint8_t>(DataType::kBool, shape, v);
}
std::vector<uint8_t> Bools(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DataType::kBool);
  return Values<uint8_t>(t);
}

TEST(ElementwiseBinaryTest, ArithmeticSameShapeAndScalar) {
  Tensor a = F32({2, 2}, {1, 2, 3, 4});
  Tensor b = F32({2, 2}, {10, 20, 30, 40});
  ExpectNear(Eval("Add", {a, b}), {2, 2}, {11, 22, 33, 44});
  ExpectNear(Eval("Sub", {a, b}), {2, 2}, {-9, -18, -27, -36});
  ExpectNear(Eval("Mul", {a, b}), {2, 2}, {10, 40, 90, 160});
  ExpectNear(Eval("Div", {b, a}), {2, 2}, {10, 10, 10, 10});
  ExpectNear(Eval("Add", {a, Tensor::Scalar(1)}), {2, 2}, {2, 3, 4, 5});
  ExpectNear(Eval("Sub", {Tensor::Scalar(1), a}), {2, 2}, {0, -1, -2, -3});
  ExpectNear(Eval("Div", {F32({3}, {1, -1, 0}), Tensor::Scalar(0)}), {3},
             {INFINITY, -INFINITY, kNaN});
}

TEST(ElementwiseBinaryTest, Broadcasting) {
  // Per-channel bias: [N,C,H,W] + [C,1,1].
  Tensor x = F32({1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  ExpectNear(Eval("Add", {x, F32({2, 1, 1}, {100, 200})}), {1, 2, 2, 2},
             {100, 101, 102, 103, 204, 205, 206, 207});
  // Row vector.
  ExpectNear(Eval("Mul", {F32({2, 3}, {1, 2, 3, 4, 5, 6}), F32({3}, {1, 10, 100})}), {2, 3},
             {1, 20, 300, 4, 50, 600});
  // Both sides grow: [2,1] - [1,3].
  ExpectNear(Eval("Sub", {F32({2, 1}, {10, 20}), F32({1, 3}, {1, 2, 3})}), {2, 3},
             {9, 8, 7, 19, 18, 17});
  // Lower rank on the left, size-0 dims.
  ExpectNear(Eval("Add", {F32({3}, {1, 2, 3}), F32({2, 1}, {0, 10})}), {2, 3},
             {1, 2, 3, 11, 12, 13});
  Tensor e = Eval("Add", {F32({0, 3}, {}), F32({1, 3}, {1, 2, 3})});
  EXPECT_EQ(e.shape(), (Shape{0, 3}));
  auto bad = RunOp("Add", {F32({2, 3}, {1, 2, 3, 4, 5, 6}), F32({2}, {1, 2})});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("[2,3]"), std::string::npos) << bad.status().ToString();
}

TEST(ElementwiseBinaryTest, LegacyBroadcastBeforeOpset7) {
  Tensor a = F32({2, 3, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  // broadcast=1, axis=1: B [3] aligns with A's dim 1.
  ExpectNear(Eval("Add", {a, F32({3}, {100, 200, 300})},
                  {Attribute::Int("broadcast", 1), Attribute::Int("axis", 1)}, 6),
             {2, 3, 2}, {100, 101, 202, 203, 304, 305, 106, 107, 208, 209, 310, 311});
  // broadcast=1 without axis: suffix alignment.
  ExpectNear(Eval("Mul", {a, F32({2}, {1, -1})}, {Attribute::Int("broadcast", 1)}, 6), {2, 3, 2},
             {0, -1, 2, -3, 4, -5, 6, -7, 8, -9, 10, -11});
  // Scalar B.
  ExpectNear(Eval("Sub", {a, F32({1}, {1})}, {Attribute::Int("broadcast", 1)}, 1), {2, 3, 2},
             {-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  // broadcast=0 requires equal shapes (even NumPy-compatible ones).
  auto out = RunOp("Add", {a, F32({2}, {1, 2})}, {}, 6);
  EXPECT_FALSE(out.ok());
  // From opset 7 the attributes are gone and broadcasting is NumPy's.
  ExpectNear(Eval("Add", {F32({2, 1}, {1, 2}), F32({3}, {10, 20, 30})}, {}, 7), {2, 3},
             {11, 21, 31, 12, 22, 32});
}

TEST(ElementwiseBinaryTest, IntegerArithmeticWrapsAndTruncates) {
  const int32_t mx = std::numeric_limits<int32_t>::max(), mn = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(Values<int32_t>(Eval("Add", {I32({2}, {mx, 1}), I32({2}, {1, 2})})),
            (std::vector<int32_t>{mn, 3}));
  EXPECT_EQ(Values<int32_t>(Eval("Mul", {I32({1}, {mx}), I32({1}, {2})})),
            (std::vector<int32_t>{-2}));
  // C-style truncation toward zero.
  EXPECT_EQ(
      Values<int64_t>(Eval("Div", {I64({5}, {7, -7, 7, -7, 1}), I64({5}, {2, 2, -2, -2, 3})})),
      (std::vector<int64_t>{3, -3, -3, 3, 0}));
  EXPECT_EQ(Values<int32_t>(Eval("Div", {I32({1}, {mn}), I32({1}, {-1})})),
            (std::vector<int32_t>{mn}));
  Tensor u8 = Eval("Sub", {Make<uint8_t>(DataType::kUint8, {2}, {1, 200}),
                           Make<uint8_t>(DataType::kUint8, {2}, {2, 100})});
  EXPECT_EQ(Values<uint8_t>(u8), (std::vector<uint8_t>{255, 100}));
  auto out = RunOp("Div", {I32({2}, {1, 2}), I32({2}, {1, 0})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("division by zero"), std::string::npos);
}

TEST(ElementwiseBinaryTest, ModSignRules) {
  Tensor a = I32({4}, {-4, 4, -4, 4});
  Tensor b = I32({4}, {3, -3, -3, 3});
  // fmod=0: the sign of the divisor (Python %).
  EXPECT_EQ(Values<int32_t>(Eval("Mod", {a, b})), (std::vector<int32_t>{2, -2, -1, 1}));
  // fmod=1: the sign of the dividend (C fmod).
  EXPECT_EQ(Values<int32_t>(Eval("Mod", {a, b}, {Attribute::Int("fmod", 1)})),
            (std::vector<int32_t>{-1, 1, -1, 1}));
  EXPECT_EQ(Values<int64_t>(
                Eval("Mod", {I64({1}, {std::numeric_limits<int64_t>::min()}), I64({1}, {-1})})),
            (std::vector<int64_t>{0}));
  EXPECT_EQ(Values<uint8_t>(Eval("Mod", {Make<uint8_t>(DataType::kUint8, {2}, {250, 7}),
                                         Make<uint8_t>(DataType::kUint8, {1}, {7})})),
            (std::vector<uint8_t>{5, 0}));
  ExpectNear(
      Eval("Mod", {F32({3}, {-4.5f, 4.5f, 5}), F32({3}, {2, -2, 0})}, {Attribute::Int("fmod", 1)}),
      {3}, {-0.5f, 0.5f, kNaN});
  // Floats require fmod=1.
  auto out = RunOp("Mod", {F32({1}, {1}), F32({1}, {2})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidModel);
  out = RunOp("Mod", {I32({1}, {1}), I32({1}, {0})});
  EXPECT_FALSE(out.ok());
}

TEST(ElementwiseBinaryTest, PowTypes) {
  ExpectNear(Eval("Pow", {F32({3}, {2, 3, -2}), F32({3}, {3, 0.5f, 2})}), {3}, {8, 1.7320508f, 4});
  ExpectNear(Eval("Pow", {F32({3}, {-3, 0.5f, 4}), Tensor::Scalar(2)}), {3}, {9, 0.25f, 16});
  ExpectNear(Eval("Pow", {F32({2}, {-8, 4}), Tensor::Scalar(0.5f)}), {2}, {kNaN, 2});
  // Mixed types (opset 12+): the output has the base's type.
  ExpectNear(Eval("Pow", {F32({3}, {1, 2, 3}), I64({3}, {4, 5, -1})}, {}, 15), {3},
             {1, 32, 1 / 3.f});
  EXPECT_EQ(Values<int64_t>(Eval("Pow", {I64({4}, {2, 3, -2, 10}), I64({4}, {10, 3, 3, 0})})),
            (std::vector<int64_t>{1024, 27, -8, 1}));
  EXPECT_EQ(Values<int32_t>(Eval("Pow", {I32({3}, {1, 2, 3}), F32({3}, {4, 5, 0.5f})})),
            (std::vector<int32_t>{1, 32, 1}));
  EXPECT_EQ(Values<int32_t>(Eval("Pow", {I32({4}, {1, -1, 2, 0}), I32({4}, {-3, -3, -1, -1})})),
            (std::vector<int32_t>{1, -1, 0, 0}));
  // Before 12 both inputs have one type.
  EXPECT_FALSE(RunOp("Pow", {F32({1}, {2}), I64({1}, {2})}, {}, 11).ok());
}

TEST(ElementwiseBinaryTest, VariadicMinMaxSumMean) {
  Tensor a = F32({2, 2}, {1, 5, 3, kNaN});
  Tensor b = F32({2}, {4, 2});
  Tensor c = F32({1}, {3});
  ExpectNear(Eval("Max", {a, b, c}), {2, 2}, {4, 5, 4, kNaN});
  ExpectNear(Eval("Min", {a, b, c}), {2, 2}, {1, 2, 3, kNaN});
  ExpectNear(Eval("Sum", {a, b, c}), {2, 2}, {8, 10, 10, kNaN});
  ExpectNear(Eval("Mean", {a, b, c}), {2, 2}, {8 / 3.f, 10 / 3.f, 10 / 3.f, kNaN});
  ExpectNear(Eval("Max", {b}), {2}, {4, 2});
  ExpectNear(Eval("Mean", {F32({2}, {1, 2}), F32({2}, {3, 6})}, {}, 6), {2}, {2, 4});
  Tensor u = Eval("Max", {Make<uint64_t>(DataType::kUint64, {2}, {1, ~0ull}),
                          Make<uint64_t>(DataType::kUint64, {2}, {7, 3})});
  EXPECT_EQ(Values<uint64_t>(u), (std::vector<uint64_t>{7, ~0ull}));
  EXPECT_EQ(Values<int32_t>(Eval("Min", {I32({3}, {-1, 5, 2}), I32({1}, {0})})),
            (std::vector<int32_t>{-1, 0, 0}));
  EXPECT_FALSE(RunOp("Sum", {F32({2}, {1, 2}), I32({2}, {1, 2})}).ok());
}

TEST(ElementwiseBinaryTest, ComparisonsAndLogic) {
  Tensor a = F32({2, 2}, {1, 2, 3, kNaN});
  Tensor b = F32({2}, {2, 2});
  EXPECT_EQ(Bools(Eval("Equal", {a, b})), (std::vector<uint8_t>{0, 1, 0, 0}));
  EXPECT_EQ(Bools(Eval("Less", {a, b})), (std::vector<uint8_t>{1, 0, 0, 0}));
  EXPECT_EQ(Bools(Eval("LessOrEqual", {a, b})), (std::vector<uint8_t>{1, 1, 0, 0}));
  EXPECT_EQ(Bools(Eval("Greater", {a, b})), (std::vector<uint8_t>{0, 0, 1, 0}));
  EXPECT_EQ(Bools(Eval("GreaterOrEqual", {a, b})), (std::vector<uint8_t>{0, 1, 1, 0}));
  EXPECT_EQ(Bools(Eval("Equal", {I64({3}, {1, 2, 3}), I64({1}, {2})})),
            (std::vector<uint8_t>{0, 1, 0}));
  Tensor p = Bool({2, 2}, {0, 0, 1, 1});
  Tensor q = Bool({2}, {0, 1});
  EXPECT_EQ(Bools(Eval("And", {p, q})), (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(Bools(Eval("Or", {p, q})), (std::vector<uint8_t>{0, 1, 1, 1}));
  EXPECT_EQ(Bools(Eval("Xor", {p, q})), (std::vector<uint8_t>{0, 1, 1, 0}));
  EXPECT_EQ(Bools(Eval("Equal", {p, q})), (std::vector<uint8_t>{1, 0, 0, 1}));
  // And is bool-only.
  auto out = RunOp("And", {I32({1}, {1}), I32({1}, {1})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnsupported);
}

TEST(ElementwiseBinaryTest, BitShift) {
  Tensor x = Make<uint8_t>(DataType::kUint8, {4}, {1, 16, 255, 3});
  Tensor s = Make<uint8_t>(DataType::kUint8, {4}, {1, 2, 8, 7});
  EXPECT_EQ(Values<uint8_t>(Eval("BitShift", {x, s}, {Attribute::String("direction", "LEFT")})),
            (std::vector<uint8_t>{2, 64, 0, 128}));
  EXPECT_EQ(Values<uint8_t>(Eval("BitShift", {x, s}, {Attribute::String("direction", "RIGHT")})),
            (std::vector<uint8_t>{0, 4, 0, 0}));
  Tensor x32 = Make<uint32_t>(DataType::kUint32, {2}, {1, 0x80000000u});
  Tensor s32 = Make<uint32_t>(DataType::kUint32, {1}, {31});
  EXPECT_EQ(
      Values<uint32_t>(Eval("BitShift", {x32, s32}, {Attribute::String("direction", "RIGHT")})),
      (std::vector<uint32_t>{0, 1}));
  auto out = RunOp("BitShift", {x, s}, {Attribute::String("direction", "UP")});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidModel);
}

TEST(ElementwiseBinaryTest, Where) {
  Tensor c = Bool({2, 2}, {1, 0, 0, 1});
  ExpectNear(Eval("Where", {c, F32({2, 2}, {1, 2, 3, 4}), F32({1}, {-1})}), {2, 2}, {1, -1, -1, 4});
  // Condition broadcast over rows, int64 values.
  Tensor r =
      Eval("Where", {Bool({2}, {1, 0}), I64({3, 1}, {1, 2, 3}), I64({3, 2}, {9, 9, 8, 8, 7, 7})});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_EQ(Values<int64_t>(r), (std::vector<int64_t>{1, 9, 2, 8, 3, 7}));
  Tensor h = Eval("Where", {Bool({1}, {0}), Make<uint16_t>(DataType::kFloat16, {2}, {1, 2}),
                            Make<uint16_t>(DataType::kFloat16, {2}, {3, 4})});
  EXPECT_EQ(h.dtype(), DataType::kFloat16);
  EXPECT_EQ(Values<uint16_t>(h), (std::vector<uint16_t>{3, 4}));
  EXPECT_FALSE(RunOp("Where", {c, F32({3}, {1, 2, 3}), F32({1}, {0})}).ok());
}

Tensor Strs(Shape shape, const std::vector<std::string>& v) {
  Tensor t(DataType::kString, std::move(shape));
  t.strings() = v;
  return t;
}

TEST(ElementwiseBinaryTest, StringsInEqualAndWhere) {
  Tensor a = Strs({2, 2}, {"a", "b", "c", "a"});
  EXPECT_EQ(Bools(Eval("Equal", {a, Strs({1}, {"a"})}, {}, 19)),
            (std::vector<uint8_t>{1, 0, 0, 1}));
  Tensor w = Eval("Where", {Bool({2}, {1, 0}), a, Strs({}, {"-"})});
  EXPECT_EQ(w.strings(), (std::vector<std::string>{"a", "-", "c", "-"}));
  EXPECT_EQ(Eval("Equal", {Strs({0}, {}), Strs({1}, {"a"})}, {}, 19).shape(), (Shape{0}));
}

TEST(ElementwiseBinaryTest, HalfArithmetic) {
  // 1.0 + 0.5 = 1.5 (0x3e00); 2.0 * 0.5 = 1.0.
  Tensor a = Make<uint16_t>(DataType::kFloat16, {2}, {0x3c00, 0x4000});
  Tensor b = Make<uint16_t>(DataType::kFloat16, {2}, {0x3800, 0x3800});
  EXPECT_EQ(Values<uint16_t>(Eval("Add", {a, b})), (std::vector<uint16_t>{0x3e00, 0x4100}));
  EXPECT_EQ(Values<uint16_t>(Eval("Mul", {a, b})), (std::vector<uint16_t>{0x3800, 0x3c00}));
}

// Plain coordinate-by-coordinate reference for broadcast binary float ops.
std::vector<float> Reference(const Tensor& a, const Tensor& b, const Shape& out,
                             float (*fn)(float, float)) {
  const size_t rank = out.size();
  auto index = [&](const Shape& s, const std::vector<int64_t>& coord) {
    int64_t idx = 0;
    size_t off = rank - s.size();
    for (size_t d = 0; d < s.size(); ++d) idx = idx * s[d] + (s[d] == 1 ? 0 : coord[off + d]);
    return idx;
  };
  std::vector<float> r(NumElements(out));
  std::vector<int64_t> coord(rank, 0);
  for (size_t i = 0; i < r.size(); ++i) {
    int64_t rem = static_cast<int64_t>(i);
    for (size_t d = rank; d-- > 0;) coord[d] = rem % out[d], rem /= out[d];
    r[i] = fn(a.data<float>()[index(a.shape(), coord)], b.data<float>()[index(b.shape(), coord)]);
  }
  return r;
}

Tensor Random(const Shape& s, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-4, 4);
  std::vector<float> v(NumElements(s));
  for (float& f : v) f = dist(rng);
  return F32(s, v);
}

// The fast paths (same shape, scalar, per-row, collapsed dims, parallel split across rows)
// against the plain reference on random inputs.
TEST(ElementwiseBinaryTest, FastPathsMatchReference) {
  std::mt19937 rng(42);
  struct Case {
    Shape a, b, out;
  };
  const std::vector<Case> cases = {
      {{4, 32, 24, 24}, {4, 32, 24, 24}, {4, 32, 24, 24}},  // same shape, parallel
      {{4, 32, 24, 24}, {}, {4, 32, 24, 24}},               // scalar
      {{4, 32, 24, 24}, {32, 1, 1}, {4, 32, 24, 24}},       // per-channel bias
      {{1, 32, 1, 1}, {4, 32, 24, 24}, {4, 32, 24, 24}},    // bias on the left
      {{4, 32, 24, 24}, {24}, {4, 32, 24, 24}},             // row vector
      {{70000, 3}, {70000, 1}, {70000, 3}},                 // tiny rows, many of them
      {{5, 1, 7, 1}, {1, 6, 1, 9}, {5, 6, 7, 9}},           // both sides broadcast
      {{3, 1, 2}, {4, 1}, {3, 4, 2}},
  };
  float (*ops[])(float, float) = {
      [](float x, float y) { return x + y; }, [](float x, float y) { return x - y; },
      [](float x, float y) { return x * y; }, [](float x, float y) { return x / y; }};
  const char* names[] = {"Add", "Sub", "Mul", "Div"};
  for (const Case& c : cases) {
    Tensor a = Random(c.a, rng), b = Random(c.b, rng);
    for (int k = 0; k < 4; ++k) {
      std::vector<float> want = Reference(a, b, c.out, ops[k]);
      for (int threads : {1, 2}) {
        Tensor got = Eval(names[k], {a, b}, {}, 14, threads);
        ASSERT_EQ(got.shape(), c.out) << names[k];
        for (size_t i = 0; i < want.size(); ++i)
          ASSERT_EQ(got.data<float>()[i], want[i])
              << names[k] << " " << ShapeToString(c.a) << " " << ShapeToString(c.b) << " at " << i
              << " threads " << threads;
      }
    }
  }
}

}  // namespace
}  // namespace edgefit
