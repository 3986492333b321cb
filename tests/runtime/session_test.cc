// Session mechanics, tested with a private registry of tiny kernels so that these tests do not
// depend on any real kernel family.
#include "runtime/session.h"

#include <gtest/gtest.h>

#include "kernel_test_util.h"

namespace edgefit {
namespace {

// "AddOne": y = x + 1 (float). "View": y = x reshaped to [numel]. "Boom": fails at run.
KernelRegistry TestRegistry() {
  KernelRegistry r;
  r.Add("AddOne", 1, 1000, SimpleKernel([](KernelContext& ctx) -> Status {
          const Tensor& x = *ctx.input(0);
          ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, DataType::kFloat, x.shape()));
          for (int64_t i = 0; i < x.numel(); ++i) y->data<float>()[i] = x.data<float>()[i] + 1;
          return Status::Ok();
        }));
  r.Add("View", 1, 1000, SimpleKernel([](KernelContext& ctx) -> Status {
          return ctx.OutputView(0, 0, {ctx.input(0)->numel()});
        }));
  r.Add("Boom", 1, 1000, SimpleKernel([](KernelContext& ctx) -> Status {
          return ctx.Error("index 7 out of range [0, 5)");
        }));
  r.Add("OnlyOld", 1, 10, SimpleKernel([](KernelContext&) { return Status::Ok(); }));
  return r;
}

// x -> AddOne -> a -> AddOne -> b -> View -> c -> AddOne -> y
Model ChainModel(const std::vector<std::string>& ops, Shape shape = {2, 3}) {
  Model m;
  m.ir_version = 8;
  m.opset_imports.push_back({"", 13});
  Graph& g = *m.graph;
  Value* x = *g.CreateValue("x");
  x->type() = TypeInfo::Tensor(DataType::kFloat, shape);
  g.AddInput(x);
  Value* cur = x;
  for (size_t i = 0; i < ops.size(); ++i) {
    Value* next = *g.CreateValue("v" + std::to_string(i));
    g.AddNode(ops[i], {cur}, {next}, "n" + std::to_string(i));
    cur = next;
  }
  g.AddOutput(cur);
  return m;
}

TEST(SessionTest, RunsChainAndReusesArena) {
  KernelRegistry reg = TestRegistry();
  Model m = ChainModel({"AddOne", "AddOne", "View", "AddOne", "AddOne"});
  SessionOptions opt;
  opt.registry = &reg;
  auto s = Session::Create(m, opt);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Tensor x = testing::F32({2, 3}, {0, 1, 2, 3, 4, 5});
  for (int run = 0; run < 3; ++run) {
    auto out = (*s)->Run({{"x", x}});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    testing::ExpectNear((*out)[0], {6}, {4, 5, 6, 7, 8, 9});
  }
  // Intermediates v0, v1 (v2 is a view of v1), v3 live in a planned arena; at most two
  // 24-byte buffers (64-byte aligned) are live at once.
  EXPECT_GT((*s)->arena_bytes(), 0u);
  EXPECT_LE((*s)->arena_bytes(), 2u * 64u);
  EXPECT_EQ((*s)->plans_built(), 1);
}

// The graph output is a view of an intermediate (x -> AddOne -> a -> AddOne -> b -> View -> y):
// b's buffer escapes to the caller, so the plan leaves it on the heap, and that must not make
// every run plan again. A session run once plans nothing; PlanMemory plans on demand.
TEST(SessionTest, OutputAliasingAnIntermediateIsPlannedOnce) {
  KernelRegistry reg = TestRegistry();
  Model m = ChainModel({"AddOne", "AddOne", "View"});
  SessionOptions opt;
  opt.registry = &reg;
  auto s = Session::Create(m, opt);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Tensor x = testing::F32({2, 3}, {0, 1, 2, 3, 4, 5});
  auto first = (*s)->Run({{"x", x}});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*s)->plans_built(), 0);
  EXPECT_EQ((*s)->arena_bytes(), 0u);
  (*s)->PlanMemory();
  EXPECT_EQ((*s)->plans_built(), 1);
  EXPECT_GT((*s)->arena_bytes(), 0u);  // a lives in the arena
  for (int run = 0; run < 4; ++run) {
    auto out = (*s)->Run({{"x", x}});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    testing::ExpectNear((*out)[0], {6}, {2, 3, 4, 5, 6, 7});
  }
  EXPECT_EQ((*s)->plans_built(), 1);
}

