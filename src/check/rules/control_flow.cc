// graph.control-flow: If, Loop or Scan on a target whose profile says control_flow: false.
// (Where control flow is allowed, the ops table decides each op: op.unsupported.)
//
//   If on stm32n6 -> violation, no fixing pass (unroll or export without data-dependent branches)
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  const auto& fact = ctx.profile().control_flow;
  if (fact.value) return;
  for (const Node* n : ctx.nodes()) {
    const std::string& op = n->op_type();
    if (!CheckContext::IsDefaultDomain(*n) || (op != "If" && op != "Loop" && op != "Scan"))
      continue;
    Finding f = NodeFinding(ctx, "graph.control-flow", Severity::kViolation, *n,
                            op + " is control flow; " + ctx.target() + " has none");
    ApplyFact(&f, fact);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kControlFlowRule = {"graph.control-flow",
                               "no If/Loop/Scan where the target has no control flow", &Run};

}  // namespace edgefit
