// graph.dangling-output: node outputs that nothing reads and that are not graph outputs
// (PyTorch's unused MaxPool indices, a dead branch, BatchNormalization's training outputs).
// Vendor parsers may reject or mis-map such nodes; eliminate-dead removes them. Not a profile
// fact: a warning without source status.
//
//   MaxPool with an unread Indices output -> warning, fixed by eliminate-dead
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  for (const auto& n : ctx.graph().nodes()) {
    std::vector<const Value*> dangling;
    for (const Value* v : n->outputs())
      if (v && v->uses().empty() && !v->is_graph_output()) dangling.push_back(v);
    if (dangling.empty()) continue;
    bool dead = dangling.size() == n->num_outputs();
    std::string names;
    for (const Value* v : dangling) names += (names.empty() ? "'" : ", '") + v->name() + "'";
    Finding f = NodeFinding(ctx, "graph.dangling-output", Severity::kWarning, *n,
                            std::string(dangling.size() == 1 ? "output " : "outputs ") + names +
                                (dangling.size() == 1 ? " is" : " are") + " not connected" +
                                (dead ? " (the node is dead)" : ""));
    for (const Value* v : dangling) f.values.push_back(DescribeValue(ctx, v, "output"));
    f.fixed_by = "eliminate-dead";
    ApplyNoFact(&f, "edgefit: vendor parsers may reject nodes with unconnected outputs");
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kDanglingOutputRule = {"graph.dangling-output",
                                  "every node output is read or is a graph output", &Run};

}  // namespace edgefit
