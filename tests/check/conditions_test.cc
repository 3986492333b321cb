// The op-condition vocabulary of docs/targets.md, evaluated on single nodes.
#include "check/conditions.h"

#include <gtest/gtest.h>

#include "check/context.h"
#include "check_test_util.h"

namespace edgefit::testing {
namespace {

OpCondition AttrCond(const std::string& attr) {
  OpCondition c;
  c.subject = OpCondition::Subject::kAttribute;
  c.attr = attr;
  return c;
}

OpCondition InputCond(int index) {
  OpCondition c;
  c.subject = OpCondition::Subject::kInput;
  c.input = index;
  return c;
}

OpCondition KeepsBatch() {
  OpCondition c;
  c.subject = OpCondition::Subject::kTouchesBatch;
  return c;
}

ConditionValue Nums(std::vector<double> v) { return v; }

// Evaluates `c` on the node named `node` of `model`.
Tri Eval(const Model& model, const std::string& node, const OpCondition& c) {
  static const TargetProfile profile = TestProfile();
  CheckContext ctx(model, profile, {});
  for (const Node* n : ctx.nodes())
    if (n->name() == node) return EvaluateCondition(ctx, *n, c).result;
  ADD_FAILURE() << "no node " << node;
  return Tri::kUnknown;
}

Model OneNode(const std::string& op, std::vector<Attribute> attrs, std::vector<int64_t> dims,
              int64_t opset = 13, std::vector<std::vector<int64_t>> const_inputs = {}) {
  ModelBuilder b(opset);
  std::vector<Value*> in = {b.Input("x", dims)};
  for (size_t i = 0; i < const_inputs.size(); ++i)
    in.push_back(b.Ints("c" + std::to_string(i), const_inputs[i]));
  b.Output(b.Out(b.Add(op, in, "n", std::move(attrs))));
  return b.Take();
}

TEST(Conditions, NumbersBroadcastAndListsCompareElementWise) {
  Model m = OneNode("MaxPool",
                    {Attribute::Ints("kernel_shape", {2, 2}), Attribute::Ints("strides", {2, 3})},
                    {1, 1, 8, 8});
  OpCondition c = AttrCond("strides");
  c.max = {3};
  EXPECT_EQ(Eval(m, "n", c), Tri::kHolds);
  c.max = {2};
  EXPECT_EQ(Eval(m, "n", c), Tri::kFails);
  c.max = {2, 4};
  EXPECT_EQ(Eval(m, "n", c), Tri::kHolds);
  c.max = {2, 2};
  EXPECT_EQ(Eval(m, "n", c), Tri::kFails);
  c.max = {2, 4, 4};  // length differs: cannot be decided
  EXPECT_EQ(Eval(m, "n", c), Tri::kUnknown);
  OpCondition eq = AttrCond("strides");
  eq.equals = Nums({2, 3});
  EXPECT_EQ(Eval(m, "n", eq), Tri::kHolds);
  OpCondition min = AttrCond("strides");
  min.min = {2};
  EXPECT_EQ(Eval(m, "n", min), Tri::kHolds);
}

TEST(Conditions, AbsentAttributesTakeTheirDefault) {
  Model pool = OneNode("MaxPool", {Attribute::Ints("kernel_shape", {3, 3})}, {1, 1, 8, 8});
  OpCondition dil = AttrCond("dilations");
  dil.equals = Nums({1, 1});  // default: one per spatial axis
  EXPECT_EQ(Eval(pool, "n", dil), Tri::kHolds);
  OpCondition present = AttrCond("dilations");
  present.present = false;
  EXPECT_EQ(Eval(pool, "n", present), Tri::kHolds);
  present.present = true;
  EXPECT_EQ(Eval(pool, "n", present), Tri::kFails);

  // Resize at opset 13 defaults to half_pixel; at opset 10 it behaves as asymmetric.
  OpCondition ctm = AttrCond("coordinate_transformation_mode");
  ctm.equals = std::string("half_pixel");
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 1, 4, 4});
  Value* s = b.Initializer("s", Tensor::FromVector<float>(DataType::kFloat, {4}, {1, 1, 2, 2}));
  b.Output(b.Out(b.Add("Resize", {x, nullptr, s}, "n")));
  EXPECT_EQ(Eval(b.Take(), "n", ctm), Tri::kHolds);

  // No default (DepthToSpace blocksize is required): every test fails but present: false.
  Model d2s = OneNode("DepthToSpace", {}, {1, 4, 2, 2});
  OpCondition block = AttrCond("blocksize");
  block.in = {Nums({2}), Nums({4})};
  EXPECT_EQ(Eval(d2s, "n", block), Tri::kFails);
}

