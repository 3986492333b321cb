// fold-constants: Shape chains on static shapes, constant arithmetic, graph outputs, repetition
// with shape inference, and what must never be folded.
#include <cstring>

#include "graph_builder.h"
#include "pass_test_util.h"
#include "passes/constant_eval.h"

namespace edgefit {
namespace {

using testing::CountOps;
using testing::ExpectEquivalentRewrite;
using testing::GraphBuilder;
using testing::InitializerInts;
using testing::LoadFixture;
using testing::RunPass;

TEST(FoldConstantsTest, FoldsRppgShapeChainsOnceTheBatchIsFixed) {
  for (const char* fixture : {"rppg_dyn_op14.onnx", "rppg_dyn_op13.onnx", "rppg_dyn_op11.onnx"}) {
    Model original = LoadFixture(fixture);
    RunPass(original, "fix-dynamic-dims");
    Model m = ExpectEquivalentRewrite(original, "fold-constants");
    for (const char* op : {"Shape", "Gather", "Unsqueeze", "Concat"})
      EXPECT_EQ(CountOps(m, op), 0) << fixture << " " << op;
    Graph& g = *m.graph;
    EXPECT_EQ(InitializerInts(g.FindValue("/Concat_output_0")),
              (std::vector<int64_t>{1, 8, 3, 3, 36, 36}))
        << fixture;
    EXPECT_EQ(InitializerInts(g.FindValue("/Concat_1_output_0")), (std::vector<int64_t>{1, 8, 48}))
        << fixture;
    // The Constant nodes only the folded nodes read are gone too.
    EXPECT_EQ(g.FindValue("/Constant_1_output_0"), nullptr) << fixture;
    // Shape inference ran: the Reshape targets are known, so are the shapes after them.
    EXPECT_EQ(g.FindValue("/Reshape_output_0")->type().ShapeString(), "[1,8,3,3,36,36]") << fixture;
  }
}

TEST(FoldConstantsTest, DoesNotFoldShapeOfDynamicInput) {
  Model m = LoadFixture("rppg_dyn_op14.onnx");
  PassResult r = RunPass(m, "fold-constants");
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(CountOps(m, "Shape"), 1);
}

TEST(FoldConstantsTest, DoesNotFireOnCleanModel) {
  Model m = LoadFixture("rppg_clean_op14.onnx");
  EXPECT_FALSE(RunPass(m, "fold-constants").changed);
}

// x [1,4] + ((c1 + c2) * (c1 + c2)); the product is also a graph output.
TEST(FoldConstantsTest, FoldsArithmeticAndKeepsGraphOutputName) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {1, 4});
  Value* c1 = b.Floats("c1", {4});
  Value* c2 = b.Floats("c2", {4}, -1.f);
  Value* s = b.Op("Add", {c1, c2}, "s");
  Value* p = b.Op("Mul", {s, s}, "p");
  Value* y = b.Op("Add", {x, p}, "y");
  b.Output(y);
  b.Output(p);
  Model m = ExpectEquivalentRewrite(b.model, "fold-constants");
  EXPECT_EQ(CountOps(m, "Mul"), 0);
  EXPECT_EQ(CountOps(m, "Add"), 1);
  Value* out = m.graph->outputs()[1];
  EXPECT_EQ(out->name(), "p");
  ASSERT_TRUE(out->has_initializer());
  EXPECT_EQ(out->type().ShapeString(), "[4]");
  // The operands nobody reads any more are removed; s was only an intermediate.
  EXPECT_EQ(m.graph->FindValue("c1"), nullptr);
  EXPECT_EQ(m.graph->FindValue("s"), nullptr);
}

// x -> Reshape(x, Abs(c)) -> r -> Shape -> ConstantOfShape -> zeros; y = r + zeros.
Model AbsReshapeShapeModel(int64_t batch) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {batch, 6});
  Value* target = b.Op("Abs", {b.Ints("c", {-2, -3})}, "target");
  Value* r = b.Op("Reshape", {x, target}, "r");
  Value* s = b.Op("Shape", {r}, "s");
  Value* zeros = b.Op("ConstantOfShape", {s}, "zeros");
  b.Output(b.Op("Add", {r, zeros}, "y"));
  return std::move(b.model);
}

void ExpectAllFolded(const Model& m) {
  EXPECT_EQ(CountOps(m, "Abs"), 0);
  EXPECT_EQ(CountOps(m, "Shape"), 0);
  EXPECT_EQ(CountOps(m, "ConstantOfShape"), 0);
  EXPECT_EQ(InitializerInts(m.graph->FindValue("target")), (std::vector<int64_t>{2, 3}));
  ASSERT_TRUE(m.graph->FindValue("zeros")->has_initializer());
  EXPECT_EQ(m.graph->FindValue("zeros")->initializer()->shape(), (Shape{2, 3}));
}

