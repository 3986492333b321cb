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

enum class CompareTask { kNone, kRegression, kClassification, kKeypoints };

// Difference statistics of one tensor (test - reference) over all samples and elements.
// Infinite SQNR (identical tensors) is +inf here and null in JSON.
struct DiffStats {
  std::string name;
  int64_t count = 0;   // elements compared
  double mae = 0;      // mean |d|
  double rmse = 0;     // sqrt(mean d^2)
  double max_abs = 0;  // max |d|
  double mean = 0;     // mean d
  double std = 0;      // standard deviation of d
  double cosine = 1;   // cosine similarity of the two tensors (all elements as one vector)
  double sqnr_db = 0;  // 10 log10(sum ref^2 / sum d^2); +inf when identical
};

// Streaming accumulator behind DiffStats: a fixed number of sums, whatever the sample count.
// Add() any number of (reference, test) chunks of equal length, then Finish().
class DiffAccumulator {
 public:
  void Add(const float* ref, const float* test, int64_t n);
  DiffStats Finish(const std::string& name) const;
  // Noise-to-signal ratio so far: sum d^2 / sum ref^2 (0 when identical, +inf if ref is 0).
  double nsr() const;
  int64_t count() const { return count_; }

 private:
  int64_t count_ = 0;
  double sum_d_ = 0, sum_d2_ = 0, sum_abs_ = 0, max_abs_ = 0;
  double sum_r2_ = 0, sum_t2_ = 0, sum_rt_ = 0;
};

// 10 log10(signal / noise) with the conventions above (+inf when noise is 0).
double SqnrDb(double signal_power, double noise_power);

// Task metric of each model against labels.
struct TaskMetrics {
  CompareTask task = CompareTask::kNone;
  // Regression: MAE and RMSE against labels (label units). Classification: top-1, top-5
  // accuracy (fractions) and the rate at which both models predict the same top-1 class.
  double ref_mae = 0, test_mae = 0, ref_rmse = 0, test_rmse = 0;
  double ref_top1 = 0, test_top1 = 0, ref_top5 = 0, test_top5 = 0, agreement = 0;
  // Keypoints (output 0 is heatmaps [1, K, h, w], decoded as `edgefit draw` does; positions in
  // the pixels of the model's input image): mean distance between the reference's and the
  // test model's keypoints (no labels needed) and its maximum; with labels [N, K, 2 or 3]
  // (x, y[, visible]), each model's mean error over the visible labelled keypoints and PCK,
  // the fraction of them within pck_threshold_px (kPckAlpha x the larger image side).
  double shift_mean_px = 0, shift_max_px = 0;
  double ref_error_px = 0, test_error_px = 0, ref_pck = 0, test_pck = 0, pck_threshold_px = 0;
  int64_t keypoints = 0;           // keypoints decoded per model (samples x K)
  int64_t labelled_keypoints = 0;  // visible labelled ones
  bool labelled = false;
  int64_t samples = 0;
};

// PCK threshold as a fraction of the larger side of the model's input image.
inline constexpr double kPckAlpha = 0.05;

// One matched intermediate tensor (same name in both models; in an edgefit QDQ model the
// dequantized tensor keeps the float tensor's name).
struct LayerStats {
  std::string tensor;
  std::string op;    // op type of the producer in the reference model
  std::string node;  // producer node name in the reference model
  // The node of the TEST model that computes this tensor (for a quantized activation: the
  // producer of `<tensor>_prequant`, i.e. of the QuantizeLinear's input). With BatchNorm folded
  // by the quantizer this is the Conv, where `node` is the BatchNormalization. This is the
  // name to keep float (QuantizeOptions::exclude).
  std::string test_node;
  std::string test_op;
  int64_t order = 0;   // position of the producer in the reference model's topological order
  double sqnr_db = 0;  // of this tensor
  // SQNR lost at this node: the lowest SQNR among its matched inputs minus this tensor's SQNR
  // (the damage done here, not inherited). Inputs that are exact in the test model (graph
  // inputs, constants) count as +inf, so a node reading only exact inputs has drop +inf
  // (JSON null) whenever it adds any error; the ranking therefore uses noise_added.
  double drop_db = 0;
  // Noise added at this node, as a fraction of this tensor's signal power:
  // max(0, NSR(this) - max NSR(matched inputs)), NSR = sum d^2 / sum ref^2 = 10^(-SQNR/10).
  // CompareReport::layers is sorted by this, largest first (ties: topological order).
  double noise_added = 0;
  bool below_threshold = false;  // sqnr_db < the layer threshold
};