TEST(Conditions, StringsInAndNotIn) {
  Model m =
      OneNode("DepthToSpace", {Attribute::Int("blocksize", 2), Attribute::String("mode", "CRD")},
              {1, 4, 2, 2});
  OpCondition in = AttrCond("mode");
  in.in = {std::string("DCR"), std::string("CRD")};
  EXPECT_EQ(Eval(m, "n", in), Tri::kHolds);
  OpCondition not_in = AttrCond("mode");
  not_in.not_in = {std::string("CRD")};
  EXPECT_EQ(Eval(m, "n", not_in), Tri::kFails);
  OpCondition number = AttrCond("blocksize");
  number.in = {Nums({2}), Nums({4})};
  EXPECT_EQ(Eval(m, "n", number), Tri::kHolds);
  OpCondition mismatch = AttrCond("mode");  // a number against a string: fails
  mismatch.equals = Nums({1});
  EXPECT_EQ(Eval(m, "n", mismatch), Tri::kFails);
}

TEST(Conditions, InputTests) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 2, 4, 4});
  Value* idx = b.Input("idx", {-1}, DataType::kInt64);
  Value* constant = b.ConstantNode("k", IntTensor({0, 1}));
  Value* cast = b.Out(
      b.Add("Cast", {b.Ints("k32", {1}, DataType::kInt32)}, "cast", {Attribute::Int("to", 7)}));
  b.Output(b.Out(b.Add("Gather", {x, constant}, "g_const", {Attribute::Int("axis", 1)})));
  b.Output(b.Out(b.Add("Gather", {x, idx}, "g_input", {Attribute::Int("axis", 1)})));
  b.Output(b.Out(b.Add("Gather", {x, cast}, "g_folded", {Attribute::Int("axis", 1)})));
  Model m = b.Take();

  OpCondition constant_test = InputCond(1);
  constant_test.constant = true;
  EXPECT_EQ(Eval(m, "g_const", constant_test), Tri::kHolds);   // a Constant node
  EXPECT_EQ(Eval(m, "g_input", constant_test), Tri::kFails);   // a graph input
  EXPECT_EQ(Eval(m, "g_folded", constant_test), Tri::kHolds);  // folded by fold-constants

  OpCondition elements = InputCond(1);
  elements.elements_max = 1;
  EXPECT_EQ(Eval(m, "g_const", elements), Tri::kFails);
  EXPECT_EQ(Eval(m, "g_folded", elements), Tri::kHolds);
  EXPECT_EQ(Eval(m, "g_input", elements), Tri::kUnknown);  // size not known

  OpCondition rank = InputCond(0);
  rank.rank_max = 4;
  EXPECT_EQ(Eval(m, "g_const", rank), Tri::kHolds);
  rank.rank_max = 3;
  EXPECT_EQ(Eval(m, "g_const", rank), Tri::kFails);

  OpCondition value = InputCond(1);
  value.max = {1};
  EXPECT_EQ(Eval(m, "g_const", value), Tri::kHolds);
  value.max = {0};
  EXPECT_EQ(Eval(m, "g_const", value), Tri::kFails);
  EXPECT_EQ(Eval(m, "g_input", value), Tri::kUnknown);  // computed: cannot be decided
}

TEST(Conditions, AbsentInputsTakeTheOperatorsDefault) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 2, 4, 4});
  Value* pads = b.Ints("pads", {0, 0, 1, 1, 0, 0, 1, 1});
  b.Output(b.Out(b.Add("Pad", {x, pads}, "pad")));
  b.Output(b.Out(b.Add("Clip", {x}, "clip")));
  Model m = b.Take();
  OpCondition value = InputCond(2);
  value.equals = Nums({0});
  EXPECT_EQ(Eval(m, "pad", value), Tri::kHolds);  // Pad pads with 0
  OpCondition max = InputCond(2);
  max.min = {0};
  EXPECT_EQ(Eval(m, "clip", max), Tri::kHolds);  // Clip max: unbounded
  OpCondition axes = InputCond(3);
  axes.present = false;
  EXPECT_EQ(Eval(m, "pad", axes), Tri::kHolds);
  axes.present.reset();
  axes.rank_max = 1;  // no default: every test but present fails
  EXPECT_EQ(Eval(m, "pad", axes), Tri::kFails);
}

