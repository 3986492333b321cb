// Tensor (data movement) kernels: Transpose, Concat, Split, Slice, Expand, Tile, Pad,
// DepthToSpace, SpaceToDepth, Trilu. Small cases are checked against values worked out by hand
// (or the examples of the ONNX spec); the Transpose fast paths and Slice's strided copy are
// checked against plain reference loops on random inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

#include "kernel_test_util.h"

namespace edgefit {
namespace {

using testing::F32;
using testing::I32;
using testing::I64;
using testing::NodeSpec;
using testing::RunNode;
using testing::Values;

// A NodeSpec (named fields: aggregate initialization would leave some unnamed).
NodeSpec Op(std::string op, std::vector<testing::NodeInput> inputs = {}, size_t outputs = 1,
            std::vector<Attribute> attributes = {}, int64_t opset = 17) {
  NodeSpec s;
  s.op_type = std::move(op);
  s.inputs = std::move(inputs);
  s.num_outputs = outputs;
  s.attributes = std::move(attributes);
  s.opset = opset;
  return s;
}

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Tensor RunOk(const NodeSpec& spec, size_t i = 0, int threads = 1) {
  auto out = RunNode(spec, threads);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok() || out->size() <= i) return Tensor();
  return (*out)[i];
}

void ExpectError(const NodeSpec& spec, StatusCode code, const std::string& text) {
  auto out = RunNode(spec);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), code) << out.status().ToString();
  EXPECT_NE(out.status().message().find(text), std::string::npos) << out.status().ToString();
}

Tensor Strings(Shape shape, const std::vector<std::string>& v) {
  Tensor t(DataType::kString, std::move(shape));
  t.strings() = v;
  return t;
}

std::vector<float> Iota(int64_t n, float start = 0) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

Tensor RandomF32(const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-10, 10);
  std::vector<float> v(NumElements(shape));
  for (float& f : v) f = dist(rng);
  return F32(shape, v);
}

// Row-major multi-index of flat index i.
std::vector<int64_t> Unravel(int64_t i, const Shape& shape) {
  std::vector<int64_t> c(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    c[d] = i % shape[d];
    i /= shape[d];
  }
  return c;
}
int64_t Ravel(const std::vector<int64_t>& c, const Shape& shape) {
  int64_t i = 0;
  for (size_t d = 0; d < shape.size(); ++d) i = i * shape[d] + c[d];
  return i;
}

// Hostile sizes are errors, never overflows or huge allocations.
TEST(TensorOpsTest, HugeSizesAreErrors) {
  Tensor x = F32({2, 2}, {1, 2, 3, 4});
  ExpectError(Op("Tile", {{"x", x}, {"r", I64({2}, {kMax, 1})}}), StatusCode::kInvalidArgument,
              "too large");
  ExpectError(Op("Pad", {{"x", x}, {"p", I64({4}, {kMin, 0, 0, 0})}}), StatusCode::kInvalidArgument,
              "too large");
  ExpectError(Op("Pad", {{"x", x}, {"p", I64({4}, {kMax, 0, 0, 0})}}), StatusCode::kInvalidArgument,
              "too large");
  ExpectError(Op("Split", {{"x", x}, {"s", I64({2}, {kMax, kMax})}}, 2),
              StatusCode::kInvalidArgument, "does not split");
  ExpectError(Op("DepthToSpace", {{"x", F32({1, 4, 1, 1}, {1, 2, 3, 4})}}, 1,
                 {Attribute::Int("blocksize", kMax)}),
              StatusCode::kInvalidModel, "blocksize");
  ExpectError(Op("Expand", {{"x", x}, {"s", I64({4}, {kMax, kMax, 2, 2})}}),
              StatusCode::kInvalidArgument, "invalid");
}

// ------------------------------------------------------------------------------- Transpose

TEST(TransposeTest, DefaultPermReverses) {
  Tensor y = RunOk(Op("Transpose", {{"x", F32({2, 3}, {1, 2, 3, 4, 5, 6})}}));
  testing::ExpectNear(y, {3, 2}, {1, 4, 2, 5, 3, 6});
}

