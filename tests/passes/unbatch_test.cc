// unbatch: structure after the pass (no Conv/pool at batch != 1), equivalence on the executor in
// both modes, must-not-fire cases, idempotence (ExpectEquivalentRewrite runs the pass twice).
#include <algorithm>

#include "pass_test_util.h"
#include "passes/pass_util.h"
#include "passes/pipeline.h"
#include "shape/concrete_shapes.h"
#include "shape/shape_inference.h"
#include "targets/profile.h"

namespace edgefit {
namespace {

using testing::CountOps;
using testing::ExpectEquivalentRewrite;
using testing::LoadFixture;
using testing::RunPass;

const std::vector<std::string> kBatchOps = {"Conv",        "ConvTranspose",     "MaxPool",
                                            "AveragePool", "GlobalAveragePool", "GlobalMaxPool"};

// "op 'name' [shape]" for every Conv/pool whose data input does not have batch 1.
std::vector<std::string> BatchedOps(const Model& m) {
  auto shapes = RecordConcreteShapes(m);
  EXPECT_TRUE(shapes.ok()) << shapes.status().ToString();
  std::vector<std::string> out;
  if (!shapes.ok()) return out;
  for (const auto& n : m.graph->nodes()) {
    if (std::find(kBatchOps.begin(), kBatchOps.end(), n->op_type()) == kBatchOps.end()) continue;
    const Value* in = n->input(0);
    Shape s;
    if (auto it = shapes->find(in->name()); it != shapes->end())
      s = it->second.shape;
    else if (auto st = in->type().StaticShape())
      s = *st;
    if (s.empty() || s[0] != 1) out.push_back(n->Describe() + " " + ShapeToString(s));
  }
  return out;
}

Model FrozenRppg(const std::string& name) {
  Model m = LoadFixture(name);
  EXPECT_TRUE(RunPass(m, "fix-dynamic-dims").changed);
  EXPECT_TRUE(InferShapes(m).ok());
  return m;
}

PassOptions Mode(const std::string& mode) {
  PassOptions o;
  o.unbatch_mode = mode;
  return o;
}

TEST(UnbatchTest, RppgGroupModeFoldsTheBatchIntoChannels) {
  Model original = FrozenRppg("rppg_dyn_op14.onnx");
  ASSERT_EQ(BatchedOps(original).size(), 4u);              // conv1, pool1, conv2, gap at batch 24
  Model m = ExpectEquivalentRewrite(original, "unbatch");  // auto picks group (small weights)
  EXPECT_TRUE(BatchedOps(m).empty()) << BatchedOps(m)[0];
  EXPECT_EQ(CountOps(m, "Conv"), 3);
  int grouped = 0;
  for (const auto& n : m.graph->nodes())
    if (n->op_type() == "Conv" && n->GetInt("group", 1) == 24) {
      ++grouped;
      ASSERT_TRUE(n->input(0)->type().IsStatic()) << n->Describe();
      EXPECT_EQ(n->input(0)->type().dims[0].value, 1) << n->Describe();
    }
  EXPECT_EQ(grouped, 2);
  // The CNN input comes straight from the (retargeted) Reshape; one Reshape back to [24,16] is
  // added before /Reshape_2, whose target is computed (fold-constants makes it a constant).
  EXPECT_EQ(CountOps(m, "Reshape"), CountOps(original, "Reshape") + 1);
}

TEST(UnbatchTest, RppgSplitModeSharesWeights) {
  Model original = FrozenRppg("rppg_dyn_op14.onnx");
  size_t initializers = original.graph->initializers().size();
  Model m = ExpectEquivalentRewrite(original, "unbatch", Mode("split"));
  EXPECT_TRUE(BatchedOps(m).empty());
  EXPECT_EQ(CountOps(m, "Conv"), 2 * 24 + 1);
  EXPECT_EQ(CountOps(m, "Slice"), 24);
  EXPECT_EQ(CountOps(m, "Concat"), CountOps(original, "Concat") + 1);
  for (const auto& n : m.graph->nodes())
    if (n->op_type() == "Concat" && n->name().find("_concat") != std::string::npos) {
      EXPECT_EQ(n->GetInt("axis", 0), 1);
    }
  // Only the small slice index constants were added, no weight copies.
  size_t added = m.graph->initializers().size() - initializers;
  EXPECT_LE(added, 24u * 3 + 2);
}

TEST(UnbatchTest, RppgOp13AndOp11WithExecutorShapes) {
  for (const char* name : {"rppg_dyn_op13.onnx", "rppg_dyn_op11.onnx"}) {
    SCOPED_TRACE(name);
    Model original = FrozenRppg(name);
    for (const char* mode : {"group", "split"}) {
      SCOPED_TRACE(mode);
      Model m = ExpectEquivalentRewrite(original, "unbatch", Mode(mode));
      EXPECT_TRUE(BatchedOps(m).empty());
    }
  }
}

TEST(UnbatchTest, AfterReduceRankTheRppgChainIsClean) {
  Model original = FrozenRppg("rppg_dyn_op14.onnx");
  auto copy = CloneModel(original);
  ASSERT_TRUE(copy.ok());
  Model m = std::move(copy).value();
  EXPECT_TRUE(RunPass(m, "reduce-rank").changed);
  ASSERT_TRUE(InferShapes(m).ok());
  EXPECT_TRUE(RunPass(m, "unbatch").changed);
  ASSERT_TRUE(InferShapes(m).ok());
  EXPECT_TRUE(BatchedOps(m).empty());
  auto eq = CheckEquivalence(original, m, EquivalenceOptions{4, 1, {}, 1e-5, 1});
  ASSERT_TRUE(eq.ok()) << eq.status().ToString();
  EXPECT_TRUE(eq->equivalent) << eq->Summary();
  // The CNN reads Reshape [1,72,36,36] of the rank-4 Transpose, like the clean export.
  for (const auto& n : m.graph->nodes())
    if (n->name() == "/conv1/Conv") {
      EXPECT_EQ(n->input(0)->type().ShapeString(), "[1,72,36,36]");
    }
}

TEST(UnbatchTest, DoesNotFireAtBatchOne) {
  for (const char* name : {"rppg_clean_op14.onnx", "mobilenet_like_op13.onnx"}) {
    Model m = LoadFixture(name);
    RunPass(m, "fix-dynamic-dims");
    PassResult r = RunPass(m, "unbatch");
    EXPECT_FALSE(r.changed) << name;
    EXPECT_TRUE(r.unresolved.empty()) << name;
  }
  // No restriction in the target: nothing to do.
  Model rppg = FrozenRppg("rppg_dyn_op14.onnx");
  TargetProfile target;
  PassContext ctx{rppg, &target, {}};
  auto r = (*CreatePass("unbatch"))->Run(ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->changed);
}

TEST(UnbatchTest, RejectsUnknownMode) {
  Model m = FrozenRppg("rppg_dyn_op14.onnx");
  auto pass = CreatePass("unbatch");
  PassContext ctx{m, nullptr, Mode("tiles")};
  EXPECT_FALSE((*pass)->Run(ctx).ok());
}

struct Builder {
  Model m;
  Graph& g = *m.graph;
  int seed = 1;
  explicit Builder(int opset) {
    m.ir_version = 8;
    m.opset_imports.push_back({"", opset});
  }
  Value* Input(const std::string& name, const Shape& s) {
    Value* v = *g.CreateValue(name);
    v->type() = TypeInfo::Tensor(DataType::kFloat, s);
    g.AddInput(v);
    return v;
  }
  Value* Ints(const std::string& name, const std::vector<int64_t>& v) {
    return AddInt64Initializer(g, name, v);
  }
  Value* Floats(const std::string& name, const Shape& s, float scale = 0.3f) {
    Tensor t(DataType::kFloat, s);
    ++seed;
    for (int64_t i = 0; i < t.numel(); ++i)
      t.data<float>()[i] = scale * (((i * 7 + seed * 3) % 11) / 5.f - 1.f);
    return g.AddInitializer(name, t);
  }
  Value* Op(const std::string& op, const std::vector<Value*>& in, const std::string& out,
            Node** node = nullptr) {
    auto created = g.CreateValue(out);
    EXPECT_TRUE(created.ok()) << "duplicate value name " << out;
    Value* v = *created;
    Node* n = g.AddNode(op, in, {v}, out + "_node");
    if (node) *node = n;
    return v;
  }
};

// x [1,4*C,8,8] -> Reshape [4,C,8,8] -> Conv(pad 1) -> InstanceNorm -> Relu -> Pad (spatial)
// -> residual Add with the Conv output cropped... -> SE: GAP -> Conv 1x1 -> Sigmoid -> Mul
// -> Add per-batch constant [4,1,1,1] -> ConvTranspose stride 2 -> Concat with itself on axis 3
// -> MaxPool -> graph output (batch 4, read outside the chain) and Reshape [1,-1].
Model RichChain(int64_t c, int64_t cout) {
  Builder b(13);
  Value* x = b.Input("x", {1, 4 * c, 8, 8});
  Value* s = b.Op("Reshape", {x, b.Ints("shape4", {4, c, 8, 8})}, "s");
  Node* conv;
  Value* a = b.Op("Conv", {s, b.Floats("w1", {cout, c, 3, 3}), b.Floats("b1", {cout})}, "a", &conv);
  conv->SetAttribute(Attribute::Ints("pads", {1, 1, 1, 1}));
  Value* in = b.Op("InstanceNormalization",
                   {a, b.Floats("in_s", {cout}, 1.f), b.Floats("in_b", {cout})}, "in");
  Value* r = b.Op("Relu", {in}, "r");
  Value* p = b.Op("Pad", {r, b.Ints("pads", {0, 0, 1, 1, 0, 0, 1, 1})}, "p");  // [4,cout,10,10]
  Node* crop;
  Value* q = b.Op("AveragePool", {p}, "q", &crop);  // 3x3 valid -> [4,cout,8,8]
  crop->SetAttribute(Attribute::Ints("kernel_shape", {3, 3}));
  Value* res = b.Op("Add", {q, a}, "res");
  Value* gap = b.Op("GlobalAveragePool", {res}, "gap");
  Node* se;
  Value* z = b.Op("Conv", {gap, b.Floats("w_se", {cout, cout, 1, 1})}, "z", &se);
  Value* sg = b.Op("Sigmoid", {z}, "sg");
  Value* m = b.Op("Mul", {res, sg}, "m");
  Value* k = b.Op("Add", {m, b.Floats("per_batch", {4, 1, 1, 1})}, "k");
  Value* k2 = b.Op("Mul", {k, b.Floats("per_channel", {cout, 1, 1})}, "k2");
  Node* ct;
  Value* up = b.Op("ConvTranspose", {k2, b.Floats("wt", {cout, 2, 2, 2}), b.Floats("bt", {4})},
                   "up", &ct);  // group 2: [4,4,16,16]
  ct->SetAttribute(Attribute::Ints("strides", {2, 2}));
  ct->SetAttribute(Attribute::Int("group", 2));
  Node* cat;
  Value* cc = b.Op("Concat", {up, up}, "cc", &cat);  // [4,4,16,32]
  cat->SetAttribute(Attribute::Int("axis", 3));
  Node* mp;
  Value* y = b.Op("MaxPool", {cc}, "y", &mp);  // [4,4,8,16]
  mp->SetAttribute(Attribute::Ints("kernel_shape", {2, 2}));
  mp->SetAttribute(Attribute::Ints("strides", {2, 2}));
  Value* flat = b.Op("Reshape", {y, b.Ints("flat_shape", {1, -1})}, "flat");
  b.g.AddOutput(flat);
  b.g.AddOutput(y);
  EXPECT_TRUE(InferShapes(b.m).ok());
  return std::move(b.m);
}

TEST(UnbatchTest, RichChainInBothModes) {
  Model original = RichChain(3, 4);
  ASSERT_FALSE(BatchedOps(original).empty());
  for (const char* mode : {"group", "split"}) {
    SCOPED_TRACE(mode);
    Model m = ExpectEquivalentRewrite(original, "unbatch", Mode(mode));
    EXPECT_TRUE(BatchedOps(m).empty()) << BatchedOps(m)[0];
    // The graph outputs keep their names and shapes.
    EXPECT_EQ(m.graph->outputs()[0]->name(), "flat");
    EXPECT_EQ(m.graph->outputs()[1]->name(), "y");
    EXPECT_EQ(m.graph->outputs()[1]->type().ShapeString(), "[4,4,8,16]");
  }
}

TEST(UnbatchTest, AutoSplitsWhenRepeatedWeightsWouldBeLarge) {
  // 64x64x3x3 float weights (147 KB) at batch 4 stay under 1 MiB: group; at batch 8: split.
  for (int64_t batch : {4, 8}) {
    Builder b(13);
    Value* x = b.Input("x", {1, batch * 64, 6, 6});
    Value* s = b.Op("Reshape", {x, b.Ints("shape", {batch, 64, 6, 6})}, "s");
    Node* conv;
    Value* a = b.Op("Conv", {s, b.Floats("w", {64, 64, 3, 3}, 0.05f)}, "a", &conv);
    Value* y = b.Op("Reshape", {a, b.Ints("out_shape", {1, -1})}, "y");
    b.g.AddOutput(y);
    ASSERT_TRUE(InferShapes(b.m).ok());
    Model m = ExpectEquivalentRewrite(b.m, "unbatch");
    EXPECT_EQ(CountOps(m, "Conv"), batch == 4 ? 1 : batch) << batch;
  }
}

TEST(UnbatchTest, ReportsBatchedOpsItCannotRewrite) {
  // A MatMul-free Gemm target op at batch 3 (not a Conv chain) and a Conv with computed weights.
  TargetProfile target;
  target.shapes.batch_one_ops.value = {"Conv", "Gemm"};
  Builder b(13);
  Value* x = b.Input("x", {1, 12});
  Value* s = b.Op("Reshape", {x, b.Ints("shape", {3, 4})}, "s");
  Node* gemm;
  Value* y = b.Op("Gemm", {s, b.Floats("w", {4, 2})}, "y", &gemm);
  b.g.AddOutput(y);
  Value* x2 = b.Input("x2", {1, 2, 5, 5});
  Value* w2 = b.Input("w2", {2, 1, 1, 1});
  Value* s2 = b.Op("Reshape", {x2, b.Ints("shape2", {2, 1, 5, 5})}, "s2");
  Value* y2 = b.Op("Conv", {s2, w2}, "y2");
  b.g.AddOutput(y2);
  ASSERT_TRUE(InferShapes(b.m).ok());
  PassContext ctx{b.m, &target, {}};
  auto r = (*CreatePass("unbatch"))->Run(ctx);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->changed);
  ASSERT_EQ(r->unresolved.size(), 2u);
  EXPECT_NE(r->unresolved[0].find("Gemm"), std::string::npos) << r->unresolved[0];
  EXPECT_NE(r->unresolved[1].find("weights"), std::string::npos) << r->unresolved[1];
}

TEST(UnbatchTest, Opset9SplitWritesSliceAttributes) {
  Builder b(9);
  Value* x = b.Input("x", {1, 6, 5, 5});
  Value* s = b.Op("Reshape", {x, b.Ints("shape", {3, 2, 5, 5})}, "s");
  Value* a = b.Op("Conv", {s, b.Floats("w", {4, 2, 3, 3}), b.Floats("bias", {4})}, "a");
  Value* r = b.Op("Relu", {a}, "r");
  Node* mp;
  Value* p = b.Op("MaxPool", {r}, "p", &mp);
  mp->SetAttribute(Attribute::Ints("kernel_shape", {2, 2}));
  Node* sq;
  Value* q = b.Op("Squeeze", {b.Op("GlobalAveragePool", {p}, "g")}, "q", &sq);
  sq->SetAttribute(Attribute::Ints("axes", {2, 3}));
  Value* y = b.Op("Reshape", {q, b.Ints("out_shape", {1, 12})}, "y");
  b.g.AddOutput(y);
  ASSERT_TRUE(InferShapes(b.m).ok());
  for (const char* mode : {"group", "split"}) {
    SCOPED_TRACE(mode);
    Model m = ExpectEquivalentRewrite(b.m, "unbatch", Mode(mode));
    EXPECT_TRUE(BatchedOps(m).empty());
    for (const auto& n : m.graph->nodes())
      if (n->op_type() == "Slice") {
        EXPECT_EQ(n->num_inputs(), 1u);
        EXPECT_EQ(n->GetInts("axes"), (std::vector<int64_t>{1}));
      }
  }
}

// The part of the stm32n6 pipeline that exists without the other rewrite passes, checked for
// equivalence after every pass.
TEST(UnbatchTest, WithReduceRankInThePipelineOnEveryRppgFixture) {
  auto target = LoadTargetProfile("stm32n6");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  for (const char* name : {"rppg_dyn_op14.onnx", "rppg_dyn_op13.onnx", "rppg_dyn_op11.onnx"}) {
    SCOPED_TRACE(name);
    Model original = LoadFixture(name);
    auto copy = CloneModel(original);
    ASSERT_TRUE(copy.ok());
    Model m = std::move(copy).value();
    PipelineOptions po;
    po.passes = {"fix-dynamic-dims",   "reduce-rank",    "unbatch",  "fold-batchnorm",
                 "eliminate-identity", "eliminate-dead", "topo-sort"};
    po.verify_each = true;
    po.verify = EquivalenceOptions{2, 1, {}, 1e-5, 1};
    PassContext ctx{m, &*target, {}};
    auto r = RunPipeline(ctx, po, &original);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const PassRecord& rec : r->records) EXPECT_TRUE(rec.result.unresolved.empty()) << rec.pass;
    EXPECT_TRUE(BatchedOps(m).empty());
    auto shapes = RecordConcreteShapes(m);
    ASSERT_TRUE(shapes.ok());
    for (const auto& [value, c] : *shapes) EXPECT_LE(c.shape.size(), 4u) << value;
    EXPECT_EQ(CountOps(m, "Conv"), 3);
  }
}

