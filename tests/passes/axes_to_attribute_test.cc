// axes-to-attribute: computed axes / split inputs become constant initializers at opsets where
// ONNX has no attribute; attribute-form opsets and data-dependent axes are left alone.
#include "graph_builder.h"
#include "pass_test_util.h"
#include "shape/shape_inference.h"
#include "targets/profile.h"

namespace edgefit {
namespace {

using testing::CountOps;
using testing::ExpectEquivalentRewrite;
using testing::GraphBuilder;
using testing::InitializerInts;
using testing::RunPass;

// x [2,3,1]: Squeeze axes = Shape(Shape(x)) - 1 = [2]; ReduceSum axes = [0] + [1];
// Split sizes = Concat([1], [2]) along axis 1.
Model Computed(int64_t batch_dim) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {batch_dim, 3, 1});
  Value* rank = b.Op("Shape", {b.Op("Shape", {x}, "shape")}, "rank");
  Value* last = b.Op("Sub", {rank, b.Ints("one", {1})}, "last");
  b.Output(b.Op("Squeeze", {x, last}, "squeezed"));
  Value* axes = b.Op("Add", {b.Ints("zero", {0}), b.ConstantInts("one_c", {1})}, "sum_axes");
  b.Output(b.Op("ReduceSum", {x, axes}, "summed", {Attribute::Int("keepdims", 1)}));
  Value* sizes =
      b.Op("Concat", {b.Ints("s1", {1}), b.Ints("s2", {2})}, "sizes", {Attribute::Int("axis", 0)});
  Value* p0 = *b.g().CreateValue("part0");
  Value* p1 = *b.g().CreateValue("part1");
  Node* split = b.g().AddNode("Split", {x, sizes}, {p0, p1}, "split");
  split->SetAttribute(Attribute::Int("axis", 1));
  b.Output(p0);
  b.Output(p1);
  return std::move(b.model);
}

TEST(AxesToAttributeTest, ComputedAxesBecomeInitializers) {
  Model m = ExpectEquivalentRewrite(Computed(2), "axes-to-attribute");
  Graph& g = *m.graph;
  EXPECT_EQ(InitializerInts(g.FindValue("squeezed")->producer()->input(1)),
            (std::vector<int64_t>{2}));
  EXPECT_EQ(InitializerInts(g.FindValue("summed")->producer()->input(1)),
            (std::vector<int64_t>{1}));
  EXPECT_EQ(InitializerInts(g.FindValue("part0")->producer()->input(1)),
            (std::vector<int64_t>{1, 2}));
  // The computations are removed.
  for (const char* op : {"Shape", "Sub", "Add", "Concat", "Constant"})
    EXPECT_EQ(CountOps(m, op), 0) << op;
}

// Axes computed from constants only need no static input shape.
TEST(AxesToAttributeTest, FoldsConstantAxesOfDynamicModel) {
  Model m = Computed(-1);
  ASSERT_TRUE(InferShapes(m).ok());  // Shape(x) is [3] even though x's batch is dynamic
  PassResult r = RunPass(m, "axes-to-attribute");
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.rewrites, 3);  // Shape(Shape(x)) = [3] whatever the batch
  EXPECT_EQ(InitializerInts(m.graph->FindValue("summed")->producer()->input(1)),
            (std::vector<int64_t>{1}));
  EXPECT_FALSE(RunPass(m, "axes-to-attribute").changed);
}

TEST(AxesToAttributeTest, LeavesAttributeFormAndDataDependentAxes) {
  GraphBuilder b(11);
  Value* x = b.Input("x", {2, 3, 1});
  b.Output(b.Op("Squeeze", {x}, "y", {Attribute::Ints("axes", {2})}));
  EXPECT_FALSE(RunPass(b.model, "axes-to-attribute").changed);

  GraphBuilder d(13);
  Value* x2 = d.Input("x", {2, 3, 1});
  Value* axes = d.Input("axes", {1}, DataType::kInt64);
  d.Output(d.Op("ReduceSum", {x2, axes}, "y"));
  PassResult r = RunPass(d.model, "axes-to-attribute");
  EXPECT_FALSE(r.changed);
  ASSERT_EQ(r.unresolved.size(), 1u);
  EXPECT_NE(r.unresolved[0].find("computed from the data"), std::string::npos);

  // Literal constants (Constant node or initializer) are already what a target needs.
  GraphBuilder c(13);
  Value* x3 = c.Input("x", {2, 3, 1});
  c.Output(c.Op("Squeeze", {x3, c.ConstantInts("axes", {2})}, "y"));
  EXPECT_FALSE(RunPass(c.model, "axes-to-attribute").changed);
}

// A profile asking for attribute axes at opset 13: the constant input is kept and a note says
// why the attribute form is impossible.
TEST(AxesToAttributeTest, NotesWhenTheTargetWantsAnAttributeONNXForbids) {
  TargetProfile profile;
  profile.id = "test-npu";
  AxesRule rule;
  rule.ops = {"Squeeze"};
  rule.must_be = AxesForm::kAttribute;
  profile.axes.rules.push_back(rule);
  GraphBuilder b(13);
  Value* x = b.Input("x", {2, 3, 1});
  b.Output(b.Op("Squeeze", {x, b.Ints("axes", {2})}, "y"));
  auto pass = CreatePass("axes-to-attribute");
  ASSERT_TRUE(pass.ok());
  PassContext ctx{b.model, &profile, {}};
  auto r = (*pass)->Run(ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->changed);
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("only has them as input 1"), std::string::npos) << r->notes[0];
}

}  // namespace
}  // namespace edgefit
