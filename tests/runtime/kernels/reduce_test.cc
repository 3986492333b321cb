// Reduce family: Reduce*, ArgMax/ArgMin, TopK, CumSum. Expected values are computed by hand
// (or by a plain double-precision loop in this file for the randomized differential tests).
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
using testing::NodeInput;
using testing::NodeSpec;
using testing::RunNode;
using testing::Values;

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNan = std::numeric_limits<float>::quiet_NaN();

// First output of a one-node run (an empty tensor and a test failure on error).
Tensor Run1(const NodeSpec& spec, int threads = 1) {
  auto out = RunNode(spec, threads);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? (*out)[0] : Tensor();
}

// Like testing::ExpectNear, but infinities must match exactly.
void ExpectValues(const Tensor& y, const Shape& shape, const std::vector<float>& expected) {
  ASSERT_EQ(y.dtype(), DataType::kFloat);
  ASSERT_EQ(y.shape(), shape);
  ASSERT_EQ(static_cast<size_t>(y.numel()), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const float a = y.data<float>()[i], e = expected[i];
    if (std::isnan(e))
      EXPECT_TRUE(std::isnan(a)) << "at " << i << ": " << a;
    else if (std::isinf(e))
      EXPECT_EQ(a, e) << "at " << i;
    else
      EXPECT_NEAR(a, e, 1e-5f + 1e-5f * std::fabs(e)) << "at " << i;
  }
}

// Opset from which each Reduce op takes axes as an input.
int AxesInputSince(const std::string& op) { return op == "ReduceSum" ? 13 : 18; }

// A Reduce node: axes as an attribute or a constant input, depending on the opset.
NodeSpec Reduce(const std::string& op, Tensor x, std::vector<int64_t> axes, int64_t keepdims,
                int64_t opset) {
  NodeSpec s{op, {{"x", x}}};
  s.opset = opset;
  s.attributes.push_back(Attribute::Int("keepdims", keepdims));
  if (opset >= AxesInputSince(op)) {
    if (!axes.empty())
      s.inputs.push_back({"axes", I64({static_cast<int64_t>(axes.size())}, axes), true});
  } else if (!axes.empty()) {
    s.attributes.push_back(Attribute::Ints("axes", axes));
  }
  return s;
}

struct KindCase {
  const char* op;
  std::vector<float> expected;  // for [[1, -2], [3, 4]] over axis 1
};

TEST(ReduceTest, EveryKindOverLastAxisAtEachAxesForm) {
  const std::vector<KindCase> cases = {
      {"ReduceSum", {-1, 7}},
      {"ReduceMean", {-0.5f, 3.5f}},
      {"ReduceMax", {1, 4}},
      {"ReduceMin", {-2, 3}},
      {"ReduceProd", {-2, 12}},
      {"ReduceL1", {3, 7}},
      {"ReduceL2", {std::sqrt(5.0f), 5}},
      {"ReduceSumSquare", {5, 25}},
      {"ReduceLogSum", {kNan, std::log(7.0f)}},
      // log(e^1 + e^-2) = 1 + log(1 + e^-3); log(e^3 + e^4) = 4 + log(1 + e^-1)
      {"ReduceLogSumExp", {1.0485873f, 4.3132617f}},
  };
  for (const KindCase& c : cases) {
    for (int64_t opset : {11, 13, 17, 18}) {
      SCOPED_TRACE(std::string(c.op) + " opset " + std::to_string(opset));
      Tensor y = Run1(Reduce(c.op, F32({2, 2}, {1, -2, 3, 4}), {1}, 0, opset));
      testing::ExpectNear(y, {2}, c.expected);
      y = Run1(Reduce(c.op, F32({2, 2}, {1, -2, 3, 4}), {-1}, 1, opset));
      testing::ExpectNear(y, {2, 1}, c.expected);
    }
  }
}

