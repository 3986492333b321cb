// Accuracy budget: a layer made to quantize badly is found by the layer-wise ranking, returned
// to float, and the budget is met.
#include "quant/budget.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace edgefit
