// rank.reshape: a Reshape whose target rank is above the target's max_rank: where the over-rank
// tensors of a model are born (rPPG: view(B,8,3,3,36,36)). The rank comes from the frozen output
// shape, or from the length of a constant shape operand when the output shape is not known.
//
//   Reshape [1,72,36,36] -> [1,8,3,3,36,36], stm32n6 max_rank 5 -> violation, fixed by reduce-rank
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  const auto& fact = ctx.profile().shapes.max_rank;
  int limit = fact.value;
  for (const auto& n : ctx.graph().nodes()) {
    if (!CheckContext::IsDefaultDomain(*n) || n->op_type() != "Reshape") continue;
    const Value* y = n->output(0);
    if (!y) continue;
    int rank = ctx.Rank(y);
    std::string target = ctx.Type(y).ShapeString();
    if (rank < 0 && n->input(1)) {
      if (auto shape = ctx.ConstantInts(n->input(1))) {
        rank = static_cast<int>(shape->size());
        target = FormatInts(*shape);
      }
    }
    if (rank <= limit) continue;
    std::string from = n->input(0) ? " " + ctx.Type(n->input(0)).ShapeString() : "";
    Finding f = NodeFinding(ctx, "rank.reshape", Severity::kViolation, *n,
                            "reshapes" + from + " to rank " + std::to_string(rank) + " (output '" +
                                y->name() + "' " + target + "); " + ctx.target() +
                                " allows rank <= " + std::to_string(limit));
    if (n->input(0)) f.values.push_back(DescribeValue(ctx, n->input(0), "input"));
    f.values.push_back(DescribeValue(ctx, y, "output"));
    f.fixed_by = "reduce-rank";
    ApplyFact(&f, fact);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kRankReshapeRule = {"rank.reshape", "no Reshape to a rank above the target's max_rank",
                               &Run};

}  // namespace edgefit
