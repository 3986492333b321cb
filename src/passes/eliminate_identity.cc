// eliminate-identity: remove nodes that pass their input through unchanged.
//
//   Before: x -> Identity -> y -> Conv        After: x -> Conv
//
// Removed: Identity; Dropout in inference (its mask output unused); Reshape whose constant
// target equals the static input shape; Transpose with the identity permutation; Cast to the
// input's own type; Pad whose pads are all zero. When the node's output is a graph output, the
// output name is kept by renaming the producer's output instead.
#include "passes/pass_util.h"
#include "passes/passes.h"

namespace edgefit {
namespace {

bool IsNoOp(const Node& n) {
  if (!IsOnnxDomain(n) || n.num_inputs() == 0 || !n.input(0)) return false;
  const std::string& op = n.op_type();
  const TypeInfo& in = n.input(0)->type();
  if (op == "Identity") return true;
  if (op == "Dropout") {
    // Inference: the mask output must be unused and training_mode (input 2) absent or false.
    if (n.num_outputs() > 1 && n.output(1) &&
        (!n.output(1)->uses().empty() || n.output(1)->is_graph_output()))
      return false;
    if (n.input(2)) {
      auto mode = ConstantInts(n.input(2));
      if (!mode || mode->empty() || (*mode)[0] != 0) return false;
    }
    return true;
  }
  if (op == "Transpose") {
    auto perm = n.GetInts("perm");
    if (perm.empty()) return in.rank() == 1;  // default perm reverses the axes
    for (size_t i = 0; i < perm.size(); ++i)
      if (perm[i] != static_cast<int64_t>(i)) return false;
    return true;
  }
  if (op == "Cast") {
    return in.is_tensor() && in.elem_type != DataType::kUndefined &&
           n.GetInt("to", 0) == static_cast<int64_t>(in.elem_type);
  }
  if (op == "Reshape") {
    auto in_shape = in.StaticShape();
    auto target = ConstantInts(n.input(1));
    if (!in_shape || !target || target->size() != in_shape->size()) return false;
    for (size_t i = 0; i < target->size(); ++i) {
      int64_t t = (*target)[i];
      if (t == 0 && n.GetInt("allowzero", 0) == 0) continue;  // copies the input dim
      if (t != (*in_shape)[i]) return false;
    }
    return true;
  }
  if (op == "Pad") {
    std::vector<int64_t> pads = n.GetInts("pads");
    if (n.input(1)) {
      auto p = ConstantInts(n.input(1));
      if (!p) return false;
      pads = *p;
    }
    for (int64_t p : pads)
      if (p != 0) return false;
    return true;
  }
  return false;
}

class EliminateIdentityPass : public Pass {
 public:
  const char* id() const override { return "eliminate-identity"; }
  const char* summary() const override {
    return "remove Identity, inference Dropout and no-op Reshape/Transpose/Cast/Pad";
  }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    Graph& g = *ctx.model.graph;
    std::vector<Node*> candidates;
    for (const auto& n : g.nodes())
      if (IsNoOp(*n) && n->output(0)) candidates.push_back(n.get());
    PassResult result;
    for (Node* n : candidates) {
      Value* in = n->input(0);
      Value* out = n->output(0);
      if (out->is_graph_output() && in->is_graph_output()) continue;
      if (!ReplaceValue(g, out, in)) {
        // Graph input straight to graph output (or similar): keep the node.
        continue;
      }
      std::string desc = n->Describe();
      std::vector<Value*> outs(n->outputs().begin(), n->outputs().end());
      g.RemoveNode(n);
      for (Value* v : outs)
        if (v) g.RemoveValueIfUnused(v);
      result.Rewrote("removed " + desc);
    }
    return result;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateEliminateIdentityPass() {
  return std::make_unique<EliminateIdentityPass>();
}

}  // namespace edgefit
