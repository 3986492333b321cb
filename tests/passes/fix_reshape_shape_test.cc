// fix-reshape-shape: -1 and 0 entries become numbers, computed targets become constants when
// the output shape holds for every run, and nothing is guessed otherwise.
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

std::vector<int64_t> TargetOf(const Model& m, const std::string& node_output) {
  return InitializerInts(m.graph->FindValue(node_output)->producer()->input(1));
}

TEST(FixReshapeShapeTest, ResolvesMinusOneAndZero) {
  for (int opset : {13, 14}) {
    GraphBuilder b(opset);
    Value* x = b.Input("x", {2, 3, 4});
    Value* a = b.Op("Reshape", {x, b.Ints("s1", {-1, 4})}, "a");
    Value* c = b.Op("Reshape", {x, b.ConstantInts("s2", {0, -1})}, "c");
    b.Output(b.Op("Relu", {a}, "ya"));
    b.Output(b.Op("Relu", {c}, "yc"));
    Model m = ExpectEquivalentRewrite(b.model, "fix-reshape-shape");
    EXPECT_EQ(TargetOf(m, "a"), (std::vector<int64_t>{6, 4})) << opset;
    EXPECT_EQ(TargetOf(m, "c"), (std::vector<int64_t>{2, 12})) << opset;
    // The old constants had no other reader.
    EXPECT_EQ(m.graph->FindValue("s1"), nullptr);
    EXPECT_EQ(CountOps(m, "Constant"), 0);
  }
}

TEST(FixReshapeShapeTest, AllowZeroKeepsZeroEntries) {
  GraphBuilder b(14);
  Value* x = b.Input("x", {2, 0, 3});
  Value* a = b.Op("Reshape", {x, b.Ints("s", {3, 0})}, "a", {Attribute::Int("allowzero", 1)});
  b.Output(a);
  PassResult r = RunPass(b.model, "fix-reshape-shape");
  EXPECT_FALSE(r.changed);  // [3,0] is explicit with allowzero = 1
}

// At opset 13 ONNX cannot infer the targets computed by Shape->Gather->Concat; the executor's
// shapes are used, since those targets depend on shapes only.
TEST(FixReshapeShapeTest, ComputedTargetsOfStaticRppgBecomeConstants) {
  for (const char* fixture : {"rppg_dyn_op13.onnx", "rppg_dyn_op11.onnx", "rppg_dyn_op14.onnx"}) {
    Model original = LoadFixture(fixture);
    RunPass(original, "fix-dynamic-dims");
    Model m = ExpectEquivalentRewrite(original, "fix-reshape-shape");
    EXPECT_EQ(TargetOf(m, "/Reshape_output_0"), (std::vector<int64_t>{1, 8, 3, 3, 36, 36}))
        << fixture;
    EXPECT_EQ(TargetOf(m, "/Reshape_1_output_0"), (std::vector<int64_t>{24, 3, 36, 36})) << fixture;
    EXPECT_EQ(TargetOf(m, "/Reshape_2_output_0"), (std::vector<int64_t>{1, 8, 48})) << fixture;
    // The shape computations are gone with the targets.
    EXPECT_EQ(CountOps(m, "Shape"), 0) << fixture;
    EXPECT_EQ(CountOps(m, "Concat"), 0) << fixture;
  }
}

TEST(FixReshapeShapeTest, DoesNotFireOnDynamicBatch) {
  Model m = LoadFixture("rppg_dyn_op14.onnx");
  PassResult r = RunPass(m, "fix-reshape-shape");
  EXPECT_FALSE(r.changed);
  // [-1,3,36,36] is 24 * batch rows: it must stay, and the pass says why.
  EXPECT_EQ(r.unresolved.size(), 3u);
  EXPECT_NE(r.unresolved[0].find("not static"), std::string::npos) << r.unresolved[0];
}

TEST(FixReshapeShapeTest, DoesNotFireOnCleanModel) {
  Model m = LoadFixture("rppg_clean_op14.onnx");
  PassResult r = RunPass(m, "fix-reshape-shape");
  EXPECT_FALSE(r.changed);
  EXPECT_TRUE(r.unresolved.empty());
}

// A target computed from the data (here an int64 graph input) is never frozen, even though one
// executor run would see a shape for it.
TEST(FixReshapeShapeTest, DoesNotFreezeTargetComputedFromData) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {6});
  Value* k = b.Input("k", {2}, DataType::kInt64);
  Value* target = b.Op("Add", {k, b.Ints("base", {2, 3})}, "target");
  b.Output(b.Op("Reshape", {x, target}, "y"));
  PassResult r = RunPass(b.model, "fix-reshape-shape");
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.unresolved.size(), 1u);
  EXPECT_EQ(CountOps(b.model, "Add"), 1);
}

}  // namespace
}  // namespace edgefit