TEST(UnbatchTest, DepthwiseStridedAndClipChain) {
  // x [1,5*6,9,9] -> [5,6,9,9] -> depthwise Conv (group 6, stride 2) -> Clip(0,0.2) -> 1x1 Conv
  // with a bias -> BatchNorm -> AveragePool -> Flatten (outside the chain).
  Builder b(13);
  Value* x = b.Input("x", {1, 30, 9, 9});
  Value* s = b.Op("Reshape", {x, b.Ints("shape", {5, 6, 9, 9})}, "s");
  Node* dw;
  Value* a = b.Op("Conv", {s, b.Floats("w_dw", {6, 1, 3, 3})}, "a", &dw);
  dw->SetAttribute(Attribute::Int("group", 6));
  dw->SetAttribute(Attribute::Ints("strides", {2, 2}));
  Tensor lo = Tensor::Scalar(0.f), hi = Tensor::Scalar(0.2f);
  Value* c = b.Op("Clip", {a, b.g.AddInitializer("lo", lo), b.g.AddInitializer("hi", hi)}, "c");
  Value* p = b.Op("Conv", {c, b.Floats("w_pw", {3, 6, 1, 1}), b.Floats("b_pw", {3})}, "p");
  Tensor var(DataType::kFloat, {3});  // positive variances
  for (int i = 0; i < 3; ++i) var.data<float>()[i] = 0.5f + 0.25f * i;
  Value* bn = b.Op("BatchNormalization",
                   {p, b.Floats("g", {3}, 1.f), b.Floats("be", {3}), b.Floats("mu", {3}),
                    b.g.AddInitializer("var", var)},
                   "bn");
  Node* ap;
  Value* q = b.Op("AveragePool", {bn}, "q", &ap);
  ap->SetAttribute(Attribute::Ints("kernel_shape", {2, 2}));
  Value* y = b.Op("Flatten", {q}, "y");
  b.g.AddOutput(y);
  ASSERT_TRUE(InferShapes(b.m).ok());
  for (const char* mode : {"group", "split"}) {
    SCOPED_TRACE(mode);
    Model m = ExpectEquivalentRewrite(b.m, "unbatch", Mode(mode));
    EXPECT_TRUE(BatchedOps(m).empty());
    EXPECT_EQ(CountOps(m, "Flatten"), 1);
    if (std::string(mode) == "group") {
      for (const auto& n : m.graph->nodes())
        if (n->op_type() == "Conv") {
          EXPECT_EQ(n->GetInt("group", 1) % 5, 0);
        }
    }
  }
}

}  // namespace
}  // namespace edgefit