TEST(TransposeTest, NchwToNhwcByHand) {
  NodeSpec s = Op("Transpose", {{"x", F32({1, 2, 2, 2}, Iota(8))}});
  s.attributes = {Attribute::Ints("perm", {0, 2, 3, 1})};
  testing::ExpectNear(RunOk(s), {1, 2, 2, 2}, {0, 4, 1, 5, 2, 6, 3, 7});
}

TEST(TransposeTest, StringsScalarsAndEmpty) {
  NodeSpec s = Op("Transpose", {{"x", Strings({2, 2}, {"a", "b", "c", "d"})}});
  EXPECT_EQ(RunOk(s).strings(), (std::vector<std::string>{"a", "c", "b", "d"}));
  testing::ExpectNear(RunOk(Op("Transpose", {{"x", Tensor::Scalar(3)}})), {}, {3});
  EXPECT_EQ(RunOk(Op("Transpose", {{"x", F32({0, 3}, {})}})).shape(), (Shape{3, 0}));
}

TEST(TransposeTest, BadPerm) {
  NodeSpec s = Op("Transpose", {{"x", F32({2, 3}, Iota(6))}});
  s.attributes = {Attribute::Ints("perm", {0, 0})};
  ExpectError(s, StatusCode::kInvalidModel, "not a permutation");
  s.attributes = {Attribute::Ints("perm", {0, 1, 2})};
  ExpectError(s, StatusCode::kInvalidArgument, "rank");
}

// Reference: out[c] = in[c permuted back], one element at a time.
std::vector<float> ReferenceTranspose(const Tensor& x, const std::vector<int64_t>& perm) {
  Shape out_shape(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) out_shape[i] = x.dim(perm[i]);
  std::vector<float> out(x.numel());
  for (int64_t i = 0; i < x.numel(); ++i) {
    std::vector<int64_t> oc = Unravel(i, out_shape), ic(perm.size());
    for (size_t d = 0; d < perm.size(); ++d) ic[perm[d]] = oc[d];
    out[i] = x.data<float>()[Ravel(ic, x.shape())];
  }
  return out;
}

// Every 4-D permutation (NCHW<->NHWC and friends take the blocked path, others the strided
// copy), the 6-D [0,1,2,4,5,3] permutation, on shapes with odd sizes, with 1 and 2 threads and
// above the parallel threshold.
TEST(TransposeTest, FastPathsMatchReferenceOnRandomInputs) {
  struct Case {
    Shape shape;
    std::vector<int64_t> perm;
  };
  std::vector<Case> cases;
  std::vector<int64_t> p = {0, 1, 2, 3};
  do cases.push_back({{2, 5, 7, 3}, p});
  while (std::next_permutation(p.begin(), p.end()));
  cases.push_back({{1, 64, 40, 33}, {0, 2, 3, 1}});  // NCHW -> NHWC, large
  cases.push_back({{1, 40, 33, 64}, {0, 3, 1, 2}});  // NHWC -> NCHW, large
  cases.push_back({{2, 3, 4, 5, 6, 7}, {0, 1, 2, 4, 5, 3}});
  cases.push_back({{1, 8, 12, 2, 36, 36}, {0, 1, 2, 4, 5, 3}});  // large 6-D
  cases.push_back({{37, 45}, {1, 0}});
  cases.push_back({{3, 1, 4, 1, 5}, {4, 3, 2, 1, 0}});
  uint32_t seed = 1234;
  for (const Case& c : cases) {
    Tensor x = RandomF32(c.shape, seed++);
    std::vector<float> expected = ReferenceTranspose(x, c.perm);
    Shape out_shape;
    for (int64_t d : c.perm) out_shape.push_back(c.shape[d]);
    for (int threads : {1, 2}) {
      NodeSpec s = Op("Transpose", {{"x", x}});
      s.attributes = {Attribute::Ints("perm", c.perm)};
      Tensor y = RunOk(s, 0, threads);
      ASSERT_EQ(y.shape(), out_shape);
      ASSERT_EQ(Values<float>(y), expected)
          << "shape " << ShapeToString(c.shape) << " perm " << ShapeToString(c.perm);
    }
  }
}

