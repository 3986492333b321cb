// reduce-rank: structure after the pass, equivalence on the executor, must-not-fire cases,
// idempotence (ExpectEquivalentRewrite runs the pass twice).
#include <algorithm>
#include <cstdint>
#include <random>

#include "pass_test_util.h"
#include "passes/pass_util.h"
#include "shape/concrete_shapes.h"
#include "shape/shape_inference.h"
#include "targets/profile.h"

namespace edgefit {
namespace {

using testing::CountOps;
using testing::ExpectEquivalentRewrite;
using testing::LoadFixture;
using testing::RunPass;

// The largest rank of any value, from one executor run.
int MaxRank(const Model& m) {
  auto shapes = RecordConcreteShapes(m);
  EXPECT_TRUE(shapes.ok()) << shapes.status().ToString();
  int r = 0;
  if (shapes.ok())
    for (const auto& [name, v] : *shapes) r = std::max(r, static_cast<int>(v.shape.size()));
  for (const Value* v : m.graph->inputs()) r = std::max(r, v->type().rank());
  return r;
}

Node* FindOp(const Model& m, const std::string& op) {
  for (const auto& n : m.graph->nodes())
    if (n->op_type() == op) return n.get();
  return nullptr;
}

// The rPPG fixture with its batch frozen to 1 (what fix-dynamic-dims does first).
Model FrozenRppg(const std::string& name) {
  Model m = LoadFixture(name);
  EXPECT_TRUE(RunPass(m, "fix-dynamic-dims").changed);
  EXPECT_TRUE(InferShapes(m).ok());
  return m;
}

TEST(ReduceRankTest, RppgOp14BecomesTheCleanRank4Chain) {
  Model original = FrozenRppg("rppg_dyn_op14.onnx");
  ASSERT_EQ(MaxRank(original), 6);
  Model m = ExpectEquivalentRewrite(original, "reduce-rank");
  EXPECT_EQ(MaxRank(m), 4);
  Node* t = FindOp(m, "Transpose");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->GetInts("perm"), (std::vector<int64_t>{0, 1, 3, 2}));
  EXPECT_EQ(t->input(0)->type().ShapeString(), "[1,24,3,1296]");
  EXPECT_EQ(t->output(0)->type().ShapeString(), "[1,24,1296,3]");
  EXPECT_EQ(ConstantInts(t->input(0)->producer()->input(1)),
            (std::vector<int64_t>{1, 24, 3, 1296}));
  EXPECT_EQ(CountOps(m, "Reshape"), CountOps(original, "Reshape"));
}

TEST(ReduceRankTest, RppgOp13AndOp11UseExecutorShapes) {
  for (const char* name : {"rppg_dyn_op13.onnx", "rppg_dyn_op11.onnx"}) {
    SCOPED_TRACE(name);
    Model original = FrozenRppg(name);
    Model m = ExpectEquivalentRewrite(original, "reduce-rank");
    EXPECT_EQ(MaxRank(m), 4);
    PassResult again = RunPass(m, "reduce-rank");
    EXPECT_TRUE(again.unresolved.empty());
  }
}

TEST(ReduceRankTest, StaysWithinTargetLimits) {
  TargetProfile target;
  target.shapes.max_rank.value = 5;
  target.shapes.preferred_rank.value = 4;
  Model m = FrozenRppg("rppg_dyn_op14.onnx");
  PassContext ctx{m, &target, {}};
  auto r = (*CreatePass("reduce-rank"))->Run(ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->changed);
  EXPECT_TRUE(r->unresolved.empty());
  EXPECT_EQ(MaxRank(m), 4);
}

TEST(ReduceRankTest, DoesNotFireOnCleanOrDynamicModels) {
  Model clean = LoadFixture("rppg_clean_op14.onnx");
  EXPECT_FALSE(RunPass(clean, "reduce-rank").changed);
  Model mobilenet = LoadFixture("mobilenet_like_op13.onnx");
  EXPECT_FALSE(RunPass(mobilenet, "reduce-rank").changed);
  // A dynamic batch: the merged shapes cannot be written down; the pass says why.
  Model dynamic = LoadFixture("rppg_dyn_op13.onnx");
  PassResult r = RunPass(dynamic, "reduce-rank");
  EXPECT_FALSE(r.changed);
}

// Builders for small graphs.
struct Builder {
  Model m;
  Graph& g = *m.graph;
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
  Value* Floats(const std::string& name, const Shape& s) {
    Tensor t(DataType::kFloat, s);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = 0.25f * ((i * 5) % 7) - 0.6f;
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
  void Output(Value* v) { g.AddOutput(v); }
};

// Reshape to rank 6 -> Transpose -> Mul by a broadcast constant -> Relu -> Slice -> Concat
// -> Reshape down.
Model ElementwiseSliceConcatChain(int opset) {
  Builder b(opset);
  Value* x = b.Input("x", {1, 6, 4, 10});
  Value* t = b.Op("Reshape", {x, b.Ints("s6", {1, 2, 3, 4, 5, 2})}, "t");
  Node* tr;
  Value* u = b.Op("Transpose", {t}, "u", &tr);  // [1,2,3,2,4,5]
  tr->SetAttribute(Attribute::Ints("perm", {0, 1, 2, 5, 3, 4}));
  Value* c = b.Floats("c", {2, 1, 1});  // broadcast over logical axis 5 only
  Value* w = b.Op("Mul", {u, c}, "w");
  Value* r = b.Op("Relu", {w}, "r");
  Node* slice;
  Value* s = opset >= 10
                 ? b.Op("Slice", {r, b.Ints("st", {1}), b.Ints("en", {2}), b.Ints("ax", {1})}, "s")
                 : b.Op("Slice", {r}, "s", &slice);
  if (opset < 10) {
    slice->SetAttribute(Attribute::Ints("starts", {1}));
    slice->SetAttribute(Attribute::Ints("ends", {2}));
    slice->SetAttribute(Attribute::Ints("axes", {1}));
  }
  Node* cat;
  Value* k = b.Op("Concat", {s, r}, "k", &cat);  // [1,3,3,2,4,5] on axis 1
  cat->SetAttribute(Attribute::Int("axis", 1));
  Value* y = b.Op("Reshape", {k, b.Ints("s2", {1, -1})}, "y");
  b.Output(y);
  return std::move(b.m);
}

TEST(ReduceRankTest, MergesAcrossElementwiseSliceAndConcat) {
  for (int opset : {9, 13}) {
    SCOPED_TRACE(opset);
    Model original = ElementwiseSliceConcatChain(opset);
    ASSERT_TRUE(InferShapes(original).ok());
    Model m = ExpectEquivalentRewrite(original, "reduce-rank");
    EXPECT_EQ(MaxRank(m), 4);
    Node* mul = FindOp(m, "Mul");
    ASSERT_NE(mul, nullptr);
    const Tensor* c = ConstantValue(mul->input(1));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->shape(), (Shape{1, 1, 2, 1}));
    Node* slice = FindOp(m, "Slice");
    ASSERT_NE(slice, nullptr);
    std::vector<int64_t> starts =
        opset >= 10 ? *ConstantInts(slice->input(1)) : slice->GetInts("starts");
    EXPECT_EQ(starts, (std::vector<int64_t>{3}));  // [1,2) of the 2 in (2,3) -> [3,6)
  }
}

TEST(ReduceRankTest, SliceWithStepAndNegativeAxesStaysCorrect) {
  Builder b(13);
  Value* x = b.Input("x", {2, 3, 4, 5, 6});
  Value* t = b.Op("Reshape", {x, b.Ints("shape6", {2, 3, 4, 5, 3, 2})}, "t");
  // Reverse axis 3 (inner to the group (2,3,4,5)), keep every second element of axis -2.
  Value* s = b.Op("Slice",
                  {t, b.Ints("st", {-1, 0}), b.Ints("en", {INT64_MIN, 3}), b.Ints("ax", {3, -2}),
                   b.Ints("sp", {-1, 2})},
                  "s");  // [2,3,4,5,2,2]
  Value* e = b.Op("Exp", {s}, "e");
  Value* y = b.Op("Reshape", {e, b.Ints("s2", {-1})}, "y");
  b.Output(y);
  ASSERT_TRUE(InferShapes(b.m).ok());
  Model m = ExpectEquivalentRewrite(b.m, "reduce-rank");
  EXPECT_LE(MaxRank(m), 5);
}

TEST(ReduceRankTest, UnsqueezeAndSqueezeBoundariesBecomeReshapes) {
  Builder b(13);
  Value* x = b.Input("x", {1, 6, 4, 5});
  Value* t = b.Op("Unsqueeze", {x, b.Ints("a0", {0})}, "t");  // [1,1,6,4,5]
  Node* tr;
  Value* u = b.Op("Transpose", {t}, "u", &tr);
  tr->SetAttribute(Attribute::Ints("perm", {0, 1, 2, 4, 3}));
  Value* y = b.Op("Squeeze", {u, b.Ints("a1", {0})}, "y");  // [1,6,5,4]
  b.Output(y);
  ASSERT_TRUE(InferShapes(b.m).ok());
  Model m = ExpectEquivalentRewrite(b.m, "reduce-rank");
  EXPECT_EQ(CountOps(m, "Squeeze"), 0);
  EXPECT_EQ(CountOps(m, "Unsqueeze"), 0);
  EXPECT_EQ(CountOps(m, "Reshape"), 2);
  EXPECT_EQ(MaxRank(m), 4);
  EXPECT_EQ(m.graph->outputs()[0]->name(), "y");
}

TEST(ReduceRankTest, ReportsChainsItCannotReduce) {
  // Every pair of neighbouring axes is reversed: nothing merges.
  Builder b(13);
  Value* x = b.Input("x", {2, 3, 4, 210});
  Value* t = b.Op("Reshape", {x, b.Ints("s", {2, 3, 4, 5, 6, 7})}, "t");
  Node* tr;
  Value* u = b.Op("Transpose", {t}, "u", &tr);
  tr->SetAttribute(Attribute::Ints("perm", {5, 4, 3, 2, 1, 0}));
  Value* y = b.Op("Reshape", {u, b.Ints("s2", {2, -1})}, "y");
  b.Output(y);
  ASSERT_TRUE(InferShapes(b.m).ok());
  PassResult r = RunPass(b.m, "reduce-rank");
  EXPECT_FALSE(r.changed);
  ASSERT_EQ(r.unresolved.size(), 1u);
  EXPECT_NE(r.unresolved[0].find("'t'"), std::string::npos) << r.unresolved[0];

  // An over-rank tensor read by an op the pass does not rewrite.
  Builder c(13);
  Value* x2 = c.Input("x", {1, 6, 4, 10});
  Value* t2 = c.Op("Reshape", {x2, c.Ints("s", {1, 2, 3, 4, 5, 2})}, "t");
  Value* sm = c.Op("Softmax", {t2}, "sm");
  Value* y2 = c.Op("Reshape", {sm, c.Ints("s2", {1, -1})}, "y");
  c.Output(y2);
  ASSERT_TRUE(InferShapes(c.m).ok());
  PassResult r2 = RunPass(c.m, "reduce-rank");
  EXPECT_FALSE(r2.changed);
  ASSERT_GE(r2.unresolved.size(), 1u);  // 't' read by Softmax, and Softmax's own output
  EXPECT_NE(r2.unresolved[0].find("Softmax"), std::string::npos) << r2.unresolved[0];
}

TEST(ReduceRankTest, RankWithinMaxButAbovePreferredIsReducedSilentlyOrLeft) {
  // Rank 5 on a target with max 5, preferred 4: reduced when possible, never unresolved.
  TargetProfile target;
  target.shapes.max_rank.value = 5;
  target.shapes.preferred_rank.value = 4;
  Builder b(13);
  Value* x = b.Input("x", {2, 3, 4, 210});
  Value* t = b.Op("Reshape", {x, b.Ints("s", {2, 3, 4, 30, 7})}, "t");
  Node* tr;
  Value* u = b.Op("Transpose", {t}, "u", &tr);
  tr->SetAttribute(Attribute::Ints("perm", {4, 3, 2, 1, 0}));
  Value* y = b.Op("Reshape", {u, b.Ints("s2", {2, -1})}, "y");
  b.Output(y);
  ASSERT_TRUE(InferShapes(b.m).ok());
  PassContext ctx{b.m, &target, {}};
  auto r = (*CreatePass("reduce-rank"))->Run(ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->changed);
  EXPECT_TRUE(r->unresolved.empty());
}

// Seeded random chains: Reshape to rank 5-6 (dims 1-3), Transpose, an optional broadcast
// constant, an optional second Transpose, Reshape to 1-D. Wherever the pass fires, the result must
// be equivalent, within the limit when it says so, and stable.
TEST(ReduceRankTest, RandomChainsStayEquivalent) {
  std::mt19937 rng(7);
  int fired = 0;
  for (int iter = 0; iter < 150; ++iter) {
    SCOPED_TRACE(iter);
    int rank = 5 + static_cast<int>(rng() % 2);
    Shape shape;
    for (int i = 0; i < rank; ++i) shape.push_back(1 + static_cast<int64_t>(rng() % 3));
    int64_t numel = NumElements(shape);
    auto random_perm = [&] {
      std::vector<int64_t> perm(rank);
      for (int i = 0; i < rank; ++i) perm[i] = i;
      // Mostly-ordered permutations, so that some axes stay together.
      for (int k = 0; k < 2; ++k) std::swap(perm[rng() % rank], perm[rng() % rank]);
      return perm;
    };
    Builder b(13);
    Value* x = b.Input("x", {1, numel});
    Value* cur = b.Op("Reshape", {x, b.Ints("shape_in", shape)}, "t0");
    std::vector<int64_t> perm = random_perm();
    Node* tr;
    cur = b.Op("Transpose", {cur}, "t1", &tr);
    tr->SetAttribute(Attribute::Ints("perm", perm));
    Shape after(rank);
    for (int i = 0; i < rank; ++i) after[i] = shape[perm[i]];
    if (rng() % 2) {
      Shape cs = after;
      for (auto& d : cs)
        if (rng() % 2) d = 1;
      cs.erase(cs.begin(), cs.begin() + rng() % 2);  // sometimes a lower-rank constant
      cur = b.Op(rng() % 2 ? "Add" : "Mul", {cur, b.Floats("c", cs)}, "t2");
    }
    if (rng() % 2) {
      std::vector<int64_t> p2 = random_perm();
      cur = b.Op("Transpose", {cur}, "t3", &tr);
      tr->SetAttribute(Attribute::Ints("perm", p2));
    }
    Value* y = b.Op("Reshape", {cur, b.Ints("shape_out", {-1})}, "y");
    b.Output(y);
    ASSERT_TRUE(InferShapes(b.m).ok());
    auto copy = CloneModel(b.m);
    ASSERT_TRUE(copy.ok());
    Model m = std::move(copy).value();
    PassResult r = RunPass(m, "reduce-rank");
    if (!r.changed) continue;
    ++fired;
    auto eq = CheckEquivalence(b.m, m, EquivalenceOptions{2, 1, {}, 1e-6, 1});
    ASSERT_TRUE(eq.ok()) << eq.status().ToString();
    EXPECT_TRUE(eq->equivalent) << eq->Summary() << r.notes[0];
    if (r.unresolved.empty()) {
      EXPECT_LE(MaxRank(m), 4) << r.notes[0];
    }
    EXPECT_FALSE(RunPass(m, "reduce-rank").changed) << r.notes[0];
  }
  EXPECT_GT(fired, 100);
}

}  // namespace
}  // namespace edgefit
