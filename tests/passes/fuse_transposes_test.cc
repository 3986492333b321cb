// fuse-transposes: Transpose chains -> one Transpose with the composed perm, or none.
#include "graph_builder.h"
#include "pass_test_util.h"

namespace edgefit {
namespace {

using testing::CountOps;
using testing::ExpectEquivalentRewrite;
using testing::GraphBuilder;
using testing::LoadFixture;
using testing::RunPass;

Attribute Perm(std::vector<int64_t> p) { return Attribute::Ints("perm", std::move(p)); }

TEST(FuseTransposesTest, ComposesPermutations) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {2, 3, 4, 5});
  Value* t1 = b.Op("Transpose", {x}, "t1", {Perm({0, 2, 3, 1})});   // [2,4,5,3]
  Value* t2 = b.Op("Transpose", {t1}, "t2", {Perm({1, 0, 3, 2})});  // [4,2,3,5]
  b.Output(b.Op("Relu", {t2}, "y"));
  Model m = ExpectEquivalentRewrite(b.model, "fuse-transposes");
  EXPECT_EQ(CountOps(m, "Transpose"), 1);
  const Node* t = m.graph->FindValue("t2")->producer();
  EXPECT_EQ(t->input(0)->name(), "x");
  // p[i] = p1[p2[i]] = [p1[1], p1[0], p1[3], p1[2]] = [2,0,1,3].
  EXPECT_EQ(t->GetInts("perm"), (std::vector<int64_t>{2, 0, 1, 3}));
}

// Three Transposes, one with the default (reversing) perm, composing to the identity.
TEST(FuseTransposesTest, RemovesChainsThatCancel) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {2, 3, 4});
  Value* relu = b.Op("Relu", {x}, "relu");
  Value* t1 = b.Op("Transpose", {relu}, "t1");                   // reversed: [4,3,2]
  Value* t2 = b.Op("Transpose", {t1}, "t2", {Perm({1, 0, 2})});  // [3,4,2]
  Value* t3 = b.Op("Transpose", {t2}, "t3", {Perm({2, 0, 1})});  // [2,3,4]
  b.Output(b.Op("Sigmoid", {t3}, "y"));
  Model m = ExpectEquivalentRewrite(b.model, "fuse-transposes");
  EXPECT_EQ(CountOps(m, "Transpose"), 0);
  EXPECT_EQ(m.graph->FindValue("y")->producer()->input(0)->name(), "relu");
}

TEST(FuseTransposesTest, CancellingPairAtTheGraphOutputKeepsItsName) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {2, 3, 4, 5});
  Value* relu = b.Op("Relu", {x}, "relu");
  Value* t1 = b.Op("Transpose", {relu}, "t1", {Perm({0, 2, 3, 1})});
  b.Output(b.Op("Transpose", {t1}, "y", {Perm({0, 3, 1, 2})}));
  Model m = ExpectEquivalentRewrite(b.model, "fuse-transposes");
  EXPECT_EQ(CountOps(m, "Transpose"), 0);
  EXPECT_EQ(m.graph->outputs()[0]->name(), "y");
  EXPECT_EQ(m.graph->outputs()[0]->producer()->op_type(), "Relu");

  // Graph input straight to graph output: one (identity) Transpose must stay.
  GraphBuilder io(13);
  Value* in = io.Input("x", {2, 3, 4, 5});
  Value* u1 = io.Op("Transpose", {in}, "t1", {Perm({0, 2, 3, 1})});
  io.Output(io.Op("Transpose", {u1}, "y", {Perm({0, 3, 1, 2})}));
  Model kept = ExpectEquivalentRewrite(io.model, "fuse-transposes");
  EXPECT_EQ(CountOps(kept, "Transpose"), 1);
}

TEST(FuseTransposesTest, DoesNotFuseWhenTheIntermediateHasAnotherReader) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {2, 3, 4});
  Value* t1 = b.Op("Transpose", {x}, "t1", {Perm({1, 0, 2})});
  b.Output(b.Op("Transpose", {t1}, "y", {Perm({0, 2, 1})}));
  b.Output(b.Op("Relu", {t1}, "z"));
  EXPECT_FALSE(RunPass(b.model, "fuse-transposes").changed);

  Model clean = LoadFixture("rppg_clean_op14.onnx");
  EXPECT_FALSE(RunPass(clean, "fuse-transposes").changed);
}

}  // namespace
}  // namespace edgefit
