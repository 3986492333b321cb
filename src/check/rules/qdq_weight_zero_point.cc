// qdq.weight-zero-point: with a symmetric weight scheme (stm32n6, kl730), the zero points of
// quantized weights are 0. An absent zero point is 0.
//
//   Conv W = DequantizeLinear(w, s, zp = 3) -> violation
#include "check/op_roles.h"
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  if (!QdqRulesApply(ctx)) return;
  const auto& scheme = ctx.profile().quantization.weights;
  if (!scheme.value.symmetric) return;
  for (const QuantizedWeight& w : QuantizedWeights(ctx)) {
    const Value* zp = w.dequantize->input(2);
    if (!zp) continue;
    auto values = ctx.ConstantInts(zp);
    if (!values) continue;  // a computed zero point: qdq.scale reports computed parameters
    std::vector<int64_t> nonzero;
    for (int64_t z : *values)
      if (z != 0) nonzero.push_back(z);
    if (nonzero.empty()) continue;
    if (nonzero.size() > 8) nonzero.resize(8);
    Finding f =
        NodeFinding(ctx, "qdq.weight-zero-point", Severity::kViolation, *w.op,
                    "weight '" + w.quantized->name() + "' has zero points " + FormatInts(nonzero) +
                        (values->size() > 1 ? " (non-zero ones)" : "") + "; " + ctx.target() +
                        " quantizes weights symmetrically (zero point 0)");
    FindingValue fv = DescribeValue(ctx, zp, "zero_point");
    if (values->size() <= 64) {
      fv.has_data = true;
      fv.data = *values;
    }
    f.values.push_back(std::move(fv));
    ApplyFact(&f, scheme);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kQdqWeightZeroPointRule = {
    "qdq.weight-zero-point", "quantized weights have zero point 0 (symmetric schemes)", &Run};

}  // namespace edgefit