TEST(TransposeTest, EveryElementSize) {
  // 1-, 2-, 8- and 16-byte elements through the blocked path (NCHW -> NHWC).
  Shape shape = {1, 3, 5, 6};
  std::vector<int64_t> perm = {0, 2, 3, 1};
  Tensor f = RandomF32(shape, 7);
  std::vector<float> ref = ReferenceTranspose(f, perm);
  auto check = [&](DataType dt, auto zero) {
    using T = decltype(zero);
    std::vector<T> in(f.numel()), expected(f.numel());
    // Through int64: a negative float converted straight to an unsigned type is undefined.
    auto to_t = [](float v) { return static_cast<T>(static_cast<int64_t>(v * 10)); };
    for (int64_t i = 0; i < f.numel(); ++i) in[i] = to_t(f.data<float>()[i]);
    for (int64_t i = 0; i < f.numel(); ++i) expected[i] = to_t(ref[i]);
    NodeSpec s = Op("Transpose", {{"x", testing::Make<T>(dt, shape, in)}});
    s.attributes = {Attribute::Ints("perm", perm)};
    Tensor y = RunOk(s);
    EXPECT_EQ(y.dtype(), dt);
    EXPECT_EQ(Values<T>(y), expected) << DataTypeName(dt);
  };
  check(DataType::kInt8, int8_t{});
  check(DataType::kUint8, uint8_t{});
  check(DataType::kInt16, int16_t{});
  check(DataType::kInt64, int64_t{});
  check(DataType::kDouble, double{});
  std::vector<uint64_t> c128(2 * f.numel());
  for (size_t i = 0; i < c128.size(); ++i) c128[i] = i;
  NodeSpec s =
      Op("Transpose", {{"x", testing::Make<uint64_t>(DataType::kComplex128, shape, c128)}});
  s.attributes = {Attribute::Ints("perm", perm)};
  Tensor y = RunOk(s);
  Shape out_shape = {1, 5, 6, 3};
  for (int64_t i = 0; i < y.numel(); ++i) {
    std::vector<int64_t> oc = Unravel(i, out_shape);
    int64_t src = Ravel({oc[0], oc[3], oc[1], oc[2]}, shape);
    EXPECT_EQ(y.data<uint64_t>()[2 * i], static_cast<uint64_t>(2 * src));
    EXPECT_EQ(y.data<uint64_t>()[2 * i + 1], static_cast<uint64_t>(2 * src + 1));
  }
}

// ------------------------------------------------------------------------------- Concat

TEST(ConcatTest, AxesAndDtypes) {
  NodeSpec s = Op("Concat", {{"a", F32({2, 1}, {1, 2})}, {"b", F32({2, 2}, {3, 4, 5, 6})}});
  s.attributes = {Attribute::Int("axis", 1)};
  testing::ExpectNear(RunOk(s), {2, 3}, {1, 3, 4, 2, 5, 6});
  s.attributes = {Attribute::Int("axis", -1)};
  testing::ExpectNear(RunOk(s), {2, 3}, {1, 3, 4, 2, 5, 6});
  NodeSpec i = Op("Concat", {{"a", I64({1}, {1})}, {"e", I64({0}, {})}, {"b", I64({2}, {2, 3})}});
  i.attributes = {Attribute::Int("axis", 0)};
  EXPECT_EQ(Values<int64_t>(RunOk(i)), (std::vector<int64_t>{1, 2, 3}));
  NodeSpec str = Op("Concat", {{"a", Strings({1}, {"x"})}, {"b", Strings({1}, {"y"})}});
  str.attributes = {Attribute::Int("axis", 0)};
  EXPECT_EQ(RunOk(str).strings(), (std::vector<std::string>{"x", "y"}));
}

