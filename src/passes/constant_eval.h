// Constants and static shapes for the passes that fold and rewrite shape computations
// (fold-constants, fix-reshape-shape, squeeze-to-reshape, axes-to-attribute, fuse-reshapes).
//
// ConstantEvaluator evaluates nodes whose inputs are all constants (and Shape/Size of values
// with a static shape) on edgefit's executor, one node at a time: each node runs in a one-node
// model whose inputs are initializers. ShapeOracle answers "what is this value's static
// shape?" from the IR's types and, where ONNX inference gave up (Reshape targets computed by
// Shape->Gather->Concat at opsets 11/13), from one executor run of the whole model — but only
// for values whose shape cannot depend on the contents of the graph inputs (no NonZero, no
// Reshape target computed from data, ...), so that a shape seen on one run holds for every run.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"
#include "shape/concrete_shapes.h"

namespace edgefit {

// Ops constant folding never evaluates: random ones, the quantization boundaries of QDQ models,
// control flow (the same list as check's graph.constant-subgraph analysis).
bool IsNeverFoldedOp(const std::string& op_type);

// The tensor of a literal constant: an initializer that is not also a graph input (those can be
// overridden), or the output of a Constant node (value, value_float(s), value_int(s)).
std::optional<Tensor> LiteralTensor(const Value* v);
std::optional<std::vector<int64_t>> LiteralInts(const Value* v);

// The nodes of `g` in a topological order (stable: the current order where it is valid). Nodes
// on a cycle are left out.
std::vector<Node*> TopoOrder(const Graph& g);

// Runs `node` alone on the executor, in a model with `model`'s opsets, with `inputs[i]` as its
// i-th input (nullptr: omitted). Returns an independent copy of every output (an empty Tensor
// for an omitted output).
// The node's kernel runs directly (no Session; 3,336 one-node sessions were ~10% of `fix` on a
// 10k-node model); when that does not simply succeed, it runs as before in a one-node Session
// (EvaluateNodeInSession), whose errors are reported.
StatusOr<std::vector<Tensor>> EvaluateNode(const Model& model, const Node& node,
                                           const std::vector<const Tensor*>& inputs);
// The same, always in a one-node model on a Session (for tests: the reference).
StatusOr<std::vector<Tensor>> EvaluateNodeInSession(const Model& model, const Node& node,
                                                    const std::vector<const Tensor*>& inputs);

class ShapeOracle;

class ConstantEvaluator {
 public:
  // A node is not folded when its outputs together exceed `max_output_bytes`. With `shapes`, a
  // Shape/Size node whose input has no static declared shape asks it (a shape one executor run
  // saw, when it cannot depend on the inputs' contents).
  ConstantEvaluator(const Model& model, size_t max_output_bytes, ShapeOracle* shapes = nullptr)
      : model_(model), max_output_bytes_(max_output_bytes), shapes_(shapes) {}

  // The contents of `v` when it is a literal constant or computed from constants only
  // (evaluating its producers on demand); nullptr otherwise.
  const Tensor* Evaluate(const Value* v);
  // Evaluates `node` if it qualifies: default domain, no subgraph, not a never-folded op, not a
  // Constant, every input constant (Shape/Size: the input's shape is static). `why` receives the
  // reason when a node that qualifies could not be evaluated (too large, kernel error).
  bool EvaluateNode(const Node* node, std::string* why = nullptr);
  bool Evaluated(const Node* node) const { return evaluated_.count(node) > 0; }

 private:
  const Model& model_;
  size_t max_output_bytes_;
  ShapeOracle* shapes_;
  std::unordered_map<const Value*, Tensor> values_;
  std::unordered_map<const Node*, bool> evaluated_;  // true: evaluated; false: refused
  std::unordered_map<const Node*, std::string> refused_why_;
  int depth_ = 0;
};

class ShapeOracle {
 public:
  explicit ShapeOracle(const Model& model) : model_(model) {}

  // The static shape of `v`: its declared/inferred type, its constant's shape, or the shape seen
  // by one executor run when every graph input is static and the value's shape does not depend
  // on the inputs' contents.
  std::optional<Shape> Of(const Value* v);
  // Integer contents: a literal constant, or a small integer tensor the executor run saw whose
  // contents depend only on the graph inputs' (static) shapes.
  std::optional<std::vector<int64_t>> Ints(const Value* v);
  // Why the executor run was not available ("" if it ran or was not needed).
  const std::string& executor_note() const { return executor_note_; }

 private:
  void Analyze();
  bool RunExecutor();

  const Model& model_;
  bool analyzed_ = false;
  // Values whose shape (resp. contents) depend only on the graph inputs' shapes.
  std::unordered_map<const Value*, bool> shape_fixed_;
  std::unordered_map<const Value*, bool> value_fixed_;
  int executor_state_ = 0;  // 0: not tried, 1: ran, -1: failed
  std::string executor_note_;
  std::unordered_map<std::string, ConcreteValue> concrete_;
};

// Removes `v` when nothing reads it (not a graph input or output), and then, recursively, the
// nodes, Constant nodes and initializers that only fed it.
// Values are looked up by name, as removing one may delete others.
void RemoveIfDead(Graph& g, Value* v);
void RemoveIfDead(Graph& g, const std::vector<std::string>& names);

}  // namespace edgefit