TEST(ReduceTest, SeveralAxesAndKeepdims) {
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[i] = static_cast<float>(i);  // x[a][b][c] = 6a + 2b + c
  // Mean over a and c: 2b + 3.5.
  Tensor y = Run1(Reduce("ReduceMean", F32({2, 3, 2}, x), {-1, 0}, 1, 13));
  testing::ExpectNear(y, {1, 3, 1}, {3.5f, 5.5f, 7.5f});
  y = Run1(Reduce("ReduceMean", F32({2, 3, 2}, x), {0, 2}, 0, 18));
  testing::ExpectNear(y, {3}, {3.5f, 5.5f, 7.5f});
  // Sum over b: 18a + 6 + 3c -> a=0: [6, 9], a=1: [24, 27].
  y = Run1(Reduce("ReduceSum", F32({2, 3, 2}, x), {1}, 0, 11));
  testing::ExpectNear(y, {2, 2}, {6, 9, 24, 27});
  y = Run1(Reduce("ReduceSum", F32({2, 3, 2}, x), {1}, 1, 13));
  testing::ExpectNear(y, {2, 1, 2}, {6, 9, 24, 27});
}

TEST(ReduceTest, MissingAxesReduceEverything) {
  Tensor y = Run1(Reduce("ReduceSum", F32({2, 2}, {1, 2, 3, 4}), {}, 1, 11));
  testing::ExpectNear(y, {1, 1}, {10});
  y = Run1(Reduce("ReduceSum", F32({2, 2}, {1, 2, 3, 4}), {}, 0, 13));
  testing::ExpectNear(y, {}, {10});
  y = Run1(Reduce("ReduceMax", F32({2, 2}, {1, 2, 3, 4}), {}, 0, 18));
  testing::ExpectNear(y, {}, {4});
  // An explicitly empty axes input is the same as no axes.
  NodeSpec s = Reduce("ReduceMean", F32({2, 2}, {1, 2, 3, 4}), {}, 0, 18);
  s.inputs.push_back({"axes", I64({0}, {}), true});
  testing::ExpectNear(Run1(s), {}, {2.5f});
}

TEST(ReduceTest, NoopWithEmptyAxesAppliesTheElementwisePart) {
  NodeSpec s = Reduce("ReduceSumSquare", F32({3}, {1, -2, 3}), {}, 1, 18);
  s.attributes.push_back(Attribute::Int("noop_with_empty_axes", 1));
  testing::ExpectNear(Run1(s), {3}, {1, 4, 9});
  s.op_type = "ReduceL1";
  testing::ExpectNear(Run1(s), {3}, {1, 2, 3});
  s.op_type = "ReduceLogSumExp";
  testing::ExpectNear(Run1(s), {3}, {1, -2, 3});
  s.op_type = "ReduceMean";
  testing::ExpectNear(Run1(s), {3}, {1, -2, 3});
  // ReduceSum-13 with an empty axes tensor.
  NodeSpec sum = Reduce("ReduceSum", F32({3}, {1, -2, 3}), {}, 1, 13);
  sum.attributes.push_back(Attribute::Int("noop_with_empty_axes", 1));
  sum.inputs.push_back({"axes", I64({0}, {}), true});
  testing::ExpectNear(Run1(sum), {3}, {1, -2, 3});
  // noop_with_empty_axes=0 (default) reduces everything.
  sum.attributes.pop_back();
  testing::ExpectNear(Run1(sum), {1}, {2});
}

TEST(ReduceTest, EmptySetsYieldTheIdentity) {
  const Tensor x = F32({2, 0}, {});
  struct C {
    const char* op;
    float v;
  };
  for (const C& c : {C{"ReduceSum", 0}, C{"ReduceProd", 1}, C{"ReduceMax", -kInf},
                     C{"ReduceMin", kInf}, C{"ReduceMean", kNan}, C{"ReduceL2", 0},
                     C{"ReduceLogSum", -kInf}, C{"ReduceLogSumExp", -kInf}}) {
    SCOPED_TRACE(c.op);
    ExpectValues(Run1(Reduce(c.op, x, {1}, 0, 13)), {2}, {c.v, c.v});
  }
  // Reducing a non-empty axis of an empty tensor gives an empty output.
  Tensor y = Run1(Reduce("ReduceSum", x, {0}, 0, 13));
  EXPECT_EQ(y.shape(), Shape({0}));
}

