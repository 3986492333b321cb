// opset.recommended: the opset is inside the window but differs from the one the target's
// toolchain is known to work best with (what convert-opset converts to).
//
// An info, not a warning: the window decides compatibility (docs/targets.md: a model at opset 14
// is not flagged for stm32n6), this only says what the fix pipeline will do.
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  int64_t opset = ctx.model().OpsetVersion("");
  const OpsetWindow& w = ctx.profile().opset;
  if (opset < w.min.value || opset > w.max.value || opset == w.recommended.value) return;
  Finding f =
      ModelFinding("opset.recommended", Severity::kInfo,
                   "opset " + std::to_string(opset) + " is inside " + ctx.target() + "'s window " +
                       std::to_string(w.min.value) + ".." + std::to_string(w.max.value) +
                       "; its recommended opset is " + std::to_string(w.recommended.value));
  f.opset = opset;
  f.fixed_by = "convert-opset";
  ApplyFact(&f, w.recommended);
  out->push_back(std::move(f));
}

}  // namespace

const Rule kOpsetRecommendedRule = {
    "opset.recommended", "the opset differs from the target's recommended one (info)", &Run};

}  // namespace edgefit
