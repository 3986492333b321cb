// dims.max: a dimension above the target's largest allowed size (shapes after batch freezing).
//
//   stm32n6 max_dim 65535: a [1,70000] tensor -> violation
#include "check/rule.h"

namespace edgefit {
namespace {

void CheckValue(const CheckContext& ctx, const Value* v, int64_t limit, const Provenance& fact,
                std::vector<Finding>* out) {
  auto shape = ctx.StaticShape(v);
  if (!shape) return;
  int64_t largest = 0;
  for (int64_t d : *shape) largest = std::max(largest, d);
  if (largest <= limit) return;
  std::string text = "'" + v->name() + "' " + ShapeToString(*shape) + " has a dimension of " +
                     std::to_string(largest) + "; " + ctx.target() + " allows at most " +
                     std::to_string(limit);
  Finding f =
      v->producer()
          ? NodeFinding(ctx, "dims.max", Severity::kViolation, *v->producer(), "output " + text)
          : ModelFinding("dims.max", Severity::kViolation,
                         (v->is_graph_input() ? "input " : "initializer ") + text);
  f.values.push_back(DescribeValue(ctx, v));
  ApplyFact(&f, fact);
  out->push_back(std::move(f));
}

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  const auto& max_dim = ctx.profile().shapes.max_dim;
  if (!max_dim) return;
  const Graph& g = ctx.graph();
  for (const Value* v : g.inputs())
    if (!v->has_initializer()) CheckValue(ctx, v, max_dim->value, *max_dim, out);
  for (const Value* v : g.initializers()) CheckValue(ctx, v, max_dim->value, *max_dim, out);
  for (const auto& n : g.nodes())
    for (const Value* v : n->outputs())
      if (v) CheckValue(ctx, v, max_dim->value, *max_dim, out);
}

}  // namespace

const Rule kDimsMaxRule = {"dims.max", "no dimension above the target's max_dim", &Run};

}  // namespace edgefit