TEST(ConcatTest, Errors) {
  NodeSpec s = Op("Concat", {{"a", F32({2, 1}, {1, 2})}, {"b", F32({3, 1}, {3, 4, 5})}});
  s.attributes = {Attribute::Int("axis", 1)};
  ExpectError(s, StatusCode::kInvalidArgument, "does not match");
  s.attributes = {Attribute::Int("axis", 2)};
  ExpectError(s, StatusCode::kInvalidArgument, "out of range");
  s.attributes = {};
  ExpectError(s, StatusCode::kInvalidModel, "axis");
  // Before opset 4 the axis defaults to 1.
  testing::ExpectNear(
      RunOk(Op("Concat", {{"a", F32({1, 1}, {1})}, {"b", F32({1, 1}, {2})}}, 1, {}, 3)), {1, 2},
      {1, 2});
}

// ------------------------------------------------------------------------------- Split

TEST(SplitTest, AttributeBefore13) {
  NodeSpec s = Op("Split", {{"x", F32({5}, Iota(5))}}, 2);
  s.opset = 11;
  s.attributes = {Attribute::Ints("split", {2, 3})};
  auto out = RunNode(s);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  testing::ExpectNear((*out)[0], {2}, {0, 1});
  testing::ExpectNear((*out)[1], {3}, {2, 3, 4});
}

TEST(SplitTest, InputFrom13AndEqualSplit) {
  NodeSpec s = Op("Split", {{"x", F32({2, 4}, Iota(8))}, {"s", I64({2}, {1, 3})}}, 2);
  s.attributes = {Attribute::Int("axis", -1)};
  auto out = RunNode(s);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  testing::ExpectNear((*out)[0], {2, 1}, {0, 4});
  testing::ExpectNear((*out)[1], {2, 3}, {1, 2, 3, 5, 6, 7});
  NodeSpec eq = Op("Split", {{"x", F32({2, 4}, Iota(8))}}, 2);
  eq.attributes = {Attribute::Int("axis", 1)};
  out = RunNode(eq);
  ASSERT_TRUE(out.ok());
  testing::ExpectNear((*out)[0], {2, 2}, {0, 1, 4, 5});
  testing::ExpectNear((*out)[1], {2, 2}, {2, 3, 6, 7});
  // Uneven without 'split' is an error before 18.
  NodeSpec uneven = Op("Split", {{"x", F32({5}, Iota(5))}}, 2);
  ExpectError(uneven, StatusCode::kInvalidArgument, "equal parts");
  s.inputs[1].value = I64({2}, {1, 2});
  ExpectError(s, StatusCode::kInvalidArgument, "does not split");
}

