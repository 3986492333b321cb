// rank.max: no tensor above the target's max_rank, in the frozen model. One finding per
// producing node (or graph input / initializer), naming each value and its shape. Outputs of
// Reshape nodes are rank.reshape's: each over-rank value is reported once.
//
//   /Transpose_output_0 [1,8,3,36,36,3] (rank 6), stm32n6 max_rank 5 -> violation on /Transpose
#include "check/rule.h"

namespace edgefit {
namespace {

bool OverLimit(const CheckContext& ctx, const Value* v, int limit) {
  return v && ctx.Rank(v) > limit;
}

std::string RankText(const CheckContext& ctx, const Value* v) {
  return NameAndShape(ctx, v) + " has rank " + std::to_string(ctx.Rank(v));
}

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  const auto& fact = ctx.profile().shapes.max_rank;
  int limit = fact.value;
  std::string limit_text = "; " + ctx.target() + " allows rank <= " + std::to_string(limit);
  const Graph& g = ctx.graph();
  auto model_value = [&](const Value* v, const char* role) {
    if (!OverLimit(ctx, v, limit)) return;
    Finding f = ModelFinding("rank.max", Severity::kViolation,
                             std::string(role) + " " + RankText(ctx, v) + limit_text);
    f.values.push_back(DescribeValue(ctx, v, role));
    f.fixed_by = "reduce-rank";
    ApplyFact(&f, fact);
    out->push_back(std::move(f));
  };
  for (const Value* v : g.inputs())
    if (!v->has_initializer()) model_value(v, "input");
  for (const Value* v : g.initializers()) model_value(v, "initializer");
  for (const auto& n : g.nodes()) {
    if (CheckContext::IsDefaultDomain(*n) && n->op_type() == "Reshape") continue;
    std::vector<const Value*> over;
    for (const Value* v : n->outputs())
      if (OverLimit(ctx, v, limit)) over.push_back(v);
    if (over.empty()) continue;
    std::string text;
    for (const Value* v : over) text += (text.empty() ? "output " : ", output ") + RankText(ctx, v);
    Finding f = NodeFinding(ctx, "rank.max", Severity::kViolation, *n, text + limit_text);
    for (const Value* v : over) f.values.push_back(DescribeValue(ctx, v, "output"));
    f.fixed_by = "reduce-rank";
    ApplyFact(&f, fact);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kRankMaxRule = {"rank.max", "no tensor has a rank above the target's max_rank", &Run};

}  // namespace edgefit
