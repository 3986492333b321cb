// Scales and zero points, and the quantization of weights and biases (r = s * (q - z)).
#include "quant/quant_params.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>
#include <type_traits>

namespace edgefit {

int32_t QuantMin(DataType dtype) { return dtype == DataType::kInt8 ? -128 : 0; }
int32_t QuantMax(DataType dtype) {
  return dtype == DataType::kInt8 ? 127 : dtype == DataType::kUint8 ? 255 : 0;
}

namespace {

bool Is8Bit(DataType dtype) { return dtype == DataType::kInt8 || dtype == DataType::kUint8; }

double Sanitize(float v) {
  if (std::isnan(v)) return 0.0;
  return std::clamp(static_cast<double>(v), -static_cast<double>(FLT_MAX),
                    static_cast<double>(FLT_MAX));
}

// The zero point of a symmetric range: the middle of the type's levels.
int32_t SymmetricZeroPoint(DataType dtype) { return dtype == DataType::kUint8 ? 128 : 0; }

}  // namespace

QuantParams ParamsForRange(FloatRange range, DataType dtype, bool symmetric) {
  double lo = std::min(Sanitize(range.min), 0.0);
  double hi = std::max(Sanitize(range.max), 0.0);
  const int32_t qmin = QuantMin(dtype), qmax = QuantMax(dtype);
  QuantParams p;
  if (symmetric) {
    // [-t, t] onto [-127, 127] (int8) or [1, 255] (uint8): 254 steps, zero in the middle.
    // ONNX Runtime divides by 127.5 for uint8 (255 steps), which saturates +t to 255 + 0.5.
    const double t = std::max(-lo, hi);
    const double scale = t / 127.0;
    if (!(scale >= FLT_MIN)) return {1.0f, SymmetricZeroPoint(dtype)};
    p.scale = static_cast<float>(scale);
    p.zero_point = SymmetricZeroPoint(dtype);
    return p;
  }
  const double scale = (hi - lo) / (qmax - qmin);
  if (!(scale >= FLT_MIN)) return {1.0f, std::clamp(0, qmin, qmax)};
  p.scale = static_cast<float>(scale);
  // The integer that represents 0.0; lo <= 0 <= hi keeps it inside [qmin, qmax] up to rounding.
  const double zp = std::nearbyint(qmin - lo / static_cast<double>(p.scale));
  p.zero_point = static_cast<int32_t>(std::clamp<double>(zp, qmin, qmax));
  return p;
}

int32_t QuantizeValue(float value, const QuantParams& params, DataType dtype) {
  // Float division and rint (round half to even in the default rounding mode), as the
  // QuantizeLinear kernels of ONNX Runtime and of our executor compute it.
  const float q = std::nearbyint(value / params.scale) + static_cast<float>(params.zero_point);
  if (std::isnan(q)) return params.zero_point;
  return static_cast<int32_t>(
      std::clamp(q, static_cast<float>(QuantMin(dtype)), static_cast<float>(QuantMax(dtype))));
}

namespace {

// A tensor viewed as [outer, channels, inner] around `axis` (axis -1: one channel).
struct ChannelLayout {
  int64_t outer = 1, channels = 1, inner = 1;
};

StatusOr<ChannelLayout> Layout(const Shape& shape, int axis) {
  ChannelLayout l;
  if (axis == -1) {
    l.inner = NumElements(shape);
    return l;
  }
  if (axis < 0 || static_cast<size_t>(axis) >= shape.size()) {
    return InvalidArgument("quantization axis " + std::to_string(axis) + " outside [-1, " +
                           std::to_string(shape.size()) + ") for shape " + ShapeToString(shape));
  }
  for (int i = 0; i < axis; ++i) l.outer *= shape[i];
  l.channels = shape[axis];
  for (size_t i = axis + 1; i < shape.size(); ++i) l.inner *= shape[i];
  return l;
}

// fn(channel, flat index of the run's first element) for each run of `inner` consecutive
// elements of one channel, in memory order.
template <typename Fn>
void ForEachRun(const ChannelLayout& l, Fn&& fn) {
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t c = 0; c < l.channels; ++c) fn(c, (o * l.channels + c) * l.inner);
}

int64_t FirstNonFinite(const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return i;
  return -1;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EDGEFIT_QUANT_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EDGEFIT_QUANT_CLONES
#endif

// q[i] = QuantizeValue(x[i], {scale, zero_point}) for a run of n values, written so that it
// vectorizes (the division, rint, the NaN test and the clamp are all lane-wise); non-finite
// inputs are the caller's to report.
template <typename T>
EDGEFIT_QUANT_CLONES void QuantizeRun(const float* __restrict x, int64_t n, float scale,
                                      int32_t zero_point, float qmin, float qmax, T* __restrict q) {
  const float zp = static_cast<float>(zero_point);
  for (int64_t i = 0; i < n; ++i) {
    float v = std::nearbyint(x[i] / scale) + zp;
    v = v != v ? zp : v;  // NaN -> the zero point
    v = v < qmin ? qmin : (v > qmax ? qmax : v);
    q[i] = static_cast<T>(static_cast<int32_t>(v));
  }
}

Status CheckDtype(DataType dtype) {
  if (!Is8Bit(dtype)) {
    return Unsupported(std::string("quantized type ") + DataTypeName(dtype) +
                       " (expected int8 or uint8)");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<WeightParams> ChooseWeightParams(const Tensor& weight, DataType dtype, bool symmetric,
                                          int axis) {
  RETURN_IF_ERROR(CheckDtype(dtype));
  if (weight.dtype() != DataType::kFloat) {
    return Unsupported(std::string("weight of type ") + DataTypeName(weight.dtype()) +
                       " (expected float32)");
  }
  ASSIGN_OR_RETURN(ChannelLayout layout, Layout(weight.shape(), axis));
  std::vector<float> lo(layout.channels, 0.0f), hi(layout.channels, 0.0f);
  const float* w = weight.data<float>();
  int64_t bad = -1;
  ForEachRun(layout, [&](int64_t c, int64_t begin) {
    const FiniteScan scan = ScanFinite(w + begin, layout.inner);
    if (scan.non_finite > 0 && bad < 0) bad = begin + FirstNonFinite(w + begin, layout.inner);
    if (scan.non_finite < layout.inner) {
      lo[c] = std::min(lo[c], scan.finite.min);
      hi[c] = std::max(hi[c], scan.finite.max);
    }
  });
  if (bad >= 0) {
    return InvalidArgument("weight element " + std::to_string(bad) + " is " +
                           std::to_string(w[bad]) + " (NaN/Inf cannot be quantized)");
  }
  WeightParams params;
  params.axis = axis;
  for (int64_t c = 0; c < layout.channels; ++c) {
    const QuantParams p = ParamsForRange({lo[c], hi[c]}, dtype, symmetric);
    params.scales.push_back(p.scale);
    params.zero_points.push_back(p.zero_point);
  }
  return params;
}

namespace {

Status CheckParams(const WeightParams& params, int64_t channels, DataType dtype) {
  if (params.scales.size() != static_cast<size_t>(channels) ||
      params.zero_points.size() != params.scales.size()) {
    return InvalidArgument("quantization parameters: " + std::to_string(params.scales.size()) +
                           " scales and " + std::to_string(params.zero_points.size()) +
                           " zero points for " + std::to_string(channels) + " channels");
  }
  for (size_t c = 0; c < params.scales.size(); ++c) {
    if (!(params.scales[c] > 0.0f) || !std::isfinite(params.scales[c])) {
      return InvalidArgument("quantization scale " + std::to_string(params.scales[c]) +
                             " of channel " + std::to_string(c) + " (must be positive, finite)");
    }
    if (Is8Bit(dtype) &&
        (params.zero_points[c] < QuantMin(dtype) || params.zero_points[c] > QuantMax(dtype))) {
      return InvalidArgument("zero point " + std::to_string(params.zero_points[c]) +
                             " of channel " + std::to_string(c) + " outside " +
                             DataTypeName(dtype));
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<Tensor> QuantizeTensor(const Tensor& value, const WeightParams& params, DataType dtype) {
  RETURN_IF_ERROR(CheckDtype(dtype));
  if (value.dtype() != DataType::kFloat) {
    return Unsupported(std::string("quantizing a tensor of type ") + DataTypeName(value.dtype()) +
                       " (expected float32)");
  }
  ASSIGN_OR_RETURN(ChannelLayout layout, Layout(value.shape(), params.axis));
  RETURN_IF_ERROR(CheckParams(params, layout.channels, dtype));
  Tensor out(dtype, value.shape());
  const float* x = value.data<float>();
  int64_t bad = -1;
  const float qmin = static_cast<float>(QuantMin(dtype)),
              qmax = static_cast<float>(QuantMax(dtype));
  auto run = [&](auto* q) {
    ForEachRun(layout, [&](int64_t c, int64_t begin) {
      QuantizeRun(x + begin, layout.inner, params.scales[c], params.zero_points[c], qmin, qmax,
                  q + begin);
      if (bad < 0 && ScanFinite(x + begin, layout.inner).non_finite > 0)
        bad = begin + FirstNonFinite(x + begin, layout.inner);
    });
  };
  if (dtype == DataType::kInt8) {
    run(out.data<int8_t>());
  } else {
    run(out.data<uint8_t>());
  }
  if (bad >= 0) {
    return InvalidArgument("element " + std::to_string(bad) + " is " + std::to_string(x[bad]) +
                           " (NaN/Inf cannot be quantized)");
  }
  return out;
}

float BiasScale(float input_scale, float weight_scale) { return input_scale * weight_scale; }

namespace {

// Bias element c goes with scale index ScaleIndex(c).
Status CheckBias(const Tensor& bias, float input_scale, const WeightParams& params) {
  if (bias.dtype() != DataType::kFloat) {
    return Unsupported(std::string("bias of type ") + DataTypeName(bias.dtype()) +
                       " (expected float32)");
  }
  if (!(input_scale > 0.0f) || !std::isfinite(input_scale)) {
    return InvalidArgument("input scale " + std::to_string(input_scale) +
                           " (must be positive, finite)");
  }
  if (params.scales.size() != 1 && params.scales.size() != static_cast<size_t>(bias.numel())) {
    return InvalidArgument("bias has " + std::to_string(bias.numel()) + " elements for " +
                           std::to_string(params.scales.size()) + " weight scales");
  }
  return Status::Ok();
}

size_t ScaleIndex(const WeightParams& params, int64_t c) {
  return params.scales.size() == 1 ? 0 : static_cast<size_t>(c);
}

// Quotient bias / bias_scale as QuantizeBias computes it.
double BiasQuotient(float bias, float input_scale, float weight_scale) {
  return static_cast<double>(bias) / static_cast<double>(BiasScale(input_scale, weight_scale));
}

// The smallest float scale >= `scale` at which |bias| quantizes within kBiasLimit and the bias
// scale (a float32 product) stays a normal number.
bool BiasFits(float bias, float input_scale, float scale) {
  const float bias_scale = BiasScale(input_scale, scale);
  return bias_scale >= FLT_MIN && std::isfinite(bias_scale) &&
         std::fabs(BiasQuotient(bias, input_scale, scale)) <= static_cast<double>(kBiasLimit);
}

float ScaleForBias(float bias, float input_scale, float scale) {
  if (BiasFits(bias, input_scale, scale)) return scale;
  const double needed = std::max(
      std::fabs(static_cast<double>(bias)) / (static_cast<double>(input_scale) * kBiasLimit),
      static_cast<double>(FLT_MIN) / input_scale);
  float s = std::max(scale, static_cast<float>(std::min(needed, static_cast<double>(FLT_MAX))));
  // float rounding of `needed` and of the product: step up (a few ulps at most) until it fits
  for (int i = 0; i < 64 && !BiasFits(bias, input_scale, s) && s < FLT_MAX; ++i) {
    s = std::nextafter(s, FLT_MAX);
  }
  return s;
}

}  // namespace

int EnlargeScalesForBias(const Tensor& bias, float input_scale, WeightParams* params) {
  if (!params || !CheckBias(bias, input_scale, *params).ok()) return 0;
  const float* b = bias.data<float>();
  std::vector<float> scales = params->scales;
  for (int64_t c = 0; c < bias.numel(); ++c) {
    if (!std::isfinite(b[c])) continue;  // QuantizeBias reports it
    const size_t k = ScaleIndex(*params, c);
    if (!(scales[k] > 0.0f)) continue;
    scales[k] = ScaleForBias(b[c], input_scale, scales[k]);
  }
  int changed = 0;
  for (size_t k = 0; k < scales.size(); ++k) {
    if (scales[k] != params->scales[k]) ++changed;
  }
  params->scales = std::move(scales);
  return changed;
}

StatusOr<Tensor> QuantizeBias(const Tensor& bias, float input_scale,
                              const WeightParams& weight_params) {
  RETURN_IF_ERROR(CheckBias(bias, input_scale, weight_params));
  Tensor out(DataType::kInt32, bias.shape());
  const float* b = bias.data<float>();
  int32_t* q = out.data<int32_t>();
  for (int64_t c = 0; c < bias.numel(); ++c) {
    const float ws = weight_params.scales[ScaleIndex(weight_params, c)];
    if (!(ws > 0.0f) || !std::isfinite(ws)) {
      return InvalidArgument("weight scale " + std::to_string(ws) + " for bias element " +
                             std::to_string(c) + " (must be positive, finite)");
    }
    if (!std::isfinite(b[c])) {
      return InvalidArgument("bias element " + std::to_string(c) + " is " + std::to_string(b[c]) +
                             " (NaN/Inf cannot be quantized)");
    }
    const float bias_scale = BiasScale(input_scale, ws);
    if (!(bias_scale >= FLT_MIN) || !std::isfinite(bias_scale)) {
      return InvalidArgument("bias scale " + std::to_string(input_scale) + " * " +
                             std::to_string(ws) + " for bias element " + std::to_string(c) +
                             " is not a normal float; call EnlargeScalesForBias first");
    }
    const double v = std::nearbyint(BiasQuotient(b[c], input_scale, ws));
    if (!(std::fabs(v) <= 2147483647.0)) {
      return InvalidArgument("bias element " + std::to_string(c) + " (" + std::to_string(b[c]) +
                             ") overflows int32 at scale " +
                             std::to_string(BiasScale(input_scale, ws)) +
                             "; call EnlargeScalesForBias before quantizing the weight");
    }
    q[c] = static_cast<int32_t>(v);
  }
  return out;
}

}  // namespace edgefit
