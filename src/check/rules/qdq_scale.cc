// qdq.scale: every QuantizeLinear/DequantizeLinear scale is a constant of finite, positive
// numbers (a zero, negative, NaN or infinite scale breaks r = s * (q - z); a scale computed at
// run time is dynamic quantization, which NPU compilers do not take).
//
//   DequantizeLinear(w, scale = [0.02, 0, 0.01]) -> violation
#include <cmath>

#include "check/op_roles.h"
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  if (!QdqRulesApply(ctx)) return;
  const auto& fact = ctx.profile().quantization.format;
  for (const auto& n : ctx.graph().nodes()) {
    if (!IsQuantizeLinear(*n) && !IsDequantizeLinear(*n)) continue;
    const Value* scale = n->input(1);
    if (!scale) continue;
    std::string problem;
    auto numbers = ctx.ConstantNumbers(scale);
    if (!numbers) {
      problem = "scale '" + scale->name() + "' is computed at run time (dynamic quantization)";
    } else {
      std::vector<double> bad;
      for (double s : *numbers)
        if (!std::isfinite(s) || s <= 0) bad.push_back(s);
      if (bad.empty()) continue;
      if (bad.size() > 8) bad.resize(8);
      problem = "scale '" + scale->name() + "' has non-positive or non-finite values " +
                FormatNumbers(bad);
    }
    Finding f = NodeFinding(ctx, "qdq.scale", Severity::kViolation, *n,
                            problem + "; scales must be constant, finite and positive");
    f.values.push_back(DescribeValue(ctx, scale, "scale"));
    ApplyFact(&f, fact);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kQdqScaleRule = {"qdq.scale", "quantization scales are constant, finite and positive",
                            &Run};

}  // namespace edgefit
