// topo-sort: order nodes so that each one comes after the producers of its inputs.
//
//   Before: B(uses a) ; A -> a        After: A -> a ; B(uses a)
//
// Stable: an already valid order is kept as it is, so the pass changes nothing on a sorted
// graph. A cycle is an error (the model is invalid), naming a node on it.
#include "passes/passes.h"

namespace edgefit {
namespace {

class TopoSortPass : public Pass {
 public:
  const char* id() const override { return "topo-sort"; }
  const char* summary() const override { return "order nodes topologically (stable)"; }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    Graph& g = *ctx.model.graph;
    std::vector<const Node*> before;
    for (const auto& n : g.nodes()) before.push_back(n.get());
    RETURN_IF_ERROR(g.TopologicalSort());
    PassResult result;
    size_t i = 0;
    int moved = 0;
    for (const auto& n : g.nodes()) moved += n.get() != before[i++];
    if (moved) result.Rewrote("reordered " + std::to_string(moved) + " nodes");
    return result;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateTopoSortPass() { return std::make_unique<TopoSortPass>(); }

}  // namespace edgefit
