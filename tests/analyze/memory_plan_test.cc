// Activation memory plans of hand-built graphs with known answers, and the planner's invariant
// (no two live buffers overlap) on random lifetimes.
#include "analyze/memory_plan.h"

#include <gtest/gtest.h>

#include <random>

#include "analyze/cost.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

// A float graph built value by value; every tensor [1, n] float32 = 4n bytes.
class Builder {
 public:
  Builder() { model.SetOpsetVersion("", 13); }
  Value* Input(const std::string& name, int64_t n) {
    Value* v = Make(name, n);
    model.graph->AddInput(v);
    return v;
  }
  Value* Make(const std::string& name, int64_t n) {
    Value* v = *model.graph->CreateValue(name);
    v->type() = TypeInfo::Tensor(DataType::kFloat, {1, n});
    return v;
  }
  Value* Op(const std::string& op, std::vector<Value*> in, const std::string& out, int64_t n) {
    Value* v = Make(out, n);
    model.graph->AddNode(op, in, {v}, out + "_node");
    return v;
  }
  void Output(Value* v) { model.graph->AddOutput(v); }
  MemoryPlan Plan(bool inplace = true) {
    auto cost = AnalyzeCost(model);
    EXPECT_TRUE(cost.ok()) << cost.status().ToString();
    MemoryPlanOptions o;
    o.inplace = inplace;
    MemoryPlan plan = PlanActivationMemory(*cost, o);
    EDGEFIT_EXPECT_OK(CheckMemoryPlan(plan));
    return plan;
  }
  Model model;
};

// X[1000] -Softmax-> A[1000] -Tile-> B[2000] -Softmax-> Y[2000]
// live per layer: 0: X+A = 8000, 1: A+B = 12000, 2: B+Y = 16000 (peak, Y is the output).
TEST(MemoryPlanTest, Chain) {
  Builder b;
  Value* x = b.Input("X", 1000);
  Value* a = b.Op("Softmax", {x}, "A", 1000);
  Value* reps = *b.model.graph->CreateValue("reps");
  b.model.graph->SetInitializer(reps, Tensor::FromVector<int64_t>(DataType::kInt64, {2}, {1, 2}));
  Value* t = b.Op("Tile", {a, reps}, "B", 2000);
  b.Output(b.Op("Softmax", {t}, "Y", 2000));
  MemoryPlan plan = b.Plan();
  EXPECT_EQ(plan.live_bytes, (std::vector<int64_t>{8000, 12000, 16000}));
  EXPECT_EQ(plan.peak_live_bytes, 16000);
  EXPECT_EQ(plan.peak_layer, 2);
  EXPECT_EQ(plan.arena_bytes, 16000);  // X's bytes are reused by A's neighbour
  EXPECT_EQ(plan.naive_bytes, 4000 + 4000 + 8000 + 8000);
}

// X -> Softmax a -> A, X -> Softmax b -> B, Add(A, B) -> Y; all 4000 bytes.
// 0: X+A, 1: X+A+B = 12000 (peak), 2: A+B+Y (Y is a graph output: never written in place).
TEST(MemoryPlanTest, Diamond) {
  Builder b;
  Value* x = b.Input("X", 1000);
  Value* a = b.Op("Softmax", {x}, "A", 1000);
  Value* c = b.Op("Softmax", {x}, "B", 1000);
  b.Output(b.Op("Add", {a, c}, "Y", 1000));
  MemoryPlan plan = b.Plan();
  EXPECT_EQ(plan.peak_live_bytes, 12000);
  EXPECT_EQ(plan.peak_layer, 1);
  EXPECT_EQ(plan.arena_bytes, 12000);
  // Y is a graph output: it never takes over an input's buffer.
  EXPECT_TRUE(plan.inplace.empty());
  EXPECT_EQ(plan.live_bytes[2], 12000);
}

