// Target profiles: what an edge NPU toolchain accepts, loaded from JSON data (targets/*.json).
//
// A profile is data, not code: the checker, the fix pipeline and the hand-off read the typed
// TargetProfile below and never look at the JSON. docs/targets.md describes the file format
// ("schema": "edgefit-target/1") field by field.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edgefit/status.h"

namespace edgefit {

// How sure a fact is. A finding based on an "assumed" fact is a hint, not a verdict.
enum class FactStatus {
  kDocumented,    // the vendor's documentation or code says so
  kUserReported,  // a user, forum post or public project reports it
  kAssumed,       // our inference; verify before relying on it
};

// Where a node runs on the target.
enum class Placement {
  kNpu,          // on the accelerator
  kCpu,          // accepted, but runs in software on the host CPU (slow, extra round trips)
  kUnsupported,  // the vendor toolchain rejects it
};

// The model the vendor toolchain wants from edgefit.
enum class HandoffModel {
  kQdqInt8,  // an INT8 QDQ ONNX model (edgefit quantizes), e.g. STM32N6
  kFloat,    // a float ONNX model the vendor toolchain quantizes itself, e.g. Kneron
};

// How Squeeze/Unsqueeze/Reduce*/Split axes (and Split sizes) must be given.
enum class AxesForm {
  kAny,        // a computed tensor is fine
  kConstant,   // an attribute, an initializer or a Constant node
  kAttribute,  // an attribute wherever the node's opset version has one; else a constant input
};

// What a rule violation means for a graph-level rule.
enum class RuleLevel { kAllow, kWarn, kError };

enum class QuantFormat {
  kQdq,     // QuantizeLinear/DequantizeLinear pairs around float ops (ONNX Runtime QDQ)
  kVendor,  // the vendor toolchain quantizes in its own format; the scheme is what edgefit
            // simulates to estimate INT8 accuracy
};

enum class QuantGranularity { kPerTensor, kPerChannel };
enum class MemoryKind { kNpuRam, kSram, kExternalRam, kFlash };
enum class MemoryUse { kActivations, kWeights, kAny, kReserved };
enum class StepKind { kShell, kPython };

const char* FactStatusName(FactStatus status);   // "documented", "user_reported", "assumed"
const char* PlacementName(Placement placement);  // "npu", "cpu", "unsupported"

// Where a fact comes from and how sure it is.
struct Provenance {
  FactStatus status = FactStatus::kAssumed;
  std::string source;  // a short citation: document title and/or URL
  std::string note;    // optional
};

// One value from a profile with its provenance. JSON: {"value": V, "status", "source", "note"?}.
template <typename T>
struct Fact : Provenance {
  T value{};
};

// A constant a condition compares against: a string, or numbers. A single number also matches
// every element of a list-valued attribute or tensor ("dilations": 1 means all ones).
using ConditionValue = std::variant<std::string, std::vector<double>>;

// One requirement an op must meet to run where its OpRule says. docs/targets.md lists the
// vocabulary; exactly one subject is set per condition.
struct OpCondition {
  enum class Subject {
    kAttribute,       // {"attr": "kernel_shape", <tests>}
    kInput,           // {"input": 1, <tests>}
    kTouchesBatch,    // {"touches_batch": false}: the op may not move or mix axis 0
    kSpatialSizeMax,  // {"spatial_size_max": 16384}: product of input 0 dims 2.. (H*W)
    kAnyOf,           // {"any_of": [[...], [...]]}: at least one group holds entirely
    kManual,          // {"manual": "text"}: not machine-checkable; reported for review
  };
  Subject subject = Subject::kManual;
  std::string attr;  // kAttribute: ONNX attribute name
  int input = -1;    // kInput: input index

  // Tests on the attribute or input value (all that are set must hold).
  std::optional<bool> present;           // is the attribute/optional input given at all
  std::optional<ConditionValue> equals;  //
  std::vector<ConditionValue> in;        // empty = no test
  std::vector<ConditionValue> not_in;    // empty = no test
  std::vector<double> min;               // empty = no bound; one value bounds every element
  std::vector<double> max;               // same, element-wise if several values
  // Tests on an input tensor only.
  std::optional<bool> constant;  // initializer or Constant (present and constant)
  std::optional<int> rank_min;
  std::optional<int> rank_max;
  std::optional<int64_t> elements_max;

  int64_t spatial_size_max = 0;                  // kSpatialSizeMax
  std::vector<std::vector<OpCondition>> any_of;  // kAnyOf
  std::string manual;                            // kManual

