// Shape-op kernels: Constant, Identity, Dropout, Reshape, Flatten, Squeeze, Unsqueeze, Shape,
// Size, ConstantOfShape, EyeLike, Range. Expected values are worked out by hand from the ONNX
// spec of each opset version.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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

// Runs the node and returns output `i` (an empty tensor after a failed ASSERT-like check).
Tensor RunOk(const NodeSpec& spec, size_t i = 0, int threads = 1) {
  auto out = RunNode(spec, threads);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok() || out->size() <= i) return Tensor();
  return (*out)[i];
}

// The node fails with `code` and a message containing `text`.
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

Tensor Bools(Shape shape, const std::vector<uint8_t>& v) {
  return testing::Make<uint8_t>(DataType::kBool, std::move(shape), v);
}

// ------------------------------------------------------------------------------- Constant

TEST(ConstantTest, ValueTensorAnyDtype) {
  NodeSpec s = Op("Constant");
  s.attributes = {Attribute::TensorValue("value", I64({2}, {7, -3}))};
  Tensor y = RunOk(s);
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{7, -3}));

  s.attributes = {Attribute::TensorValue("value", Strings({2}, {"a", "bc"}))};
  y = RunOk(s);
  ASSERT_EQ(y.dtype(), DataType::kString);
  EXPECT_EQ(y.strings(), (std::vector<std::string>{"a", "bc"}));
}

TEST(ConstantTest, TypedFormsFromOpset12) {
  NodeSpec s = Op("Constant");
  s.opset = 12;
  s.attributes = {Attribute::Float("value_float", 2.5f)};
  testing::ExpectNear(RunOk(s), {}, {2.5f});
  s.attributes = {Attribute::Floats("value_floats", {1, 2})};
  testing::ExpectNear(RunOk(s), {2}, {1, 2});
  s.attributes = {Attribute::Int("value_int", 5)};
  Tensor y = RunOk(s);
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(y.shape(), Shape{});
  EXPECT_EQ(Values<int64_t>(y), std::vector<int64_t>{5});
  s.attributes = {Attribute::Ints("value_ints", {4, 5, 6})};
  EXPECT_EQ(Values<int64_t>(RunOk(s)), (std::vector<int64_t>{4, 5, 6}));
  s.attributes = {Attribute::String("value_string", "hi")};
  y = RunOk(s);
  ASSERT_EQ(y.dtype(), DataType::kString);
  EXPECT_EQ(y.shape(), Shape{});
  EXPECT_EQ(y.strings()[0], "hi");
  Attribute strs;
  strs.name = "value_strings";
  strs.type = AttrType::kStrings;
  strs.strings = {"x", "y"};
  s.attributes = {strs};
  y = RunOk(s);
  EXPECT_EQ(y.shape(), Shape{2});
  EXPECT_EQ(y.strings(), (std::vector<std::string>{"x", "y"}));
}

TEST(ConstantTest, TypedFormBeforeOpset12IsInvalid) {
  NodeSpec s = Op("Constant");
  s.opset = 11;
  s.attributes = {Attribute::Float("value_float", 1.0f)};
  ExpectError(s, StatusCode::kInvalidModel, "opset 12");
}

TEST(ConstantTest, SparseValueUnsupportedAndNeedsExactlyOneValue) {
  NodeSpec s = Op("Constant");
  s.opset = 13;
  Attribute sparse;
  sparse.name = "sparse_value";
  sparse.type = AttrType::kSparseTensor;
  sparse.opaque = {""};
  s.attributes = {sparse};
  ExpectError(s, StatusCode::kUnsupported, "sparse_value");
  s.attributes = {};
  ExpectError(s, StatusCode::kInvalidModel, "exactly one");
  s.attributes = {Attribute::Float("value_float", 1), Attribute::Int("value_int", 1)};
  ExpectError(s, StatusCode::kInvalidModel, "exactly one");
}

// ------------------------------------------------------------------------------- Identity

TEST(IdentityTest, SharesTheInputBytes) {
  Tensor x = I64({2, 2}, {1, 2, 3, 4});
  Tensor y = RunOk(Op("Identity", {{"x", x}}));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(y.SameStorage(x));
  Tensor s = RunOk(Op("Identity", {{"x", Strings({1}, {"q"})}}));
  EXPECT_EQ(s.strings()[0], "q");
}

