// Placement of Q/DQ pairs: the op tables and the planning walk (see placement.h).
#include "quant/placement.h"

#include <algorithm>
#include <numeric>

#include "passes/pass_util.h"

namespace edgefit {
namespace {

// Ops whose output is a re-arrangement (or a max/selection) of input values: the output keeps
// the input's scale and zero point, so no requantization happens on the NPU.
bool IsScalePreservingOp(const Node& n) {
  static const std::set<std::string> kOps = {
      "MaxPool",   "GlobalMaxPool", "Reshape", "Transpose", "Flatten",      "Squeeze",
      "Unsqueeze", "Slice",         "Split",   "Gather",    "DepthToSpace", "SpaceToDepth",
      "Identity",  "Concat",        "Pad",     "Resize",    "Upsample"};
  if (!kOps.count(n.op_type())) return false;
  if ((n.op_type() == "Resize" || n.op_type() == "Upsample") &&
      n.GetString("mode", "nearest") != "nearest")
    return false;
  if (n.op_type() == "MaxPool" && n.num_outputs() > 1 && n.output(1)) return false;  // Indices
  return true;
}

// Ops computed in integer with their own output scale.
bool IsActivationOp(const Node& n) {
  static const std::set<std::string> kOps = {
      "Add",     "Sub",      "Mul",         "AveragePool", "GlobalAveragePool",
      "Sigmoid", "Tanh",     "HardSigmoid", "HardSwish",   "LeakyRelu",
      "Relu",    "Clip",     "Softmax",     "PRelu",       "ReduceMean",
      "Resize",  "Upsample", "MatMul",      "Mean",        "Sum",
      "Max",     "Min"};
  return kOps.count(n.op_type()) > 0;
}

bool IsWeightedOpType(const std::string& op) {
  return op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul";
}

bool IsFloat(const Value* v) {
  return v && v->type().is_tensor() && v->type().elem_type == DataType::kFloat;
}

bool IsFloatConstant(const Value* v) {
  const Tensor* t = ConstantValue(v);
  return t && t->dtype() == DataType::kFloat;
}

// Relu, or Clip whose bounds are constants with min >= 0 (Relu6 and friends): merged into the
// weighted op before them on NPUs (the clamp is part of the requantization).
bool IsFusableActivation(const Node& n) {
  if (!IsOnnxDomain(n)) return false;
  if (n.op_type() == "Relu") return true;
  if (n.op_type() != "Clip") return false;
  if (n.HasAttribute("min")) return n.GetFloat("min", 0.0f) >= 0.0f;
  const Value* lo = n.input(1);
  if (!lo) return false;
  const Tensor* t = ConstantValue(lo);
  if (!t || t->numel() != 1) return false;
  if (n.input(2) && !ConstantValue(n.input(2))) return false;
  return t->ToDoubleVector()[0] >= 0.0;
}

// Output-channel axis of the weight of a weighted op, or -1 for per-tensor.
int ChannelAxis(const Node& n, const Tensor& weight) {
  const std::string& op = n.op_type();
  if (op == "Conv") return 0;
  if (op == "ConvTranspose") return n.GetInt("group", 1) == 1 ? 1 : -1;
  if (op == "Gemm") return n.GetInt("transB", 0) != 0 ? 0 : 1;
  if (op == "MatMul") return weight.rank() == 2 ? 1 : -1;
  return -1;
}

struct UnionFind {
  std::map<const Value*, const Value*> parent;
  const Value* Find(const Value* v) {
    auto it = parent.find(v);
    if (it == parent.end()) {
      parent[v] = v;
      return v;
    }
    if (it->second == v) return v;
    const Value* root = Find(it->second);
    parent[v] = root;
    return root;
  }
  void Union(const Value* a, const Value* b) { parent[Find(a)] = Find(b); }
};

bool Excluded(const Node& n, const std::vector<std::string>& exclude) {
  return std::find(exclude.begin(), exclude.end(), n.name()) != exclude.end() ||
         std::find(exclude.begin(), exclude.end(), n.op_type()) != exclude.end();
}

}  // namespace

std::vector<int> QuantDataInputs(const Node& n) {
  if (!IsOnnxDomain(n)) return {};
  const std::string& op = n.op_type();
  if (op == "Conv" || op == "ConvTranspose" || op == "Gemm") return {0};
  if (op == "Concat" || op == "Sum" || op == "Mean" || op == "Max" || op == "Min") {
    std::vector<int> all(n.num_inputs());
    std::iota(all.begin(), all.end(), 0);
    return all;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "MatMul" || op == "PRelu") return {0, 1};
  if (IsScalePreservingOp(n) || IsActivationOp(n)) return {0};
  return {};
}

StatusOr<QuantPlan> PlanQuantization(Model& model, const TargetProfile* profile,
                                     const PlacementOptions& options) {
  QuantPlan plan;
  const Graph& g = *model.graph;

  // 1. Which nodes run quantized.
  for (const auto& up : g.nodes()) {
    const Node& n = *up;
    bool has_float_data = false;
    for (const Value* o : n.outputs()) has_float_data |= IsFloat(o);
    if (!has_float_data) continue;  // shape arithmetic, integer ops: nothing to quantize
    if (n.op_type() == "Constant" && IsOnnxDomain(n)) continue;  // a constant, not an op to run
    auto keep_float = [&](std::string reason) {
      plan.kept_float.push_back({n.name(), n.op_type(), std::move(reason)});
    };
    if (Excluded(n, options.exclude)) {
      keep_float("excluded on the command line (--exclude)");
      continue;
    }
    if (Excluded(n, options.budget_exclude)) {
      keep_float("returned to float by the accuracy budget");
      continue;
    }
    if (!IsOnnxDomain(n)) {
      keep_float("op of domain '" + n.domain() + "' is not quantized by edgefit");
      continue;
    }
    if (profile) {
      const OpRule* rule = profile->FindOp(n.op_type());
      if (!rule || rule->runs_on == Placement::kUnsupported) {
        keep_float("target '" + profile->id + "' does not support " + n.op_type());
        continue;
      }
      if (rule->runs_on == Placement::kCpu) {
        keep_float("target '" + profile->id + "' runs " + n.op_type() + " on the CPU, in float");
        continue;
      }
    }
    bool weighted = IsWeightedOpType(n.op_type()) && IsFloatConstant(n.input(1)) &&
                    !(n.op_type() == "MatMul" && ConstantValue(n.input(1))->rank() != 2);
    if (weighted) {
      plan.quantized[&n] = QuantRole::kWeighted;
    } else if (n.op_type() != "Conv" && n.op_type() != "ConvTranspose" && n.op_type() != "Gemm" &&
               IsScalePreservingOp(n)) {
      plan.quantized[&n] = QuantRole::kScalePreserving;
    } else if (n.op_type() != "Conv" && n.op_type() != "ConvTranspose" && n.op_type() != "Gemm" &&
               IsActivationOp(n)) {
      plan.quantized[&n] = QuantRole::kActivation;
    } else if (IsWeightedOpType(n.op_type())) {
      keep_float("weight is not a float constant");
    } else {
      keep_float("edgefit has no integer placement rule for " + n.op_type());
    }
  }

  // 2. Relu/Clip fused into the weighted op before them.
  std::set<const Value*> fused_outputs;  // weighted-op outputs that get no Q/DQ
  if (options.fuse_activations) {
    for (auto& [node, role] : plan.quantized) {
      if (role != QuantRole::kWeighted) continue;
      const Value* out = node->output(0);
      if (!HasSingleConsumer(out)) continue;
      const Node* act = out->uses()[0].node;
      auto it = plan.quantized.find(act);
      if (it == plan.quantized.end() || !IsFusableActivation(*act) ||
          out->uses()[0].input_index != 0)
        continue;
      it->second = QuantRole::kFusedActivation;
      fused_outputs.insert(out);
    }
  }

  // 3. Tensors: activations, weights, constants; scale groups.
  UnionFind uf;
  std::set<const Value*> activation_set, constant_set;
  auto add_activation = [&](Value* v) {
    if (!IsFloat(v) || fused_outputs.count(v) || ConstantValue(v)) return;
    if (activation_set.insert(v).second) plan.activations.push_back(v);
    uf.Find(v);
  };
  // In graph order: graph inputs first, then node outputs as nodes come.
  std::set<const Value*> wanted;
  for (auto& [node, role] : plan.quantized) {
    for (int i : QuantDataInputs(*node)) {
      Value* in = node->input(static_cast<size_t>(i));
      if (!in || !IsFloat(in)) continue;
      if (role == QuantRole::kFusedActivation) continue;  // its input is the fused op's output
      if (IsFloatConstant(in)) {
        if (!(role == QuantRole::kWeighted && i == 1)) constant_set.insert(in);
        continue;
      }
      wanted.insert(in);
    }
    for (Value* out : node->outputs()) wanted.insert(out);
  }
  for (Value* in : g.inputs())
    if (wanted.count(in)) add_activation(in);
  for (const auto& up : g.nodes())
    for (Value* out : up->outputs())
      if (out && wanted.count(out)) add_activation(out);
  for (const Value* c : constant_set) plan.constants.push_back(const_cast<Value*>(c));
  std::sort(plan.constants.begin(), plan.constants.end(),
            [](const Value* a, const Value* b) { return a->name() < b->name(); });
  for (const Value* c : plan.constants) uf.Find(c);

  for (auto& [node, role] : plan.quantized) {
    if (role == QuantRole::kWeighted) {
      PlannedWeight w;
      w.node = const_cast<Node*>(node);
      w.weight_input = 1;
      if (node->op_type() != "MatMul" && node->input(2) && IsFloatConstant(node->input(2)))
        w.bias_input = 2;
      w.channel_axis =
          options.per_channel ? ChannelAxis(*node, *ConstantValue(node->input(1))) : -1;
      plan.weights.push_back(w);
    }
    if (role != QuantRole::kScalePreserving) continue;
    const Value* out = node->output(0);
    for (int i : QuantDataInputs(*node)) {
      const Value* in = node->input(static_cast<size_t>(i));
      if (in && (activation_set.count(in) || constant_set.count(in))) uf.Union(in, out);
    }
    for (const Value* o : node->outputs())
      if (o && o != out && activation_set.count(o)) uf.Union(o, out);
  }
  std::sort(plan.weights.begin(), plan.weights.end(),
            [](const PlannedWeight& a, const PlannedWeight& b) {
              return a.node->name() < b.node->name();
            });
  std::map<const Value*, int> root_ids;
  auto assign = [&](const Value* v) {
    const Value* root = uf.Find(v);
    auto [it, inserted] = root_ids.emplace(root, static_cast<int>(root_ids.size()));
    plan.group_of[v] = it->second;
  };
  for (const Value* v : plan.activations) assign(v);
  for (const Value* v : plan.constants) assign(v);
  plan.num_groups = static_cast<int>(root_ids.size());
  return plan;
}

}  // namespace edgefit
