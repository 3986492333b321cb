// Gather/scatter kernels: Gather, GatherElements, GatherND, ScatterND, ScatterElements, Scatter,
// OneHot, NonZero. Most expectations are the examples of the ONNX spec or worked out by hand.
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

// ------------------------------------------------------------------------------- Gather

TEST(GatherTest, AxesAndNegativeIndices) {
  Tensor data = F32({3, 2}, {1, 2, 3, 4, 5, 6});
  NodeSpec s = Op("Gather", {{"d", data}, {"i", I64({2, 2}, {0, 1, 1, 2})}});
  testing::ExpectNear(RunOk(s), {2, 2, 2}, {1, 2, 3, 4, 3, 4, 5, 6});
  s.attributes = {Attribute::Int("axis", -1)};
  s.inputs[1].value = I32({1}, {-1});
  testing::ExpectNear(RunOk(s), {3, 1}, {2, 4, 6});
  // A scalar index drops the axis.
  s.attributes = {};
  s.inputs[1].value = I64({}, {-3});
  testing::ExpectNear(RunOk(s), {2}, {1, 2});
  // No indices: empty output.
  s.inputs[1].value = I64({0}, {});
  EXPECT_EQ(RunOk(s).shape(), (Shape{0, 2}));
}

TEST(GatherTest, OutOfRangeIndexNamesIndexAndRange) {
  NodeSpec s = Op("Gather", {{"d", F32({5}, {1, 2, 3, 4, 5})}, {"i", I64({2}, {1, 5})}});
  ExpectError(s, StatusCode::kInvalidArgument, "index 5 is out of range [-5, 5)");
  s.inputs[1].value = I64({1}, {-6});
  ExpectError(s, StatusCode::kInvalidArgument, "index -6 is out of range [-5, 5)");
  s.inputs[1].value = I64({1}, {std::numeric_limits<int64_t>::min()});
  ExpectError(s, StatusCode::kInvalidArgument, "out of range");
  s.attributes = {Attribute::Int("axis", 1)};
  ExpectError(s, StatusCode::kInvalidArgument, "axis 1 is out of range");
}

TEST(GatherTest, StringsAndLargeParallel) {
  NodeSpec s = Op("Gather", {{"d", Strings({3}, {"a", "b", "c"})}, {"i", I64({3}, {2, 2, 0})}});
  EXPECT_EQ(RunOk(s).strings(), (std::vector<std::string>{"c", "c", "a"}));
  // Embedding-style lookup large enough to run in parallel.
  std::vector<float> table(1000 * 64);
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<float>(i);
  std::vector<int64_t> ids(2000);
  std::mt19937 rng(3);
  for (int64_t& id : ids) id = static_cast<int64_t>(rng() % 1000);
  NodeSpec big = Op("Gather", {{"d", F32({1000, 64}, table)}, {"i", I64({2000}, ids)}});
  Tensor y = RunOk(big, 0, 2);
  ASSERT_EQ(y.shape(), (Shape{2000, 64}));
  for (int64_t r = 0; r < 2000; ++r)
    for (int64_t c = 0; c < 64; c += 21)
      ASSERT_EQ(y.data<float>()[r * 64 + c], static_cast<float>(ids[r] * 64 + c));
}

// ------------------------------------------------------------------------------- GatherElements

TEST(GatherElementsTest, SpecExamples) {
  NodeSpec s =
      Op("GatherElements", {{"d", F32({2, 2}, {1, 2, 3, 4})}, {"i", I64({2, 2}, {0, 0, 1, 0})}});
  s.attributes = {Attribute::Int("axis", 1)};
  testing::ExpectNear(RunOk(s), {2, 2}, {1, 1, 4, 3});
  NodeSpec a0 = Op("GatherElements", {{"d", F32({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})},
                                      {"i", I32({2, 3}, {1, 2, 0, 2, 0, -3})}});
  testing::ExpectNear(RunOk(a0), {2, 3}, {4, 8, 3, 7, 2, 3});
  a0.inputs[1].value = I32({1, 1}, {3});
  ExpectError(a0, StatusCode::kInvalidArgument, "index 3 is out of range [-3, 3)");
  a0.inputs[1].value = I32({3}, {0, 0, 0});
  ExpectError(a0, StatusCode::kInvalidArgument, "rank");
}

// ------------------------------------------------------------------------------- GatherND

TEST(GatherNDTest, SpecExamples) {
  NodeSpec s = Op("GatherND", {{"d", I32({2, 2}, {0, 1, 2, 3})}, {"i", I64({2, 2}, {0, 0, 1, 1})}});
  EXPECT_EQ(Values<int32_t>(RunOk(s)), (std::vector<int32_t>{0, 3}));
  s.inputs[1].value = I64({2, 1}, {1, 0});
  Tensor y = RunOk(s);
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{2, 3, 0, 1}));
  // batch_dims = 1 (opset 12).
  NodeSpec b =
      Op("GatherND", {{"d", I32({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7})}, {"i", I64({2, 1}, {1, 0})}});
  b.attributes = {Attribute::Int("batch_dims", 1)};
  y = RunOk(b);
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{2, 3, 4, 5}));
  // Negative index; out of range.
  s.inputs[1].value = I64({1, 2}, {-1, -2});
  EXPECT_EQ(Values<int32_t>(RunOk(s)), (std::vector<int32_t>{2}));
  s.inputs[1].value = I64({1, 2}, {0, 2});
  ExpectError(s, StatusCode::kInvalidArgument, "index 2 is out of range [-2, 2)");
  s.inputs[1].value = I64({1, 3}, {0, 0, 0});
  ExpectError(s, StatusCode::kInvalidArgument, "tuples of 3");
}