// X -> S0 -> S1 -> S2 -> S3, Y = Add(S0, S3) -> Relu -> Z: S0 stays alive across the chain.
// 0: X+S0 8000, 1: S0+S1 8000, 2: S0+S1+S2 12000, 3: S0+S2+S3 12000,
// 4: S0+S3+Y: Y in place over S0 -> 8000, 5: Y+Z 8000. Peak 12000; naive 7 x 4000.
TEST(MemoryPlanTest, LongSkip) {
  Builder b;
  Value* x = b.Input("X", 1000);
  Value* s0 = b.Op("Softmax", {x}, "S0", 1000);
  Value* s1 = b.Op("Softmax", {s0}, "S1", 1000);
  Value* s2 = b.Op("Softmax", {s1}, "S2", 1000);
  Value* s3 = b.Op("Softmax", {s2}, "S3", 1000);
  Value* y = b.Op("Add", {s0, s3}, "Y", 1000);
  b.Output(b.Op("Softmax", {y}, "Z", 1000));
  MemoryPlan plan = b.Plan();
  EXPECT_EQ(plan.live_bytes, (std::vector<int64_t>{8000, 8000, 12000, 12000, 8000, 8000}));
  EXPECT_EQ(plan.peak_live_bytes, 12000);
  EXPECT_EQ(plan.arena_bytes, 12000);
  EXPECT_EQ(plan.naive_bytes, 7 * 4000);
  ASSERT_EQ(plan.inplace.size(), 1u);
  EXPECT_NE(plan.inplace[0].find("writes 'Y' over 'S0'"), std::string::npos) << plan.inplace[0];
  // Without in-place reuse, layer 4 holds S0, S3 and Y.
  MemoryPlan plain = b.Plan(/*inplace=*/false);
  EXPECT_EQ(plain.live_bytes[4], 12000);
  EXPECT_EQ(plain.arena_bytes, 12000);
}

// Views share their input's buffer: X -> Softmax -> A -> Reshape -> B -> Softmax -> Y.
TEST(MemoryPlanTest, ViewsShareBuffers) {
  Builder b;
  Value* x = b.Input("X", 1000);
  Value* a = b.Op("Softmax", {x}, "A", 1000);
  Value* shape = *b.model.graph->CreateValue("shape");
  b.model.graph->SetInitializer(shape,
                                Tensor::FromVector<int64_t>(DataType::kInt64, {2}, {1, 1000}));
  Value* r = b.Op("Reshape", {a, shape}, "B", 1000);
  b.Output(b.Op("Softmax", {r}, "Y", 1000));
  MemoryPlan plan = b.Plan();
  EXPECT_EQ(plan.buffers.size(), 3u);  // X, A=B, Y
  EXPECT_EQ(plan.tensor_buffer[1], plan.tensor_buffer[2]);
  EXPECT_EQ(plan.arena_bytes, 8000);
  EXPECT_EQ(plan.naive_bytes, 12000);
}

TEST(MemoryPlanTest, CheckerFindsOverlap) {
  std::vector<Lifetime> blocks = {{100, 0, 2}, {50, 1, 3}};
  EXPECT_FALSE(CheckNoOverlap(blocks, {0, 60}).ok());
  EXPECT_TRUE(CheckNoOverlap(blocks, {0, 100}).ok());
  // Not alive together: the same bytes are fine.
  EXPECT_TRUE(CheckNoOverlap({{100, 0, 1}, {100, 2, 3}}, {0, 0}).ok());
}

TEST(MemoryPlanTest, RandomLifetimesNeverOverlap) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Lifetime> blocks;
    int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      int first = static_cast<int>(rng() % 30);
      blocks.push_back(
          {1 + static_cast<int64_t>(rng() % 5000), first, first + static_cast<int>(rng() % 8)});
    }
    for (int64_t align : {1, 16}) {
      OffsetPlan plan = PlanOffsets(blocks, align);
      EDGEFIT_ASSERT_OK(CheckNoOverlap(blocks, plan.offsets));
      EXPECT_GE(plan.arena_bytes, PeakLiveBytes(blocks));
      for (int64_t off : plan.offsets) EXPECT_EQ(off % align, 0);
    }
  }
}

}  // namespace
}  // namespace edgefit