TEST(Conditions, TouchesBatch) {
  auto keeps = [](const Model& m) { return Eval(m, "n", KeepsBatch()); };
  EXPECT_EQ(keeps(OneNode("Concat", {Attribute::Int("axis", 0)}, {1, 2})), Tri::kFails);
  EXPECT_EQ(keeps(OneNode("Concat", {Attribute::Int("axis", 1)}, {1, 2})), Tri::kHolds);
  EXPECT_EQ(keeps(OneNode("Concat", {Attribute::Int("axis", -2)}, {1, 2})), Tri::kFails);
  EXPECT_EQ(keeps(OneNode("Flatten", {Attribute::Int("axis", 0)}, {1, 2, 3})), Tri::kFails);
  EXPECT_EQ(keeps(OneNode("Flatten", {}, {1, 2, 3})), Tri::kHolds);
  EXPECT_EQ(keeps(OneNode("Transpose", {}, {1, 2, 3})), Tri::kFails);  // default: reversed
  EXPECT_EQ(keeps(OneNode("Transpose", {Attribute::Ints("perm", {0, 2, 1})}, {1, 2, 3})),
            Tri::kHolds);
  EXPECT_EQ(keeps(OneNode("ReduceMean", {Attribute::Ints("axes", {0})}, {1, 2})), Tri::kFails);
  EXPECT_EQ(keeps(OneNode("ReduceMean", {Attribute::Ints("axes", {-1})}, {1, 2})), Tri::kHolds);
  EXPECT_EQ(keeps(OneNode("ReduceMean", {}, {1, 2})), Tri::kFails);            // all axes
  EXPECT_EQ(keeps(OneNode("ReduceSum", {}, {1, 2}, 13, {{1}})), Tri::kHolds);  // axes input
  EXPECT_EQ(keeps(OneNode("Pad", {}, {1, 2}, 13, {{1, 0, 0, 0}})), Tri::kFails);
  EXPECT_EQ(keeps(OneNode("Pad", {}, {1, 2}, 13, {{0, 1, 0, 1}})), Tri::kHolds);
  EXPECT_EQ(keeps(OneNode("Slice", {}, {1, 4}, 13, {{0, 1}, {1, 3}})), Tri::kHolds);  // whole
  EXPECT_EQ(keeps(OneNode("Slice", {}, {2, 4}, 13, {{1}, {2}})), Tri::kFails);
  EXPECT_EQ(keeps(OneNode("Slice", {}, {2, 4}, 13, {{1}, {3}, {1}})), Tri::kHolds);  // axis 1
  EXPECT_EQ(keeps(OneNode("Tile", {}, {1, 4}, 13, {{2, 1}})), Tri::kFails);
  EXPECT_EQ(keeps(OneNode("Tile", {}, {1, 4}, 13, {{1, 2}})), Tri::kHolds);
  EXPECT_EQ(keeps(OneNode("Expand", {}, {1, 4}, 13, {{3, 4}})), Tri::kFails);
  EXPECT_EQ(keeps(OneNode("Expand", {}, {1, 1}, 13, {{1, 4}})), Tri::kHolds);
  EXPECT_EQ(keeps(OneNode("DepthToSpace", {Attribute::Int("blocksize", 2)}, {1, 4, 2, 2})),
            Tri::kHolds);
}

TEST(Conditions, SpatialSizeAnyOfAndManual) {
  Model gap = OneNode("GlobalAveragePool", {}, {1, 2, 8, 8});
  OpCondition spatial;
  spatial.subject = OpCondition::Subject::kSpatialSizeMax;
  spatial.spatial_size_max = 64;
  EXPECT_EQ(Eval(gap, "n", spatial), Tri::kHolds);
  spatial.spatial_size_max = 63;
  EXPECT_EQ(Eval(gap, "n", spatial), Tri::kFails);

  OpCondition manual;
  manual.subject = OpCondition::Subject::kManual;
  manual.manual = "look at it";
  EXPECT_EQ(Eval(gap, "n", manual), Tri::kUnknown);

  Model pool = OneNode("MaxPool", {Attribute::Ints("kernel_shape", {3, 3})}, {1, 1, 8, 8});
  OpCondition small = AttrCond("kernel_shape");
  small.max = {2};
  OpCondition strided = AttrCond("strides");
  strided.min = {2};
  OpCondition any;
  any.subject = OpCondition::Subject::kAnyOf;
  any.any_of = {{small}, {strided}};
  EXPECT_EQ(Eval(pool, "n", any), Tri::kFails);
  any.any_of.push_back({manual});  // an alternative nobody can check
  EXPECT_EQ(Eval(pool, "n", any), Tri::kUnknown);
  small.max = {3};
  any.any_of = {{small}, {strided}};
  EXPECT_EQ(Eval(pool, "n", any), Tri::kHolds);
}

TEST(Conditions, Describe) {
  OpCondition c = AttrCond("kernel_shape");
  c.max = {7, 7};
  EXPECT_EQ(DescribeCondition(c), "kernel_shape <= [7,7]");
  OpCondition axis = AttrCond("axis");
  axis.not_in = {Nums({0})};
  EXPECT_EQ(DescribeCondition(axis), "axis not in [0]");
  OpCondition in = InputCond(1);
  in.constant = true;
  EXPECT_EQ(DescribeCondition(in), "input 1 constant");
}

}  // namespace
}  // namespace edgefit::testing