// Abs(c) is a Reshape target ONNX cannot propagate. With a dynamic batch the model cannot be run
// to see r's shape: once Abs is folded, inference knows it and Shape(r) -> ConstantOfShape fold
// in a second round.
TEST(FoldConstantsTest, RepeatsWithShapeInference) {
  const Model model = AbsReshapeShapeModel(-1);
  auto copy = CloneModel(model);
  ASSERT_TRUE(copy.ok());
  Model& m = *copy;
  PassResult r = RunPass(m, "fold-constants");
  EXPECT_EQ(r.rewrites, 3);  // Abs, then Shape and ConstantOfShape
  EXPECT_EQ(r.notes.size(), 2u);
  ExpectAllFolded(m);
  EXPECT_FALSE(RunPass(m, "fold-constants").changed);
  // The same function once the batch is fixed (equivalence runs need static inputs).
  auto original = CloneModel(model);
  ASSERT_TRUE(original.ok());
  RunPass(*original, "fix-dynamic-dims");
  RunPass(m, "fix-dynamic-dims");
  auto eq = CheckEquivalence(*original, m, EquivalenceOptions{4, 1, {}, 1e-6, 1});
  ASSERT_TRUE(eq.ok()) << eq.status().ToString();
  EXPECT_TRUE(eq->equivalent) << eq->Summary();
}

// With static inputs, one executor run gives r's shape (it depends on no input's contents), so
// everything folds in one round: a model chaining many such blocks does not need a round each.
TEST(FoldConstantsTest, StaticInputsFoldShapeChainsInOneRound) {
  const Model model = AbsReshapeShapeModel(1);
  ExpectAllFolded(ExpectEquivalentRewrite(model, "fold-constants"));
  auto copy = CloneModel(model);
  ASSERT_TRUE(copy.ok());
  PassResult r = RunPass(*copy, "fold-constants");
  EXPECT_EQ(r.rewrites, 3);
  EXPECT_EQ(r.notes.size(), 1u);
}

// A shape the executor saw but that depends on the data (NonZero) is not folded.
TEST(FoldConstantsTest, DataDependentShapesStay) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {1, 6});
  Value* nz = b.Op("NonZero", {x}, "nz");
  b.Output(b.Op("Shape", {nz}, "s"));
  auto copy = CloneModel(b.model);
  ASSERT_TRUE(copy.ok());
  EXPECT_FALSE(RunPass(*copy, "fold-constants").changed);
  EXPECT_EQ(CountOps(*copy, "Shape"), 1);
}

TEST(FoldConstantsTest, NeverFoldsQdqRandomSubgraphsOrOtherDomains) {
  GraphBuilder b(13);
  b.model.opset_imports.push_back({"com.example", 1});
  Value* x = b.Input("x", {1, 4});
  Tensor wq(DataType::kInt8, {4, 4});
  for (int i = 0; i < 16; ++i) wq.data<int8_t>()[i] = static_cast<int8_t>(i - 8);
  Value* w_int8 = b.g().AddInitializer("w_int8", wq);
  Value* scale = b.g().AddInitializer("scale", Tensor::Scalar(0.1f));
  Tensor zp(DataType::kInt8, {});
  Value* zero_point = b.g().AddInitializer("zp", zp);
  Value* w = b.Op("DequantizeLinear", {w_int8, scale, zero_point}, "w");
  Value* y = b.Op("MatMul", {x, w}, "y");
  b.Output(y);
  Value* noise = b.Op("RandomNormal", {}, "noise",
                      {Attribute::Ints("shape", {1, 4}), Attribute::Int("dtype", 1)});
  Value* noisy = b.Op("Relu", {noise}, "noisy");
  b.Output(noisy);
  Value* custom = b.Op("Custom", {b.Floats("c", {4})}, "custom");
  b.NodeOf("custom")->set_domain("com.example");
  b.Output(custom);
  PassResult r = RunPass(b.model, "fold-constants");
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(CountOps(b.model, "DequantizeLinear"), 1);
  EXPECT_EQ(CountOps(b.model, "Relu"), 1);
  EXPECT_EQ(CountOps(b.model, "Custom"), 1);
}

