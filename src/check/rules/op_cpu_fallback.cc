// op.cpu-fallback: an op that runs, but on the host CPU instead of the NPU (slow, and extra
// round trips between NPU and CPU memory): listed as "cpu", or a condition with on_fail "cpu"
// fails. A warning: "runs on CPU, not NPU".
//
//   BatchNormalization on stm32n6 (cpu unless folded)  -> warning, fixed by fold-batchnorm
//   Conv with a computed weight on stm32n6              -> warning (input 1 constant fails)
#include "check/rule.h"

namespace edgefit {
namespace {

bool InPipeline(const CheckContext& ctx, const std::string& pass) {
  const auto& p = ctx.profile().pipeline;
  return std::find(p.begin(), p.end(), pass) != p.end();
}

// fold-batchnorm folds a BatchNormalization into the Conv/ConvTranspose/Gemm that feeds it alone.
bool FoldableBatchNorm(const CheckContext& ctx, const Node& node) {
  const Value* x = node.input(0);
  if (!x || !x->producer() || x->uses().size() != 1 || x->is_graph_output()) return false;
  const std::string& op = x->producer()->op_type();
  return (op == "Conv" || op == "ConvTranspose" || op == "Gemm") && node.input(1) &&
         ctx.IsFoldable(node.input(1)) && node.input(2) && ctx.IsFoldable(node.input(2)) &&
         node.input(3) && ctx.IsFoldable(node.input(3)) && node.input(4) &&
         ctx.IsFoldable(node.input(4));
}

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  for (const Node* n : ctx.nodes()) {
    const NodePlacement* p = ctx.Placement(*n);
    if (!p || p->placement != Placement::kCpu) continue;
    std::string text = "runs on CPU, not NPU: ";
    const Provenance* fact = &p->rule->provenance;
    std::vector<const ConditionResult*> reasons;
    for (const ConditionResult& r : p->failed)
      if (r.condition->on_fail == Placement::kCpu) reasons.push_back(&r);
    if (p->rule->runs_on == Placement::kCpu || reasons.empty()) {
      text += ctx.target() + " runs " + n->op_type() + " in software";
    } else {
      fact = &reasons[0]->condition->provenance;
      for (size_t i = 0; i < reasons.size(); ++i)
        text += (i ? "; " : "") + std::string("the NPU needs ") +
                DescribeCondition(*reasons[i]->condition) + ", but " + reasons[i]->outcome.detail;
    }
    Finding f = NodeFinding(ctx, "op.cpu-fallback", Severity::kWarning, *n, text);
    for (const ConditionResult* r : reasons)
      if (r->condition->subject == OpCondition::Subject::kInput)
        if (const Value* v = n->input(static_cast<size_t>(r->condition->input)))
          f.values.push_back(DescribeValue(ctx, v, "input " + std::to_string(r->condition->input)));
    if (n->op_type() == "BatchNormalization" && FoldableBatchNorm(ctx, *n) &&
        InPipeline(ctx, "fold-batchnorm"))
      f.fixed_by = "fold-batchnorm";
    if (n->op_type() == "Identity" || n->op_type() == "Dropout")
      if (InPipeline(ctx, "eliminate-identity")) f.fixed_by = "eliminate-identity";
    if ((n->op_type() == "Squeeze" || n->op_type() == "Unsqueeze") &&
        InPipeline(ctx, "squeeze-to-reshape"))
      f.fixed_by = "squeeze-to-reshape";
    ApplyFact(&f, *fact);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kOpCpuFallbackRule = {"op.cpu-fallback",
                                 "ops that run on the host CPU instead of the NPU (warning)", &Run};

}  // namespace edgefit