TEST(ReduceTest, IntegerAndBoolTypes) {
  Tensor y = Run1(Reduce("ReduceSum", I32({2, 2}, {1, 2, 3, 4}), {0}, 0, 13));
  ASSERT_EQ(y.dtype(), DataType::kInt32);
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{4, 6}));
  // Integer mean truncates.
  y = Run1(Reduce("ReduceMean", I64({2, 2}, {1, 2, -3, 2}), {1}, 0, 13));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{1, 0}));
  y = Run1(
      Reduce("ReduceMax", testing::Make<uint8_t>(DataType::kUint8, {3}, {7, 250, 3}), {0}, 0, 13));
  EXPECT_EQ(Values<uint8_t>(y), (std::vector<uint8_t>{250}));
  y = Run1(
      Reduce("ReduceMin", testing::Make<int8_t>(DataType::kInt8, {3}, {7, -128, 3}), {0}, 0, 18));
  EXPECT_EQ(Values<int8_t>(y), (std::vector<int8_t>{-128}));
  y = Run1(Reduce("ReduceProd", I64({3}, {2, -3, 4}), {0}, 0, 13));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{-24}));
  y = Run1(Reduce("ReduceL2", I32({2}, {3, 4}), {0}, 0, 13));
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{5}));
  // Empty integer max is the type's lowest value.
  y = Run1(Reduce("ReduceMax", I32({0}, {}), {0}, 0, 13));
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{std::numeric_limits<int32_t>::min()}));
  // Bool max/min (opset 20).
  Tensor b = testing::Make<uint8_t>(DataType::kBool, {2, 2}, {0, 1, 0, 0});
  y = Run1(Reduce("ReduceMax", b, {1}, 0, 20));
  ASSERT_EQ(y.dtype(), DataType::kBool);
  EXPECT_EQ(Values<uint8_t>(y), (std::vector<uint8_t>{1, 0}));
  y = Run1(Reduce("ReduceMin", b, {0}, 0, 20));
  EXPECT_EQ(Values<uint8_t>(y), (std::vector<uint8_t>{0, 0}));
  // Double and float16.
  y = Run1(Reduce("ReduceSum", testing::Make<double>(DataType::kDouble, {3}, {0.5, 0.25, 1}), {0},
                  0, 13));
  EXPECT_EQ(Values<double>(y), (std::vector<double>{1.75}));
  Tensor h =
      testing::Make<uint16_t>(DataType::kFloat16, {2}, {FloatToHalf(1.5f), FloatToHalf(2.25f)});
  y = Run1(Reduce("ReduceMean", h, {0}, 0, 18));
  ASSERT_EQ(y.dtype(), DataType::kFloat16);
  EXPECT_EQ(HalfToFloat(Values<uint16_t>(y)[0]), 1.875f);
}

TEST(ReduceTest, NanAndInfinities) {
  const Tensor x = F32({3}, {1, kNan, 3});
  for (const char* op : {"ReduceMax", "ReduceMin", "ReduceSum", "ReduceLogSumExp"}) {
    SCOPED_TRACE(op);
    ExpectValues(Run1(Reduce(op, x, {0}, 0, 13)), {}, {kNan});
  }
  // Large values do not overflow; infinities give the mathematical answer.
  ExpectValues(Run1(Reduce("ReduceLogSumExp", F32({2}, {1000, 1000}), {0}, 0, 13)), {},
               {1000 + std::log(2.0f)});
  ExpectValues(Run1(Reduce("ReduceLogSumExp", F32({2}, {-kInf, -kInf}), {0}, 0, 13)), {}, {-kInf});
  ExpectValues(Run1(Reduce("ReduceLogSumExp", F32({2}, {kInf, 1}), {0}, 0, 13)), {}, {kInf});
  // A NaN in a long contiguous run (the lane-split loop) still propagates.
  std::vector<float> long_run(100, 1.0f);
  long_run[37] = kNan;
  ExpectValues(Run1(Reduce("ReduceMax", F32({100}, long_run), {0}, 0, 13)), {}, {kNan});
}

