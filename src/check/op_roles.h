// What an op's inputs are for, as far as the dtype and quantization rules care: index/shape
// operands (int64 tensors exempt from dtype rules), and the weight/bias of Conv-like ops.
#pragma once

#include <optional>

#include "check/context.h"

namespace edgefit {

// True when input `i` of `node` holds shapes, axes, indices, sizes or quantization parameters
// rather than tensor data.
bool IsIndexSlot(const Node& node, int64_t opset, size_t i);

// A Conv/ConvTranspose/Gemm/MatMul with its weight (and bias) inputs.
struct WeightedOp {
  int weight_input = 1;
  int bias_input = -1;    // -1: the op has no bias input
  int channel_axis = -1;  // output-channel axis of the weight; -1 if the weight rank is unknown
};
std::optional<WeightedOp> AsWeightedOp(const CheckContext& ctx, const Node& node);

bool IsQuantizeLinear(const Node& node);
bool IsDequantizeLinear(const Node& node);
// The DequantizeLinear producing `value`, or nullptr.
const Node* DequantizeProducer(const Value* value);
// The model has QuantizeLinear/DequantizeLinear nodes (a QDQ model).
bool IsQdqModel(const CheckContext& ctx);
bool IsFloatType(DataType t);

// The qdq.* rules apply: the profile's format is QDQ and the model is a QDQ model.
bool QdqRulesApply(const CheckContext& ctx);

// A Conv/ConvTranspose/Gemm/MatMul whose weight is DequantizeLinear(constant integer tensor).
struct QuantizedWeight {
  const Node* op = nullptr;
  WeightedOp roles;
  const Node* dequantize = nullptr;
  const Value* quantized = nullptr;  // the integer weight (DequantizeLinear input 0)
};
std::vector<QuantizedWeight> QuantizedWeights(const CheckContext& ctx);

}  // namespace edgefit
