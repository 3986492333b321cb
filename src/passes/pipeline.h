// Running a list of passes (a pipeline is data: a list of pass ids from the target profile or
// the command line) until nothing changes, with optional equivalence checks after every pass.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "passes/equivalence.h"
#include "passes/pass.h"

namespace edgefit {

struct PipelineOptions {
  std::vector<std::string> passes;
  int max_rounds = 8;  // a warning is reported when the cap is hit
  // After every pass that changed something, compare against `reference` (names the pass that
  // broke equivalence).
  bool verify_each = false;
  EquivalenceOptions verify;
  // Called after each pass that changed the model (e.g. to write --dump-after files).
  std::function<Status(const std::string& pass_id, const Model& model)> after_pass;
  // Stop early when this returns true (e.g. the target's check is clean).
  std::function<bool(const Model& model)> done;
};

struct PassRecord {
  std::string pass;
  int round = 0;
  PassResult result;
  double milliseconds = 0;
};

struct PipelineResult {
  std::vector<PassRecord> records;
  int rounds = 0;
  bool hit_round_cap = false;
  std::vector<std::string> warnings;
};

StatusOr<PipelineResult> RunPipeline(PassContext& ctx, const PipelineOptions& options,
                                     const Model* reference = nullptr);

}  // namespace edgefit
