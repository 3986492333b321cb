// fuse-reshapes: chains of Reshape/Flatten/Squeeze/Unsqueeze -> one Reshape (or none).
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

// The rPPG tail: x [24,16,1,1] -> Squeeze([3]) -> Squeeze([2]) -> Reshape([1,8,48]) -> Relu.
TEST(FuseReshapesTest, FusesSqueezeSqueezeReshape) {
  for (int opset : {11, 13}) {
    GraphBuilder b(opset);
    Value* x = b.Input("x", {24, 16, 1, 1});
    Value* a = opset >= 13 ? b.Op("Squeeze", {x, b.ConstantInts("a3", {3})}, "a")
                           : b.Op("Squeeze", {x}, "a", {Attribute::Ints("axes", {3})});
    Value* c = opset >= 13 ? b.Op("Squeeze", {a, b.ConstantInts("a2", {2})}, "c")
                           : b.Op("Squeeze", {a}, "c", {Attribute::Ints("axes", {2})});
    Value* r = b.Op("Reshape", {c, b.Ints("target", {1, 8, -1})}, "r");
    b.Output(b.Op("Relu", {r}, "y"));
    Model m = ExpectEquivalentRewrite(b.model, "fuse-reshapes");
    EXPECT_EQ(CountOps(m, "Squeeze"), 0) << opset;
    EXPECT_EQ(CountOps(m, "Reshape"), 1) << opset;
    EXPECT_EQ(CountOps(m, "Constant"), 0) << opset;
    const Node* fused = m.graph->FindValue("r")->producer();
    EXPECT_EQ(fused->name(), "r_node");
    EXPECT_EQ(fused->input(0)->name(), "x");
    EXPECT_EQ(InitializerInts(fused->input(1)), (std::vector<int64_t>{1, 8, 48})) << opset;
  }
}

TEST(FuseReshapesTest, RemovesChainThatRestoresTheShape) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {2, 3});
  Value* relu = b.Op("Relu", {x}, "relu");
  Value* a = b.Op("Reshape", {relu, b.Ints("s1", {3, 2})}, "a");
  Value* f = b.Op("Flatten", {a}, "f", {Attribute::Int("axis", 0)});  // [1,6]
  Value* c = b.Op("Reshape", {f, b.Ints("s2", {2, 3})}, "c");
  b.Output(c);
  Model m = ExpectEquivalentRewrite(b.model, "fuse-reshapes");
  EXPECT_EQ(CountOps(m, "Reshape"), 0);
  EXPECT_EQ(CountOps(m, "Flatten"), 0);
  // The graph output keeps its name; Relu writes it now.
  EXPECT_EQ(m.graph->outputs()[0]->name(), "c");
  EXPECT_EQ(m.graph->outputs()[0]->producer()->op_type(), "Relu");
}

// Input straight to output: both names must stay, so one Reshape remains.
TEST(FuseReshapesTest, KeepsOneReshapeBetweenGraphInputAndOutput) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {2, 3});
  Value* a = b.Op("Reshape", {x, b.Ints("s1", {6})}, "a");
  b.Output(b.Op("Reshape", {a, b.Ints("s2", {2, 3})}, "y"));
  Model m = ExpectEquivalentRewrite(b.model, "fuse-reshapes");
  EXPECT_EQ(CountOps(m, "Reshape"), 1);
}

// A dynamic batch: the last target (with its -1) is kept, as it infers the same size.
TEST(FuseReshapesTest, DynamicShapeKeepsTheLastTarget) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {-1, 6});
  Value* a = b.Op("Reshape", {x, b.Ints("s1", {-1, 2, 3})}, "a");
  Value* u = b.Op("Unsqueeze", {a, b.Ints("axes", {1})}, "u");
  Value* c = b.Op("Reshape", {u, b.Ints("s2", {-1, 3})}, "c");
  b.Output(b.Op("Relu", {c}, "y"));
  auto copy = CloneModel(b.model);
  ASSERT_TRUE(copy.ok());
  Model m = std::move(copy).value();
  PassResult r = RunPass(m, "fuse-reshapes");
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(CountOps(m, "Reshape"), 1);
  EXPECT_EQ(CountOps(m, "Unsqueeze"), 0);
  EXPECT_EQ(InitializerInts(m.graph->FindValue("c")->producer()->input(1)),
            (std::vector<int64_t>{-1, 3}));
  // Same outputs at batch 1 and batch 3.
  for (int64_t batch : {1, 3}) {
    Tensor in(DataType::kFloat, {batch, 6});
    for (int64_t i = 0; i < in.numel(); ++i) in.data<float>()[i] = 0.1f * i - 1.f;
    EquivalenceOptions eo;
    eo.random_samples = 0;
    eo.samples = {{{"x", in}}};
    eo.tolerance = 1e-6;
    eo.num_threads = 1;
    auto eq = CheckEquivalence(b.model, m, eo);
    ASSERT_TRUE(eq.ok()) << eq.status().ToString();
    EXPECT_TRUE(eq->equivalent) << eq->Summary();
  }
  EXPECT_FALSE(RunPass(m, "fuse-reshapes").changed);
}

TEST(FuseReshapesTest, DoesNotFuseWhenTheIntermediateHasAnotherReader) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {2, 3});
  Value* a = b.Op("Reshape", {x, b.Ints("s1", {6})}, "a");
  b.Output(b.Op("Reshape", {a, b.Ints("s2", {3, 2})}, "y"));
  b.Output(b.Op("Relu", {a}, "z"));
  EXPECT_FALSE(RunPass(b.model, "fuse-reshapes").changed);
  EXPECT_EQ(CountOps(b.model, "Reshape"), 2);

  Model clean = LoadFixture("rppg_clean_op14.onnx");  // Reshape -> Transpose -> Reshape
  EXPECT_FALSE(RunPass(clean, "fuse-reshapes").changed);
}

TEST(FuseReshapesTest, FusesRppgTailOnceStatic) {
  Model original = LoadFixture("rppg_dyn_op13.onnx");
  RunPass(original, "fix-dynamic-dims");
  Model m = ExpectEquivalentRewrite(original, "fuse-reshapes");
  EXPECT_EQ(CountOps(m, "Squeeze"), 0);
  EXPECT_EQ(InitializerInts(m.graph->FindValue("/Reshape_2_output_0")->producer()->input(1)),
            (std::vector<int64_t>{1, 8, 48}));
}

}  // namespace
}  // namespace edgefit
