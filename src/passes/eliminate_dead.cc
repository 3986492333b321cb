// eliminate-dead: remove what cannot affect the graph outputs.
//
//   Before: x -> A -> y (output)        After: x -> A -> y (output)
//           x -> B -> z (nobody reads z)
//           initializer w (nobody reads w)
//
// Removes nodes none of whose outputs is read or is a graph output (repeatedly, so whole dead
// chains go), initializers nothing reads (unless they are declared graph inputs), and
// value_info records of values that no longer exist in the graph. Subgraph bodies are left as
// they are; values a subgraph reads count as used.
#include <algorithm>

#include "passes/passes.h"

namespace edgefit {
namespace {

bool IsDead(const Node& n) {
  for (const Value* v : n.outputs())
    if (v && (!v->uses().empty() || v->is_graph_output())) return false;
  return true;
}

class EliminateDeadPass : public Pass {
 public:
  const char* id() const override { return "eliminate-dead"; }
  const char* summary() const override { return "remove unused nodes and initializers"; }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    Graph& g = *ctx.model.graph;
    PassResult result;
    int nodes = 0, inits = 0, values = 0;
    // Walk backwards so a dead consumer is removed before its producer is examined.
    bool again = true;
    while (again) {
      again = false;
      std::vector<Node*> order;
      for (const auto& n : g.nodes()) order.push_back(n.get());
      for (auto it = order.rbegin(); it != order.rend(); ++it) {
        Node* n = *it;
        if (!IsDead(*n)) continue;
        std::vector<Value*> outputs(n->outputs().begin(), n->outputs().end());
        std::vector<Value*> inputs(n->inputs().begin(), n->inputs().end());
        g.RemoveNode(n);
        ++nodes;
        for (Value* v : outputs)
          if (v) values += g.RemoveValueIfUnused(v);
        for (Value* v : inputs)
          if (v && v->uses().empty() && v->producer()) again = true;
      }
    }
    std::vector<Value*> unused;
    for (Value* v : g.initializers())
      if (v->uses().empty() && !v->is_graph_input() && !v->is_graph_output()) unused.push_back(v);
    g.RemoveInitializers(unused);  // one sweep: removing them one by one is quadratic
    for (Value* v : unused) {
      g.RemoveValueIfUnused(v);
      ++inits;
    }
    for (Value* v : g.AllValues())
      if (!v->producer() && v->uses().empty() && !v->is_graph_input() && !v->is_graph_output() &&
          !v->has_initializer() && !v->is_outer_ref())
        values += g.RemoveValueIfUnused(v);
    if (nodes) result.Rewrote("removed " + std::to_string(nodes) + " unused nodes");
    if (inits) result.Rewrote("removed " + std::to_string(inits) + " unused initializers");
    if (values && !nodes && !inits)
      result.Rewrote("removed " + std::to_string(values) + " stale value_info records");
    return result;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateEliminateDeadPass() { return std::make_unique<EliminateDeadPass>(); }

}  // namespace edgefit