// Tile's output is above fold_max_output_bytes: it stays, and so does the Concat reading it;
// the small Add before it folds.
TEST(FoldConstantsTest, LeavesLargeOutputsAlone) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {1, 4000});
  Value* c = b.Op("Add", {b.Floats("a", {1, 4}), b.Floats("b", {1, 4})}, "c");
  Value* tiled = b.Op("Tile", {c, b.Ints("repeats", {1, 1000})}, "tiled");
  Value* y = b.Op("Mul", {x, tiled}, "y");
  b.Output(y);
  PassOptions options;
  options.fold_max_output_bytes = 4096;
  Model m = ExpectEquivalentRewrite(b.model, "fold-constants", options);
  EXPECT_EQ(CountOps(m, "Tile"), 1);
  EXPECT_EQ(CountOps(m, "Add"), 0);
  PassResult r = RunPass(m, "fold-constants", options);
  EXPECT_FALSE(r.changed);
  bool noted = false;
  for (const std::string& n : r.notes)
    noted |= n.find("fold_max_output_bytes") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(FoldConstantsTest, EvaluatorComputesShapeWithStartAndEnd) {
  GraphBuilder b(15);
  Value* x = b.Input("x", {2, 3, 4, 5});
  Value* s = b.Op("Shape", {x}, "s", {Attribute::Int("start", 1), Attribute::Int("end", -1)});
  b.Output(s);
  ConstantEvaluator eval(b.model, 1 << 20);
  const Tensor* t = eval.Evaluate(s);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(*t->ToInt64Vector(), (std::vector<int64_t>{3, 4}));
}

// EvaluateNode runs kernels directly (no Session); the one-node Session is the reference: same
// dtypes, shapes and bytes on ops of the shape arithmetic, a view, an op with two outputs, an
// omitted optional input, and the same error where the kernel refuses its inputs.
TEST(FoldConstantsTest, DirectEvaluationMatchesSessionEvaluation) {
  GraphBuilder b(13);
  Value* f = b.Floats("f", {2, 4});
  Value* ints = b.Ints("ints", {1, 8, 3, 36});
  Value* idx = b.Ints("idx", {0});
  Value* shape = b.Ints("shape", {4, 2});
  Value* axes = b.Ints("axes", {0});
  Value* big = b.Ints("big", {9});
  b.Op("Gather", {ints, idx}, "gather", {Attribute::Int("axis", 0)});
  b.Op("Unsqueeze", {idx, axes}, "unsq");
  b.Op("Concat", {idx, ints}, "concat", {Attribute::Int("axis", 0)});
  b.Op("Reshape", {f, shape}, "reshape");
  b.Op("Mul", {f, f}, "mul");
  b.Op("Cast", {ints}, "cast", {Attribute::Int("to", static_cast<int64_t>(DataType::kFloat))});
  b.Op("Transpose", {f}, "transpose", {Attribute::Ints("perm", {1, 0})});
  b.Op("Relu", {f}, "relu");
  b.Op("Gather", {ints, big}, "bad_gather", {Attribute::Int("axis", 0)});
  Value* s0 = *b.g().CreateValue("split0");
  Value* s1 = *b.g().CreateValue("split1");
  Node* split = b.g().AddNode("Split", {f}, {s0, s1}, "split");
  split->SetAttribute(Attribute::Int("axis", 1));
  (void)split;
  Value* c = *b.g().CreateValue("clip");
  b.g().AddNode("Clip", {f, nullptr, b.Floats("hi", {}, 0.6f)}, {c}, "clip_node");
  int compared = 0;
  for (const auto& node : b.g().nodes()) {
    std::vector<const Tensor*> inputs;
    for (const Value* in : node->inputs()) inputs.push_back(in ? in->initializer() : nullptr);
    auto direct = EvaluateNode(b.model, *node, inputs);
    auto reference = EvaluateNodeInSession(b.model, *node, inputs);
    ASSERT_EQ(direct.ok(), reference.ok()) << node->Describe();
    if (!direct.ok()) {
      EXPECT_EQ(node->name(), "bad_gather_node");
      EXPECT_EQ(direct.status().message(), reference.status().message());
      continue;
    }
    ASSERT_EQ(direct->size(), reference->size()) << node->Describe();
    for (size_t i = 0; i < direct->size(); ++i) {
      const Tensor& a = (*direct)[i];
      const Tensor& r = (*reference)[i];
      ASSERT_EQ(a.dtype(), r.dtype()) << node->Describe();
      ASSERT_EQ(a.shape(), r.shape()) << node->Describe();
      ASSERT_GT(a.nbytes(), 0u) << node->Describe();
      EXPECT_EQ(std::memcmp(a.raw(), r.raw(), a.nbytes()), 0) << node->Describe();
      // An independent copy, not a view of the input.
      for (const Tensor* in : inputs)
        if (in) {
          EXPECT_FALSE(a.SameStorage(*in)) << node->Describe();
        }
    }
    ++compared;
  }
  EXPECT_EQ(compared, 10);
  // Spot values.
  Node* g = b.NodeOf("gather");
  auto gathered = EvaluateNode(
      b.model, *g, {b.g().FindValue("ints")->initializer(), b.g().FindValue("idx")->initializer()});
  ASSERT_TRUE(gathered.ok());
  EXPECT_EQ(*(*gathered)[0].ToInt64Vector(), (std::vector<int64_t>{1}));
}

}  // namespace
}  // namespace edgefit
