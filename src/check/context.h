// What every rule reads: the model, the profile, and analyses computed once before the rules
// run — frozen shapes, constant values, the nodes that constant folding removes, and where each
// node runs on the target. Lookups are by pointer or by name (hash maps): no rule scans the
// graph once per node.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "check/check.h"
#include "check/conditions.h"
#include "shape/concrete_shapes.h"
#include "targets/profile.h"

namespace edgefit {

class CheckContext {
 public:
  CheckContext(const Model& model, const TargetProfile& profile, const CheckOptions& options);
  CheckContext(const CheckContext&) = delete;
  CheckContext& operator=(const CheckContext&) = delete;

  const Model& model() const { return model_; }
  const Graph& graph() const { return *model_.graph; }
  const TargetProfile& profile() const { return profile_; }

  // Every node: the main graph in file order, then subgraph nodes (depth first).
  const std::vector<const Node*>& nodes() const { return nodes_; }
  bool InMainGraph(const Node& node) const { return node.graph() == model_.graph.get(); }
  int64_t Order(const Node& node) const;
  int64_t Opset(const Node& node) const { return model_.OpsetVersion(node.domain()); }
  static bool IsDefaultDomain(const Node& node) {
    return node.domain().empty() || node.domain() == "ai.onnx";
  }

  // The value's type in the frozen model (batch fixed to 1, shapes inferred and completed); for
  // subgraph values, their own declared type.
  const TypeInfo& Type(const Value* value) const;
  int Rank(const Value* value) const { return Type(value).rank(); }
  std::optional<Shape> StaticShape(const Value* value) const { return Type(value).StaticShape(); }

  // An initializer or the output of a Constant node.
  bool IsLiteralConstant(const Value* value) const;
  // A literal constant, or computed only from constants once the batch is fixed (so that
  // fold-constants turns it into an initializer).
  bool IsFoldable(const Value* value) const;
  // The node computes constants only (every input foldable; Shape/Size of a static shape).
  bool IsFoldableNode(const Node& node) const { return foldable_nodes_.count(&node) > 0; }
  // Main-graph nodes in a topological order (nodes on a cycle are left out).
  const std::vector<const Node*>& MainTopoOrder() const { return topo_order_; }
  // The tensor of a literal constant, or nullptr.
  const Tensor* ConstantTensor(const Value* value) const;
  // The numbers of a literal constant (up to max_elements), or of a small foldable integer
  // tensor computed by the executor; nullopt when unknown.
  std::optional<std::vector<double>> ConstantNumbers(const Value* value,
                                                     int64_t max_elements = 1 << 20) const;
  std::optional<std::vector<int64_t>> ConstantInts(const Value* value) const;

  // Where the node runs (only for nodes that are not foldable).
  const NodePlacement* Placement(const Node& node) const;

  const FrozenShapes& frozen() const { return frozen_; }
  // Why shapes could not be frozen at all ("" when they could).
  const std::string& freeze_error() const { return freeze_error_; }

  // "<id>" of the profile, for messages.
  const std::string& target() const { return profile_.id; }

 private:
  void CollectNodes(const Graph& graph);
  void FindFoldable();

  const Model& model_;
  const TargetProfile& profile_;
  std::vector<const Node*> nodes_;
  std::unordered_map<const Node*, int64_t> order_;
  FrozenShapes frozen_;
  std::string freeze_error_;
  std::unordered_map<const Value*, const TypeInfo*> frozen_types_;
  std::unordered_map<const Value*, const Tensor*> literal_constants_;
  std::deque<Tensor> owned_tensors_;  // Constant nodes given as value_float(s)/value_int(s)
  std::unordered_set<const Node*> foldable_nodes_;
  std::vector<const Node*> topo_order_;
  std::unordered_map<const Node*, NodePlacement> placements_;
};

// ---- Building findings ----------------------------------------------------------------------

// A FindingValue for `value` with its frozen type.
FindingValue DescribeValue(const CheckContext& ctx, const Value* value, std::string role = "");
// The same with the value's type as declared in the original model.
FindingValue DescribeOriginalValue(const Value* value, std::string role = "");

// A finding about `node`: rule, severity, node name, op, opset and order are filled in; the
// message is "<Op> '<name>' (opset N): <text>".
Finding NodeFinding(const CheckContext& ctx, const char* rule, Severity severity, const Node& node,
                    const std::string& text);
// A finding not tied to a node.
Finding ModelFinding(const char* rule, Severity severity, const std::string& message);

// Attaches a profile fact: sets source_status and source, turns a violation based on an
// "assumed" fact into a warning, and appends how sure the fact is to the message.
void ApplyFact(Finding* finding, const Provenance& fact);
// Marks a finding as resting on no profile fact (e.g. an op the profile does not list).
void ApplyNoFact(Finding* finding, const std::string& source);

// "'name' [1,8,3,3,36,36]" with the frozen shape.
std::string NameAndShape(const CheckContext& ctx, const Value* value);
// "the Reshape '/Reshape'" / "graph input" / "initializer": where a value comes from.
std::string ProducerText(const Value* value);

// "[1,8,3,3,36,36]".
std::string FormatInts(const std::vector<int64_t>& values);
std::string FormatNumbers(const std::vector<double>& values);
// "Conv, MaxPool and Gemm" style list of up to `max` names, then "and N more".
std::string JoinNames(const std::vector<std::string>& names, size_t max = 6);

}  // namespace edgefit
