// qdq.bias-dtype: the bias of a quantized Conv/ConvTranspose/Gemm is DequantizeLinear of an
// integer tensor of the profile's bias type (int32), as the ONNX Runtime quantizer writes it
// (scale = input scale x weight scale). A float bias next to a quantized weight is left in float.
//
//   Conv(x_dq, w_dq, b float32)  -> violation
//   Conv(x_dq, w_dq, DequantizeLinear(b int32)) -> nothing
#include "check/op_roles.h"
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  if (!QdqRulesApply(ctx)) return;
  const auto& fact = ctx.profile().quantization.bias_dtype;
  for (const QuantizedWeight& w : QuantizedWeights(ctx)) {
    if (w.roles.bias_input < 0) continue;
    const Value* bias = w.op->input(static_cast<size_t>(w.roles.bias_input));
    if (!bias) continue;
    std::string problem;
    const Value* shown = bias;
    if (const Node* dq = DequantizeProducer(bias)) {
      const Value* q = dq->input(0);
      if (!q) continue;
      std::string dtype = DataTypeName(ctx.Type(q).elem_type);
      if (dtype == fact.value) continue;
      shown = q;
      problem = "bias '" + q->name() + "' is quantized to " + dtype;
    } else {
      std::string dtype = DataTypeName(ctx.Type(bias).elem_type);
      if (dtype == fact.value) continue;
      problem = "bias '" + bias->name() + "' is " + dtype + ", not quantized";
    }
    Finding f = NodeFinding(ctx, "qdq.bias-dtype", Severity::kViolation, *w.op,
                            problem + "; " + ctx.target() + " wants " + fact.value + " biases");
    f.values.push_back(DescribeValue(ctx, shown, "bias"));
    ApplyFact(&f, fact);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kQdqBiasDtypeRule = {"qdq.bias-dtype", "biases of quantized ops are int32 (quantized)",
                                &Run};

}  // namespace edgefit