  Placement on_fail = Placement::kUnsupported;  // never kNpu
  Provenance provenance;  // conditions nested in any_of inherit the enclosing one's
};

// Where one ONNX op type runs and under which conditions.
struct OpRule {
  std::string op_type;
  Placement runs_on = Placement::kUnsupported;
  std::vector<OpCondition> conditions;  // all must hold; a failing one gives its on_fail
  Provenance provenance;
};

// One step of handing the model to the vendor toolchain. `command` may contain the
// placeholders {model}, {out}, {calib}, {input} and {platform}.
struct HandoffStep {
  std::string id;
  StepKind kind = StepKind::kShell;
  std::string command;
  Provenance provenance;
};

struct Toolchain {
  std::string name;
  std::string platform;  // the vendor's name for the chip ("stm32n6", "730"); {platform}
  Fact<std::vector<std::string>> versions;  // toolchain versions the facts were read for
  Fact<HandoffModel> input_model;
  Fact<int> handoff_opset;
  std::vector<HandoffStep> steps;  // in order
};

struct OpsetWindow {
  Fact<int> min;
  Fact<int> max;
  Fact<int> recommended;  // what convert-opset targets
};

struct ShapeRules {
  Fact<bool> static_shapes;                      // no dim_param / unknown dims anywhere
  Fact<int> max_rank;                            // hard limit
  Fact<int> preferred_rank;                      // above this, expect trouble
  Fact<bool> batch_one_at_io;                    // graph inputs/outputs have batch 1
  Fact<std::vector<std::string>> batch_one_ops;  // data operands of these ops have batch 1
  std::optional<Fact<int64_t>> max_dim;          // largest single dimension, if limited
};

struct AxesRule {
  std::vector<std::string> ops;
  AxesForm must_be = AxesForm::kAny;
  Provenance provenance;
};

struct AxesRules {
  std::vector<AxesRule> rules;
  Fact<RuleLevel> reshape_wildcards;  // -1 or 0 in a Reshape shape
};

struct TensorQuant {
  std::string dtype;  // "int8", "uint8", "int32"
  bool symmetric = false;
  QuantGranularity granularity = QuantGranularity::kPerTensor;
  // Weights only: which axis holds the per-channel scales. The only convention is
  // "output_channel": Conv W axis 0, ConvTranspose W axis 1, Gemm B axis 0 if transB else 1,
  // MatMul B last axis.
  std::string channel_axis;
};

struct QuantScheme {
  Fact<QuantFormat> format;
  Fact<TensorQuant> weights;
  Fact<TensorQuant> activations;
  Fact<std::string> bias_dtype;
  Fact<bool> per_tensor_weights_allowed;
  Fact<Placement> float_ops_run_on;  // where an op left in float in the hand-off model runs
  std::optional<Fact<int>> calibration_samples_min;
};

struct MemoryRegion {
  std::string name;
  MemoryKind kind = MemoryKind::kSram;
  int64_t bytes = 0;
  std::string address;  // optional, e.g. "0x34200000"
  MemoryUse use = MemoryUse::kAny;
  Provenance provenance;
};

struct MemoryBudget {
  std::vector<MemoryRegion> regions;
  std::optional<Fact<int64_t>> on_chip_total_bytes;
};

struct TargetProfile {
  std::string id;           // "stm32n6"
  std::string name;         // display name
  int version = 0;          // profile version, bumped when facts change
  std::string description;  // optional
  std::string extends;      // id or path of the parent profile (already merged in), or ""
  std::string origin;       // where it was loaded from: "builtin:stm32n6" or a file path

  Toolchain toolchain;
  OpsetWindow opset;
  ShapeRules shapes;
  AxesRules axes;
  std::map<std::string, OpRule, std::less<>> ops;  // by op_type; not listed = unsupported
  Fact<std::vector<std::string>> dtypes;
  QuantScheme quantization;
  Fact<bool> control_flow;  // If/Loop/Scan allowed at all (ops still decide placement)
  MemoryBudget memory;
  std::vector<std::string> pipeline;  // fix-pass ids, in order

  // The rule for `op_type`, or nullptr if the op is not listed (i.e. unsupported).
  const OpRule* FindOp(std::string_view op_type) const;
};

// Parses and validates a profile. `origin` names the text in error messages ("my_npu.json");
// a relative path in "extends" is resolved against origin's directory.
StatusOr<TargetProfile> ParseTargetProfile(const std::string& json_text, const std::string& origin);

// A bare id ("stm32n6") loads a built-in profile; anything containing '/' or ending in
// ".json" is read from that file.
StatusOr<TargetProfile> LoadTargetProfile(const std::string& name_or_path);

// Ids of the profiles compiled into the binary, sorted.
std::vector<std::string> BuiltinTargetIds();

// Fix-pass ids a profile's "pipeline" may name. Keep in step with the pass registry.
const std::vector<std::string>& KnownFixPassIds();

}  // namespace edgefit
