// Quantization parameters (scale, zero point) and the quantization of weights and biases.
//
// Convention (ONNX QuantizeLinear/DequantizeLinear): real = scale * (q - zero_point);
// q = saturate(round_half_to_even(real / scale) + zero_point).
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

// Parameters for an int8 or uint8 tensor covering `range` (first widened to contain 0).
// Symmetric: zero point 0 (int8) or 128 (uint8) and scale = max(|min|, |max|) / 127.
// Asymmetric: scale = (max - min) / 255, zero point = the integer that represents 0.0 exactly.
// A degenerate range (all zero) gets a tiny positive scale, never 0.
QuantParams ParamsForRange(FloatRange range, DataType dtype, bool symmetric);

// Per-channel (axis >= 0) or per-tensor (axis = -1) parameters for a float weight tensor.
struct WeightParams {
  int axis = -1;
  std::vector<float> scales;        // one per channel, or one
  std::vector<int32_t> zero_points;  // same length
};
StatusOr<WeightParams> ChooseWeightParams(const Tensor& weight, DataType dtype, bool symmetric,
                                          int axis);

// Quantizes a float tensor with the given parameters (per channel along params.axis).
StatusOr<Tensor> QuantizeTensor(const Tensor& value, const WeightParams& params, DataType dtype);

// The bias of Conv/Gemm as int32 with scale input_scale * weight_scale[c] and zero point 0.
// Before quantizing the weight, call EnlargeScalesForBias: where a bias value would not fit in
// int32 at that scale, the channel's weight scale is enlarged (never the bias saturated). Returns
// the number of channels changed.
int EnlargeScalesForBias(const Tensor& bias, float input_scale, WeightParams* weight_params);
StatusOr<Tensor> QuantizeBias(const Tensor& bias, float input_scale,
                              const WeightParams& weight_params);

}  // namespace edgefit
