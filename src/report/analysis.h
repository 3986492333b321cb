// `edgefit analyze`: the cost model and activation memory plan of a model (src/analyze/), its
// inputs and outputs, and the budget against a target profile's memory regions.
//
// Budget rules (docs/analyze.md):
//  * weights live in the regions whose use is "weights" (flash), else "any" non-RAM regions;
//  * activations live in the on-chip regions (kind npu_ram or sram) whose use is "activations"
//    or "any"; their sizes are added, as the vendor compiler splits the arena over banks (the
//    STM32N6 NPU RAM banks are contiguous), but the largest single buffer must fit in the
//    largest run of address-contiguous regions;
//  * when activations do not fit on chip, external RAM regions (kind external_ram, use
//    "activations" or "any") are the spill: the model fits, slowly;
//  * a profile without a memory section gives "unknown".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analyze/cost.h"
#include "analyze/memory_plan.h"
#include "edgefit/status.h"
#include "ir/graph.h"
#include "targets/profile.h"

namespace edgefit {

struct RegionUse {
  std::string name;
  std::string kind;  // "npu_ram", "sram", "external_ram", "flash"
  int64_t bytes = 0;
  std::string address;
};

enum class BudgetVerdict { kUnknown, kFits, kFitsExternal, kDoesNotFit };
const char* BudgetVerdictName(BudgetVerdict v);  // "unknown", "fits", "fits_external", ...

struct MemoryBudgetCheck {
  std::string target;
  BudgetVerdict verdict = BudgetVerdict::kUnknown;
  // Activations.
  std::vector<RegionUse> activation_regions;  // on chip
  int64_t activation_capacity = 0;            // sum of on-chip activation regions
  int64_t largest_contiguous = 0;             // largest run of contiguous on-chip regions
  int64_t activation_need = 0;                // planned arena
  int64_t activation_margin = 0;              // capacity - need (negative: short by)
  bool activations_on_chip = false;
  std::vector<RegionUse> spill_regions;  // external RAM
  int64_t spill_capacity = 0;
  // Weights.
  std::vector<RegionUse> weight_regions;
  int64_t weight_capacity = 0;
  int64_t weight_need = 0;
  int64_t weight_margin = 0;
  bool weights_fit = false;
  std::vector<std::string> notes;
};

MemoryBudgetCheck CheckMemoryBudget(const TargetProfile& profile, int64_t weight_bytes,
                                    int64_t activation_bytes, int64_t largest_buffer);

struct IoTensor {
  std::string name;
  std::string dtype;  // declared
  std::string shape;  // "[1,72,36,36]"
  std::string deployed_dtype;
  int64_t bytes = 0;  // at the deployed dtype
};

struct AnalyzeReport {
  std::string model;  // path
  int64_t opset = -1;
  std::vector<IoTensor> inputs, outputs;
  CostReport cost;
  MemoryPlan memory;
  std::optional<MemoryBudgetCheck> budget;
  std::vector<std::string> warnings;  // shape inference, executor
};

struct AnalyzeOptions {
  const TargetProfile* target = nullptr;  // budget against this profile when set
  MemoryPlanOptions memory;
};

// Sorts the model's nodes, gives every value a static shape (RecordStaticShapes; a dynamic batch
// is taken as 1), then costs and plans it. `model` is modified only in its value types and order.
StatusOr<AnalyzeReport> AnalyzeModel(Model& model, const std::string& path,
                                     const AnalyzeOptions& options = {});

// The vendor-style summary, then (with `layers`) one line per layer.
std::string FormatAnalyzeText(const AnalyzeReport& report, bool layers);
// Schema "edgefit-analyze/1" (docs/analyze.md). Layers and the timeline are always included.
nlohmann::json AnalyzeToJson(const AnalyzeReport& report);

// "1 1 8 8" style shape of a tensor cost, "[1,16,8,8]".
std::string TensorShapeString(const TensorCost& t);

}  // namespace edgefit
