// Quantization parameters (scale, zero point) and the quantization of weights and biases.
//
// Convention (ONNX QuantizeLinear/DequantizeLinear): real = scale * (q - zero_point);
// q = saturate(round_half_to_even(real / scale) + zero_point).
// docs/quantize.md ("Quantization parameters") explains the choices against ONNX Runtime's.
#pragma once

#include <cstdint>
#include <vector>

#include "edgefit/status.h"
#include "ir/tensor.h"
#include "quant/observer.h"

namespace edgefit {

struct QuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Integer range of an 8-bit type: [-128, 127] for kInt8, [0, 255] for kUint8 (else [0, 0]).
int32_t QuantMin(DataType dtype);
int32_t QuantMax(DataType dtype);

// Parameters for an int8 or uint8 tensor covering `range` (first widened to contain 0).
// Symmetric: zero point 0 (int8) or 128 (uint8) and scale = max(|min|, |max|) / 127, so that
// [-t, t] maps onto [-127, 127] (int8; ONNX Runtime's restricted symmetric range) or [1, 255]
// (uint8) without saturating either end.
// Asymmetric: scale = (max - min) / 255, zero point = round_half_to_even(qmin - min / scale),
// the integer that represents 0.0 exactly (ONNX Runtime's compute_scale_zp).
// A degenerate range (all zero, or a scale below FLT_MIN) gets scale 1 and the zero point of
// 0.0, as in ONNX Runtime: never scale 0 (DequantizeLinear and bias scales need a normal
// number). NaN ends count as 0, infinite ends as +-FLT_MAX.
QuantParams ParamsForRange(FloatRange range, DataType dtype, bool symmetric);

// One value, as QuantizeLinear computes it (float division, round half to even, saturate).
int32_t QuantizeValue(float value, const QuantParams& params, DataType dtype);

// Per-channel (axis >= 0) or per-tensor (axis = -1) parameters for a float weight tensor.
struct WeightParams {
  int axis = -1;
  std::vector<float> scales;         // one per channel, or one
  std::vector<int32_t> zero_points;  // same length
};
// The range of each channel (slices along `axis`) or of the whole tensor goes through
// ParamsForRange: symmetric int8 weights get zero points 0. Fails on a non-float weight, a
// dtype other than int8/uint8, an axis outside [-1, rank), or a NaN/Inf weight.
StatusOr<WeightParams> ChooseWeightParams(const Tensor& weight, DataType dtype, bool symmetric,
                                          int axis);

// Quantizes a float tensor with the given parameters (per channel along params.axis); the
// result has `dtype` (int8 or uint8) and the value's shape.
StatusOr<Tensor> QuantizeTensor(const Tensor& value, const WeightParams& params, DataType dtype);

// The bias of Conv/Gemm as int32 with scale input_scale * weight_scale[c] and zero point 0.
// Bias element c goes with weight channel c (per-channel) or with the single scale.
// Before quantizing the weight, call EnlargeScalesForBias: where a bias value would not fit in
// int32 at that scale (with a margin, kBiasLimit), the channel's weight scale is enlarged (never
// the bias saturated); per-tensor weights get one scale large enough for every bias value.
// Zero points are kept, so 0 stays exact. Returns the number of scales changed (0 when the
// arguments are invalid: QuantizeBias reports those).
int EnlargeScalesForBias(const Tensor& bias, float input_scale, WeightParams* weight_params);
// Fails (naming the element) on a non-float bias, a count that does not match the channels,
// a non-positive or non-finite scale, a NaN/Inf bias, or a value beyond kBiasLimit.
StatusOr<Tensor> QuantizeBias(const Tensor& bias, float input_scale,
                              const WeightParams& weight_params);

// The bias scale as written to the model: the float32 product (what a runtime multiplies by).
float BiasScale(float input_scale, float weight_scale);
// Largest |quantized bias| EnlargeScalesForBias aims for: int32 max minus a margin of 2^16,
// which covers the float32 rounding of the bias scale (relative 2^-24, about 2^7 at 2^31) and
// of the quotient with room to spare.
constexpr int64_t kBiasLimit = 2147483647LL - 65536;

}  // namespace edgefit
