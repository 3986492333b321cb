// rank.preferred: a tensor above the target's preferred_rank but within max_rank: accepted, but
// the NPU works on 4-D internally, so expect splits or software fallbacks (a warning).
//
//   [1,8,3,36,36] (rank 5), stm32n6 preferred_rank 4, max_rank 5 -> warning, fixed by reduce-rank
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  const auto& shapes = ctx.profile().shapes;
  int preferred = shapes.preferred_rank.value, limit = shapes.max_rank.value;
  if (preferred >= limit) return;
  auto in_band = [&](const Value* v) {
    int r = v ? ctx.Rank(v) : -1;
    return r > preferred && r <= limit;
  };
  std::string limit_text = "; " + ctx.target() + " prefers rank <= " + std::to_string(preferred);
  const Graph& g = ctx.graph();
  for (const Value* v : g.inputs()) {
    if (v->has_initializer() || !in_band(v)) continue;
    Finding f = ModelFinding(
        "rank.preferred", Severity::kWarning,
        "input " + NameAndShape(ctx, v) + " has rank " + std::to_string(ctx.Rank(v)) + limit_text);
    f.values.push_back(DescribeValue(ctx, v, "input"));
    f.fixed_by = "reduce-rank";
    ApplyFact(&f, shapes.preferred_rank);
    out->push_back(std::move(f));
  }
  for (const auto& n : g.nodes()) {
    std::vector<const Value*> band;
    for (const Value* v : n->outputs())
      if (in_band(v)) band.push_back(v);
    if (band.empty() || ctx.IsFoldableNode(*n)) continue;
    std::string text;
    for (const Value* v : band)
      text += (text.empty() ? "output " : ", output ") + NameAndShape(ctx, v) + " has rank " +
              std::to_string(ctx.Rank(v));
    Finding f = NodeFinding(ctx, "rank.preferred", Severity::kWarning, *n, text + limit_text);
    for (const Value* v : band) f.values.push_back(DescribeValue(ctx, v, "output"));
    f.fixed_by = "reduce-rank";
    ApplyFact(&f, shapes.preferred_rank);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kRankPreferredRule = {"rank.preferred",
                                 "tensors above the target's preferred_rank (warning)", &Run};

}  // namespace edgefit
