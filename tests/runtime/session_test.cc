// Session mechanics, tested with a private registry of tiny kernels so that these tests do not
// depend on any real kernel family.
#include "runtime/session.h"

#include <gtest/gtest.h>

#include <algorithm>

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

// The plain scan the windowed placement replaced: first fit among every block placed before that
// is alive at the same time.
std::vector<size_t> ReferencePlacement(const std::vector<ArenaBlock>& blocks, size_t* total) {
  std::vector<size_t> offsets;
  *total = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t j = 0; j < i; ++j)
      if (blocks[j].first <= blocks[i].last && blocks[i].first <= blocks[j].last)
        busy.push_back({offsets[j], offsets[j] + blocks[j].bytes});
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [start, end] : busy) {
      if (offset + blocks[i].bytes <= start) break;
      offset = std::max(offset, end);
    }
    offsets.push_back(offset);
    *total = std::max(*total, offset + blocks[i].bytes);
  }
  return offsets;
}

TEST(ArenaPlacementTest, SameOffsetsAsPlainScanAndNoOverlap) {
  uint64_t seed = 12345;
  auto next = [&seed](uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  for (int trial = 0; trial < 20; ++trial) {
    const int steps = 1 + static_cast<int>(next(300));
    std::vector<ArenaBlock> blocks;
    const int n = static_cast<int>(next(400));
    for (int i = 0; i < n; ++i) {
      ArenaBlock b;
      b.bytes = 64 * (1 + next(8));
      b.first = static_cast<int>(next(steps));
      // Mostly short lifetimes, some across many windows.
      b.last = b.first + static_cast<int>(next(4) == 0 ? next(steps) : next(3));
      blocks.push_back(b);
    }
    std::stable_sort(blocks.begin(), blocks.end(),
                     [](const ArenaBlock& a, const ArenaBlock& b) { return a.bytes > b.bytes; });
    size_t total = 0, ref_total = 0;
    std::vector<size_t> offsets = PlaceArenaBlocks(blocks, &total);
    std::vector<size_t> ref = ReferencePlacement(blocks, &ref_total);
    ASSERT_EQ(offsets, ref) << "trial " << trial;
    EXPECT_EQ(total, ref_total);
    for (size_t i = 0; i < blocks.size(); ++i) {
      EXPECT_LE(offsets[i] + blocks[i].bytes, total);
      for (size_t j = i + 1; j < blocks.size(); ++j) {
        bool alive_together =
            blocks[i].first <= blocks[j].last && blocks[j].first <= blocks[i].last;
        bool disjoint = offsets[i] + blocks[i].bytes <= offsets[j] ||
                        offsets[j] + blocks[j].bytes <= offsets[i];
        EXPECT_TRUE(!alive_together || disjoint) << "blocks " << i << " and " << j;
      }
    }
  }
}

TEST(ArenaPlacementTest, ReusesMemoryOfDeadBlocks) {
  // 0 and 1 are alive together; 2 starts after both died and reuses offset 0.
  std::vector<ArenaBlock> blocks = {{128, 0, 1}, {64, 1, 2}, {64, 3, 4}};
  size_t total = 0;
  EXPECT_EQ(PlaceArenaBlocks(blocks, &total), (std::vector<size_t>{0, 128, 0}));
  EXPECT_EQ(total, 192u);
}

TEST(KernelRegistryTest, FindReturnsFirstMatchingDefinition) {
  KernelRegistry r;
  auto k = SimpleKernel([](KernelContext&) { return Status::Ok(); });
  r.Add("Op", 1, 10, k);
  r.Add("Op", 5, 20, k);
  r.Add("custom.dom", "Op", 1, 20, k);
  r.Add("Other", 1, 20, k);
  EXPECT_EQ(r.Find("", "Op", 7), &r.defs()[0]);
  EXPECT_EQ(r.Find("ai.onnx", "Op", 7), &r.defs()[0]);
  EXPECT_EQ(r.Find("", "Op", 15), &r.defs()[1]);
  EXPECT_EQ(r.Find("custom.dom", "Op", 3), &r.defs()[2]);
  EXPECT_EQ(r.Find("", "Op", 21), nullptr);
  EXPECT_EQ(r.Find("", "Missing", 7), nullptr);
  EXPECT_EQ(r.Find("custom.dom", "Other", 7), nullptr);
}

}  // namespace
}  // namespace edgefit
