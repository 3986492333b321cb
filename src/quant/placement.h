// Where QuantizeLinear/DequantizeLinear pairs go (docs/quantize.md, "Placement rules").
//
// Planning reads the float model and the target profile and decides, without changing the model:
//   * which nodes run quantized (compute ops with weights, and the ops the target runs in INT8),
//     and which stay float and why (op not quantizable, target runs it on the CPU, --exclude);
//   * which float tensors get a Q/DQ pair (activations) and which are weights or biases;
//   * which tensors must share one scale: the inputs and output of Concat, and the input and
//     output of ops that only move data (MaxPool, Reshape, Transpose, nearest Resize, ...);
//   * which Relu/Clip are fused into the Conv/Gemm before them (no Q/DQ in between).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"
#include "targets/profile.h"

namespace edgefit {

enum class QuantRole {
  kWeighted,         // Conv, ConvTranspose, Gemm, MatMul with a constant weight: int8 weights
  kActivation,       // quantized inputs and output with their own output scale (Add, Sigmoid...)
  kScalePreserving,  // output keeps the input's scale (MaxPool, Reshape, Transpose, ...)
  kFusedActivation,  // Relu/Clip merged into the weighted op before it
};

struct PlannedWeight {
  Node* node = nullptr;
  int weight_input = 1;
  int bias_input = -1;    // -1: no bias
  int channel_axis = -1;  // -1: per-tensor
};

struct FloatNode {
  std::string node;
  std::string op;
  std::string reason;
};

struct PlacementOptions {
  bool per_channel = true;
  // Node names or op types to keep in float.
  std::vector<std::string> exclude;
  // Node names returned to float by the accuracy budget.
  std::vector<std::string> budget_exclude;
  bool fuse_activations = true;
};

struct QuantPlan {
  std::map<const Node*, QuantRole> quantized;  // nodes that run quantized
  std::vector<FloatNode> kept_float;           // every float-valued node left float, with reason
  // Float tensors that get a Q/DQ pair (activations: graph inputs and node outputs), in graph
  // order. Each has a group id; tensors of one group share scale and zero point.
  std::vector<Value*> activations;
  std::map<const Value*, int> group_of;
  int num_groups = 0;
  std::vector<PlannedWeight> weights;
  // Constant float data inputs of quantized ops that are not weights (e.g. Add's constant
  // operand): quantized per tensor with the activation type.
  std::vector<Value*> constants;
};

// The node's data inputs (indices) in the sense of quantization: tensors, not shapes/axes/
// scales. Empty for ops edgefit does not know how to quantize.
std::vector<int> QuantDataInputs(const Node& node);

StatusOr<QuantPlan> PlanQuantization(Model& model, const TargetProfile* profile,
                                     const PlacementOptions& options);

}  // namespace edgefit