TEST(ReduceTest, AxesErrors) {
  // Constant axes out of range: rejected when the session is built.
  auto r = RunNode(Reduce("ReduceSum", F32({2, 2}, {1, 2, 3, 4}), {2}, 1, 11));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidModel);
  EXPECT_NE(r.status().message().find("out of range"), std::string::npos) << r.status().message();
  r = RunNode(Reduce("ReduceMean", F32({2, 2}, {1, 2, 3, 4}), {0, -2}, 1, 18));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("repeated"), std::string::npos) << r.status().message();
  // Axes as a graph input: checked at run time.
  NodeSpec s{"ReduceSum", {{"x", F32({2, 2}, {1, 2, 3, 4})}, {"axes", I64({1}, {5})}}};
  s.opset = 13;
  r = RunNode(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("axis 5 is out of range for rank 2"), std::string::npos)
      << r.status().message();
  // Axes as an attribute where it is an input.
  NodeSpec bad = Reduce("ReduceSum", F32({2}, {1, 2}), {}, 1, 13);
  bad.attributes.push_back(Attribute::Ints("axes", {0}));
  EXPECT_EQ(RunNode(bad).status().code(), StatusCode::kInvalidModel);
  // Bool is only for max/min.
  auto u = RunNode(
      Reduce("ReduceSum", testing::Make<uint8_t>(DataType::kBool, {2}, {1, 0}), {0}, 1, 13));
  EXPECT_EQ(u.status().code(), StatusCode::kUnsupported);
}

// ---------------------------------------------------------------- differential (fast paths)

// Plain double-precision reference: each input element is folded into its output.
std::vector<double> ReferenceReduce(const std::string& op, const std::vector<float>& x,
                                    const Shape& shape, const std::vector<bool>& mask) {
  const size_t rank = shape.size();
  int64_t out_count = 1;
  for (size_t d = 0; d < rank; ++d)
    if (!mask[d]) out_count *= shape[d];
  const bool is_max = op == "ReduceMax", is_min = op == "ReduceMin", is_prod = op == "ReduceProd";
  std::vector<double> acc(out_count, is_max ? -1e300 : is_min ? 1e300 : is_prod ? 1 : 0);
  std::vector<double> mx(out_count, -1e300);
  std::vector<int64_t> count(out_count, 0);
  std::vector<int64_t> coord(rank, 0);
  auto out_index = [&]() {
    int64_t o = 0;
    for (size_t d = 0; d < rank; ++d)
      if (!mask[d]) o = o * shape[d] + coord[d];
    return o;
  };
  auto for_each = [&](auto fn) {
    std::fill(coord.begin(), coord.end(), 0);
    for (size_t i = 0; i < x.size(); ++i) {
      fn(out_index(), static_cast<double>(x[i]));
      for (size_t d = rank; d-- > 0;) {
        if (++coord[d] < shape[d]) break;
        coord[d] = 0;
      }
    }
  };
  for_each([&](int64_t o, double v) { mx[o] = std::max(mx[o], v); });
  for_each([&](int64_t o, double v) {
    ++count[o];
    if (is_max)
      acc[o] = std::max(acc[o], v);
    else if (is_min)
      acc[o] = std::min(acc[o], v);
    else if (is_prod)
      acc[o] *= v;
    else if (op == "ReduceL2" || op == "ReduceSumSquare")
      acc[o] += v * v;
    else if (op == "ReduceL1")
      acc[o] += std::fabs(v);
    else if (op == "ReduceLogSumExp")
      acc[o] += std::exp(v - mx[o]);
    else
      acc[o] += v;
  });
  for (int64_t o = 0; o < out_count; ++o) {
    if (op == "ReduceMean")
      acc[o] /= static_cast<double>(count[o]);
    else if (op == "ReduceL2")
      acc[o] = std::sqrt(acc[o]);
    else if (op == "ReduceLogSum")
      acc[o] = std::log(acc[o]);
    else if (op == "ReduceLogSumExp")
      acc[o] = std::log(acc[o]) + mx[o];
  }
  return acc;
}