// ------------------------------------------------------------------------------- Dropout

TEST(DropoutTest, InferenceIsIdentityWithAllTrueMask) {
  NodeSpec s = Op("Dropout", {{"x", F32({3}, {1, -2, 3})}}, 2);
  s.opset = 13;
  auto out = RunNode(s);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  testing::ExpectNear((*out)[0], {3}, {1, -2, 3});
  EXPECT_EQ((*out)[1].dtype(), DataType::kBool);
  EXPECT_EQ(Values<uint8_t>((*out)[1]), (std::vector<uint8_t>{1, 1, 1}));
}

TEST(DropoutTest, Opset7MaskHasInputType) {
  NodeSpec s = Op("Dropout", {{"x", F32({2}, {4, 5})}}, 2);
  s.opset = 7;
  s.attributes = {Attribute::Float("ratio", 0.3f)};
  testing::ExpectNear(RunOk(s, 1), {2}, {1, 1});
  s.opset = 10;
  EXPECT_EQ(RunOk(s, 1).dtype(), DataType::kBool);
}

TEST(DropoutTest, TrainingModeOnlyWithZeroRatio) {
  NodeSpec s = Op("Dropout",
                  {{"x", F32({2}, {4, 5})}, {"r", Tensor::Scalar(0.0f)}, {"t", Bools({}, {1})}}, 2);
  s.opset = 12;
  testing::ExpectNear(RunOk(s), {2}, {4, 5});
  EXPECT_EQ(Values<uint8_t>(RunOk(s, 1)), (std::vector<uint8_t>{1, 1}));
  // A non-zero ratio in training mode is random dropout: unsupported, at run time when the
  // inputs are runtime values...
  s.inputs[1].value = Tensor::Scalar(0.5f);
  ExpectError(s, StatusCode::kUnsupported, "training-mode");
  // ...and when building when they are constants (the ratio defaults to 0.5).
  s.inputs = {{"x", F32({2}, {4, 5})}, {"", Tensor()}, {"t", Bools({}, {1}), true}};
  ExpectError(s, StatusCode::kUnsupported, "training-mode");
  // training_mode false: the ratio is ignored.
  s.inputs = {{"x", F32({2}, {4, 5})}, {"r", Tensor::Scalar(0.9f)}, {"t", Bools({}, {0})}};
  testing::ExpectNear(RunOk(s), {2}, {4, 5});
}

// ------------------------------------------------------------------------------- Reshape

TEST(ReshapeTest, ZeroCopiesDimAndMinusOneInfers) {
  Tensor x = F32({2, 3, 4}, std::vector<float>(24, 1.0f));
  Tensor y = RunOk(Op("Reshape", {{"x", x}, {"s", I64({3}, {0, -1, 2})}}));
  EXPECT_EQ(y.shape(), (Shape{2, 6, 2}));
  EXPECT_TRUE(y.SameStorage(x));  // a view, no copy
  y = RunOk(Op("Reshape", {{"x", x}, {"s", I64({2}, {-1, 4}), true}}));
  EXPECT_EQ(y.shape(), (Shape{6, 4}));
}

TEST(ReshapeTest, AllowZeroFromOpset14) {
  Tensor x = F32({0, 3}, {});
  NodeSpec s = Op("Reshape", {{"x", x}, {"s", I64({2}, {3, 0})}});
  s.attributes = {Attribute::Int("allowzero", 1)};
  s.opset = 14;
  EXPECT_EQ(RunOk(s).shape(), (Shape{3, 0}));
  // Before 14 the attribute does not exist: 0 copies the input's dim 1 (3), so 9 != 0 elements.
  s.opset = 13;
  ExpectError(s, StatusCode::kInvalidArgument, "cannot reshape");
  // allowzero with both 0 and -1 is an error.
  s.opset = 14;
  s.inputs[1].value = I64({2}, {0, -1});
  ExpectError(s, StatusCode::kInvalidArgument, "both 0 and -1");
}

