// `edgefit fix`: run the target's pipeline of passes until `check` is clean or nothing changes,
// then prove the result computes the same function as the original by running both.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "analyze/inspect.h"
#include "check/check.h"
#include "passes/equivalence.h"
#include "passes/pipeline.h"
#include "targets/profile.h"

namespace edgefit {

struct FixOptions {
  PassOptions pass_options;
  // Pass ids to run; empty = the target profile's pipeline.
  std::vector<std::string> passes;
  bool verify = true;  // --no-verify turns it off
  bool verify_each = false;
  EquivalenceOptions verification;  // samples, tolerance (default 8 samples, 1e-4 relative)
  int max_rounds = 8;
  // Called after each pass that changed the model (for --dump-after).
  std::function<Status(const std::string& pass_id, const Model& model)> after_pass;
};

// What a pass of the profile's pipeline that edgefit does not implement yet was skipped for.
struct SkippedPass {
  std::string id;
  std::string reason;
};

// A finding still present after fixing, and why no pass removed it.
struct RemainingFinding {
  Finding finding;
  std::string reason;
};

struct FixReport {
  std::string target;
  CheckReport before;
  CheckReport after;
  PipelineResult pipeline;
  std::vector<SkippedPass> skipped_passes;
  std::vector<std::string> unresolved;  // what passes saw but could not decide
  InspectReport stats_before;
  InspectReport stats_after;
  bool verified = false;
  EquivalenceReport equivalence;
  std::vector<RemainingFinding> remaining;  // violations (and warnings) left

  int violations_left() const { return after.Count(Severity::kViolation); }
};

// Fixes `model` in place. `original` must be an unmodified copy (used for verification).
// Returns an error when verification shows the outputs changed (the model must then not be
// written), or on invalid options.
StatusOr<FixReport> FixModel(Model& model, const Model& original, const TargetProfile& profile,
                             const FixOptions& options);

std::string FormatFixText(const FixReport& report);
nlohmann::json FixToJson(const FixReport& report);

}  // namespace edgefit
