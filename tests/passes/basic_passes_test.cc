// topo-sort, eliminate-dead, eliminate-identity, fold-batchnorm, fix-dynamic-dims.
#include "pass_test_util.h"
#include "shape/shape_inference.h"

namespace edgefit {
namespace {

using testing::CountOps;
using testing::ExpectEquivalentRewrite;
using testing::LoadFixture;
using testing::RunPass;

// x[1,4] -> Relu -> a -> Identity -> b -> Dropout -> c (output); plus a dead Neg branch and an
// unused initializer.
Model SmallModel() {
  Model m;
  m.ir_version = 8;
  m.opset_imports.push_back({"", 13});
  Graph& g = *m.graph;
  Value* x = *g.CreateValue("x");
  x->type() = TypeInfo::Tensor(DataType::kFloat, {1, 4});
  g.AddInput(x);
  Value* a = *g.CreateValue("a");
  Value* b = *g.CreateValue("b");
  Value* c = *g.CreateValue("c");
  Value* dead = *g.CreateValue("dead");
  g.AddNode("Relu", {x}, {a}, "relu");
  g.AddNode("Identity", {a}, {b}, "identity");
  g.AddNode("Neg", {a}, {dead}, "unused_neg");
  Value* mask = *g.CreateValue("mask");
  g.AddNode("Dropout", {b}, {c, mask}, "dropout");
  g.AddInitializer("unused_weight", Tensor(DataType::kFloat, {8}));
  c->type() = TypeInfo::Tensor(DataType::kFloat, {1, 4});
  g.AddOutput(c);
  return m;
}

TEST(EliminateDeadTest, RemovesDeadNodesAndInitializers) {
  Model m = ExpectEquivalentRewrite(SmallModel(), "eliminate-dead");
  EXPECT_EQ(CountOps(m, "Neg"), 0);
  EXPECT_EQ(m.graph->FindValue("unused_weight"), nullptr);
  EXPECT_EQ(m.graph->FindValue("dead"), nullptr);
  EXPECT_EQ(m.graph->num_nodes(), 3u);
}

TEST(EliminateDeadTest, DoesNotFireOnCleanFixture) {
  Model m = LoadFixture("rppg_clean_op14.onnx");
  EXPECT_FALSE(RunPass(m, "eliminate-dead").changed);
}

TEST(EliminateIdentityTest, RemovesIdentityAndDropoutKeepsOutputName) {
  Model m = ExpectEquivalentRewrite(SmallModel(), "eliminate-identity");
  EXPECT_EQ(CountOps(m, "Identity"), 0);
  EXPECT_EQ(CountOps(m, "Dropout"), 0);
  // The graph output keeps its name; Relu now writes it... via the dead Neg branch still
  // reading the Relu output.
  ASSERT_EQ(m.graph->outputs().size(), 1u);
  EXPECT_EQ(m.graph->outputs()[0]->name(), "c");
  EXPECT_NE(m.graph->outputs()[0]->producer(), nullptr);
}

TEST(EliminateIdentityTest, KeepsDropoutWhoseMaskIsUsed) {
  Model m = SmallModel();
  Graph& g = *m.graph;
  g.AddOutput(g.FindValue("mask"));
  RunPass(m, "eliminate-identity");
  EXPECT_EQ(CountOps(m, "Dropout"), 1);
  EXPECT_EQ(CountOps(m, "Identity"), 0);
}

TEST(TopoSortTest, SortsShuffledGraphAndKeepsSortedOne) {
  Model m = SmallModel();
  EXPECT_FALSE(RunPass(m, "topo-sort").changed);
  // Move the first node (Relu) to the end: now out of order.
  Graph& g = *m.graph;
  Node* relu = g.nodes().front().get();
  Value* x = relu->input(0);
  Value* a = relu->output(0);
  g.SetNodeOutput(relu, 0, nullptr);
  g.RemoveNode(relu);
  g.AddNode("Relu", {x}, {a}, "relu");
  EXPECT_EQ(g.nodes().front()->name(), "identity");
  Model sorted = ExpectEquivalentRewrite(m, "topo-sort");
  EXPECT_EQ(sorted.graph->nodes().front()->name(), "relu");
}

TEST(FoldBatchNormTest, FoldsEveryConvBatchNormOfCleanRppg) {
  Model original = LoadFixture("rppg_clean_op14.onnx");
  ASSERT_EQ(CountOps(original, "BatchNormalization"), 2);
  Model m = ExpectEquivalentRewrite(original, "fold-batchnorm");
  EXPECT_EQ(CountOps(m, "BatchNormalization"), 0);
  EXPECT_EQ(CountOps(m, "Conv"), 3);
}

TEST(FoldBatchNormTest, FoldsIntoGemmAndConvTranspose) {
  for (const char* op : {"Gemm", "ConvTranspose"}) {
    Model m;
    m.ir_version = 8;
    m.opset_imports.push_back({"", 15});
    Graph& g = *m.graph;
    bool gemm = std::string(op) == "Gemm";
    Shape xs = gemm ? Shape{2, 3} : Shape{1, 4, 5, 5};
    Value* x = *g.CreateValue("x");
    x->type() = TypeInfo::Tensor(DataType::kFloat, xs);
    g.AddInput(x);
    int64_t c = gemm ? 6 : 6;  // output channels
    Tensor w = gemm ? Tensor(DataType::kFloat, {6, 3}) : Tensor(DataType::kFloat, {4, 3, 3, 3});
    for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = 0.1f * ((i * 7) % 11) - 0.5f;
    Value* wv = g.AddInitializer("w", w);
    Value* t = *g.CreateValue("t");
    Node* p = g.AddNode(op, {x, wv}, {t}, "producer");
    if (gemm)
      p->SetAttribute(Attribute::Int("transB", 1));
    else
      p->SetAttribute(Attribute::Int("group", 2));
    auto vec = [&](const char* name, float base) {
      Tensor v(DataType::kFloat, {c});
      for (int64_t i = 0; i < c; ++i) v.data<float>()[i] = base + 0.1f * i;
      return g.AddInitializer(name, v);
    };
    Value* y = *g.CreateValue("y");
    g.AddNode("BatchNormalization",
              {t, vec("scale", 0.5f), vec("bias", -0.2f), vec("mean", 0.3f), vec("var", 0.8f)}, {y},
              "bn");
    g.AddOutput(y);
    Model folded = ExpectEquivalentRewrite(m, "fold-batchnorm");
    EXPECT_EQ(CountOps(folded, "BatchNormalization"), 0) << op;
    EXPECT_EQ(folded.graph->outputs()[0]->name(), "y");
  }
}

TEST(FoldBatchNormTest, DoesNotFireWithoutBatchNormOrWhenConvOutputIsShared) {
  Model mobilenet = LoadFixture("mobilenet_like_op13.onnx");  // BN already folded by PyTorch
  EXPECT_FALSE(RunPass(mobilenet, "fold-batchnorm").changed);
}

TEST(FixDynamicDimsTest, FreezesBatchOfRppgAndKeepsFunction) {
  Model original = LoadFixture("rppg_dyn_op14.onnx");
  auto m = CloneModel(original);
  ASSERT_TRUE(m.ok());
  PassResult r = RunPass(*m, "fix-dynamic-dims");
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.unresolved.empty());
  EXPECT_EQ(m->graph->inputs()[0]->type().ShapeString(), "[1,72,36,36]");
  EXPECT_EQ(m->graph->outputs()[0]->type().ShapeString(), "[1,1]");
  auto eq = CheckEquivalence(original, *m, EquivalenceOptions{3, 1, {}, 1e-6, 1});
  ASSERT_TRUE(eq.ok()) << eq.status().ToString();
  EXPECT_TRUE(eq->equivalent) << eq->Summary();
  EXPECT_FALSE(RunPass(*m, "fix-dynamic-dims").changed);
}

TEST(FixDynamicDimsTest, HonoursInputShapeAndRejectsContradictions) {
  Model m = LoadFixture("hrnet_like_op12_dyn.onnx");
  PassOptions ok;
  ok.input_shapes["input"] = {2, 3, 64, 48};
  PassResult r = RunPass(m, "fix-dynamic-dims", ok);
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(m.graph->inputs()[0]->type().ShapeString(), "[2,3,64,48]");
  EXPECT_EQ(m.graph->outputs()[0]->type().dims[0].value, 2);

  Model m2 = LoadFixture("hrnet_like_op12_dyn.onnx");
  PassOptions bad;
  bad.input_shapes["input"] = {1, 4, 64, 48};  // channel dim is fixed to 3 in the model
  auto pass = CreatePass("fix-dynamic-dims");
  PassContext ctx{m2, nullptr, bad};
  auto result = (*pass)->Run(ctx);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("disagrees with the model's fixed dim 1"),
            std::string::npos)
      << result.status().message();
  PassOptions unknown;
  unknown.input_shapes["nope"] = {1};
  PassContext ctx2{m2, nullptr, unknown};
  EXPECT_EQ((*pass)->Run(ctx2).status().code(), StatusCode::kInvalidArgument);
}

TEST(FixDynamicDimsTest, ReportsUndecidableDims) {
  Model m = SmallModel();
  m.graph->inputs()[0]->type().dims[1] = Dim::Symbolic("features");
  m.graph->inputs()[0]->type().dims[0] = Dim::Symbolic("batch");
  PassResult r = RunPass(m, "fix-dynamic-dims");
  EXPECT_TRUE(r.changed);
  ASSERT_EQ(r.unresolved.size(), 1u);
  EXPECT_NE(r.unresolved[0].find("dim 1 ('features') cannot be decided"), std::string::npos);
}

TEST(FixDynamicDimsTest, DoesNotFireOnStaticModel) {
  Model m = LoadFixture("rppg_clean_op14.onnx");
  EXPECT_FALSE(RunPass(m, "fix-dynamic-dims").changed);
}

}  // namespace
}  // namespace edgefit