TEST(SplitTest, NumOutputsFrom18WithSmallerLastChunk) {
  NodeSpec s = Op("Split", {{"x", I64({7}, {0, 1, 2, 3, 4, 5, 6})}}, 3);
  s.opset = 18;
  s.attributes = {Attribute::Int("num_outputs", 3)};
  auto out = RunNode(s);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values<int64_t>((*out)[0]), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(Values<int64_t>((*out)[1]), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(Values<int64_t>((*out)[2]), (std::vector<int64_t>{6}));
  s.attributes = {Attribute::Int("num_outputs", 2)};
  ExpectError(s, StatusCode::kInvalidModel, "num_outputs");
}

// ------------------------------------------------------------------------------- Slice

TEST(SliceTest, AttributeFormBefore10) {
  NodeSpec s = Op("Slice", {{"x", F32({3, 4}, Iota(12))}});
  s.opset = 9;
  s.attributes = {Attribute::Ints("starts", {1, -3}), Attribute::Ints("ends", {kMax, 3})};
  testing::ExpectNear(RunOk(s), {2, 2}, {5, 6, 9, 10});
  s.attributes = {Attribute::Ints("starts", {1}), Attribute::Ints("ends", {2}),
                  Attribute::Ints("axes", {1})};
  testing::ExpectNear(RunOk(s), {3, 1}, {1, 5, 9});
}

TEST(SliceTest, InputsStepsAxesAndClamping) {
  Tensor x = F32({3, 4}, Iota(12));
  // Reverse both axes: starts beyond the end clamp to dim-1, ends INT64_MIN clamp to -1.
  NodeSpec s = Op("Slice", {{"x", x},
                            {"s", I64({2}, {kMax, 10})},
                            {"e", I64({2}, {kMin, kMin})},
                            {"a", I64({2}, {0, -1})},
                            {"st", I64({2}, {-1, -2})}});
  testing::ExpectNear(RunOk(s), {3, 2}, {11, 9, 7, 5, 3, 1});
  // int32 starts/ends, default axes and steps.
  NodeSpec i = Op("Slice", {{"x", x}, {"s", I32({1}, {1})}, {"e", I32({1}, {-1})}});
  testing::ExpectNear(RunOk(i), {1, 4}, {4, 5, 6, 7});
  // Huge step: one element.
  NodeSpec big = Op("Slice", {{"x", x},
                              {"s", I64({1}, {1})},
                              {"e", I64({1}, {4})},
                              {"a", I64({1}, {1})},
                              {"st", I64({1}, {kMax})}});
  testing::ExpectNear(RunOk(big), {3, 1}, {1, 5, 9});
  big.inputs[4].value = I64({1}, {kMin});
  big.inputs[2].value = I64({1}, {kMin});
  testing::ExpectNear(RunOk(big), {3, 1}, {1, 5, 9});
  // Empty result.
  NodeSpec empty = Op("Slice", {{"x", x}, {"s", I64({1}, {2})}, {"e", I64({1}, {1})}});
  EXPECT_EQ(RunOk(empty).shape(), (Shape{0, 4}));
}

TEST(SliceTest, Errors) {
  Tensor x = F32({3, 4}, Iota(12));
  NodeSpec rep =
      Op("Slice",
         {{"x", x}, {"s", I64({2}, {0, 0})}, {"e", I64({2}, {1, 1})}, {"a", I64({2}, {1, -1})}});
  ExpectError(rep, StatusCode::kInvalidArgument, "repeat");
  NodeSpec zero = Op("Slice", {{"x", x},
                               {"s", I64({1}, {0})},
                               {"e", I64({1}, {1})},
                               {"a", I64({1}, {0})},
                               {"st", I64({1}, {0})}});
  ExpectError(zero, StatusCode::kInvalidArgument, "contain 0");
  zero.inputs[4].constant = true;
  ExpectError(zero, StatusCode::kInvalidModel, "contain 0");
  NodeSpec len = Op("Slice", {{"x", x}, {"s", I64({2}, {0, 0})}, {"e", I64({1}, {1})}});
  ExpectError(len, StatusCode::kInvalidArgument, "same length");
}

// Random slices (negative steps, out-of-range starts/ends) against a reference that walks the
// ONNX definition element by element.
TEST(SliceTest, RandomSlicesMatchReference) {
  std::mt19937 rng(99);
  Shape shape = {4, 5, 6};
  Tensor x = RandomF32(shape, 5);
  for (int iter = 0; iter < 200; ++iter) {
    std::vector<int64_t> starts, ends, axes, steps;
    for (int64_t d = 0; d < 3; ++d) {
      if (rng() % 3 == 0) continue;
      axes.push_back(rng() % 2 ? d : d - 3);
      starts.push_back(static_cast<int64_t>(rng() % 17) - 8);
      ends.push_back(static_cast<int64_t>(rng() % 17) - 8);
      int64_t st = static_cast<int64_t>(rng() % 4) + 1;
      steps.push_back(rng() % 2 ? st : -st);
    }
    // Reference: the index sequence of each axis.
    std::vector<std::vector<int64_t>> pick(3);
    for (int64_t d = 0; d < 3; ++d)
      for (int64_t i = 0; i < shape[d]; ++i) pick[d].push_back(i);
    for (size_t k = 0; k < axes.size(); ++k) {
      int64_t d = axes[k] < 0 ? axes[k] + 3 : axes[k], n = shape[d];
      int64_t b = starts[k] < 0 ? starts[k] + n : starts[k];
      int64_t e = ends[k] < 0 ? ends[k] + n : ends[k];
      pick[d].clear();
      if (steps[k] > 0) {
        b = std::clamp<int64_t>(b, 0, n), e = std::clamp<int64_t>(e, 0, n);
        for (int64_t i = b; i < e; i += steps[k]) pick[d].push_back(i);
      } else {
        b = std::clamp<int64_t>(b, 0, n - 1), e = std::clamp<int64_t>(e, -1, n - 1);
        for (int64_t i = b; i > e; i += steps[k]) pick[d].push_back(i);
      }
    }
    Shape out_shape = {static_cast<int64_t>(pick[0].size()), static_cast<int64_t>(pick[1].size()),
                       static_cast<int64_t>(pick[2].size())};
    std::vector<float> expected;
    for (int64_t a : pick[0])
      for (int64_t b : pick[1])
        for (int64_t c : pick[2]) expected.push_back(x.data<float>()[(a * 5 + b) * 6 + c]);
    int64_t n = static_cast<int64_t>(axes.size());
    NodeSpec s = Op("Slice", {{"x", x},
                              {"s", I64({n}, starts)},
                              {"e", I64({n}, ends)},
                              {"a", I64({n}, axes)},
                              {"st", I64({n}, steps)}});
    Tensor y = RunOk(s);
    ASSERT_EQ(y.shape(), out_shape) << "iteration " << iter;
    ASSERT_EQ(Values<float>(y), expected) << "iteration " << iter;
  }
}

// ------------------------------------------------------------------------------- Expand, Tile

TEST(ExpandTest, BidirectionalBroadcast) {
  NodeSpec s = Op("Expand", {{"x", F32({3, 1}, {1, 2, 3})}, {"s", I64({3}, {2, 1, 2})}});
  testing::ExpectNear(RunOk(s), {2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  // A target shape smaller than the input keeps the input's dims.
  s.inputs[1].value = I64({1}, {1});
  testing::ExpectNear(RunOk(s), {3, 1}, {1, 2, 3});
  s.inputs[1].value = I64({2}, {2, 2});
  ExpectError(s, StatusCode::kInvalidArgument, "broadcast");
  NodeSpec str = Op("Expand", {{"x", Strings({1}, {"z"})}, {"s", I64({1}, {3})}});
  EXPECT_EQ(RunOk(str).strings(), (std::vector<std::string>{"z", "z", "z"}));
}

TEST(TileTest, RepeatsEachAxis) {
  NodeSpec s = Op("Tile", {{"x", F32({2, 2}, {1, 2, 3, 4})}, {"r", I64({2}, {2, 3})}});
  testing::ExpectNear(RunOk(s), {4, 6},
                      {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
  s.inputs[1].value = I64({2}, {0, 1});
  EXPECT_EQ(RunOk(s).shape(), (Shape{0, 2}));
  s.inputs[1].value = I64({1}, {2});
  ExpectError(s, StatusCode::kInvalidArgument, "one value per dim");
  s.inputs[1].value = I64({2}, {-1, 1});
  ExpectError(s, StatusCode::kInvalidArgument, "negative");
}

// ------------------------------------------------------------------------------- Pad

TEST(PadTest, AttributeFormBefore11) {
  NodeSpec s = Op("Pad", {{"x", F32({2, 2}, {1, 2, 3, 4})}});
  s.opset = 2;
  s.attributes = {Attribute::Ints("pads", {0, 1, 1, 0}), Attribute::Float("value", 9)};
  testing::ExpectNear(RunOk(s), {3, 3}, {9, 1, 2, 9, 3, 4, 9, 9, 9});
}

TEST(PadTest, ConstantValueInputAndCropping) {
  NodeSpec s = Op("Pad", {{"x", I64({2, 3}, {1, 2, 3, 4, 5, 6})},
                          {"p", I64({4}, {1, -1, 0, 1})},
                          {"v", I64({}, {-5})}});
  Tensor y = RunOk(s);
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{-5, -5, -5, 2, 3, -5, 5, 6, -5}));
  // Without constant_value: 0.
  s.inputs.pop_back();
  EXPECT_EQ(Values<int64_t>(RunOk(s)), (std::vector<int64_t>{0, 0, 0, 2, 3, 0, 5, 6, 0}));
  s.inputs[1].value = I64({4}, {0, -4, 0, 0});
  ExpectError(s, StatusCode::kInvalidArgument, "remove more");
  s.inputs[1].value = I64({2}, {0, 0});
  ExpectError(s, StatusCode::kInvalidArgument, "must have 4 values");
}

TEST(PadTest, ReflectEdgeWrapModes) {
  Tensor x = F32({1, 3}, {1, 2, 3});
  NodeSpec s = Op("Pad", {{"x", x}, {"p", I64({4}, {0, 2, 0, 4})}});
  s.opset = 19;
  s.attributes = {Attribute::String("mode", "reflect")};
  // NumPy reflect is periodic with period 2*(n-1) = 4: ... 3 2 [1 2 3] 2 1 2 3
  testing::ExpectNear(RunOk(s), {1, 9}, {3, 2, 1, 2, 3, 2, 1, 2, 3});
  s.attributes = {Attribute::String("mode", "edge")};
  testing::ExpectNear(RunOk(s), {1, 9}, {1, 1, 1, 2, 3, 3, 3, 3, 3});
  s.attributes = {Attribute::String("mode", "wrap")};
  testing::ExpectNear(RunOk(s), {1, 9}, {2, 3, 1, 2, 3, 1, 2, 3, 1});
  s.opset = 18;
  ExpectError(s, StatusCode::kInvalidModel, "wrap");
  // Outer axes are mapped too.
  NodeSpec r = Op("Pad", {{"x", F32({3, 1}, {1, 2, 3})}, {"p", I64({4}, {1, 0, 1, 0})}});
  r.attributes = {Attribute::String("mode", "reflect")};
  testing::ExpectNear(RunOk(r), {5, 1}, {2, 1, 2, 3, 2});
  // A non-constant mode cannot pad an empty axis.
  NodeSpec e = Op("Pad", {{"x", F32({0, 2}, {})}, {"p", I64({4}, {1, 0, 0, 0})}});
  e.attributes = {Attribute::String("mode", "edge")};
  ExpectError(e, StatusCode::kInvalidArgument, "empty axis");
}

// Negative pads crop before the remaining pads are applied (ONNX Runtime's order): wrap then
// reads the cropped window, not the cropped-away elements.
TEST(PadTest, NegativePadsCropBeforePadding) {
  NodeSpec s = Op("Pad", {{"x", F32({1, 4}, {1, 2, 3, 4})}, {"p", I64({4}, {0, 2, 0, -1})}}, 1,
                  {Attribute::String("mode", "wrap")}, 19);
  testing::ExpectNear(RunOk(s), {1, 5}, {2, 3, 1, 2, 3});
  s.attributes = {Attribute::String("mode", "reflect")};
  s.inputs[1].value = I64({4}, {0, -2, 0, 3});
  testing::ExpectNear(RunOk(s), {1, 5}, {3, 4, 3, 4, 3});  // window [3, 4]
  s.attributes = {Attribute::String("mode", "edge")};
  s.inputs[1].value = I64({4}, {0, -4, 0, 1});
  ExpectError(s, StatusCode::kInvalidArgument, "empty axis");
  s.inputs[1].value = I64({4}, {0, -5, 0, 3});
  ExpectError(s, StatusCode::kInvalidArgument, "remove more");
}

TEST(PadTest, AxesInputFrom18) {
  NodeSpec s = Op("Pad", {{"x", F32({2, 2}, {1, 2, 3, 4})},
                          {"p", I64({2}, {1, 0})},
                          {"v", Tensor::Scalar(7)},
                          {"a", I64({1}, {-1})}});
  s.opset = 18;
  testing::ExpectNear(RunOk(s), {2, 3}, {7, 1, 2, 7, 3, 4});
}

// ------------------------------------------------------------------------------- DepthToSpace

std::vector<float> OnnxDocInput() {
  // The [1, 8, 2, 3] example of the ONNX spec: channel c holds 9*c + [0,1,2,3,4,5].
  std::vector<float> v;
  for (int c = 0; c < 8; ++c)
    for (int i = 0; i < 6; ++i) v.push_back(9.0f * c + i);
  return v;
}

TEST(DepthToSpaceTest, DcrAndCrdSpecExamples) {
  NodeSpec s = Op("DepthToSpace", {{"x", F32({1, 8, 2, 3}, OnnxDocInput())}});
  s.attributes = {Attribute::Int("blocksize", 2)};
  testing::ExpectNear(RunOk(s), {1, 2, 4, 6},
                      {0,  18, 1,  19, 2,  20, 36, 54, 37, 55, 38, 56, 3,  21, 4,  22,
                       5,  23, 39, 57, 40, 58, 41, 59, 9,  27, 10, 28, 11, 29, 45, 63,
                       46, 64, 47, 65, 12, 30, 13, 31, 14, 32, 48, 66, 49, 67, 50, 68});
  s.attributes.push_back(Attribute::String("mode", "CRD"));
  testing::ExpectNear(RunOk(s), {1, 2, 4, 6},
                      {0,  9,  1,  10, 2,  11, 18, 27, 19, 28, 20, 29, 3,  12, 4,  13,
                       5,  14, 21, 30, 22, 31, 23, 32, 36, 45, 37, 46, 38, 47, 54, 63,
                       55, 64, 56, 65, 39, 48, 40, 49, 41, 50, 57, 66, 58, 67, 59, 68});
  s.attributes = {Attribute::Int("blocksize", 3)};
  ExpectError(s, StatusCode::kInvalidArgument, "not divisible");
  s.attributes = {Attribute::Int("blocksize", 2), Attribute::String("mode", "XYZ")};
  ExpectError(s, StatusCode::kInvalidModel, "mode");
}

TEST(SpaceToDepthTest, HandExampleAndInverseOfDcr) {
  NodeSpec s = Op("SpaceToDepth", {{"x", F32({1, 1, 2, 4}, Iota(8))}});
  s.attributes = {Attribute::Int("blocksize", 2)};
  // Channel (i*2 + j) holds x[2h + i, 2w + j].
  testing::ExpectNear(RunOk(s), {1, 4, 1, 2}, {0, 2, 1, 3, 4, 6, 5, 7});
  Tensor x = RandomF32({2, 3, 4, 6}, 3);
  s.inputs[0].value = x;
  Tensor packed = RunOk(s);
  EXPECT_EQ(packed.shape(), (Shape{2, 12, 2, 3}));
  NodeSpec back = Op("DepthToSpace", {{"x", packed}});
  back.attributes = {Attribute::Int("blocksize", 2)};
  EXPECT_EQ(Values<float>(RunOk(back)), Values<float>(x));
  s.inputs[0].value = F32({1, 1, 3, 2}, Iota(6));
  ExpectError(s, StatusCode::kInvalidArgument, "not divisible");
}

// ------------------------------------------------------------------------------- Trilu

TEST(TriluTest, UpperLowerAndK) {
  Tensor x = F32({3, 4}, Iota(12, 1));
  NodeSpec s = Op("Trilu", {{"x", x}});
  s.opset = 14;
  testing::ExpectNear(RunOk(s), {3, 4}, {1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12});
  s.inputs.push_back({"k", I64({}, {1})});
  testing::ExpectNear(RunOk(s), {3, 4}, {0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12});
  s.attributes = {Attribute::Int("upper", 0)};
  s.inputs[1].value = I64({}, {-1});
  testing::ExpectNear(RunOk(s), {3, 4}, {0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0});
  s.inputs[1].value = I64({}, {kMax});
  testing::ExpectNear(RunOk(s), {3, 4}, Iota(12, 1));
  s.inputs[1].value = I64({}, {kMin});
  testing::ExpectNear(RunOk(s), {3, 4}, std::vector<float>(12, 0));
}

TEST(TriluTest, BatchedInt64) {
  NodeSpec s = Op("Trilu", {{"x", I64({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})}});
  s.attributes = {Attribute::Int("upper", 0)};
  EXPECT_EQ(Values<int64_t>(RunOk(s)), (std::vector<int64_t>{1, 0, 3, 4, 5, 0, 7, 8}));
  NodeSpec bad = Op("Trilu", {{"x", F32({3}, {1, 2, 3})}});
  ExpectError(bad, StatusCode::kInvalidArgument, "rank >= 2");
}

}  // namespace
}  // namespace edgefit
