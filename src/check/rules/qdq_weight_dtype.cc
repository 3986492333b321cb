// qdq.weight-dtype: in a QDQ model, the quantized weights of Conv/ConvTranspose/Gemm/MatMul have
// the element type of the profile's weight scheme (int8 for stm32n6).
//
//   Conv W = DequantizeLinear(uint8 tensor), stm32n6 weights int8 -> violation
#include "check/op_roles.h"
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  if (!QdqRulesApply(ctx)) return;
  const auto& scheme = ctx.profile().quantization.weights;
  for (const QuantizedWeight& w : QuantizedWeights(ctx)) {
    const Tensor* t = ctx.ConstantTensor(w.quantized);
    std::string dtype = DataTypeName(t->dtype());
    if (dtype == scheme.value.dtype) continue;
    Finding f = NodeFinding(ctx, "qdq.weight-dtype", Severity::kViolation, *w.op,
                            "weight '" + w.quantized->name() + "' is quantized to " + dtype + "; " +
                                ctx.target() + " wants " + scheme.value.dtype + " weights");
    f.values.push_back(DescribeValue(ctx, w.quantized, "weight"));
    ApplyFact(&f, scheme);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kQdqWeightDtypeRule = {"qdq.weight-dtype",
                                  "quantized weights have the target's weight dtype", &Run};

}  // namespace edgefit