// ------------------------------------------------------------------------------- ScatterND

TEST(ScatterNDTest, SpecExampleAndSlices) {
  NodeSpec s = Op("ScatterND", {{"d", F32({8}, {1, 2, 3, 4, 5, 6, 7, 8})},
                                {"i", I64({4, 1}, {4, 3, 1, 7})},
                                {"u", F32({4}, {9, 10, 11, 12})}});
  testing::ExpectNear(RunOk(s), {8}, {1, 11, 3, 10, 9, 6, 7, 12});
  NodeSpec rows =
      Op("ScatterND",
         {{"d", I64({2, 2}, {1, 2, 3, 4})}, {"i", I64({1, 1}, {-1})}, {"u", I64({1, 2}, {8, 9})}});
  EXPECT_EQ(Values<int64_t>(RunOk(rows)), (std::vector<int64_t>{1, 2, 8, 9}));
  rows.inputs[2].value = I64({2}, {8, 9});
  ExpectError(rows, StatusCode::kInvalidArgument, "updates");
  s.inputs[1].value = I64({4, 1}, {4, 3, 1, 8});
  ExpectError(s, StatusCode::kInvalidArgument, "index 8 is out of range [-8, 8)");
}

TEST(ScatterNDTest, ReductionsByOpset) {
  NodeSpec s =
      Op("ScatterND",
         {{"d", F32({4}, {1, 2, 3, 4})}, {"i", I64({2, 1}, {1, 1})}, {"u", F32({2}, {10, 20})}});
  s.opset = 16;
  s.attributes = {Attribute::String("reduction", "add")};
  testing::ExpectNear(RunOk(s), {4}, {1, 32, 3, 4});
  s.attributes = {Attribute::String("reduction", "mul")};
  testing::ExpectNear(RunOk(s), {4}, {1, 400, 3, 4});
  s.attributes = {Attribute::String("reduction", "max")};
  ExpectError(s, StatusCode::kInvalidModel, "reduction 'max'");
  s.opset = 18;
  testing::ExpectNear(RunOk(s), {4}, {1, 20, 3, 4});
  s.attributes = {Attribute::String("reduction", "min")};
  testing::ExpectNear(RunOk(s), {4}, {1, 2, 3, 4});
  // Before 16 there is no reduction attribute: plain assignment.
  s.opset = 13;
  s.attributes = {};
  testing::ExpectNear(RunOk(s), {4}, {1, 20, 3, 4});
  // Integer and float16 reductions compute in their own type.
  NodeSpec i = Op("ScatterND", {{"d", testing::Make<int8_t>(DataType::kInt8, {2}, {100, 5})},
                                {"i", I64({2, 1}, {0, 0})},
                                {"u", testing::Make<int8_t>(DataType::kInt8, {2}, {20, 10})}});
  i.opset = 18;
  i.attributes = {Attribute::String("reduction", "add")};
  EXPECT_EQ(Values<int8_t>(RunOk(i)), (std::vector<int8_t>{static_cast<int8_t>(130 - 256), 5}));
  NodeSpec h = Op("ScatterND",
                  {{"d", testing::Make<uint16_t>(DataType::kFloat16, {1}, {FloatToHalf(1.5f)})},
                   {"i", I64({1, 1}, {0})},
                   {"u", testing::Make<uint16_t>(DataType::kFloat16, {1}, {FloatToHalf(2.0f)})}});
  h.opset = 18;
  h.attributes = {Attribute::String("reduction", "mul")};
  EXPECT_EQ(HalfToFloat(RunOk(h).data<uint16_t>()[0]), 3.0f);
  // NaN propagates through max.
  s.opset = 18;
  s.attributes = {Attribute::String("reduction", "max")};
  s.inputs[2].value = F32({2}, {std::nanf(""), 0});
  EXPECT_TRUE(std::isnan(RunOk(s).data<float>()[1]));
}

// ------------------------------------------------------------------------------- ScatterElements

