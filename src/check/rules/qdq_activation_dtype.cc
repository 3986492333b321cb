// qdq.activation-dtype: QuantizeLinear nodes on activations produce the profile's activation
// type (int8 for stm32n6). Without a zero point QuantizeLinear produces uint8 — the usual way a
// model ends up with uint8 activations. With a symmetric activation scheme, zero points are 0.
//
//   QuantizeLinear(x, s, zp uint8) on stm32n6 -> violation
#include "check/op_roles.h"
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  if (!QdqRulesApply(ctx)) return;
  const auto& scheme = ctx.profile().quantization.activations;
  for (const auto& n : ctx.graph().nodes()) {
    if (!IsQuantizeLinear(*n) || !n->input(0) || ctx.IsLiteralConstant(n->input(0))) continue;
    const Value* zp = n->input(2);
    DataType out_type = DataType::kUint8;
    if (zp && ctx.Type(zp).elem_type != DataType::kUndefined) out_type = ctx.Type(zp).elem_type;
    if (const Attribute* a = n->FindAttribute("output_dtype"); a && a->i != 0)
      out_type = static_cast<DataType>(a->i);
    std::string dtype = DataTypeName(out_type);
    std::string problem;
    if (dtype != scheme.value.dtype) {
      problem = "quantizes '" + n->input(0)->name() + "' to " + dtype +
                (zp ? "" : " (no zero point: uint8)") + "; " + ctx.target() + " wants " +
                scheme.value.dtype + " activations";
    } else if (scheme.value.symmetric && zp) {
      auto values = ctx.ConstantInts(zp);
      if (values && std::any_of(values->begin(), values->end(), [](int64_t z) { return z != 0; }))
        problem = "has zero point " + FormatInts(*values) + "; " + ctx.target() +
                  " quantizes activations symmetrically (zero point 0)";
    }
    if (problem.empty()) continue;
    Finding f = NodeFinding(ctx, "qdq.activation-dtype", Severity::kViolation, *n, problem);
    f.values.push_back(DescribeValue(ctx, n->input(0), "input"));
    if (zp) f.values.push_back(DescribeValue(ctx, zp, "zero_point"));
    ApplyFact(&f, scheme);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kQdqActivationDtypeRule = {"qdq.activation-dtype",
                                      "activations are quantized to the target's type", &Run};

}  // namespace edgefit