TEST(ReshapeTest, Errors) {
  Tensor x = F32({2, 3}, {1, 2, 3, 4, 5, 6});
  ExpectError(Op("Reshape", {{"x", x}, {"s", I64({2}, {-1, -1})}}), StatusCode::kInvalidArgument,
              "more than one -1");
  ExpectError(Op("Reshape", {{"x", x}, {"s", I64({2}, {-1, -1}), true}}), StatusCode::kInvalidModel,
              "more than one -1");
  ExpectError(Op("Reshape", {{"x", x}, {"s", I64({1}, {5})}}), StatusCode::kInvalidArgument,
              "cannot reshape");
  ExpectError(Op("Reshape", {{"x", x}, {"s", I64({2}, {4, -1})}}), StatusCode::kInvalidArgument,
              "cannot reshape");
  ExpectError(Op("Reshape", {{"x", x}, {"s", I64({3}, {0, 0, 0})}}), StatusCode::kInvalidArgument,
              "has rank 2");
}

TEST(ReshapeTest, EmptyShapeGivesScalar) {
  Tensor y = RunOk(Op("Reshape", {{"x", I64({1, 1}, {9})}, {"s", I64({0}, {})}}));
  EXPECT_EQ(y.shape(), Shape{});
  EXPECT_EQ(Values<int64_t>(y), std::vector<int64_t>{9});
}

// ------------------------------------------------------------------------------- Flatten

TEST(FlattenTest, Axes) {
  Tensor x = F32({2, 3, 4, 5}, std::vector<float>(120, 0.0f));
  NodeSpec s = Op("Flatten", {{"x", x}});
  EXPECT_EQ(RunOk(s).shape(), (Shape{2, 60}));  // default axis 1
  s.attributes = {Attribute::Int("axis", 0)};
  EXPECT_EQ(RunOk(s).shape(), (Shape{1, 120}));
  s.attributes = {Attribute::Int("axis", 4)};
  EXPECT_EQ(RunOk(s).shape(), (Shape{120, 1}));
  s.attributes = {Attribute::Int("axis", -3)};
  s.opset = 11;
  EXPECT_EQ(RunOk(s).shape(), (Shape{2, 60}));
  EXPECT_TRUE(RunOk(s).SameStorage(x));
  s.opset = 9;
  ExpectError(s, StatusCode::kInvalidModel, "negative axis");
  s.opset = 13;
  s.attributes = {Attribute::Int("axis", 5)};
  ExpectError(s, StatusCode::kInvalidArgument, "out of range");
}

// ------------------------------------------------------------------------------- Squeeze

TEST(SqueezeTest, AxesAttributeBefore13InputFrom13) {
  Tensor x = F32({1, 3, 1, 2}, {1, 2, 3, 4, 5, 6});
  NodeSpec s = Op("Squeeze", {{"x", x}});
  s.opset = 11;
  s.attributes = {Attribute::Ints("axes", {0, -2})};
  EXPECT_EQ(RunOk(s).shape(), (Shape{3, 2}));
  s.attributes = {Attribute::Ints("axes", {2})};
  EXPECT_EQ(RunOk(s).shape(), (Shape{1, 3, 2}));
  s.opset = 13;
  s.attributes = {};
  s.inputs.push_back({"axes", I64({1}, {-4})});
  EXPECT_EQ(RunOk(s).shape(), (Shape{3, 1, 2}));
  s.inputs[1].value = I64({1}, {1});
  ExpectError(s, StatusCode::kInvalidArgument, "cannot squeeze axis 1 of size 3");
  s.inputs[1].value = I64({1}, {4});
  ExpectError(s, StatusCode::kInvalidArgument, "out of range");
}

TEST(SqueezeTest, WithoutAxesDropsEveryOne) {
  NodeSpec s = Op("Squeeze", {{"x", F32({1, 3, 1}, {1, 2, 3})}});
  EXPECT_EQ(RunOk(s).shape(), (Shape{3}));
  s.opset = 11;
  EXPECT_EQ(RunOk(s).shape(), (Shape{3}));
  NodeSpec scalar = Op("Squeeze", {{"x", F32({1, 1}, {7})}});
  testing::ExpectNear(RunOk(scalar), {}, {7});
}

// ------------------------------------------------------------------------------- Unsqueeze