TEST(ScatterElementsTest, SpecExamples) {
  NodeSpec s = Op("ScatterElements", {{"d", F32({3, 3}, std::vector<float>(9, 0.0f))},
                                      {"i", I64({2, 3}, {1, 0, 2, 0, 2, 1})},
                                      {"u", F32({2, 3}, {1.0f, 1.1f, 1.2f, 2.0f, 2.1f, 2.2f})}});
  testing::ExpectNear(RunOk(s), {3, 3}, {2.0f, 1.1f, 0, 1.0f, 0, 2.2f, 0, 2.1f, 1.2f});
  NodeSpec a1 = Op("ScatterElements", {{"d", F32({1, 5}, {1, 2, 3, 4, 5})},
                                       {"i", I64({1, 2}, {1, -2})},
                                       {"u", F32({1, 2}, {1.1f, 2.1f})}});
  a1.attributes = {Attribute::Int("axis", 1)};
  testing::ExpectNear(RunOk(a1), {1, 5}, {1, 1.1f, 3, 2.1f, 5});
  a1.inputs[1].value = I64({1, 2}, {1, 5});
  ExpectError(a1, StatusCode::kInvalidArgument, "index 5 is out of range [-5, 5)");
  a1.inputs[1].value = I64({1, 1}, {1});
  ExpectError(a1, StatusCode::kInvalidArgument, "shape of indices");
}

TEST(ScatterElementsTest, ReductionsAndDeprecatedScatter) {
  NodeSpec s =
      Op("ScatterElements",
         {{"d", I64({1, 3}, {1, 2, 3})}, {"i", I64({1, 2}, {1, 1})}, {"u", I64({1, 2}, {5, 7})}});
  s.attributes = {Attribute::Int("axis", 1), Attribute::String("reduction", "add")};
  s.opset = 16;
  EXPECT_EQ(Values<int64_t>(RunOk(s)), (std::vector<int64_t>{1, 14, 3}));
  s.attributes[1] = Attribute::String("reduction", "min");
  s.opset = 18;
  EXPECT_EQ(Values<int64_t>(RunOk(s)), (std::vector<int64_t>{1, 2, 3}));
  // Strings: plain assignment works for every dtype.
  NodeSpec str =
      Op("ScatterElements",
         {{"d", Strings({2}, {"a", "b"})}, {"i", I64({1}, {1})}, {"u", Strings({1}, {"z"})}});
  EXPECT_EQ(RunOk(str).strings(), (std::vector<std::string>{"a", "z"}));
  // Scatter (opset 9-10) = ScatterElements without reduction.
  NodeSpec old = Op("Scatter", {{"d", F32({1, 5}, {1, 2, 3, 4, 5})},
                                {"i", I64({1, 2}, {1, 3})},
                                {"u", F32({1, 2}, {1.1f, 2.1f})}});
  old.opset = 10;
  old.attributes = {Attribute::Int("axis", 1)};
  testing::ExpectNear(RunOk(old), {1, 5}, {1, 1.1f, 3, 2.1f, 5});
  old.opset = 11;  // deprecated
  ExpectError(old, StatusCode::kUnsupported, "no kernel");
}

// ------------------------------------------------------------------------------- OneHot

TEST(OneHotTest, AxesAndNegativeIndices) {
  NodeSpec s =
      Op("OneHot", {{"i", I64({3}, {0, 2, -1})}, {"d", I64({}, {3})}, {"v", F32({2}, {0, 5})}});
  s.opset = 11;
  testing::ExpectNear(RunOk(s), {3, 3}, {5, 0, 0, 0, 0, 5, 0, 0, 5});
  // Opset 9: negative indices are out of range (all off).
  s.opset = 9;
  testing::ExpectNear(RunOk(s), {3, 3}, {5, 0, 0, 0, 0, 5, 0, 0, 0});
  s.opset = 11;
  s.attributes = {Attribute::Int("axis", 0)};
  testing::ExpectNear(RunOk(s), {3, 3}, {5, 0, 0, 0, 0, 0, 0, 5, 5});
  // Float indices and depth are truncated; out-of-range indices give all off.
  NodeSpec f =
      Op("OneHot", {{"i", F32({2}, {1.7f, 7})}, {"d", F32({1}, {2.9f})}, {"v", I32({2}, {-1, 1})}});
  Tensor y = RunOk(f);
  EXPECT_EQ(y.dtype(), DataType::kInt32);
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{-1, 1, -1, -1}));
  f.inputs[1].value = F32({1}, {0});
  ExpectError(f, StatusCode::kInvalidArgument, "depth");
}

// ------------------------------------------------------------------------------- NonZero

TEST(NonZeroTest, CoordinatesPerDim) {
  NodeSpec s = Op("NonZero", {{"x", F32({2, 2}, {1, 0, -0.0f, std::nanf("")})}});
  Tensor y = RunOk(s);
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{0, 1, 0, 1}));
  NodeSpec b = Op("NonZero", {{"x", testing::Make<uint8_t>(DataType::kBool, {3}, {0, 1, 1})}});
  EXPECT_EQ(Values<int64_t>(RunOk(b)), (std::vector<int64_t>{1, 2}));
  NodeSpec e = Op("NonZero", {{"x", I64({2, 0}, {})}});
  EXPECT_EQ(RunOk(e).shape(), (Shape{2, 0}));
  NodeSpec scalar = Op("NonZero", {{"x", I32({}, {3})}});
  y = RunOk(scalar);
  EXPECT_EQ(y.shape(), (Shape{1, 1}));
  EXPECT_EQ(Values<int64_t>(y), std::vector<int64_t>{0});
}

}  // namespace
}  // namespace edgefit
