// squeeze-to-reshape: Squeeze/Unsqueeze/Flatten with static shapes at opsets with axes as an
// attribute (11) and as an input (13), and what it must leave alone.
#include "graph_builder.h"
#include "pass_test_util.h"

namespace edgefit {
namespace {

using testing::CountOps;
using testing::ExpectEquivalentRewrite;
using testing::GraphBuilder;
using testing::InitializerInts;
using testing::LoadFixture;
using testing::RunPass;

// x [1,3,1,4] -> Squeeze([2]) -> [1,3,4] -> Unsqueeze([0,-1]) -> [1,1,3,4,1] -> Flatten(2) ->
// [1,12]; and Squeeze without axes -> [3,4].
Model Chain(int opset) {
  GraphBuilder b(opset);
  Value* x = b.Input("x", {1, 3, 1, 4});
  Value* s;
  Value* u;
  Value* all;
  if (opset >= 13) {
    s = b.Op("Squeeze", {x, b.ConstantInts("sq_axes", {2})}, "s");
    u = b.Op("Unsqueeze", {s, b.Ints("unsq_axes", {0, -1})}, "u");
    all = b.Op("Squeeze", {x}, "all");
  } else {
    s = b.Op("Squeeze", {x}, "s", {Attribute::Ints("axes", {2})});
    u = b.Op("Unsqueeze", {s}, "u", {Attribute::Ints("axes", {0, -1})});
    all = b.Op("Squeeze", {x}, "all");
  }
  Value* f = b.Op("Flatten", {u}, "f", {Attribute::Int("axis", 2)});
  b.Output(b.Op("Relu", {f}, "y"));
  b.Output(b.Op("Relu", {all}, "y_all"));
  return std::move(b.model);
}

std::vector<int64_t> TargetOf(const Model& m, const std::string& node_output) {
  const Node* n = m.graph->FindValue(node_output)->producer();
  EXPECT_EQ(n->op_type(), "Reshape");
  return InitializerInts(n->input(1));
}

TEST(SqueezeToReshapeTest, RewritesEveryFormAtOpsets11And13) {
  for (int opset : {11, 13}) {
    Model m = ExpectEquivalentRewrite(Chain(opset), "squeeze-to-reshape");
    EXPECT_EQ(CountOps(m, "Squeeze"), 0) << opset;
    EXPECT_EQ(CountOps(m, "Unsqueeze"), 0) << opset;
    EXPECT_EQ(CountOps(m, "Flatten"), 0) << opset;
    EXPECT_EQ(CountOps(m, "Reshape"), 4) << opset;
    EXPECT_EQ(TargetOf(m, "s"), (std::vector<int64_t>{1, 3, 4})) << opset;
    EXPECT_EQ(TargetOf(m, "u"), (std::vector<int64_t>{1, 1, 3, 4, 1})) << opset;
    EXPECT_EQ(TargetOf(m, "f"), (std::vector<int64_t>{1, 12})) << opset;
    EXPECT_EQ(TargetOf(m, "all"), (std::vector<int64_t>{3, 4})) << opset;
    // The node keeps its name; the axes constants are gone.
    EXPECT_EQ(m.graph->FindValue("s")->producer()->name(), "s_node");
    EXPECT_EQ(m.graph->FindValue("sq_axes"), nullptr);
    EXPECT_EQ(m.graph->FindValue("unsq_axes"), nullptr);
    EXPECT_EQ(CountOps(m, "Constant"), 0);
  }
}

TEST(SqueezeToReshapeTest, RewritesRppgSqueezesOnceStatic) {
  for (const char* fixture : {"rppg_dyn_op14.onnx", "rppg_dyn_op13.onnx", "rppg_dyn_op11.onnx"}) {
    Model original = LoadFixture(fixture);
    RunPass(original, "fix-dynamic-dims");
    Model m = ExpectEquivalentRewrite(original, "squeeze-to-reshape");
    EXPECT_EQ(CountOps(m, "Squeeze"), 0) << fixture;
    EXPECT_EQ(TargetOf(m, "/Squeeze_output_0"), (std::vector<int64_t>{24, 16, 1})) << fixture;
    EXPECT_EQ(TargetOf(m, "/Squeeze_1_output_0"), (std::vector<int64_t>{24, 16})) << fixture;
  }
}

TEST(SqueezeToReshapeTest, DoesNotFireOnDynamicShapes) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {-1, 3, 1});
  b.Output(b.Op("Squeeze", {x, b.Ints("axes", {2})}, "y"));
  EXPECT_FALSE(RunPass(b.model, "squeeze-to-reshape").changed);
  EXPECT_EQ(CountOps(b.model, "Squeeze"), 1);

  // Dynamic batch: the Squeezes of [batch*24,16,1,1] stay (the Unsqueezes of the scalar batch
  // size in the shape computation have static shapes and do become Reshapes).
  Model rppg = LoadFixture("rppg_dyn_op13.onnx");
  RunPass(rppg, "squeeze-to-reshape");
  EXPECT_EQ(CountOps(rppg, "Squeeze"), 2);
}

TEST(SqueezeToReshapeTest, DoesNotFireOnCleanModel) {
  Model m = LoadFixture("rppg_clean_op14.onnx");
  EXPECT_FALSE(RunPass(m, "squeeze-to-reshape").changed);
}

}  // namespace
}  // namespace edgefit
