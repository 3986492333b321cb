// Accuracy budget: a layer made to quantize badly is found by the layer-wise ranking, returned
// to float, and the budget is met.
#include "quant/budget.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "io/npy.h"
#include "onnx/model_io.h"

namespace edgefit {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(EDGEFIT_SOURCE_DIR) + "/tests/fixtures/quant/" + name;
}

Dataset Open(const Model& model, const std::string& file, int64_t count = 0) {
  DatasetOptions o;
  o.sources = {file};
  o.max_samples = count;
  auto d = Dataset::Open(o, *InputSpecsOf(model));
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return std::move(d).value();
}

// digits_cnn with one weight of '/conv4/Conv' set to 300x the layer's largest weight: with one
// scale per tensor, most other weights of that layer round to zero.
Model WithOutlierWeight() {
  auto m = LoadModel(Fixture("digits_cnn.onnx"));
  EXPECT_TRUE(m.ok());
  for (const auto& n : m->graph->nodes()) {
    if (n->name() != "/conv4/Conv") continue;
    Tensor w = n->input(1)->initializer()->Clone();
    float max_abs = 0;
    for (int64_t i = 0; i < w.numel(); ++i)
      max_abs = std::max(max_abs, std::fabs(w.data<float>()[i]));
    w.data<float>()[0] = 300.0f * max_abs;
    m->graph->SetInitializer(n->input(1), std::move(w));
  }
  return std::move(m).value();
}

TEST(BudgetTest, ReturnsTheBadLayerToFloatAndMeetsTheBudget) {
  Model model = WithOutlierWeight();
  Dataset calib = Open(model, Fixture("digits_cnn.calib.npy"), 64);
  Dataset eval = Open(model, Fixture("digits_cnn.eval.npy"));
  auto labels = ReadNpy(Fixture("digits_cnn.eval_labels.npy"));
  ASSERT_TRUE(labels.ok());
  QuantizeOptions options;
  options.per_channel = false;
  options.cle = false;
  options.bias_correction = false;
  AccuracyBudget budget;
  budget.eval = &eval;
  budget.labels = *labels;
  budget.task = CompareTask::kClassification;
  budget.max_drop = 0.5;  // points
  QuantizeReport report;
  auto result = QuantizeWithinBudget(model, nullptr, calib, options, budget, &report);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::cout << FormatBudgetText(*result);
  EXPECT_LT(result->first_metric, result->float_metric - 0.005);  // the bad layer hurts
  EXPECT_TRUE(result->within_budget);
  ASSERT_FALSE(result->returned_to_float.empty());
  EXPECT_EQ(result->returned_to_float.front(), "/conv4/Conv");
  bool reported = false;
  for (const auto& f : report.kept_float)
    reported |= f.node == "/conv4/Conv" && f.reason.find("accuracy budget") != std::string::npos;
  EXPECT_TRUE(reported);
}

TEST(BudgetTest, NeedsEvaluationDataAndAThreshold) {
  Model model = WithOutlierWeight();
  Dataset calib = Open(model, Fixture("digits_cnn.calib.npy"), 8);
  QuantizeReport report;
  AccuracyBudget none;
  EXPECT_FALSE(QuantizeWithinBudget(model, nullptr, calib, {}, none, &report).ok());
  Dataset eval = Open(model, Fixture("digits_cnn.eval.npy"), 8);
  AccuracyBudget no_threshold;
  no_threshold.eval = &eval;
  EXPECT_FALSE(QuantizeWithinBudget(model, nullptr, calib, {}, no_threshold, &report).ok());
}

// A 1x1 Conv (2 -> 2 channels, near-identity weights) whose output is read as two keypoint
// heatmaps of the 8x8 input image; samples have one clear peak per channel.
TEST(BudgetTest, KeypointLabelsUseTheKeypointError) {
  Model m;
  m.ir_version = 8;
  m.opset_imports.push_back({"", 13});
  Graph& g = *m.graph;
  Value* x = *g.CreateValue("x");
  x->type() = TypeInfo::Tensor(DataType::kFloat, {1, 2, 8, 8});
  g.AddInput(x);
  Tensor w(DataType::kFloat, {2, 2, 1, 1});
  const float wv[] = {1.f, 0.05f, 0.05f, 1.f};
  std::copy(wv, wv + 4, w.data<float>());
  Value* y = *g.CreateValue("heatmaps");
  y->type() = TypeInfo::Tensor(DataType::kFloat, {1, 2, 8, 8});
  g.AddNode("Conv", {x, g.AddInitializer("w", std::move(w))}, {y}, "head")
      ->SetAttribute(Attribute::Ints("kernel_shape", {1, 1}));
  g.AddOutput(y);

  // 6 samples: channel c peaks at (x = s + c, y = 7 - s); labels 0.2 px off the peaks.
  const int64_t n = 6;
  Tensor data(DataType::kFloat, {n, 2, 8, 8}), labels(DataType::kFloat, {n, 2, 3});
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t c = 0; c < 2; ++c) {
      const int64_t px = s + c, py = 7 - s;
      data.data<float>()[((s * 2 + c) * 8 + py) * 8 + px] = 1.f;
      float* l = labels.data<float>() + (s * 2 + c) * 3;
      l[0] = static_cast<float>(px) + 0.2f;
      l[1] = static_cast<float>(py);
      l[2] = 1.f;
    }
  }
  const std::string path = ::testing::TempDir() + "/edgefit_budget_heatmaps.npy";
  ASSERT_TRUE(WriteNpy(path, data).ok());
  Dataset calib = Open(m, path), eval = Open(m, path);
  EXPECT_EQ(TaskForLabels(labels, &m), CompareTask::kKeypoints);
  AccuracyBudget budget;
  budget.eval = &eval;
  budget.labels = labels;
  budget.task = CompareTask::kKeypoints;
  budget.max_drop = 0.5;  // pixels
  QuantizeReport report;
  auto r = QuantizeWithinBudget(m, nullptr, calib, {}, budget, &report);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->measure, "keypoint error (px)");
  // By hand: every keypoint is decoded on its peak; the 0.05 cross-talk puts a higher neighbour
  // on the side of the other channel's peak, so the quarter-pixel step moves channel 0 right
  // (x = s + 0.25, error 0.05; at s = 0 the peak is on the border: no step, error 0.2) and
  // channel 1 left (x = s + 0.75, error 0.45). Mean: (0.2 + 5 x 0.05 + 6 x 0.45) / 12 = 0.2625.
  // The INT8 model keeps those orders: the same error.
  EXPECT_NEAR(r->float_metric, 0.2625, 1e-6);
  EXPECT_NEAR(r->final_metric, 0.2625, 1e-6);
  EXPECT_TRUE(r->within_budget);
  ASSERT_TRUE(r->final_compare.task.has_value());
  EXPECT_EQ(r->final_compare.task->labelled_keypoints, n * 2);
}

}  // namespace
}  // namespace edgefit
