// op.unsupported: an op the target does not run at all: not listed in the profile's ops table
// (docs/targets.md: "an op that is not listed is unsupported"), listed as "unsupported", or in
// a custom domain. Nodes computed from constants only are skipped (fold-constants removes them),
// and If/Loop/Scan on a target without control flow are graph.control-flow's.
//
//   Einsum on stm32n6 (listed unsupported)  -> violation, no fixing pass
//   Relu on stm32n6                         -> nothing
#include "check/rule.h"

namespace edgefit {
namespace {

bool IsControlFlow(const std::string& op) { return op == "If" || op == "Loop" || op == "Scan"; }

// Passes that remove a node of this op type where it occurs in the usual patterns.
std::optional<std::string> RemovedBy(const Node& node) {
  const std::string& op = node.op_type();
  if (op == "Identity") return "eliminate-identity";
  if (op == "Squeeze" || op == "Unsqueeze") return "squeeze-to-reshape";
  if (op == "BatchNormalization") return "fold-batchnorm";
  return std::nullopt;
}

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  bool control_flow = ctx.profile().control_flow.value;
  for (const Node* n : ctx.nodes()) {
    const NodePlacement* p = ctx.Placement(*n);
    if (!p || p->placement != Placement::kUnsupported) continue;
    if (p->rule && p->rule->runs_on != Placement::kUnsupported) continue;  // op.condition's
    if (!control_flow && CheckContext::IsDefaultDomain(*n) && IsControlFlow(n->op_type())) continue;
    std::string text;
    if (!CheckContext::IsDefaultDomain(*n)) {
      text = "custom-domain op '" + n->domain() + "' is not supported by " + ctx.target();
    } else if (!p->rule) {
      text = n->op_type() + " is not in " + ctx.target() + "'s ops table, so it is unsupported";
    } else {
      text = n->op_type() + " is not supported by " + ctx.target();
      if (!p->rule->provenance.note.empty()) text += " (" + p->rule->provenance.note + ")";
    }
    Finding f = NodeFinding(ctx, "op.unsupported", Severity::kViolation, *n, text);
    if (auto pass = RemovedBy(*n);
        pass && std::find(ctx.profile().pipeline.begin(), ctx.profile().pipeline.end(), *pass) !=
                    ctx.profile().pipeline.end())
      f.fixed_by = *pass;
    if (p->rule) {
      ApplyFact(&f, p->rule->provenance);
    } else {
      ApplyNoFact(&f, ctx.profile().origin + ": ops (not listed)");
    }
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kOpUnsupportedRule = {"op.unsupported", "every op is one the target supports", &Run};

}  // namespace edgefit
