// graph.constant-subgraph: nodes that compute constants only once the batch is fixed (the
// Shape->Gather->Unsqueeze->Concat chains PyTorch writes for view(B, ...)). fold-constants
// replaces them by initializers, so the op rules skip them; this info lists them so that nothing
// is skipped silently. Constant nodes themselves are not listed.
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  std::vector<std::string> names;
  const Node* first = nullptr;
  for (const auto& n : ctx.graph().nodes()) {
    if (!ctx.IsFoldableNode(*n) || n->op_type() == "Constant") continue;
    if (!first) first = n.get();
    names.push_back("'" + n->name() + "'");
  }
  if (names.empty()) return;
  Finding f = ModelFinding("graph.constant-subgraph", Severity::kInfo,
                           std::to_string(names.size()) +
                               (names.size() == 1 ? " node computes" : " nodes compute") +
                               " constants only once the batch is fixed (" + JoinNames(names, 8) +
                               "); fold-constants removes them, so the op rules skip them");
  f.order = ctx.Order(*first);
  f.fixed_by = "fold-constants";
  ApplyNoFact(&f, "edgefit analysis");
  out->push_back(std::move(f));
}

}  // namespace

const Rule kConstantSubgraphRule = {
    "graph.constant-subgraph", "nodes computing constants only, removed by fold-constants (info)",
    &Run};

}  // namespace edgefit
