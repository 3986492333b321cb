#include "check/op_roles.h"

namespace edgefit {

bool IsIndexSlot(const Node& node, int64_t opset, size_t i) {
  const std::string& op = node.op_type();
  if (op == "Range") return true;
  if (op == "ConstantOfShape") return i == 0;
  if (op == "OneHot") return i <= 1;
  if (op == "Reshape" || op == "Expand" || op == "Tile" || op == "Squeeze" || op == "Unsqueeze" ||
      op == "Split" || op == "Gather" || op == "GatherElements" || op == "GatherND" ||
      op == "ScatterElements" || op == "ScatterND" || op == "TopK" || op == "CumSum" ||
      op == "Trilu" || op == "Upsample" || op.rfind("Reduce", 0) == 0)
    return i == 1;
  if (op == "Slice" || op == "Resize") return i >= 1;
  if (op == "Pad") return i == 1 || i == 3;
  if (op == "QuantizeLinear" || op == "DequantizeLinear") return i == 1 || i == 2;
  if (op == "NonMaxSuppression") return i >= 2;
  return false;
}

std::optional<WeightedOp> AsWeightedOp(const CheckContext& ctx, const Node& node) {
  if (!CheckContext::IsDefaultDomain(node)) return std::nullopt;
  const std::string& op = node.op_type();
  WeightedOp w;
  const Value* weight = node.input(1);
  int rank = weight ? ctx.Rank(weight) : -1;
  if (const Node* dq = DequantizeProducer(weight); dq && dq->input(0))
    rank = ctx.Rank(dq->input(0));
  if (op == "Conv") {
    w.bias_input = 2;
    w.channel_axis = 0;
  } else if (op == "ConvTranspose") {
    w.bias_input = 2;
    w.channel_axis = 1;
  } else if (op == "Gemm") {
    w.bias_input = 2;
    w.channel_axis = node.GetInt("transB", 0) != 0 ? 0 : 1;
  } else if (op == "MatMul") {
    w.channel_axis = rank >= 1 ? rank - 1 : -1;
  } else {
    return std::nullopt;
  }
  return w;
}

bool IsQuantizeLinear(const Node& node) {
  return CheckContext::IsDefaultDomain(node) && node.op_type() == "QuantizeLinear";
}

bool IsDequantizeLinear(const Node& node) {
  return CheckContext::IsDefaultDomain(node) && node.op_type() == "DequantizeLinear";
}

const Node* DequantizeProducer(const Value* value) {
  if (!value || !value->producer() || !IsDequantizeLinear(*value->producer())) return nullptr;
  return value->producer();
}

bool IsQdqModel(const CheckContext& ctx) {
  for (const auto& n : ctx.graph().nodes())
    if (IsQuantizeLinear(*n) || IsDequantizeLinear(*n)) return true;
  return false;
}

bool IsFloatType(DataType t) {
  return t == DataType::kFloat || t == DataType::kFloat16 || t == DataType::kBfloat16 ||
         t == DataType::kDouble;
}

bool QdqRulesApply(const CheckContext& ctx) {
  return ctx.profile().quantization.format.value == QuantFormat::kQdq && IsQdqModel(ctx);
}

std::vector<QuantizedWeight> QuantizedWeights(const CheckContext& ctx) {
  std::vector<QuantizedWeight> result;
  for (const auto& n : ctx.graph().nodes()) {
    auto roles = AsWeightedOp(ctx, *n);
    if (!roles) continue;
    const Node* dq = DequantizeProducer(n->input(static_cast<size_t>(roles->weight_input)));
    if (!dq || !dq->input(0) || !ctx.IsLiteralConstant(dq->input(0))) continue;
    result.push_back({n.get(), *roles, dq, dq->input(0)});
  }
  return result;
}

}  // namespace edgefit