void CheckAgainstReference(const Shape& shape, int threads, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.5f, 1.5f);  // positive: LogSum, Prod stay finite
  std::vector<float> x(static_cast<size_t>(NumElements(shape)));
  for (float& v : x) v = dist(rng);
  const int rank = static_cast<int>(shape.size());
  for (const char* op :
       {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
        "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"}) {
    for (int bits = 1; bits < (1 << rank); ++bits) {
      std::vector<int64_t> axes;
      std::vector<bool> mask(rank, false);
      for (int d = 0; d < rank; ++d)
        if (bits & (1 << d)) {
          axes.push_back(d);
          mask[d] = true;
        }
      // Prod over many elements under/overflows float: keep it to small reductions.
      int64_t reduce_count = 1;
      for (int d = 0; d < rank; ++d)
        if (mask[d]) reduce_count *= shape[d];
      if (std::string(op) == "ReduceProd" && reduce_count > 64) continue;
      SCOPED_TRACE(std::string(op) + " mask " + std::to_string(bits) + " threads " +
                   std::to_string(threads));
      Tensor y = Run1(Reduce(op, F32(shape, x), axes, 0, 18), threads);
      std::vector<double> ref = ReferenceReduce(op, x, shape, mask);
      ASSERT_EQ(y.numel(), static_cast<int64_t>(ref.size()));
      const float* got = y.data<float>();
      for (size_t i = 0; i < ref.size(); ++i)
        ASSERT_NEAR(got[i], ref[i], 1e-5 + 2e-5 * std::fabs(ref[i])) << "at " << i;
    }
  }
}

TEST(ReduceTest, EveryAxisSubsetMatchesPlainLoop) { CheckAgainstReference({3, 4, 5, 6}, 1, 7); }

TEST(ReduceTest, EveryAxisSubsetMatchesPlainLoopThreaded) {
  CheckAgainstReference({2, 24, 33, 25}, 2, 11);
}

TEST(ReduceTest, GlobalAveragePoolLike) {
  // Mean over H, W of NCHW: the contiguous fast path.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  const Shape shape{2, 32, 28, 28};
  std::vector<float> x(static_cast<size_t>(NumElements(shape)));
  for (float& v : x) v = dist(rng);
  for (int threads : {1, 2}) {
    Tensor y = Run1(Reduce("ReduceMean", F32(shape, x), {2, 3}, 1, 13), threads);
    ASSERT_EQ(y.shape(), Shape({2, 32, 1, 1}));
    for (int64_t c = 0; c < 64; ++c) {
      double s = 0;
      for (int64_t i = 0; i < 28 * 28; ++i) s += x[c * 28 * 28 + i];
      EXPECT_NEAR(y.data<float>()[c], s / (28 * 28), 1e-5);
    }
  }
}

// ---------------------------------------------------------------- ArgMax / ArgMin

NodeSpec Arg(const std::string& op, Tensor x, int64_t axis, int64_t keepdims, int64_t last,
             int64_t opset = 13) {
  NodeSpec s{op, {{"x", x}}};
  s.opset = opset;
  s.attributes = {Attribute::Int("axis", axis), Attribute::Int("keepdims", keepdims)};
  if (opset >= 12) s.attributes.push_back(Attribute::Int("select_last_index", last));
  return s;
}

TEST(ArgTest, AxesKeepdimsAndTies) {
  Tensor x = F32({2, 2}, {2, 1, 3, 10});
  Tensor y = Run1(Arg("ArgMax", x, 0, 1, 0, 11));
  ASSERT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(y.shape(), Shape({1, 2}));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{1, 1}));
  y = Run1(Arg("ArgMax", x, -1, 0, 0));
  EXPECT_EQ(y.shape(), Shape({2}));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{0, 1}));
  y = Run1(Arg("ArgMin", x, 1, 1, 0, 7));
  EXPECT_EQ(y.shape(), Shape({2, 1}));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{1, 0}));

  Tensor ties = F32({2, 3}, {1, 3, 3, 4, 4, 2});
  EXPECT_EQ(Values<int64_t>(Run1(Arg("ArgMax", ties, 1, 0, 0))), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(Values<int64_t>(Run1(Arg("ArgMax", ties, 1, 0, 1))), (std::vector<int64_t>{2, 1}));
  Tensor low = I32({2, 3}, {1, 1, 3, 2, 0, 0});
  EXPECT_EQ(Values<int64_t>(Run1(Arg("ArgMin", low, 1, 0, 0))), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(Values<int64_t>(Run1(Arg("ArgMin", low, 1, 0, 1))), (std::vector<int64_t>{1, 2}));
  // NaN wins (first NaN, as NumPy).
  Tensor nan = F32({4}, {1, kNan, 5, kNan});
  EXPECT_EQ(Values<int64_t>(Run1(Arg("ArgMax", nan, 0, 0, 0))), (std::vector<int64_t>{1}));
  EXPECT_EQ(Values<int64_t>(Run1(Arg("ArgMin", nan, 0, 0, 0))), (std::vector<int64_t>{1}));
  EXPECT_EQ(Values<int64_t>(Run1(Arg("ArgMax", nan, 0, 0, 1))), (std::vector<int64_t>{3}));
}

TEST(ArgTest, ChannelAxisOfLargeTensorThreaded) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1, 1);
  const Shape shape{1, 21, 64, 64};
  std::vector<float> x(static_cast<size_t>(NumElements(shape)));
  for (float& v : x) v = dist(rng);
  Tensor y = Run1(Arg("ArgMax", F32(shape, x), 1, 0, 0), 2);
  ASSERT_EQ(y.shape(), Shape({1, 64, 64}));
  for (int64_t i = 0; i < 64 * 64; ++i) {
    int64_t best = 0;
    for (int64_t c = 1; c < 21; ++c)
      if (x[c * 4096 + i] > x[best * 4096 + i]) best = c;
    ASSERT_EQ(y.data<int64_t>()[i], best) << "at " << i;
  }
}

