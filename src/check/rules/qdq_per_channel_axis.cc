// qdq.per-channel-axis: weight scales follow the profile's granularity. Per channel means one
// scale per output channel on the "output_channel" axis: Conv W axis 0, ConvTranspose W axis 1,
// Gemm B axis 0 if transB else 1, MatMul B's last axis. Per-tensor weight scales where the
// profile wants per channel are an info when it accepts them (per_tensor_weights), else a
// violation.
//
//   Conv W [16,3,3,3], DequantizeLinear axis=1 with 3 scales -> violation (expected axis 0)
#include "check/op_roles.h"
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  if (!QdqRulesApply(ctx)) return;
  const QuantScheme& q = ctx.profile().quantization;
  const auto& scheme = q.weights;
  for (const QuantizedWeight& w : QuantizedWeights(ctx)) {
    const Value* scale = w.dequantize->input(1);
    if (!scale) continue;
    auto scale_shape = ctx.StaticShape(scale);
    if (!scale_shape) continue;
    int64_t count = NumElements(*scale_shape);
    const Shape& wshape = ctx.ConstantTensor(w.quantized)->shape();
    int rank = static_cast<int>(wshape.size());
    int64_t axis = w.dequantize->GetInt("axis", 1);
    if (axis < 0) axis += rank;
    std::string weight = "weight '" + w.quantized->name() + "' " + ShapeToString(wshape);
    std::string text;
    Severity severity = Severity::kViolation;
    const Provenance* fact = &scheme;
    if (scheme.value.granularity == QuantGranularity::kPerTensor) {
      if (count <= 1) continue;
      text = weight + " has " + std::to_string(count) + " scales (per channel); " + ctx.target() +
             " takes per-tensor weight scales";
    } else if (count <= 1) {
      text = weight + " has one scale (per tensor); " + ctx.target() +
             " quantizes weights per output channel";
      if (q.per_tensor_weights_allowed.value) {
        severity = Severity::kInfo;
        text += ", and accepts per-tensor scales (less accurate)";
        fact = &q.per_tensor_weights_allowed;
      }
    } else {
      int expected = w.roles.channel_axis;
      if (expected < 0 || expected >= rank) continue;
      int64_t channels = wshape[static_cast<size_t>(expected)];
      if (axis == expected && count == channels) continue;
      text = weight + " has " + std::to_string(count) + " scales on axis " + std::to_string(axis) +
             "; " + ctx.target() + " wants one per output channel: " + std::to_string(channels) +
             " on axis " + std::to_string(expected);
    }
    Finding f = NodeFinding(ctx, "qdq.per-channel-axis", severity, *w.op, text);
    f.values.push_back(DescribeValue(ctx, w.quantized, "weight"));
    f.values.push_back(DescribeValue(ctx, scale, "scale"));
    ApplyFact(&f, *fact);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kQdqPerChannelAxisRule = {"qdq.per-channel-axis",
                                     "weight scales per output channel, on the right axis", &Run};

}  // namespace edgefit
