// qdq.hybrid: in a QDQ model, an op that reads some data operands through DequantizeLinear and
// others as plain float (a hybrid float/int op): the toolchain cannot run it in integer, so it
// runs in float in software (a CPU fallback, hence a warning like op.cpu-fallback). This is
// also how a QDQ model keeps an op float on purpose (quantize --exclude, the accuracy budget):
// DequantizeLinear -> float op -> QuantizeLinear. Index operands and the bias of Conv/Gemm
// (qdq.bias-dtype's) are not data operands here.
//
//   Add(DequantizeLinear(a), b float32 computed) -> warning
#include "check/op_roles.h"
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  if (!QdqRulesApply(ctx)) return;
  const auto& fact = ctx.profile().quantization.format;
  for (const auto& n : ctx.graph().nodes()) {
    if (!CheckContext::IsDefaultDomain(*n) || IsQuantizeLinear(*n) || IsDequantizeLinear(*n) ||
        ctx.IsFoldableNode(*n))
      continue;
    auto roles = AsWeightedOp(ctx, *n);
    int64_t opset = ctx.Opset(*n);
    std::vector<const Value*> quantized, plain;
    for (size_t i = 0; i < n->num_inputs(); ++i) {
      const Value* v = n->input(i);
      if (!v || IsIndexSlot(*n, opset, i)) continue;
      if (roles && static_cast<int>(i) == roles->bias_input) continue;
      if (DequantizeProducer(v)) {
        quantized.push_back(v);
      } else if (IsFloatType(ctx.Type(v).elem_type)) {
        plain.push_back(v);
      }
    }
    if (quantized.empty() || plain.empty()) continue;
    std::string names;
    for (const Value* v : plain) names += (names.empty() ? "'" : ", '") + v->name() + "'";
    Finding f =
        NodeFinding(ctx, "qdq.hybrid", Severity::kWarning, *n,
                    "mixes quantized inputs (through DequantizeLinear) with float " + names + "; " +
                        ctx.target() + " runs it in float on the CPU, not in integer on the NPU");
    for (const Value* v : quantized) f.values.push_back(DescribeValue(ctx, v, "quantized"));
    for (const Value* v : plain) f.values.push_back(DescribeValue(ctx, v, "float"));
    ApplyFact(&f, fact);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kQdqHybridRule = {"qdq.hybrid", "no op mixes quantized and float data inputs", &Run};

}  // namespace edgefit
