// Per-op conditions of a target profile, evaluated exactly as docs/targets.md ("Op conditions")
// defines the vocabulary: absent attributes take their ONNX default for the node's opset, a
// single number applies to every element, value tests on inputs need a constant, and anything
// that needs a shape edgefit does not know is "unknown", never a failure.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "targets/profile.h"

namespace edgefit {

class CheckContext;

// Three-valued: a condition holds, fails, or cannot be decided (unknown shape or value, or a
// "manual" condition).
enum class Tri { kHolds, kFails, kUnknown };

struct ConditionOutcome {
  Tri result = Tri::kUnknown;
  std::string detail;  // what was seen ("axis is 0") or why it cannot be decided
};

struct ConditionResult {
  const OpCondition* condition = nullptr;
  ConditionOutcome outcome;
};

// Where one node runs on the target, and why.
struct NodePlacement {
  const OpRule* rule = nullptr;  // nullptr: the op is not listed (unsupported)
  Placement placement = Placement::kUnsupported;
  std::vector<ConditionResult> failed;     // conditions that fail
  std::vector<ConditionResult> undecided;  // conditions that cannot be decided (not manual)
  std::vector<const OpCondition*> manual;  // top-level "manual" conditions: for review
};

ConditionOutcome EvaluateCondition(const CheckContext& ctx, const Node& node,
                                   const OpCondition& condition);
NodePlacement EvaluatePlacement(const CheckContext& ctx, const Node& node);

// "axis not in [0]", "input 1 constant", "spatial size <= 16384", ...
std::string DescribeCondition(const OpCondition& condition);

}  // namespace edgefit