TEST(UnsqueezeTest, AxesAttributeBefore13InputFrom13) {
  Tensor x = F32({3, 2}, {1, 2, 3, 4, 5, 6});
  NodeSpec s = Op("Unsqueeze", {{"x", x}});
  s.opset = 11;
  s.attributes = {Attribute::Ints("axes", {0, 3})};
  EXPECT_EQ(RunOk(s).shape(), (Shape{1, 3, 2, 1}));
  s.attributes = {Attribute::Ints("axes", {-1})};
  EXPECT_EQ(RunOk(s).shape(), (Shape{3, 2, 1}));
  s.opset = 13;
  s.attributes = {};
  s.inputs.push_back({"axes", I64({2}, {1, -1})});
  Tensor y = RunOk(s);
  EXPECT_EQ(y.shape(), (Shape{3, 1, 2, 1}));
  EXPECT_TRUE(y.SameStorage(x));
  s.inputs[1].value = I64({2}, {1, 1});
  ExpectError(s, StatusCode::kInvalidArgument, "repeat");
  s.inputs[1].value = I64({1}, {3});
  ExpectError(s, StatusCode::kInvalidArgument, "out of range");
}

TEST(UnsqueezeTest, ScalarAndMissingAxes) {
  NodeSpec s = Op("Unsqueeze", {{"x", I64({}, {4})}, {"a", I64({1}, {0})}});
  Tensor y = RunOk(s);
  EXPECT_EQ(y.shape(), Shape{1});
  EXPECT_EQ(Values<int64_t>(y), std::vector<int64_t>{4});
  NodeSpec old = Op("Unsqueeze", {{"x", I64({}, {4})}});
  old.opset = 11;
  ExpectError(old, StatusCode::kInvalidModel, "axes");
}

// ------------------------------------------------------------------------------- Shape, Size

TEST(ShapeTest, StartEndFromOpset15) {
  Tensor x = F32({2, 3, 4}, std::vector<float>(24, 0.0f));
  NodeSpec s = Op("Shape", {{"x", x}});
  Tensor y = RunOk(s);
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{2, 3, 4}));
  s.opset = 15;
  s.attributes = {Attribute::Int("start", -1)};
  EXPECT_EQ(Values<int64_t>(RunOk(s)), (std::vector<int64_t>{4}));
  s.attributes = {Attribute::Int("end", -1)};
  EXPECT_EQ(Values<int64_t>(RunOk(s)), (std::vector<int64_t>{2, 3}));
  s.attributes = {Attribute::Int("start", -10), Attribute::Int("end", 10)};  // clamped
  EXPECT_EQ(Values<int64_t>(RunOk(s)), (std::vector<int64_t>{2, 3, 4}));
  s.attributes = {Attribute::Int("start", 2), Attribute::Int("end", 1)};
  EXPECT_EQ(RunOk(s).shape(), Shape{0});
  // Before 15 start/end do not exist.
  s.opset = 14;
  s.attributes = {Attribute::Int("start", 1)};
  EXPECT_EQ(Values<int64_t>(RunOk(s)), (std::vector<int64_t>{2, 3, 4}));
}

TEST(ShapeTest, ScalarAndSize) {
  EXPECT_EQ(RunOk(Op("Shape", {{"x", Tensor::Scalar(1)}})).shape(), Shape{0});
  Tensor n = RunOk(Op("Size", {{"x", F32({2, 0, 3}, {})}}));
  EXPECT_EQ(n.dtype(), DataType::kInt64);
  EXPECT_EQ(n.shape(), Shape{});
  EXPECT_EQ(Values<int64_t>(n), std::vector<int64_t>{0});
  EXPECT_EQ(Values<int64_t>(RunOk(Op("Size", {{"x", Strings({2, 3}, {"", "", "", "", "", ""})}}))),
            std::vector<int64_t>{6});
}

// ------------------------------------------------------------------------------- ConstantOfShape

TEST(ConstantOfShapeTest, DefaultAndTypedValues) {
  NodeSpec s = Op("ConstantOfShape", {{"s", I64({2}, {2, 3})}});
  testing::ExpectNear(RunOk(s), {2, 3}, {0, 0, 0, 0, 0, 0});
  s.attributes = {Attribute::TensorValue("value", I64({1}, {-7}))};
  Tensor y = RunOk(s);
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(Values<int64_t>(y), std::vector<int64_t>(6, -7));
  s.inputs[0].value = I64({0}, {});
  y = RunOk(s);
  EXPECT_EQ(y.shape(), Shape{});
  EXPECT_EQ(Values<int64_t>(y), std::vector<int64_t>{-7});
  s.inputs[0].value = I64({2}, {3, 0});
  EXPECT_EQ(RunOk(s).numel(), 0);
  s.inputs[0].value = I64({1}, {-1});
  ExpectError(s, StatusCode::kInvalidArgument, "negative");
  s.attributes = {Attribute::TensorValue("value", I64({2}, {1, 2}))};
  ExpectError(s, StatusCode::kInvalidModel, "exactly one element");
}

