// batch.compute: the data operands of the target's batch_one_ops (Conv, pooling, Gemm, MatMul,
// ...) have batch 1 in the frozen model. A batch above 1 there usually means the batch axis is
// used as a feature axis, as in the rPPG model: view(B*8*3, 3, 36, 36) runs its CNN at batch 24.
//
//   Conv input [24,3,36,36]  -> violation, fixed by unbatch
//   Conv input [1,72,36,36]  -> nothing
// Data operands: input 0, plus input 1 of MatMul when it is computed and of rank >= 3 (a
// constant B is a weight; a rank-2 B's axis 0 is K, not a batch).
#include <unordered_set>

#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  const auto& ops = ctx.profile().shapes.batch_one_ops;
  if (ops.value.empty()) return;
  std::unordered_set<std::string> op_set(ops.value.begin(), ops.value.end());
  for (const auto& n : ctx.graph().nodes()) {
    if (!CheckContext::IsDefaultDomain(*n) || !op_set.count(n->op_type()) || ctx.IsFoldableNode(*n))
      continue;
    std::vector<const Value*> operands = {n->input(0)};
    if (n->op_type() == "MatMul" && n->input(1) && !ctx.IsFoldable(n->input(1)) &&
        ctx.Rank(n->input(1)) >= 3)
      operands.push_back(n->input(1));
    for (const Value* v : operands) {
      if (!v) continue;
      const TypeInfo& type = ctx.Type(v);
      if (!type.has_shape || type.dims.size() < 2 || !type.dims[0].is_fixed()) continue;
      int64_t batch = type.dims[0].value;
      if (batch == 1) continue;
      Finding f = NodeFinding(ctx, "batch.compute", Severity::kViolation, *n,
                              "input " + NameAndShape(ctx, v) + " has batch " +
                                  std::to_string(batch) + " (batch used as a feature axis); " +
                                  ctx.target() + " runs " + n->op_type() + " at batch 1 only");
      f.values.push_back(DescribeValue(ctx, v, "input"));
      f.fixed_by = "unbatch";
      ApplyFact(&f, ops);
      out->push_back(std::move(f));
    }
  }
}

}  // namespace

const Rule kBatchComputeRule = {
    "batch.compute", "Conv/pool/Gemm/MatMul (the target's batch_one_ops) run at batch 1", &Run};

}  // namespace edgefit
