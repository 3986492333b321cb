// `edgefit compare`: run a reference model (FP32) and a test model (e.g. its INT8 QDQ version)
// on the same samples and measure how far the test model's outputs, task metric and
// intermediate tensors are from the reference. Statistics are streamed: memory does not grow
// with the number of samples. docs/compare.md describes every number.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "edgefit/status.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace edgefit {

enum class CompareTask { kNone, kRegression, kClassification };

// Difference statistics of one tensor (test - reference) over all samples and elements.
struct DiffStats {
  std::string name;
  int64_t count = 0;       // elements compared
  double mae = 0;          // mean |d|
  double rmse = 0;         // sqrt(mean d^2)
  double max_abs = 0;      // max |d|
  double mean = 0;         // mean d
  double std = 0;          // standard deviation of d
  double cosine = 1;       // cosine similarity of the two tensors (all elements as one vector)
  double sqnr_db = 0;      // 10 log10(sum ref^2 / sum d^2); +inf when identical
};

// Task metric of each model against labels.
struct TaskMetrics {
  CompareTask task = CompareTask::kNone;
  // Regression: MAE and RMSE against labels (label units). Classification: top-1, top-5
  // accuracy (fractions) and the rate at which both models predict the same top-1 class.
  double ref_mae = 0, test_mae = 0, ref_rmse = 0, test_rmse = 0;
  double ref_top1 = 0, test_top1 = 0, ref_top5 = 0, test_top5 = 0, agreement = 0;
  int64_t samples = 0;
};

// One matched intermediate tensor (same name in both models; in an edgefit QDQ model the
// dequantized tensor keeps the float tensor's name).
struct LayerStats {
  std::string tensor;
  std::string op;       // op type of the producer in the reference model
  std::string node;     // producer node name in the reference model
  int64_t order = 0;    // position of the producer in the reference model's topological order
  double sqnr_db = 0;   // of this tensor
  // SQNR lost at this node: the lowest SQNR among its matched inputs minus this tensor's SQNR
  // (the damage done here, not inherited).
  double drop_db = 0;
};

struct WeightStats {
  std::string weight;  // DequantizeLinear output name in the test model
  std::string node;    // node reading it
  double sqnr_db = 0;  // dequantized weight vs the reference model's weight of the same node
};

struct CompareOptions {
  CompareTask task = CompareTask::kNone;
  std::optional<Tensor> labels;  // [N] int64 class ids or [N, ...] float targets
  bool layers = false;           // layer-wise analysis
  std::optional<double> min_sqnr_db;            // verdict threshold on output SQNR
  std::optional<double> max_metric_increase;    // verdict threshold on the task metric change
  int num_threads = 0;
  std::function<void(const std::string& stage, int64_t done, int64_t total)> progress;
};

struct CompareReport {
  int64_t samples = 0;
  std::vector<DiffStats> outputs;
  std::optional<TaskMetrics> task;
  std::vector<LayerStats> layers;   // ranked: largest drop first
  std::string first_below;          // first tensor (in order) whose SQNR < min_sqnr_db ("")
  std::vector<WeightStats> weights;
  // Error sources, when computable: the test model with activation Q/DQ removed (weights
  // only) and with weight Q/DQ removed (activations only); output SQNR of each.
  std::optional<double> weights_only_sqnr_db, activations_only_sqnr_db;
  std::string sources_note;  // why a source could not be separated
  bool acceptable = true;
  std::string verdict;       // "ACCEPTABLE: ..." / "DEGRADED: ..." naming the threshold
};

StatusOr<CompareReport> CompareModels(const Model& reference, const Model& test,
                                      const Dataset& data, const CompareOptions& options);

std::string FormatCompareText(const CompareReport& report);
std::string FormatCompareJson(const CompareReport& report, int indent = 2);

}  // namespace edgefit