TEST(ArgTest, Errors) {
  auto r = RunNode(Arg("ArgMax", F32({2}, {1, 2}), 1, 1, 0));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidModel);
  r = RunNode(Arg("ArgMax", F32({2, 0}, {}), 1, 1, 0));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- TopK

NodeSpec TopK(Tensor x, int64_t k, int64_t axis, int64_t opset, int64_t largest = 1) {
  NodeSpec s{"TopK", {{"x", x}}};
  s.opset = opset;
  s.num_outputs = 2;
  s.attributes.push_back(Attribute::Int("axis", axis));
  if (opset < 10)
    s.attributes.push_back(Attribute::Int("k", k));
  else
    s.inputs.push_back({"k", I64({1}, {k}), true});
  if (opset >= 11) s.attributes.push_back(Attribute::Int("largest", largest));
  return s;
}

void ExpectTopK(const NodeSpec& spec, const Shape& shape, const std::vector<float>& values,
                const std::vector<int64_t>& indices) {
  auto out = RunNode(spec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  testing::ExpectNear((*out)[0], shape, values);
  ASSERT_EQ((*out)[1].dtype(), DataType::kInt64);
  EXPECT_EQ((*out)[1].shape(), shape);
  EXPECT_EQ(Values<int64_t>((*out)[1]), indices);
}

TEST(TopKTest, EveryOpsetForm) {
  Tensor x = F32({1, 4}, {1, 3, 2, 4});
  ExpectTopK(TopK(x, 2, -1, 1), {1, 2}, {4, 3}, {3, 1});
  ExpectTopK(TopK(x, 2, 1, 10), {1, 2}, {4, 3}, {3, 1});
  ExpectTopK(TopK(x, 2, -1, 11, 1), {1, 2}, {4, 3}, {3, 1});
  ExpectTopK(TopK(x, 2, -1, 11, 0), {1, 2}, {1, 2}, {0, 2});
  // Runtime K (a graph input).
  NodeSpec s{"TopK", {{"x", x}, {"k", I64({1}, {3})}}};
  s.opset = 11;
  s.num_outputs = 2;
  ExpectTopK(s, {1, 3}, {4, 3, 2}, {3, 1, 2});
}

TEST(TopKTest, TiesKeepTheLowerIndexFirst) {
  ExpectTopK(TopK(F32({5}, {3, 1, 3, 2, 3}), 3, 0, 11), {3}, {3, 3, 3}, {0, 2, 4});
  ExpectTopK(TopK(F32({4}, {2, 1, 2, 1}), 2, 0, 11, 0), {2}, {1, 1}, {1, 3});
  ExpectTopK(TopK(F32({4}, {2, 1, 2, 1}), 4, 0, 11, 0), {4}, {1, 1, 2, 2}, {1, 3, 0, 2});
}

TEST(TopKTest, InnerAxisNanIntegersAndEmpty) {
  ExpectTopK(TopK(F32({3, 2}, {1, 5, 3, 2, 2, 4}), 2, 0, 11), {2, 2}, {3, 5, 2, 4}, {1, 0, 2, 2});
  ExpectTopK(TopK(F32({3}, {1, kNan, 3}), 2, 0, 11), {2}, {kNan, 3}, {1, 2});
  ExpectTopK(TopK(F32({3}, {1, kNan, 3}), 2, 0, 11, 0), {2}, {1, 3}, {0, 2});
  auto out = RunNode(TopK(I64({4}, {5, -1, 7, 0}), 2, 0, 11, 0));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int64_t>((*out)[0]), (std::vector<int64_t>{-1, 0}));
  EXPECT_EQ(Values<int64_t>((*out)[1]), (std::vector<int64_t>{1, 3}));
  out = RunNode(TopK(F32({2, 3}, {1, 2, 3, 4, 5, 6}), 0, 1, 11));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), Shape({2, 0}));
  EXPECT_EQ((*out)[1].shape(), Shape({2, 0}));
}

