// opset.range: the model's default-domain opset lies outside the target's opset window.
//
//   model opset 9, stm32n6 window 7..20     -> fine
//   model opset 21, stm32n6 window 7..20    -> violation, fixed by convert-opset (to 17)
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  int64_t opset = ctx.model().OpsetVersion("");
  if (opset < 0) return;  // no default-domain import: op.unsupported names the ops instead
  const OpsetWindow& w = ctx.profile().opset;
  bool low = opset < w.min.value;
  if (!low && opset <= w.max.value) return;
  const Fact<int>& bound = low ? w.min : w.max;
  Finding f =
      ModelFinding("opset.range", Severity::kViolation,
                   "the model's opset " + std::to_string(opset) + " is " +
                       (low ? "below" : "above") + " " + ctx.target() + "'s window " +
                       std::to_string(w.min.value) + ".." + std::to_string(w.max.value) +
                       "; convert-opset converts it to " + std::to_string(w.recommended.value));
  f.opset = opset;
  f.fixed_by = "convert-opset";
  ApplyFact(&f, bound);
  out->push_back(std::move(f));
}

}  // namespace

const Rule kOpsetRangeRule = {"opset.range", "the model's opset lies in the target's opset window",
                              &Run};

}  // namespace edgefit
