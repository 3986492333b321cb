// Proof by measurement: run two models on the same inputs and compare every output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"
#include "runtime/session.h"

namespace edgefit {

struct EquivalenceOptions {
  int random_samples = 8;  // seeded random inputs (float uniform [-1,1), integers 0)
  uint64_t seed = 1;
  // Extra samples, e.g. the user's data (each a full set of named inputs).
  std::vector<std::vector<NamedTensor>> samples;
  // An output matches when max|a-b| <= tolerance * max(|reference|) (scale-relative error).
  double tolerance = 1e-4;
  int num_threads = 0;
};

struct OutputDifference {
  std::string name;
  double max_abs = 0;  // largest |candidate - reference| over all samples
  double max_rel = 0;  // max_abs / largest |reference| of that output
  bool shape_mismatch = false;
  bool within_tolerance = true;
};

struct EquivalenceReport {
  bool equivalent = true;
  int samples = 0;
  std::vector<OutputDifference> outputs;
  std::string Summary() const;  // one line per output
};

// Random inputs for `model`: shapes from its declared input types (dynamic dims must have been
// frozen; otherwise an error names the input).
StatusOr<std::vector<NamedTensor>> RandomInputs(const Model& model, uint64_t seed);

// Runs `reference` and `candidate` on the same inputs (shapes taken from the candidate's
// declared inputs) and compares outputs by position.
StatusOr<EquivalenceReport> CheckEquivalence(const Model& reference, const Model& candidate,
                                             const EquivalenceOptions& options = {});

}  // namespace edgefit