TEST(TopKTest, Errors) {
  NodeSpec s{"TopK", {{"x", F32({3}, {1, 2, 3})}, {"k", I64({1}, {4})}}};
  s.opset = 11;
  s.num_outputs = 2;
  auto r = RunNode(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("k = 4 is out of range [0, 3]"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(RunNode(TopK(F32({3}, {1, 2, 3}), -1, 0, 11)).status().code(),
            StatusCode::kInvalidModel);
  EXPECT_EQ(RunNode(TopK(F32({3}, {1, 2, 3}), 1, 1, 11)).status().code(),
            StatusCode::kInvalidModel);
}

// ---------------------------------------------------------------- CumSum

NodeSpec CumSum(Tensor x, Tensor axis, int64_t exclusive, int64_t reverse, bool constant = true) {
  NodeSpec s{"CumSum", {{"x", x}, {"axis", axis, constant}}};
  s.opset = 14;
  s.attributes = {Attribute::Int("exclusive", exclusive), Attribute::Int("reverse", reverse)};
  return s;
}

TEST(CumSumTest, ExclusiveAndReverse) {
  Tensor x = F32({5}, {1, 2, 3, 4, 5});
  Tensor axis = I32({}, {0});
  testing::ExpectNear(Run1(CumSum(x, axis, 0, 0)), {5}, {1, 3, 6, 10, 15});
  testing::ExpectNear(Run1(CumSum(x, axis, 1, 0)), {5}, {0, 1, 3, 6, 10});
  testing::ExpectNear(Run1(CumSum(x, axis, 0, 1)), {5}, {15, 14, 12, 9, 5});
  testing::ExpectNear(Run1(CumSum(x, axis, 1, 1)), {5}, {14, 12, 9, 5, 0});
}

TEST(CumSumTest, AxesAndTypes) {
  Tensor x = F32({2, 3}, {1, 2, 3, 4, 5, 6});
  testing::ExpectNear(Run1(CumSum(x, I64({}, {0}), 0, 0)), {2, 3}, {1, 2, 3, 5, 7, 9});
  testing::ExpectNear(Run1(CumSum(x, I64({1}, {1}), 0, 0)), {2, 3}, {1, 3, 6, 4, 9, 15});
  testing::ExpectNear(Run1(CumSum(x, I32({}, {-1}), 0, 1, false)), {2, 3}, {6, 5, 3, 15, 11, 6});
  Tensor y = Run1(CumSum(I64({4}, {1, -2, 3, 10}), I64({}, {0}), 1, 0));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{0, 1, -1, 2}));
  y = Run1(CumSum(I32({3}, {5, 6, 7}), I64({}, {0}), 0, 0));
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{5, 11, 18}));
}

TEST(CumSumTest, Errors) {
  auto r = RunNode(CumSum(F32({2}, {1, 2}), I64({}, {1}), 0, 0));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidModel);
  r = RunNode(CumSum(F32({2}, {1, 2}), I64({}, {-2}), 0, 0, false));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("axis -2 is out of range for rank 1"), std::string::npos);
}

}  // namespace
}  // namespace edgefit