struct WeightStats {
  std::string weight;  // DequantizeLinear output name in the test model
  std::string node;    // node reading it
  int input = 1;       // which input of `node` (1: weight, 2: bias)
  bool comparable = false;
  bool bn_folded = false;  // the reference weight was folded with a BatchNormalization first
  double sqnr_db = 0;      // dequantized weight vs the reference model's weight of the same node
  std::string reason;      // why it is not comparable
};

struct CompareOptions {
  CompareTask task = CompareTask::kNone;
  // [N] int64 class ids, [N, ...] float targets, or [N, K, 2|3] float keypoints (x, y[,
  // visible]) in the model input's pixels. Keypoints work without labels too (shift only).
  std::optional<Tensor> labels;
  bool layers = false;  // layer-wise analysis
  // Verdict threshold on output SQNR, and the layer-wise threshold for first_below
  // (kDefaultLayerSqnrDb when unset).
  std::optional<double> min_sqnr_db;
  std::optional<double> max_metric_increase;  // verdict threshold on the task metric change
  int num_threads = 0;
  // Compute the error sources (weights-only / activations-only variants) with --layers.
  bool sources = true;
  std::function<void(const std::string& stage, int64_t done, int64_t total)> progress;
};

// Defaults (docs/compare.md): without any threshold the verdict uses, with labels, a task
// budget (regression: MAE increase <= 10% of the reference MAE; classification: top-1 drop <=
// 1 percentage point), and without labels, output SQNR >= kDefaultOutputSqnrDb.
inline constexpr double kDefaultOutputSqnrDb = 20.0;
inline constexpr double kDefaultLayerSqnrDb = 20.0;
inline constexpr double kDefaultRegressionRelativeIncrease = 0.10;
inline constexpr double kDefaultTop1DropPoints = 1.0;

struct CompareReport {
  int64_t samples = 0;
  bool random_data = false;
  std::vector<DiffStats> outputs;
  std::optional<TaskMetrics> task;
  std::vector<LayerStats> layers;  // ranked: largest noise_added first (see LayerStats)
  std::string first_below;         // first tensor (in order) whose SQNR < min_sqnr_db ("")
  std::vector<WeightStats> weights;
  // Error sources, when computable: the test model with activation Q/DQ removed (weights
  // only) and with weight Q/DQ removed (activations only); output SQNR of each.
  std::optional<double> weights_only_sqnr_db, activations_only_sqnr_db;
  std::string sources_note;  // why a source could not be separated
  double layer_threshold_db = kDefaultLayerSqnrDb;
  bool acceptable = true;
  std::string verdict;  // "... : ACCEPTABLE" / "... : DEGRADED" naming the threshold
  // Largest number of bytes the streaming state held at once (accumulators plus one sample's
  // matched reference tensors); does not depend on the number of samples.
  int64_t state_bytes = 0;
};

// Checks that the two models can be compared: same inputs (names, dtypes, static shapes) and
// same outputs (names, declared shapes). kInvalidModel naming the mismatch otherwise.
Status CheckComparable(const Model& reference, const Model& test);

// The task inferred from a label tensor: integer -> classification; float [N, K, 2 or 3] when
// the reference model's first output is declared 4-D with K channels (or an unknown count) ->
// keypoints (heatmaps); other float -> regression.
CompareTask TaskForLabels(const Tensor& labels, const Model* reference = nullptr);
const char* CompareTaskName(CompareTask task);

// Errors about data start with this prefix (the CLI maps them to exit code 8).
inline constexpr const char* kCompareDataPrefix = "data: ";

// Runs both models on every sample of `data` (opened with the reference model's inputs).
// Labels: first dim = data.total_size() (one row per source sample; with a max_samples
// selection, sample i uses row floor(i * total / size)). options.task kNone with labels: the
// task is inferred from the labels' dtype (TaskForLabels). Errors about the data or labels are
// kInvalidArgument starting with kCompareDataPrefix; mismatched models are kInvalidModel.
StatusOr<CompareReport> CompareModels(const Model& reference, const Model& test,
                                      const Dataset& data, const CompareOptions& options);

// `top`: how many layers to list in each layer table.
std::string FormatCompareText(const CompareReport& report, int top = 10);
std::string FormatCompareJson(const CompareReport& report, int indent = 2);

}  // namespace edgefit
