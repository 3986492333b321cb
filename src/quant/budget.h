// Quantization under an accuracy budget: quantize, measure against the float model on
// evaluation data, and while the budget is exceeded return the most harmful layer to float
// (ranked by `edgefit compare`'s layer-wise SQNR drop), one at a time; stop when within budget
// or when nothing helps. docs/quantize.md, "Accuracy budget".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compare/compare.h"
#include "quant/quantize.h"

namespace edgefit {

struct AccuracyBudget {
  const Dataset* eval = nullptr;  // evaluation samples (required)
  std::optional<Tensor> labels;   // with labels: the task metric decides
  CompareTask task = CompareTask::kNone;
  // Largest allowed worsening of the task metric: top-1 accuracy drop in percentage points for
  // classification (as `compare --max-metric-increase`), MAE increase (label units) for
  // regression.
  std::optional<double> max_drop;
  // Smallest allowed output SQNR (dB), used without labels (or in addition).
  std::optional<double> min_sqnr_db;
  int max_steps = 8;       // layers returned to float at most
  int tries_per_step = 3;  // candidates tried per step before giving up
};

struct BudgetStep {
  std::string node;  // the node returned to float
  std::string op;
  double metric = 0;  // the measure after this step (see BudgetReport::measure)
  bool kept = false;  // false: it did not help and was undone
};

struct BudgetReport {
  std::string measure;      // "top-1 accuracy", "MAE", or "output SQNR (dB)"
  double float_metric = 0;  // the float model's value (SQNR: +inf, not used)
  double first_metric = 0;  // after the first quantization
  double final_metric = 0;
  bool within_budget = false;
  std::vector<BudgetStep> steps;
  std::vector<std::string> returned_to_float;  // nodes kept float for accuracy
  CompareReport final_compare;
};

// Quantizes `model` in place (as QuantizeModel) and then enforces `budget`. `report` is the
// QuantizeReport of the final quantization.
StatusOr<BudgetReport> QuantizeWithinBudget(Model& model, const TargetProfile* profile,
                                            const Dataset& calib, const QuantizeOptions& options,
                                            const AccuracyBudget& budget, QuantizeReport* report);

std::string FormatBudgetText(const BudgetReport& report);

}  // namespace edgefit
