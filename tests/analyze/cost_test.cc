// MACs, params and weight bytes of the fixtures against hand-computed values, a ResNet18-sized
// model against its published figure, INT8-aware weight bytes, and the memory plan's invariant on
// every fixture.
#include "analyze/cost.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "model_zoo.h"
#include "onnx/model_io.h"
#include "report/analysis.h"
#include "targets/profile.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

using testing::FixturePath;

AnalyzeReport Analyze(const std::string& path, const TargetProfile* target = nullptr) {
  auto model = LoadModel(path);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  AnalyzeOptions o;
  o.target = target;
  auto r = AnalyzeModel(*model, path, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : AnalyzeReport{};
}

const LayerCost* Layer(const CostReport& c, const std::string& name) {
  for (const auto& l : c.layers) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

// rppg_clean_op14 (tests/fixtures/README.md): input [1,72,36,36].
//   /conv1/Conv  group 24, W [192,3,3,3], out [1,192,36,36]: 192*36*36 * 3*3*3 = 6,718,464
//   /conv2/Conv  group 24, W [384,8,3,3], out [1,384,18,18]: 384*18*18 * 8*3*3 = 8,957,952
//   /tconv/Conv  W [32,48,3], out [1,32,8]:                   32*8 * 48*3      =    36,864
//   /fc1/Gemm    [1,32] x [32,16]: 16*32 = 512;  /fc2/Gemm [1,16] x [16,1]: 16
//   BatchNormalization (not folded): 1 MAC per element: 192*36*36 + 384*18*18 = 373,248
// MACs = 15,713,808 + 373,248 = 16,087,056.
// Params: conv1 5184+192, bn1 4*192, conv2 27648+384, bn2 4*384, tconv 4608+32, fc1 512+16,
// fc2 16+1 = 40,897 float32 = 163,588 bytes (the Reshape shapes are int64 constants: not
// weights).
// Other ops: Relu 248,832 + MaxPool 2x2 62,208*4 + Relu 124,416 + GAP 124,416 + Relu 256 +
// ReduceMean 256 + Relu 16 = 747,024.
TEST(CostTest, RppgCleanByHand) {
  AnalyzeReport r = Analyze(FixturePath("rppg_clean_op14.onnx"));
  const CostReport& c = r.cost;
  ASSERT_NE(Layer(c, "/conv1/Conv"), nullptr);
  EXPECT_EQ(Layer(c, "/conv1/Conv")->macs, 6718464);
  EXPECT_EQ(Layer(c, "/conv2/Conv")->macs, 8957952);
  EXPECT_EQ(Layer(c, "/tconv/Conv")->macs, 36864);
  EXPECT_EQ(Layer(c, "/fc1/Gemm")->macs, 512);
  EXPECT_EQ(Layer(c, "/fc2/Gemm")->macs, 16);
  EXPECT_EQ(Layer(c, "/bn1/BatchNormalization")->macs, 248832);
  EXPECT_EQ(c.macs, 16087056);
  EXPECT_EQ(c.params, 40897);
  EXPECT_EQ(c.weight_bytes, 163588);
  EXPECT_EQ(c.weight_bytes_float32, 163588);
  EXPECT_EQ(c.ops, 747024);
  EXPECT_EQ(Layer(c, "/conv1/Conv")->params, 5184 + 192);
  // Largest live set: /conv1/Conv output [1,192,36,36] float32 (995,328 B) with its input
  // (373,248 B); BN and Relu then work in place.
  EXPECT_EQ(r.memory.peak_live_bytes, 995328 + 373248);
  EXPECT_EQ(r.memory.arena_bytes, r.memory.peak_live_bytes);
  EXPECT_FALSE(r.memory.inplace.empty());
  EXPECT_TRUE(c.notes.empty()) << c.notes.front();
}

// The same model exported with a 6-D reshape and batch-24 convolutions: the same arithmetic
// once the batch is frozen to 1, but conv weights are not tiled 24x.
TEST(CostTest, RppgDynamicSameMacs) {
  AnalyzeReport r = Analyze(FixturePath("rppg_dyn_op14.onnx"));
  EXPECT_EQ(r.cost.macs, 16087056);  // 24 x (3->8 conv) = one (72->192, group 24) conv
  // conv1 W [8,3,3,3] + 8, bn1 32, conv2 W [16,8,3,3] + 16, bn2 64, tconv 4640, fc 528 + 17.
  EXPECT_EQ(r.cost.params, 216 + 8 + 32 + 1152 + 16 + 64 + 4640 + 528 + 17);
}

// ResNet18 at 224x224: published 1.82 GMACs (torchvision: 1.814 G), 11.69 M params.
TEST(CostTest, ResNet18PublishedFigures) {
  Model m = zoo::ResNet18();
  auto r = AnalyzeModel(m, "resnet18");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(static_cast<double>(r->cost.macs), 1.814e9, 0.01e9);
  EXPECT_NEAR(static_cast<double>(r->cost.params), 11.69e6, 0.02e6);
  EDGEFIT_EXPECT_OK(CheckMemoryPlan(r->memory));
  // Float32: the largest pair of live tensors is the stem conv's input and output
  // (3*224*224 + 64*112*112) * 4 bytes = 3,813,376.
  EXPECT_GE(r->memory.peak_live_bytes, 3813376);
}

// INT8 QDQ model written by `edgefit quantize`: weights 1 byte, bias 4, about 4x smaller than
// float32; MACs unchanged; activations int8.
TEST(CostTest, QuantizedWeightsAboutFourTimesSmaller) {
  testing::TempDir dir;
  std::string q = dir.File("digits_cnn_int8.onnx");
  auto run = testing::RunCommand({EDGEFIT_BINARY, "quantize", FixturePath("quant/digits_cnn.onnx"),
                                  "-o", q, "--calib", FixturePath("quant/digits_cnn.calib.npy")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  AnalyzeReport f = Analyze(FixturePath("quant/digits_cnn.onnx"));
  AnalyzeReport i = Analyze(q);
  EXPECT_TRUE(i.cost.quantized);
  EXPECT_FALSE(f.cost.quantized);
  // The float model keeps its BatchNormalization nodes; the quantizer folds them into the convs:
  // the same Conv/Gemm MACs, BN's MACs and parameters gone.
  auto conv_macs = [](const CostReport& c) {
    int64_t m = 0;
    for (const LayerCost& l : c.layers) m += (l.op == "Conv" || l.op == "Gemm") ? l.macs : 0;
    return m;
  };
  EXPECT_EQ(conv_macs(i.cost), conv_macs(f.cost));
  double ratio = static_cast<double>(f.cost.weight_bytes) / i.cost.weight_bytes;
  EXPECT_GT(ratio, 3.5);
  EXPECT_LE(ratio, 4.1);
  double own = static_cast<double>(i.cost.weight_bytes_float32) / i.cost.weight_bytes;
  EXPECT_GT(own, 3.5);
  EXPECT_LT(own, 4.0);  // int32 biases keep 4 bytes
  // Every weight is int8 and every bias int32.
  for (const WeightCost& w : i.cost.weights) {
    EXPECT_TRUE(w.dtype == DataType::kInt8 || w.dtype == DataType::kInt32) << w.name;
  }
  EXPECT_GT(i.cost.qparam_bytes, 0);
  // Activations between Q/DQ are int8: the arena shrinks too (the float input stays float).
  EXPECT_LT(i.memory.arena_bytes * 2, f.memory.arena_bytes);
  int int8_convs = 0;
  for (const LayerCost& l : i.cost.layers) {
    if (l.op == "Conv") int8_convs += l.precision == DataType::kInt8;
    if (l.op == "QuantizeLinear" && l.kind == LayerKind::kConversion) {
      EXPECT_EQ(i.cost.tensors[l.inputs[0]].name, "input");  // only the graph input converts
    }
  }
  EXPECT_EQ(int8_convs, 5);  // conv1, conv2, branch_a, branch_b, conv4
  EXPECT_EQ(i.inputs[0].deployed_dtype, "float32");
}

// The planner never overlaps live tensors, on every fixture; the arena is never below the peak.
TEST(CostTest, PlanNeverOverlapsOnFixtures) {
  int n = 0;
  for (const char* folder : {"", "quant/"}) {
    for (const auto& e : std::filesystem::directory_iterator(FixturePath(folder))) {
      if (e.path().extension() != ".onnx") continue;
      SCOPED_TRACE(e.path().string());
      AnalyzeReport r = Analyze(e.path().string());
      EDGEFIT_EXPECT_OK(CheckMemoryPlan(r.memory));
      EXPECT_GE(r.memory.arena_bytes, r.memory.peak_live_bytes);
      EXPECT_LE(r.memory.peak_live_bytes, r.memory.naive_bytes);
      EXPECT_GT(r.cost.macs, 0);
      ++n;
    }
  }
  EXPECT_GE(n, 8);
}

TEST(CostTest, BudgetAgainstStm32n6) {
  auto profile = LoadTargetProfile("stm32n6");
  ASSERT_TRUE(profile.ok());
  AnalyzeReport r = Analyze(FixturePath("rppg_clean_op14.onnx"), &*profile);
  ASSERT_TRUE(r.budget.has_value());
  // 4 x 448 KiB NPU RAM + 1 MiB cpuRAM2 at 0x34100000, which ends where npuRAM3 starts
  // (0x34200000): all 2.75 MiB are contiguous.
  EXPECT_EQ(r.budget->activation_capacity, 4 * 458752 + 1048576);
  EXPECT_EQ(r.budget->largest_contiguous, 4 * 458752 + 1048576);
  EXPECT_EQ(r.budget->verdict, BudgetVerdict::kFits);
  EXPECT_EQ(r.budget->activation_margin, r.budget->activation_capacity - r.memory.arena_bytes);
  // 40 MiB of activations fit neither on chip nor in the 16 MiB hyperRAM; 8 MiB spill there.
  MemoryBudgetCheck big = CheckMemoryBudget(*profile, 1000, 40 << 20, 1 << 20);
  EXPECT_EQ(big.verdict, BudgetVerdict::kDoesNotFit);
  MemoryBudgetCheck spill = CheckMemoryBudget(*profile, 1000, 8 << 20, 1 << 20);
  EXPECT_EQ(spill.verdict, BudgetVerdict::kFitsExternal);
  // Without cpuRAM2's address, the contiguous run is npuRAM3..6 (1792 KiB): a 2 MiB buffer
  // does not fit on chip although the total does.
  TargetProfile split = *profile;
  for (MemoryRegion& region : split.memory.regions) {
    if (region.name.rfind("cpuRAM2", 0) == 0) region.address.clear();
  }
  MemoryBudgetCheck one_buffer = CheckMemoryBudget(split, 1000, 2 << 20, 2 << 20);
  EXPECT_EQ(one_buffer.largest_contiguous, 4 * 458752);
  EXPECT_FALSE(one_buffer.activations_on_chip);
  EXPECT_EQ(one_buffer.verdict, BudgetVerdict::kFitsExternal);
}

TEST(CostTest, BudgetUnknownWhenTheProfileLacksRegions) {
  // kl730 publishes only DDR reserved by the firmware: no region for activations or weights,
  // so no verdict (it used to say DOES NOT FIT against 0 bytes).
  auto kl730 = LoadTargetProfile("kl730");
  ASSERT_TRUE(kl730.ok());
  MemoryBudgetCheck b = CheckMemoryBudget(*kl730, 600 << 10, 300 << 10, 200 << 10);
  EXPECT_EQ(b.verdict, BudgetVerdict::kUnknown);
  EXPECT_NE(std::find(b.notes.begin(), b.notes.end(),
                      "the profile has no region for activations: budget unknown"),
            b.notes.end());
  // A known side that fails still decides: weights in a profile with flash but no RAM.
  auto stm = LoadTargetProfile("stm32n6");
  ASSERT_TRUE(stm.ok());
  TargetProfile flash_only = *stm;
  std::vector<MemoryRegion> kept;
  int64_t flash = 0;
  for (const MemoryRegion& r : flash_only.memory.regions) {
    if (r.use == MemoryUse::kWeights) {
      kept.push_back(r);
      flash += r.bytes;
    }
  }
  ASSERT_FALSE(kept.empty());
  flash_only.memory.regions = kept;
  EXPECT_EQ(CheckMemoryBudget(flash_only, flash + 1, 1000, 1000).verdict,
            BudgetVerdict::kDoesNotFit);
  EXPECT_EQ(CheckMemoryBudget(flash_only, flash - 1, 1000, 1000).verdict, BudgetVerdict::kUnknown);
}

}  // namespace
}  // namespace edgefit