// ------------------------------------------------------------------------------- EyeLike

TEST(EyeLikeTest, DiagonalOffsetsAndDtype) {
  NodeSpec s = Op("EyeLike", {{"x", F32({3, 4}, std::vector<float>(12, 5.0f))}});
  testing::ExpectNear(RunOk(s), {3, 4}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0});
  s.attributes = {Attribute::Int("k", 2)};
  testing::ExpectNear(RunOk(s), {3, 4}, {0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0});
  s.attributes = {Attribute::Int("k", -1), Attribute::Int("dtype", 7)};
  Tensor y = RunOk(s);
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0}));
  s.attributes = {Attribute::Int("k", std::numeric_limits<int64_t>::max())};
  testing::ExpectNear(RunOk(s), {3, 4}, std::vector<float>(12, 0.0f));
  NodeSpec bad = Op("EyeLike", {{"x", F32({2}, {1, 2})}});
  ExpectError(bad, StatusCode::kInvalidArgument, "2-D");
}

// ------------------------------------------------------------------------------- Range

TEST(RangeTest, FloatAndIntegerRanges) {
  NodeSpec s =
      Op("Range",
         {{"a", Tensor::Scalar(1.0f)}, {"b", Tensor::Scalar(5.0f)}, {"c", Tensor::Scalar(1.5f)}});
  testing::ExpectNear(RunOk(s), {3}, {1, 2.5f, 4});
  NodeSpec i = Op("Range", {{"a", I64({}, {10})}, {"b", I64({}, {4})}, {"c", I64({}, {-3})}});
  Tensor y = RunOk(i);
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{10, 7}));
  i.inputs[2].value = I64({}, {3});  // empty: limit below start with a positive delta
  EXPECT_EQ(RunOk(i).shape(), Shape{0});
  NodeSpec i32 = Op("Range", {{"a", I32({}, {0})}, {"b", I32({}, {7})}, {"c", I32({}, {3})}});
  EXPECT_EQ(Values<int32_t>(RunOk(i32)), (std::vector<int32_t>{0, 3, 6}));
  NodeSpec i16 = Op("Range", {{"a", testing::Make<int16_t>(DataType::kInt16, {}, {-2})},
                              {"b", testing::Make<int16_t>(DataType::kInt16, {}, {2})},
                              {"c", testing::Make<int16_t>(DataType::kInt16, {}, {2})}});
  EXPECT_EQ(Values<int16_t>(RunOk(i16)), (std::vector<int16_t>{-2, 0}));
}

TEST(RangeTest, Errors) {
  NodeSpec s = Op("Range", {{"a", I64({}, {0})}, {"b", I64({}, {4})}, {"c", I64({}, {0})}});
  ExpectError(s, StatusCode::kInvalidArgument, "delta is 0");
  // limit - start does not fit in int64: still counted exactly (and refused as too large).
  s.inputs = {{"a", I64({}, {std::numeric_limits<int64_t>::min()})},
              {"b", I64({}, {std::numeric_limits<int64_t>::max()})},
              {"c", I64({}, {std::numeric_limits<int64_t>::max()})}};
  EXPECT_EQ(Values<int64_t>(RunOk(s)),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -1,
                                  std::numeric_limits<int64_t>::max() - 1}));
  s.inputs[2].value = I64({}, {1});
  ExpectError(s, StatusCode::kInvalidArgument, "too many elements");
  NodeSpec f = Op(
      "Range",
      {{"a", Tensor::Scalar(0)}, {"b", Tensor::Scalar(std::nanf(""))}, {"c", Tensor::Scalar(1)}});
  ExpectError(f, StatusCode::kInvalidArgument, "undefined");
  NodeSpec u = Op("Range", {{"a", testing::Make<uint8_t>(DataType::kUint8, {}, {0})},
                            {"b", testing::Make<uint8_t>(DataType::kUint8, {}, {3})},
                            {"c", testing::Make<uint8_t>(DataType::kUint8, {}, {1})}});
  ExpectError(u, StatusCode::kUnsupported, "uint8");
}

}  // namespace
}  // namespace edgefit
