// edgefit check: does a model fit a target? Rules (src/check/rules/, one per file, listed in
// registry.cc) read the model and a TargetProfile and report Findings: a stable rule id, a
// severity, the node and values concerned, the profile's limit, and the fix pass that removes
// the problem. docs/rules.md lists every rule with an example.
//
// The checker reasons about the model as it will be after batch freezing: shapes come from a
// copy whose dynamic batch is fixed to 1 (src/shape/concrete_shapes.h). Dynamic dims themselves
// are reported from the original model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"
#include "targets/profile.h"

namespace edgefit {

enum class Severity {
  kViolation,  // the vendor toolchain rejects the model (or the model will not run there)
  kWarning,    // it compiles, but badly (CPU fallback, slow path) or the fact is only assumed
  kInfo,       // for review: cannot be decided, or a note on what the pipeline will do
};

const char* SeverityName(Severity severity);  // "violation", "warning", "info"

// A value a finding is about.
struct FindingValue {
  std::string name;
  std::string role;  // "input", "output", "axes", "shape", ... ("" = node output or value)
  DataType dtype = DataType::kUndefined;
  bool has_shape = false;
  std::vector<Dim> dims;
  // Contents of a small constant (a Reshape shape, axes), when relevant.
  bool has_data = false;
  std::vector<int64_t> data;

  std::string ShapeString() const;  // "[1,8,3,3,36,36]", "?" when the rank is unknown
};

struct Finding {
  std::string rule;  // stable id, e.g. "batch.compute"
  Severity severity = Severity::kInfo;
  std::string node;    // node name ("" when the finding is not about one node)
  std::string op;      // op type of the node ("" when none)
  int64_t opset = -1;  // opset of the node's domain (-1 when no node)
  std::vector<FindingValue> values;
  std::string message;                  // one line, names the node, values and the profile's limit
  std::optional<std::string> fixed_by;  // the fix pass id, or nullopt when none fixes it
  std::optional<FactStatus> source_status;  // how sure the profile fact is (nullopt: no fact)
  std::string source;                       // the profile fact's source citation

  // Position of the node in the graph (for ordering); not printed.
  int64_t order = -1;
};

struct CheckOptions {
  // Complete shapes ONNX cannot infer by running edgefit's executor once on zeros.
  bool use_executor = true;
};

struct CheckReport {
  std::string model;          // path or name of the model
  int64_t model_opset = -1;   // default-domain opset
  std::string target;         // profile id
  std::string target_name;    // display name
  std::string target_origin;  // "builtin:stm32n6" or a file path
  // Sorted: violations first, then warnings, then infos; within a severity by rule (registry
  // order), then by node position.
  std::vector<Finding> findings;

  int Count(Severity severity) const;
  // "COMPATIBLE" when nothing is a violation or a warning, else "N violations, M warnings".
  std::string VerdictLine() const;
  // "compatible", "warnings" or "incompatible".
  const char* Verdict() const;
};

// Checks `model` against `profile`. The model is not modified. Fails only on internal errors
// (a model that the checker cannot analyse fully gives an info finding instead).
StatusOr<CheckReport> CheckModel(const Model& model, const TargetProfile& profile,
                                 const CheckOptions& options = {});

// The rule ids the checker can report, in report order.
std::vector<std::string> CheckRuleIds();

// Human output: grouped by rule, most serious first, one or two lines per finding with
// "-> fixed by: <pass>", the verdict line last.
std::string FormatCheckText(const CheckReport& report);
// {"schema": "edgefit-check/1", "target", "verdict", "violations", "warnings", "infos", ...};
// documented in docs/rules.md. Pretty-printed with `indent` spaces (-1: one line).
std::string FormatCheckJson(const CheckReport& report, int indent = 2);

}  // namespace edgefit