TEST(SessionTest, ObserverSeesEveryIntermediate) {
  KernelRegistry reg = TestRegistry();
  Model m = ChainModel({"AddOne", "AddOne"});
  SessionOptions opt;
  opt.registry = &reg;
  auto s = Session::Create(m, opt);
  ASSERT_TRUE(s.ok());
  std::vector<std::pair<std::string, float>> seen;
  auto out = (*s)->Run({{"x", testing::F32({2, 3}, {0, 0, 0, 0, 0, 0})}},
                       [&](const Node& n, const Value& v, const Tensor& t) {
                         seen.push_back({v.name(), t.data<float>()[0]});
                       });
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::pair<std::string, float>{"v0", 1.f}));
  EXPECT_EQ(seen[1], (std::pair<std::string, float>{"v1", 2.f}));
}

TEST(SessionTest, BadInputsAreClearErrors) {
  KernelRegistry reg = TestRegistry();
  Model m = ChainModel({"AddOne"});
  SessionOptions opt;
  opt.registry = &reg;
  auto s = Session::Create(m, opt);
  ASSERT_TRUE(s.ok());
  auto wrong_name = (*s)->Run({{"nope", testing::F32({2, 3}, {0, 0, 0, 0, 0, 0})}});
  EXPECT_EQ(wrong_name.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_name.status().message().find("'nope' is not an input"), std::string::npos);
  auto missing = (*s)->Run({});
  EXPECT_NE(missing.status().message().find("input 'x' is missing"), std::string::npos);
  auto wrong_rank = (*s)->Run({{"x", testing::F32({6}, {0, 0, 0, 0, 0, 0})}});
  EXPECT_NE(wrong_rank.status().message().find("must have rank 2"), std::string::npos);
  auto wrong_dim = (*s)->Run({{"x", testing::F32({3, 2}, {0, 0, 0, 0, 0, 0})}});
  EXPECT_NE(wrong_dim.status().message().find("dim 0 must be 2"), std::string::npos);
  auto wrong_type = (*s)->Run({{"x", testing::I64({2, 3}, {0, 0, 0, 0, 0, 0})}});
  EXPECT_NE(wrong_type.status().message().find("must be float32, got int64"), std::string::npos);
}

TEST(SessionTest, UnsupportedOpFailsAtBuildNamingNodeAndOpset) {
  KernelRegistry reg = TestRegistry();
  Model m = ChainModel({"AddOne", "OnlyOld"});
  SessionOptions opt;
  opt.registry = &reg;
  auto s = Session::Create(m, opt);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(s.status().message().find("OnlyOld 'n1' (opset 13)"), std::string::npos)
      << s.status().message();
}

TEST(SessionTest, RuntimeErrorNamesNode) {
  KernelRegistry reg = TestRegistry();
  Model m = ChainModel({"Boom"});
  SessionOptions opt;
  opt.registry = &reg;
  auto s = Session::Create(m, opt);
  ASSERT_TRUE(s.ok());
  auto out = (*s)->Run({{"x", testing::F32({2, 3}, {0, 0, 0, 0, 0, 0})}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "Boom 'n0' (opset 13): index 7 out of range [0, 5)");
}

TEST(SessionTest, MaxMemoryRefusedUpFront) {
  KernelRegistry reg = TestRegistry();
  Model m = ChainModel({"AddOne", "AddOne"}, {1000, 1000});
  for (auto& n : m.graph->nodes())
    const_cast<Value*>(n->output(0))->type() = TypeInfo::Tensor(DataType::kFloat, {1000, 1000});
  SessionOptions opt;
  opt.registry = &reg;
  opt.max_memory_bytes = 1 << 20;
  auto s = Session::Create(m, opt);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kResourceExhausted);
}

// Regression: graph inputs released at their last use were subtracted from the estimate
// without ever being added, so any limit failed with a wrapped-around size.
TEST(SessionTest, MaxMemoryAcceptsModelWithinLimit) {
  KernelRegistry reg = TestRegistry();
  Model m = ChainModel({"AddOne", "AddOne"}, {1000, 1000});
  for (auto& n : m.graph->nodes())
    const_cast<Value*>(n->output(0))->type() = TypeInfo::Tensor(DataType::kFloat, {1000, 1000});
  SessionOptions opt;
  opt.registry = &reg;
  opt.max_memory_bytes = 64 << 20;
  auto s = Session::Create(m, opt);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
}

}  // namespace
}  // namespace edgefit
