// Kernel family: quantization. QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
// QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger.
//
// Convention used throughout: a quantized value q with scale s and zero point z stands for the
// real value  r = s * (q - z).  Quantizing is the inverse: q = saturate(round(r / s) + z), with the
// division done in float32, rounding half to even and saturation to the integer type's range.
// The integer ops accumulate (q_a - z_a) * (q_b - z_b) in int32 (no BLAS for integers), and the
// QLinear ops requantize the accumulator: since r_y = s_a * s_b * acc and q_y = r_y / s_y + z_y,
// q_y = saturate(round(acc * (s_a * s_b / s_y)) + z_y), the multiplier computed in float32 and
// the product in double (as ONNX's reference does).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "runtime/kernels/broadcast.h"
#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

// ------------------------------------------------------------------------------- helpers

// Elements below which elementwise kernels do not bother splitting across threads.
constexpr int64_t kParallelElements = 1 << 16;

struct IntRange {
  int32_t lo = 0, hi = 0;
};

// The saturation range of an integer quantized type; false for other types.
bool RangeOf(DataType t, IntRange* r) {
  switch (t) {
    case DataType::kUint8: *r = {0, 255}; return true;
    case DataType::kInt8: *r = {-128, 127}; return true;
    case DataType::kUint16: *r = {0, 65535}; return true;
    case DataType::kInt16: *r = {-32768, 32767}; return true;
    default: return false;
  }
}

bool Is8Bit(DataType t) { return t == DataType::kUint8 || t == DataType::kInt8; }
bool IsFloatScale(DataType t) {
  return t == DataType::kFloat || t == DataType::kFloat16 || t == DataType::kBfloat16;
}

// The declared element type of input i (kUndefined when omitted or unknown).
DataType DeclaredType(const KernelInit& init, size_t i) {
  return init.has_input(i) ? init.input_types[i]->elem_type : DataType::kUndefined;
}

std::string TypeName(DataType t) { return DataTypeName(t); }

// Round to nearest, ties to even, in the default floating-point rounding mode: adding and
// subtracting 1.5 * 2^23 leaves no fraction bits. Exact for |v| <= 2^22 (callers saturate
// first). Unlike nearbyintf (a libm call without SSE4.1) this vectorizes.
inline float RoundHalfEven(float v) {
  constexpr float kMagic = 12582912.0f;
  return (v + kMagic) - kMagic;
}
// The same for doubles, exact for |v| <= 2^51.
inline double RoundHalfEven(double v) {
  constexpr double kMagic = 6755399441055744.0;
  return (v + kMagic) - kMagic;
}

// Saturates v to [lo, hi] (NaN goes to lo) and rounds half to even.
inline int32_t SaturateRound(double v, double lo, double hi) {
  v = v > lo ? v : lo;
  v = v < hi ? v : hi;
  return static_cast<int32_t>(RoundHalfEven(v));
}

// Scale values as float (float32, float16 or bfloat16 tensors).
std::vector<float> FloatValues(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    switch (t.dtype()) {
      case DataType::kFloat: v[i] = t.data<float>()[i]; break;
      case DataType::kFloat16: v[i] = HalfToFloat(t.data<uint16_t>()[i]); break;
      case DataType::kBfloat16: v[i] = Bfloat16ToFloat(t.data<uint16_t>()[i]); break;
      case DataType::kDouble: v[i] = static_cast<float>(t.data<double>()[i]); break;
      default: v[i] = 0; break;
    }
  }
  return v;
}

// Integer values (zero points) as int32.
std::vector<int32_t> IntValues(const Tensor& t) {
  std::vector<int32_t> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    switch (t.dtype()) {
      case DataType::kUint8: v[i] = t.data<uint8_t>()[i]; break;
      case DataType::kInt8: v[i] = t.data<int8_t>()[i]; break;
      case DataType::kUint16: v[i] = t.data<uint16_t>()[i]; break;
      case DataType::kInt16: v[i] = t.data<int16_t>()[i]; break;
      case DataType::kInt32: v[i] = t.data<int32_t>()[i]; break;
      default: v[i] = 0; break;
    }
  }
  return v;
}

// Checks that input i, when its type is declared, is one of `allowed`.
Status CheckType(const KernelInit& init, size_t i, const char* name,
                 const std::vector<DataType>& allowed) {
  DataType t = DeclaredType(init, i);
  if (t == DataType::kUndefined) return Status::Ok();
  if (std::find(allowed.begin(), allowed.end(), t) != allowed.end()) return Status::Ok();
  return init.Unsupported(std::string("input '") + name + "' of type " + TypeName(t));
}

// Checks that two inputs (a value and its zero point) have the same declared type.
Status CheckSameType(const KernelInit& init, size_t a, size_t b, const char* what) {
  DataType ta = DeclaredType(init, a), tb = DeclaredType(init, b);
  if (ta != DataType::kUndefined && tb != DataType::kUndefined && ta != tb)
    return init.Invalid(std::string(what) + ": " + TypeName(ta) + " vs " + TypeName(tb));
  return Status::Ok();
}

// ------------------------------------------------------------- Quantize/Dequantize layout

// How scale/zero-point values map onto the elements of x, seen as rows of `row_len`
// contiguous elements. Either one parameter per row (vector = false) or one parameter per
// element of the row (vector = true), starting at ParamOffset(row).
struct ParamMap {
  enum class Kind { kTensor, kAxis, kAxisLast, kBlocked };
  Kind kind = Kind::kTensor;
  int64_t row_len = 1;
  int64_t dim = 1;         // size of the quantization axis
  int64_t blocks = 1;      // kBlocked: scale's size along the axis
  int64_t block_size = 1;  // kBlocked
  bool vector() const { return kind == Kind::kAxisLast || kind == Kind::kBlocked; }
  int64_t ParamOffset(int64_t row) const {
    switch (kind) {
      case Kind::kTensor: return 0;
      case Kind::kAxis: return row % dim;
      case Kind::kAxisLast: return 0;
      case Kind::kBlocked: {
        int64_t o = row / dim, d = row % dim;
        return (o * blocks + d / block_size) * row_len;
      }
    }
    return 0;
  }
};

// Works out the granularity from the scale's shape: per-tensor (one value), per-axis (1-D of
// x's size along `axis`), or blocked (block_size > 0: x's rank, ceil(D / block_size) along
// `axis`).
StatusOr<ParamMap> ResolveParams(const KernelContext& ctx, const Shape& x, const Tensor& scale,
                                 const Tensor* zero_point, int64_t axis, int64_t block_size) {
  if (zero_point && zero_point->shape() != scale.shape() &&
      !(zero_point->numel() == 1 && scale.numel() == 1))
    return ctx.Error("zero point shape " + ShapeToString(zero_point->shape()) +
                     " differs from scale shape " + ShapeToString(scale.shape()));
  ParamMap m;
  int64_t numel = NumElements(x);
  const int64_t rank = static_cast<int64_t>(x.size());
  if (block_size <= 0 && scale.numel() == 1 && scale.rank() <= 1) {
    m.row_len = std::max<int64_t>(numel, 1);
    return m;
  }
  if (axis < -rank || axis >= rank)
    return ctx.Error("axis " + std::to_string(axis) + " out of range for input of shape " +
                     ShapeToString(x));
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x[d];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= x[d];
  m.dim = x[axis];
  if (block_size > 0) {
    bool ok = static_cast<int64_t>(scale.rank()) == rank;
    int64_t blocks = (m.dim + block_size - 1) / block_size;
    for (int64_t d = 0; ok && d < rank; ++d) ok = scale.dim(d) == (d == axis ? blocks : x[d]);
    if (!ok)
      return ctx.Error("blocked quantization with block_size " + std::to_string(block_size) +
                       " along axis " + std::to_string(axis) + " of " + ShapeToString(x) +
                       " needs a scale of shape with " + std::to_string(blocks) +
                       " along that axis, got " + ShapeToString(scale.shape()));
    m.kind = ParamMap::Kind::kBlocked;
    m.blocks = blocks;
    m.block_size = block_size;
    m.row_len = inner;
    return m;
  }
  if (scale.rank() != 1 || scale.dim(0) != m.dim)
    return ctx.Error("per-axis scale of shape " + ShapeToString(scale.shape()) +
                     " does not match input dim " + std::to_string(axis) + " of " +
                     ShapeToString(x));
  if (inner == 1) {
    m.kind = ParamMap::Kind::kAxisLast;
    m.row_len = m.dim;
  } else {
    m.kind = ParamMap::Kind::kAxis;
    m.row_len = inner;
  }
  return m;
}

// Calls fn(offset, count, param_offset) over [0, numel) in spans that lie within one row,
// splitting the work across threads when it is large.
template <typename Fn>
void ForEachSpan(KernelContext& ctx, const ParamMap& m, int64_t numel, Fn&& fn) {
  if (numel <= 0) return;
  auto work = [&](int64_t begin, int64_t end) {
    int64_t row = begin / m.row_len, i = begin % m.row_len;
    while (begin < end) {
      int64_t n = std::min(m.row_len - i, end - begin);
      fn(begin, n, m.ParamOffset(row) + (m.vector() ? i : 0));
      begin += n;
      ++row;
      i = 0;
    }
  };
  if (numel >= kParallelElements && ctx.num_threads() > 1)
    ctx.ParallelFor(numel, work);
  else
    work(0, numel);
}

// ------------------------------------------------------------------------ QuantizeLinear

// y[i] = saturate(round(x[i] / s) + z) for float x; the hot loop of every QDQ edge.
template <typename Q, bool kVector>
void QuantizeFloatSpan(const float* x, Q* y, int64_t n, const float* s, const int32_t* z,
                       IntRange r) {
  if constexpr (!kVector) {
    const float scale = s[0];
    const int32_t zp = z[0];
    const float lo = static_cast<float>(r.lo - zp), hi = static_cast<float>(r.hi - zp);
    for (int64_t i = 0; i < n; ++i) {
      float v = x[i] / scale;
      v = v > lo ? v : lo;
      v = v < hi ? v : hi;
      y[i] = static_cast<Q>(static_cast<int32_t>(RoundHalfEven(v)) + zp);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float lo = static_cast<float>(r.lo - z[i]), hi = static_cast<float>(r.hi - z[i]);
      float v = x[i] / s[i];
      v = v > lo ? v : lo;
      v = v < hi ? v : hi;
      y[i] = static_cast<Q>(static_cast<int32_t>(RoundHalfEven(v)) + z[i]);
    }
  }
}

// The other input types: int32 (divided in double, as NumPy promotes int32 / float32) and
// float16/bfloat16 (divided in float32, the quotient rounded to the input's type as the
// reference computes in that type when the scale shares it).
template <typename Q>
void QuantizeOtherSpan(const Tensor& x, Q* y, int64_t offset, int64_t n, const float* s,
                       const int32_t* z, bool vector, bool half_quotient, IntRange r) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = vector ? i : 0;
    const double lo = r.lo - z[k], hi = r.hi - z[k];
    double v;
    switch (x.dtype()) {
      case DataType::kInt32:
        v = static_cast<double>(x.data<int32_t>()[offset + i]) / static_cast<double>(s[k]);
        break;
      case DataType::kFloat16: {
        float q = HalfToFloat(x.data<uint16_t>()[offset + i]) / s[k];
        v = half_quotient ? HalfToFloat(FloatToHalf(q)) : q;
        break;
      }
      case DataType::kBfloat16: {
        float q = Bfloat16ToFloat(x.data<uint16_t>()[offset + i]) / s[k];
        v = half_quotient ? Bfloat16ToFloat(FloatToBfloat16(q)) : q;
        break;
      }
      default: v = 0; break;
    }
    y[i] = static_cast<Q>(SaturateRound(v, lo, hi) + z[k]);
  }
}

class QuantizeLinearKernel final : public Kernel {
 public:
  static StatusOr<std::unique_ptr<Kernel>> Create(const KernelInit& init) {
    auto k = std::make_unique<QuantizeLinearKernel>();
    const Node& n = init.node;
    k->axis_ = init.opset >= 13 ? n.GetInt("axis", 1) : 1;
    k->block_size_ = init.opset >= 21 ? n.GetInt("block_size", 0) : 0;
    if (k->block_size_ < 0)
      return init.Invalid("block_size must be >= 0, got " + std::to_string(k->block_size_));
    std::vector<DataType> x_types = {DataType::kFloat, DataType::kInt32};
    if (init.opset >= 19) {
      x_types.push_back(DataType::kFloat16);
      x_types.push_back(DataType::kBfloat16);
    }
    RETURN_IF_ERROR(CheckType(init, 0, "x", x_types));
    if (init.opset >= 19) {
      RETURN_IF_ERROR(CheckType(init, 1, "y_scale",
                                {DataType::kFloat, DataType::kFloat16, DataType::kBfloat16}));
    } else {
      RETURN_IF_ERROR(CheckType(init, 1, "y_scale", {DataType::kFloat}));
    }
    // The output type: y_zero_point's, else output_dtype (21+), else uint8.
    DataType out = DataType::kUint8;
    int64_t output_dtype = init.opset >= 21 ? n.GetInt("output_dtype", 0) : 0;
    if (output_dtype != 0) {
      if (!IsKnownDataType(static_cast<int32_t>(output_dtype)))
        return init.Unsupported("output_dtype " + std::to_string(output_dtype));
      out = static_cast<DataType>(output_dtype);
    }
    if (init.has_input(2)) {
      DataType z = DeclaredType(init, 2);
      if (z != DataType::kUndefined) {
        if (output_dtype != 0 && z != out)
          return init.Invalid("output_dtype " + TypeName(out) +
                              " differs from y_zero_point's type " + TypeName(z));
        out = z;
      } else if (output_dtype == 0) {
        out = DataType::kUndefined;  // known only at run time
      }
    }
    if (out != DataType::kUndefined) RETURN_IF_ERROR(CheckOutputType(init, out));
    k->out_type_ = out;
    k->opset_ = init.opset;
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    const Tensor& scale = *ctx.input(1);
    const Tensor* zp = ctx.input(2);
    DataType out = out_type_ != DataType::kUndefined ? out_type_ : zp->dtype();
    IntRange range;
    if (!RangeOf(out, &range) || (!Is8Bit(out) && opset_ < 21))
      return ctx.Error("unsupported output type " + TypeName(out));
    if (zp && zp->dtype() != out)
      return ctx.Error("y_zero_point of type " + TypeName(zp->dtype()) + ", expected " +
                       TypeName(out));
    if (!IsFloatScale(scale.dtype()))
      return ctx.Error("y_scale of type " + TypeName(scale.dtype()));
    if (opset_ < 13 && scale.numel() != 1)
      return ctx.Error("opset " + std::to_string(opset_) +
                       " quantizes per tensor: the scale must have one value, got shape " +
                       ShapeToString(scale.shape()));
    ASSIGN_OR_RETURN(ParamMap map, ResolveParams(ctx, x.shape(), scale, zp, axis_, block_size_));
    std::vector<float> s = FloatValues(scale);
    std::vector<int32_t> z = zp ? IntValues(*zp) : std::vector<int32_t>(s.size(), 0);
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, out, x.shape()));
    switch (out) {
      case DataType::kUint8: return Quantize<uint8_t>(ctx, x, scale, map, s, z, range, y);
      case DataType::kInt8: return Quantize<int8_t>(ctx, x, scale, map, s, z, range, y);
      case DataType::kUint16: return Quantize<uint16_t>(ctx, x, scale, map, s, z, range, y);
      case DataType::kInt16: return Quantize<int16_t>(ctx, x, scale, map, s, z, range, y);
      default: return ctx.Error("unsupported output type " + TypeName(out));
    }
  }

 private:
  static Status CheckOutputType(const KernelInit& init, DataType out) {
    IntRange r;
    if (!RangeOf(out, &r) || (!Is8Bit(out) && init.opset < 21))
      return init.Unsupported("quantizing to " + TypeName(out));
    return Status::Ok();
  }

  template <typename Q>
  Status Quantize(KernelContext& ctx, const Tensor& x, const Tensor& scale, const ParamMap& map,
                  const std::vector<float>& s, const std::vector<int32_t>& z, IntRange range,
                  Tensor* y) {
    Q* out = y->data<Q>();
    if (x.dtype() == DataType::kFloat) {
      const float* in = x.data<float>();
      ForEachSpan(ctx, map, x.numel(), [&](int64_t off, int64_t n, int64_t p) {
        if (map.vector())
          QuantizeFloatSpan<Q, true>(in + off, out + off, n, s.data() + p, z.data() + p, range);
        else
          QuantizeFloatSpan<Q, false>(in + off, out + off, n, s.data() + p, z.data() + p, range);
      });
      return Status::Ok();
    }
    if (x.dtype() != DataType::kInt32 && x.dtype() != DataType::kFloat16 &&
        x.dtype() != DataType::kBfloat16)
      return ctx.Error("x of type " + TypeName(x.dtype()));
    const bool half_quotient = x.dtype() == scale.dtype();
    ForEachSpan(ctx, map, x.numel(), [&](int64_t off, int64_t n, int64_t p) {
      QuantizeOtherSpan<Q>(x, out + off, off, n, s.data() + p, z.data() + p, map.vector(),
                           half_quotient, range);
    });
    return Status::Ok();
  }

  int64_t axis_ = 1;
  int64_t block_size_ = 0;
  int64_t opset_ = 0;
  DataType out_type_ = DataType::kUint8;
};

// ---------------------------------------------------------------------- DequantizeLinear

// y[i] = (x[i] - z) * s, computed in float32.
template <typename Q, bool kVector>
void DequantizeSpan(const Q* x, float* y, int64_t n, const float* s, const int32_t* z) {
  if constexpr (!kVector) {
    const float scale = s[0];
    const float zp = static_cast<float>(z[0]);
    for (int64_t i = 0; i < n; ++i) y[i] = (static_cast<float>(x[i]) - zp) * scale;
  } else {
    for (int64_t i = 0; i < n; ++i)
      y[i] = (static_cast<float>(x[i]) - static_cast<float>(z[i])) * s[i];
  }
}

class DequantizeLinearKernel final : public Kernel {
 public:
  static StatusOr<std::unique_ptr<Kernel>> Create(const KernelInit& init) {
    auto k = std::make_unique<DequantizeLinearKernel>();
    const Node& n = init.node;
    k->axis_ = init.opset >= 13 ? n.GetInt("axis", 1) : 1;
    k->block_size_ = init.opset >= 21 ? n.GetInt("block_size", 0) : 0;
    if (k->block_size_ < 0)
      return init.Invalid("block_size must be >= 0, got " + std::to_string(k->block_size_));
    std::vector<DataType> x_types = {DataType::kUint8, DataType::kInt8, DataType::kInt32};
    if (init.opset >= 21) {
      x_types.push_back(DataType::kUint16);
      x_types.push_back(DataType::kInt16);
    }
    RETURN_IF_ERROR(CheckType(init, 0, "x", x_types));
    RETURN_IF_ERROR(CheckSameType(init, 0, 2, "x and x_zero_point must have the same type"));
    if (init.opset >= 19) {
      RETURN_IF_ERROR(CheckType(init, 1, "x_scale",
                                {DataType::kFloat, DataType::kFloat16, DataType::kBfloat16}));
    } else {
      RETURN_IF_ERROR(CheckType(init, 1, "x_scale", {DataType::kFloat}));
    }
    k->x_types_ = x_types;
    k->opset_ = init.opset;
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    const Tensor& scale = *ctx.input(1);
    const Tensor* zp = ctx.input(2);
    if (std::find(x_types_.begin(), x_types_.end(), x.dtype()) == x_types_.end())
      return ctx.Error("x of type " + TypeName(x.dtype()));
    if (zp && zp->dtype() != x.dtype())
      return ctx.Error("x_zero_point of type " + TypeName(zp->dtype()) + ", expected " +
                       TypeName(x.dtype()));
    if (!IsFloatScale(scale.dtype()))
      return ctx.Error("x_scale of type " + TypeName(scale.dtype()));
    if (opset_ < 13 && scale.numel() != 1)
      return ctx.Error("opset " + std::to_string(opset_) +
                       " quantizes per tensor: the scale must have one value, got shape " +
                       ShapeToString(scale.shape()));
    ASSIGN_OR_RETURN(ParamMap map, ResolveParams(ctx, x.shape(), scale, zp, axis_, block_size_));
    std::vector<float> s = FloatValues(scale);
    std::vector<int32_t> z = zp ? IntValues(*zp) : std::vector<int32_t>(s.size(), 0);
    // The output has the scale's type; float16/bfloat16 results are computed in float32 and
    // rounded once.
    const DataType out_type = scale.dtype();
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, out_type, x.shape()));
    float* out = out_type == DataType::kFloat ? y->data<float>() : nullptr;
    std::vector<float> tmp;
    if (!out) {
      tmp.resize(static_cast<size_t>(x.numel()));
      out = tmp.data();
    }
    switch (x.dtype()) {
      case DataType::kUint8: Dequantize<uint8_t>(ctx, x, map, s, z, out); break;
      case DataType::kInt8: Dequantize<int8_t>(ctx, x, map, s, z, out); break;
      case DataType::kUint16: Dequantize<uint16_t>(ctx, x, map, s, z, out); break;
      case DataType::kInt16: Dequantize<int16_t>(ctx, x, map, s, z, out); break;
      case DataType::kInt32: Dequantize<int32_t>(ctx, x, map, s, z, out); break;
      default: return ctx.Error("x of type " + TypeName(x.dtype()));
    }
    if (out_type == DataType::kFloat16) {
      for (int64_t i = 0; i < x.numel(); ++i) y->data<uint16_t>()[i] = FloatToHalf(tmp[i]);
    } else if (out_type == DataType::kBfloat16) {
      for (int64_t i = 0; i < x.numel(); ++i) y->data<uint16_t>()[i] = FloatToBfloat16(tmp[i]);
    }
    return Status::Ok();
  }

 private:
  template <typename Q>
  static void Dequantize(KernelContext& ctx, const Tensor& x, const ParamMap& map,
                         const std::vector<float>& s, const std::vector<int32_t>& z, float* out) {
    const Q* in = x.data<Q>();
    ForEachSpan(ctx, map, x.numel(), [&](int64_t off, int64_t n, int64_t p) {
      if (map.vector())
        DequantizeSpan<Q, true>(in + off, out + off, n, s.data() + p, z.data() + p);
      else
        DequantizeSpan<Q, false>(in + off, out + off, n, s.data() + p, z.data() + p);
    });
  }

  int64_t axis_ = 1;
  int64_t block_size_ = 0;
  int64_t opset_ = 0;
  std::vector<DataType> x_types_;
};

// ----------------------------------------------------------------- DynamicQuantizeLinear

// uint8 only (the spec's only type): scale = (max(0, max x) - min(0, min x)) / 255, zero point =
// saturate(round(-min / scale)), then y as QuantizeLinear.
Status RunDynamicQuantizeLinear(KernelContext& ctx) {
  const Tensor& x = *ctx.input(0);
  if (x.dtype() != DataType::kFloat) return ctx.Error("x of type " + TypeName(x.dtype()));
  const float* in = x.data<float>();
  float mx = 0.0f, mn = 0.0f;  // the range always includes 0
  for (int64_t i = 0; i < x.numel(); ++i) {
    mx = in[i] > mx ? in[i] : mx;  // NaN is ignored
    mn = in[i] < mn ? in[i] : mn;
  }
  // An all-zero input has no range: scale 1 (as ONNX Runtime; y and the zero point are 0).
  const float scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
  float zp_real = 0.0f - mn / scale;
  zp_real = std::min(255.0f, std::max(0.0f, zp_real));
  const int32_t zp = static_cast<int32_t>(RoundHalfEven(zp_real));
  ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, DataType::kUint8, x.shape()));
  ParamMap map;
  map.row_len = std::max<int64_t>(x.numel(), 1);
  uint8_t* out = y->data<uint8_t>();
  ForEachSpan(ctx, map, x.numel(), [&](int64_t off, int64_t n, int64_t) {
    QuantizeFloatSpan<uint8_t, false>(in + off, out + off, n, &scale, &zp, {0, 255});
  });
  ASSIGN_OR_RETURN(Tensor * ys, ctx.Output(1, DataType::kFloat, {}));
  ys->data<float>()[0] = scale;
  ASSIGN_OR_RETURN(Tensor * yz, ctx.Output(2, DataType::kUint8, {}));
  yz->data<uint8_t>()[0] = static_cast<uint8_t>(zp);
  return Status::Ok();
}

// ------------------------------------------------------------------- integer GEMM core

// c[m, n] = sum_k a[m, k] * b[k, n] for the rows [m0, m1); a, b hold values with their zero
// points already subtracted (fit in int16), c is int32 with row stride ldc.
void IntGemmRows(int64_t m0, int64_t m1, int64_t n, int64_t k, const int16_t* a, int64_t lda,
                 const int16_t* b, int64_t ldb, int32_t* c, int64_t ldc) {
  // Tiles of the output row stay in L1 while the k loop streams b.
  constexpr int64_t kTile = 512;
  // The sums wrap on int32 overflow, as the spec allows (unsigned arithmetic makes it defined;
  // each product fits: |a|, |b| <= 255).
  for (int64_t m = m0; m < m1; ++m) {
    uint32_t* crow = reinterpret_cast<uint32_t*>(c + m * ldc);
    const int16_t* arow = a + m * lda;
    for (int64_t n0 = 0; n0 < n; n0 += kTile) {
      const int64_t n1 = std::min(n, n0 + kTile);
      for (int64_t j = n0; j < n1; ++j) crow[j] = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        const int32_t av = arow[kk];
        if (av == 0) continue;
        const int16_t* brow = b + kk * ldb;
        for (int64_t j = n0; j < n1; ++j)
          crow[j] += static_cast<uint32_t>(av * static_cast<int32_t>(brow[j]));
      }
    }
  }
}

// Runs IntGemmRows over [0, m) split across threads when the work is large.
void IntGemm(KernelContext& ctx, int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda,
             const int16_t* b, int64_t ldb, int32_t* c, int64_t ldc) {
  if (m * n * k >= (1 << 18) && ctx.num_threads() > 1 && m > 1) {
    ctx.ParallelFor(
        m, [&](int64_t m0, int64_t m1) { IntGemmRows(m0, m1, n, k, a, lda, b, ldb, c, ldc); });
  } else {
    IntGemmRows(0, m, n, k, a, lda, b, ldb, c, ldc);
  }
}

// Integer element of a uint8/int8 tensor.
inline int32_t IntAt(const Tensor& t, int64_t i) {
  return t.dtype() == DataType::kUint8 ? static_cast<int32_t>(t.data<uint8_t>()[i])
                                       : static_cast<int32_t>(t.data<int8_t>()[i]);
}

// ---------------------------------------------------------------------------- MatMul ops

// numpy.matmul shapes: 1-D operands are promoted ([K] -> [1, K] for a, [K, 1] for b) and the
// batch dims broadcast.
struct MatMulGeom {
  Shape a_shape, b_shape;  // promoted, rank >= 2
  Shape out;               // final output shape (promoted dims removed)
  int64_t m = 0, k = 0, n = 0;
  int64_t batch = 1;
  std::vector<int64_t> a_mat, b_mat;  // per output batch: matrix index into a and b
  int64_t a_mats = 1, b_mats = 1;
};

StatusOr<MatMulGeom> ResolveMatMul(const KernelContext& ctx, const Shape& a, const Shape& b) {
  if (a.empty() || b.empty()) return ctx.Error("MatMul inputs must not be scalars");
  MatMulGeom g;
  g.a_shape = a.size() == 1 ? Shape{1, a[0]} : a;
  g.b_shape = b.size() == 1 ? Shape{b[0], 1} : b;
  const size_t ra = g.a_shape.size(), rb = g.b_shape.size();
  g.m = g.a_shape[ra - 2];
  g.k = g.a_shape[ra - 1];
  g.n = g.b_shape[rb - 1];
  if (g.b_shape[rb - 2] != g.k)
    return ctx.Error("shapes " + ShapeToString(a) + " and " + ShapeToString(b) +
                     " cannot be multiplied");
  Shape ab(g.a_shape.begin(), g.a_shape.end() - 2), bb(g.b_shape.begin(), g.b_shape.end() - 2);
  auto batch = BroadcastShapes({ab, bb});
  if (!batch.ok())
    return ctx.Error("batch dims of " + ShapeToString(a) + " and " + ShapeToString(b) +
                     " do not broadcast");
  g.batch = NumElements(*batch);
  g.a_mats = NumElements(ab);
  g.b_mats = NumElements(bb);
  g.a_mat.resize(static_cast<size_t>(g.batch));
  g.b_mat.resize(static_cast<size_t>(g.batch));
  auto sa = BroadcastStrides(ab, *batch), sb = BroadcastStrides(bb, *batch);
  ForEachBroadcast(*batch, {sa, sb}, 0, g.batch, [&](int64_t i, const std::vector<int64_t>& o) {
    g.a_mat[i] = o[0];
    g.b_mat[i] = o[1];
  });
  g.out = *batch;
  if (a.size() > 1) g.out.push_back(g.m);
  if (b.size() > 1) g.out.push_back(g.n);
  return g;
}

// Expands a per-tensor / per-row (of a) / per-column (of b) parameter to one value per row or
// column of every matrix of the operand. `target` is the operand's promoted shape with K
// replaced by 1 ([..., M, 1] for a, [..., 1, N] for b); a 1-D parameter lists rows ([M]) or
// columns ([N]).
StatusOr<std::vector<double>> ExpandParam(const KernelContext& ctx, const Tensor& p,
                                          const Shape& target, bool rows, const char* name) {
  std::vector<double> v = p.ToDoubleVector();
  const int64_t total = NumElements(target);
  if (p.numel() == 1) return std::vector<double>(static_cast<size_t>(total), v[0]);
  Shape ps = p.shape();
  if (ps.size() == 1 && rows) ps = {ps[0], 1};
  auto bs = BroadcastShapes({ps, target});
  if (!bs.ok() || *bs != target)
    return ctx.Error(std::string(name) + " of shape " + ShapeToString(p.shape()) +
                     " is neither a scalar nor per-" + (rows ? "row" : "column") + " for " +
                     ShapeToString(target));
  std::vector<double> out(static_cast<size_t>(total));
  auto strides = BroadcastStrides(ps, target);
  ForEachBroadcast(target, {strides}, 0, total,
                   [&](int64_t i, const std::vector<int64_t>& o) { out[i] = v[o[0]]; });
  return out;
}

// The operands with zero points subtracted, as int16 matrices.
struct IntOperands {
  std::vector<int16_t> a, b;
};

StatusOr<IntOperands> CenterOperands(const KernelContext& ctx, const MatMulGeom& g, const Tensor& a,
                                     const Tensor* a_zp, const Tensor& b, const Tensor* b_zp) {
  IntOperands r;
  Shape a_rows(g.a_shape.begin(), g.a_shape.end() - 1);
  a_rows.push_back(1);
  Shape b_cols(g.b_shape.begin(), g.b_shape.end() - 2);
  b_cols.push_back(1);
  b_cols.push_back(g.n);
  std::vector<double> za, zb;
  if (a_zp) {
    ASSIGN_OR_RETURN(za, ExpandParam(ctx, *a_zp, a_rows, true, "a_zero_point"));
  }
  if (b_zp) {
    ASSIGN_OR_RETURN(zb, ExpandParam(ctx, *b_zp, b_cols, false, "b_zero_point"));
  }
  r.a.resize(static_cast<size_t>(a.numel()));
  for (int64_t row = 0; row < g.a_mats * g.m; ++row) {
    const int32_t z = a_zp ? static_cast<int32_t>(za[row]) : 0;
    for (int64_t kk = 0; kk < g.k; ++kk)
      r.a[row * g.k + kk] = static_cast<int16_t>(IntAt(a, row * g.k + kk) - z);
  }
  r.b.resize(static_cast<size_t>(b.numel()));
  for (int64_t mat = 0; mat < g.b_mats; ++mat)
    for (int64_t kk = 0; kk < g.k; ++kk)
      for (int64_t j = 0; j < g.n; ++j) {
        const int64_t i = (mat * g.k + kk) * g.n + j;
        const int32_t z = b_zp ? static_cast<int32_t>(zb[mat * g.n + j]) : 0;
        r.b[i] = static_cast<int16_t>(IntAt(b, i) - z);
      }
  return r;
}

// acc[batch, m, n] for every output matrix.
void BatchedIntMatMul(KernelContext& ctx, const MatMulGeom& g, const IntOperands& ops,
                      int32_t* acc) {
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    IntGemm(ctx, g.m, g.n, g.k, ops.a.data() + g.a_mat[bi] * g.m * g.k, g.k,
            ops.b.data() + g.b_mat[bi] * g.k * g.n, g.n, acc + bi * g.m * g.n, g.n);
  }
}

Status Check8BitInputs(const KernelInit& init,
                       const std::vector<std::pair<size_t, const char*>>& ins) {
  for (const auto& [i, name] : ins)
    RETURN_IF_ERROR(CheckType(init, i, name, {DataType::kUint8, DataType::kInt8}));
  return Status::Ok();
}

Status RunMatMulInteger(KernelContext& ctx) {
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  const Tensor* a_zp = ctx.input(2);
  const Tensor* b_zp = ctx.input(3);
  if (!Is8Bit(a.dtype()) || !Is8Bit(b.dtype()))
    return ctx.Error("inputs of types " + TypeName(a.dtype()) + " and " + TypeName(b.dtype()));
  if ((a_zp && a_zp->dtype() != a.dtype()) || (b_zp && b_zp->dtype() != b.dtype()))
    return ctx.Error("zero points must have their input's type");
  ASSIGN_OR_RETURN(MatMulGeom g, ResolveMatMul(ctx, a.shape(), b.shape()));
  ASSIGN_OR_RETURN(IntOperands ops, CenterOperands(ctx, g, a, a_zp, b, b_zp));
  ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, DataType::kInt32, g.out));
  BatchedIntMatMul(ctx, g, ops, y->data<int32_t>());
  return Status::Ok();
}

// Writes round(acc * multiplier) + zero point, saturated, as Q.
template <typename Q>
inline Q Requantize(int32_t acc, float multiplier, int32_t zp, IntRange r) {
  double v = static_cast<double>(acc) * static_cast<double>(multiplier) + zp;
  return static_cast<Q>(SaturateRound(v, r.lo, r.hi));
}

Status RunQLinearMatMul(KernelContext& ctx) {
  const Tensor& a = *ctx.input(0);
  const Tensor& a_scale = *ctx.input(1);
  const Tensor& a_zp = *ctx.input(2);
  const Tensor& b = *ctx.input(3);
  const Tensor& b_scale = *ctx.input(4);
  const Tensor& b_zp = *ctx.input(5);
  const Tensor& y_scale = *ctx.input(6);
  const Tensor& y_zp = *ctx.input(7);
  if (!Is8Bit(a.dtype()) || !Is8Bit(b.dtype()) || !Is8Bit(y_zp.dtype()))
    return ctx.Error("inputs of types " + TypeName(a.dtype()) + ", " + TypeName(b.dtype()) + ", " +
                     TypeName(y_zp.dtype()));
  if (a_zp.dtype() != a.dtype() || b_zp.dtype() != b.dtype())
    return ctx.Error("zero points must have their input's type");
  if (!IsFloatScale(a_scale.dtype()) || !IsFloatScale(b_scale.dtype()) ||
      !IsFloatScale(y_scale.dtype()))
    return ctx.Error("scales must be float");
  if (y_scale.numel() != 1 || y_zp.numel() != 1)
    return ctx.Error("y_scale and y_zero_point must be scalars, got " +
                     ShapeToString(y_scale.shape()) + " and " + ShapeToString(y_zp.shape()));
  ASSIGN_OR_RETURN(MatMulGeom g, ResolveMatMul(ctx, a.shape(), b.shape()));
  ASSIGN_OR_RETURN(IntOperands ops, CenterOperands(ctx, g, a, &a_zp, b, &b_zp));
  Shape a_rows(g.a_shape.begin(), g.a_shape.end() - 1);
  a_rows.push_back(1);
  Shape b_cols(g.b_shape.begin(), g.b_shape.end() - 2);
  b_cols.push_back(1);
  b_cols.push_back(g.n);
  ASSIGN_OR_RETURN(std::vector<double> sa, ExpandParam(ctx, a_scale, a_rows, true, "a_scale"));
  ASSIGN_OR_RETURN(std::vector<double> sb, ExpandParam(ctx, b_scale, b_cols, false, "b_scale"));
  const float sy = FloatValues(y_scale)[0];
  const int32_t zy = IntValues(y_zp)[0];
  IntRange range;
  RangeOf(y_zp.dtype(), &range);

  std::vector<int32_t> acc(static_cast<size_t>(g.batch * g.m * g.n));
  BatchedIntMatMul(ctx, g, ops, acc.data());
  ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, y_zp.dtype(), g.out));
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    for (int64_t m = 0; m < g.m; ++m) {
      const float s_a = static_cast<float>(sa[g.a_mat[bi] * g.m + m]);
      for (int64_t j = 0; j < g.n; ++j) {
        const float s_b = static_cast<float>(sb[g.b_mat[bi] * g.n + j]);
        const float mult = s_a * s_b / sy;
        const int64_t i = (bi * g.m + m) * g.n + j;
        if (y_zp.dtype() == DataType::kUint8)
          y->data<uint8_t>()[i] = Requantize<uint8_t>(acc[i], mult, zy, range);
        else
          y->data<int8_t>()[i] = Requantize<int8_t>(acc[i], mult, zy, range);
      }
    }
  }
  return Status::Ok();
}

// ------------------------------------------------------------------------------ Conv ops

struct ConvAttrs {
  std::string auto_pad = "NOTSET";
  std::vector<int64_t> dilations, kernel_shape, pads, strides;
  int64_t group = 1;
};

Status ParseConvAttrs(const KernelInit& init, ConvAttrs* a) {
  const Node& n = init.node;
  a->auto_pad = n.GetString("auto_pad", "NOTSET");
  if (a->auto_pad != "NOTSET" && a->auto_pad != "SAME_UPPER" && a->auto_pad != "SAME_LOWER" &&
      a->auto_pad != "VALID")
    return init.Invalid("auto_pad '" + a->auto_pad + "'");
  a->dilations = n.GetInts("dilations");
  a->kernel_shape = n.GetInts("kernel_shape");
  a->pads = n.GetInts("pads");
  a->strides = n.GetInts("strides");
  a->group = n.GetInt("group", 1);
  if (a->group < 1) return init.Invalid("group must be >= 1, got " + std::to_string(a->group));
  for (int64_t v : a->dilations)
    if (v < 1) return init.Invalid("dilations must be >= 1");
  for (int64_t v : a->strides)
    if (v < 1) return init.Invalid("strides must be >= 1");
  for (int64_t v : a->pads)
    if (v < 0) return init.Invalid("pads must be >= 0");
  if (a->pads.size() % 2) return init.Invalid("pads must have an even length");
  return Status::Ok();
}

struct ConvGeom {
  int64_t batch = 0, c = 0, m = 0, cg = 0, mg = 0, groups = 1;
  Shape in, kernel, out, stride, dil, pad_begin;
  int64_t in_size = 1, k_size = 1, out_size = 1;
  Shape out_shape;
};

StatusOr<ConvGeom> ResolveConv(const KernelContext& ctx, const ConvAttrs& a, const Shape& x,
                               const Shape& w) {
  if (x.size() < 3 || w.size() != x.size())
    return ctx.Error("input " + ShapeToString(x) + " and weight " + ShapeToString(w) +
                     " must both have rank >= 3 and the same rank");
  ConvGeom g;
  const size_t nd = x.size() - 2;
  g.batch = x[0];
  g.c = x[1];
  g.m = w[0];
  g.groups = a.group;
  g.cg = w[1];
  if (g.cg * a.group != g.c || g.m % a.group != 0)
    return ctx.Error("input channels " + std::to_string(g.c) + " and weight " + ShapeToString(w) +
                     " do not fit group " + std::to_string(a.group));
  g.mg = g.m / a.group;
  auto list = [&](const std::vector<int64_t>& v, size_t n, int64_t dflt, const char* name,
                  Shape* out) -> Status {
    if (v.empty()) {
      out->assign(n, dflt);
      return Status::Ok();
    }
    if (v.size() != n)
      return ctx.Error(std::string(name) + " has " + std::to_string(v.size()) + " values for " +
                       std::to_string(nd) + " spatial dims");
    *out = v;
    return Status::Ok();
  };
  Shape pads;
  RETURN_IF_ERROR(list(a.strides, nd, 1, "strides", &g.stride));
  RETURN_IF_ERROR(list(a.dilations, nd, 1, "dilations", &g.dil));
  RETURN_IF_ERROR(list(a.pads, 2 * nd, 0, "pads", &pads));
  g.kernel.assign(w.begin() + 2, w.end());
  if (!a.kernel_shape.empty()) {
    if (Shape(a.kernel_shape) != g.kernel)
      return ctx.Error("kernel_shape " + ShapeToString(a.kernel_shape) +
                       " differs from the weight's " + ShapeToString(w));
  }
  g.in.assign(x.begin() + 2, x.end());
  g.out.resize(nd);
  g.pad_begin.resize(nd);
  g.out_shape = {g.batch, g.m};
  for (size_t d = 0; d < nd; ++d) {
    const int64_t ext = (g.kernel[d] - 1) * g.dil[d] + 1;
    int64_t pb = pads[d], pe = pads[d + nd];
    if (a.auto_pad == "VALID") {
      pb = pe = 0;
    } else if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
      const int64_t o = (g.in[d] + g.stride[d] - 1) / g.stride[d];
      const int64_t total = std::max<int64_t>(0, (o - 1) * g.stride[d] + ext - g.in[d]);
      pb = a.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    }
    const int64_t span = g.in[d] + pb + pe - ext;
    if (span < 0)
      return ctx.Error("kernel " + ShapeToString(g.kernel) +
                       " (dilated) is larger than the padded input " + ShapeToString(x));
    g.out[d] = span / g.stride[d] + 1;
    g.pad_begin[d] = pb;
    g.in_size *= g.in[d];
    g.k_size *= g.kernel[d];
    g.out_size *= g.out[d];
    g.out_shape.push_back(g.out[d]);
  }
  return g;
}

// col[r, p] = x[c, in(p, k)] - zp (0 where the input position is padding), for the rows
// r = c * k_size + k of the channels [c0, c0 + cg) of one image. `x` points at channel c0.
template <typename T>
void Im2Col(const ConvGeom& g, const T* x, int32_t zp, int64_t r0, int64_t r1, int16_t* col) {
  const size_t nd = g.in.size();
  std::vector<int64_t> kc(nd), oc(nd);
  const int64_t last = static_cast<int64_t>(nd) - 1;
  const int64_t out_last = g.out[last], in_last = g.in[last];
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t c = r / g.k_size;
    int64_t kidx = r % g.k_size;
    for (int64_t d = last; d >= 0; --d) {
      kc[d] = kidx % g.kernel[d];
      kidx /= g.kernel[d];
    }
    const T* xc = x + c * g.in_size;
    int16_t* dst = col + r * g.out_size;
    const int64_t koff_last = kc[last] * g.dil[last] - g.pad_begin[last];
    std::fill(oc.begin(), oc.end(), 0);
    const int64_t outer = g.out_size / out_last;
    for (int64_t o = 0; o < outer; ++o, dst += out_last) {
      // Offset of the row of input along the leading spatial dims.
      bool valid = true;
      int64_t off = 0;
      for (int64_t d = 0; d < last; ++d) {
        const int64_t in = oc[d] * g.stride[d] + kc[d] * g.dil[d] - g.pad_begin[d];
        if (in < 0 || in >= g.in[d]) valid = false;
        off = off * g.in[d] + in;
      }
      if (!valid) {
        std::fill(dst, dst + out_last, int16_t{0});
      } else {
        const T* xr = xc + off * in_last;
        const int64_t s = g.stride[last];
        for (int64_t j = 0; j < out_last; ++j) {
          const int64_t in = j * s + koff_last;
          dst[j] = (in >= 0 && in < in_last)
                       ? static_cast<int16_t>(static_cast<int32_t>(xr[in]) - zp)
                       : int16_t{0};
        }
      }
      for (int64_t d = last - 1; d >= 0; --d) {
        if (++oc[d] < g.out[d]) break;
        oc[d] = 0;
      }
    }
  }
}

// The weights with their zero points subtracted: [M, Cg * k_size] int16.
StatusOr<std::vector<int16_t>> CenterWeights(const KernelContext* ctx, const Tensor& w,
                                             const Tensor* w_zp) {
  const int64_t m = w.dim(0);
  if (w_zp && w_zp->numel() != 1 && w_zp->numel() != m) {
    std::string msg = "w_zero_point of shape " + ShapeToString(w_zp->shape()) +
                      " is neither a scalar nor per output channel (" + std::to_string(m) + ")";
    return ctx ? ctx->Error(msg) : InvalidModel(msg);
  }
  std::vector<int32_t> z = w_zp ? IntValues(*w_zp) : std::vector<int32_t>{0};
  const int64_t per = m ? w.numel() / m : 0;
  std::vector<int16_t> out(static_cast<size_t>(w.numel()));
  for (int64_t o = 0; o < m; ++o) {
    const int32_t zo = z.size() == 1 ? z[0] : z[o];
    for (int64_t i = 0; i < per; ++i)
      out[o * per + i] = static_cast<int16_t>(IntAt(w, o * per + i) - zo);
  }
  return out;
}

// acc[n, m, p] for one image n (acc has M * out_size entries): the int32 convolution of the
// centered input with the centered weights.
Status ConvImage(KernelContext& ctx, const ConvGeom& g, const Tensor& x, int64_t n, int32_t x_zp,
                 const int16_t* w, int32_t* acc) {
  const int64_t rows = g.cg * g.k_size;
  auto* col = static_cast<int16_t*>(ctx.Scratch(static_cast<size_t>(rows * g.out_size) * 2 + 64));
  if (!col) return ResourceExhausted(ctx.node_description() + ": out of memory for im2col");
  const bool parallel = ctx.num_threads() > 1 && rows * g.out_size >= kParallelElements;
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    const int64_t chan0 = n * g.c + grp * g.cg;
    auto fill = [&](int64_t r0, int64_t r1) {
      if (x.dtype() == DataType::kUint8)
        Im2Col(g, x.data<uint8_t>() + chan0 * g.in_size, x_zp, r0, r1, col);
      else
        Im2Col(g, x.data<int8_t>() + chan0 * g.in_size, x_zp, r0, r1, col);
    };
    if (parallel)
      ctx.ParallelFor(rows, fill);
    else
      fill(0, rows);
    IntGemm(ctx, g.mg, g.out_size, rows, w + grp * g.mg * rows, rows, col, g.out_size,
            acc + grp * g.mg * g.out_size, g.out_size);
  }
  return Status::Ok();
}

// Shared by ConvInteger and QLinearConv: attributes, and the centered weights cached when the
// weight and its zero point are initializers.
class ConvIntBase : public Kernel {
 protected:
  Status Init(const KernelInit& init, size_t w_index, size_t w_zp_index) {
    RETURN_IF_ERROR(ParseConvAttrs(init, &attrs_));
    const Tensor* w = init.constant(w_index);
    const bool zp_known = !init.has_input(w_zp_index) || init.constant(w_zp_index);
    if (w && zp_known && Is8Bit(w->dtype()) && w->rank() >= 3) {
      auto centered = CenterWeights(nullptr, *w, init.constant(w_zp_index));
      if (!centered.ok()) return init.Invalid(centered.status().message());
      weights_ = std::move(centered).value();
      cached_ = true;
    }
    return Status::Ok();
  }

  // The weights for this run (cached or computed into `storage`).
  StatusOr<const int16_t*> Weights(KernelContext& ctx, const Tensor& w, const Tensor* w_zp,
                                   std::vector<int16_t>* storage) {
    if (cached_) return weights_.data();
    ASSIGN_OR_RETURN(*storage, CenterWeights(&ctx, w, w_zp));
    return storage->data();
  }

  ConvAttrs attrs_;
  std::vector<int16_t> weights_;
  bool cached_ = false;
};

class ConvIntegerKernel final : public ConvIntBase {
 public:
  static StatusOr<std::unique_ptr<Kernel>> Create(const KernelInit& init) {
    auto k = std::make_unique<ConvIntegerKernel>();
    RETURN_IF_ERROR(
        Check8BitInputs(init, {{0, "x"}, {1, "w"}, {2, "x_zero_point"}, {3, "w_zero_point"}}));
    RETURN_IF_ERROR(CheckSameType(init, 0, 2, "x and x_zero_point must have the same type"));
    RETURN_IF_ERROR(CheckSameType(init, 1, 3, "w and w_zero_point must have the same type"));
    RETURN_IF_ERROR(k->Init(init, 1, 3));
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    const Tensor& w = *ctx.input(1);
    const Tensor* x_zp = ctx.input(2);
    const Tensor* w_zp = ctx.input(3);
    if (!Is8Bit(x.dtype()) || !Is8Bit(w.dtype()))
      return ctx.Error("inputs of types " + TypeName(x.dtype()) + " and " + TypeName(w.dtype()));
    if (x_zp && x_zp->numel() != 1)
      return ctx.Error("x_zero_point must be a scalar, got shape " + ShapeToString(x_zp->shape()));
    ASSIGN_OR_RETURN(ConvGeom g, ResolveConv(ctx, attrs_, x.shape(), w.shape()));
    std::vector<int16_t> storage;
    ASSIGN_OR_RETURN(const int16_t* wc, Weights(ctx, w, w_zp, &storage));
    const int32_t xz = x_zp ? IntValues(*x_zp)[0] : 0;
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, DataType::kInt32, g.out_shape));
    for (int64_t n = 0; n < g.batch; ++n)
      RETURN_IF_ERROR(ConvImage(ctx, g, x, n, xz, wc, y->data<int32_t>() + n * g.m * g.out_size));
    return Status::Ok();
  }
};

class QLinearConvKernel final : public ConvIntBase {
 public:
  static StatusOr<std::unique_ptr<Kernel>> Create(const KernelInit& init) {
    auto k = std::make_unique<QLinearConvKernel>();
    RETURN_IF_ERROR(Check8BitInputs(
        init, {{0, "x"}, {2, "x_zero_point"}, {3, "w"}, {5, "w_zero_point"}, {7, "y_zero_point"}}));
    RETURN_IF_ERROR(CheckSameType(init, 0, 2, "x and x_zero_point must have the same type"));
    RETURN_IF_ERROR(CheckSameType(init, 3, 5, "w and w_zero_point must have the same type"));
    for (size_t i : {1, 4, 6}) RETURN_IF_ERROR(CheckType(init, i, "scale", {DataType::kFloat}));
    RETURN_IF_ERROR(CheckType(init, 8, "B", {DataType::kInt32}));
    RETURN_IF_ERROR(k->Init(init, 3, 5));
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    const Tensor& x_scale = *ctx.input(1);
    const Tensor* x_zp = ctx.input(2);
    const Tensor& w = *ctx.input(3);
    const Tensor& w_scale = *ctx.input(4);
    const Tensor* w_zp = ctx.input(5);
    const Tensor& y_scale = *ctx.input(6);
    const Tensor* y_zp = ctx.input(7);
    const Tensor* bias = ctx.input(8);
    if (!Is8Bit(x.dtype()) || !Is8Bit(w.dtype()))
      return ctx.Error("inputs of types " + TypeName(x.dtype()) + " and " + TypeName(w.dtype()));
    const DataType out_type = y_zp ? y_zp->dtype() : x.dtype();
    if (!Is8Bit(out_type)) return ctx.Error("y_zero_point of type " + TypeName(out_type));
    if (x_scale.numel() != 1 || (x_zp && x_zp->numel() != 1) || y_scale.numel() != 1 ||
        (y_zp && y_zp->numel() != 1))
      return ctx.Error("x and y scales and zero points must be scalars");
    ASSIGN_OR_RETURN(ConvGeom g, ResolveConv(ctx, attrs_, x.shape(), w.shape()));
    if (w_scale.numel() != 1 && w_scale.numel() != g.m)
      return ctx.Error("w_scale of shape " + ShapeToString(w_scale.shape()) +
                       " is neither a scalar nor per output channel (" + std::to_string(g.m) + ")");
    if (bias && (bias->dtype() != DataType::kInt32 || bias->numel() != g.m))
      return ctx.Error("B must be int32 with " + std::to_string(g.m) + " values, got " +
                       ShapeToString(bias->shape()));
    std::vector<int16_t> storage;
    ASSIGN_OR_RETURN(const int16_t* wc, Weights(ctx, w, w_zp, &storage));
    const int32_t xz = x_zp ? IntValues(*x_zp)[0] : 0;
    const int32_t yz = y_zp ? IntValues(*y_zp)[0] : 0;
    const float sx = FloatValues(x_scale)[0], sy = FloatValues(y_scale)[0];
    std::vector<float> sw = FloatValues(w_scale);
    // Per output channel: real = sx * sw[m] * acc, so q_y = acc * (sx * sw[m] / sy) + z_y.
    std::vector<float> mult(static_cast<size_t>(g.m));
    for (int64_t m = 0; m < g.m; ++m) mult[m] = sx * sw[sw.size() == 1 ? 0 : m] / sy;
    IntRange range;
    RangeOf(out_type, &range);

    std::vector<int32_t> acc(static_cast<size_t>(g.m * g.out_size));
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, out_type, g.out_shape));
    for (int64_t n = 0; n < g.batch; ++n) {
      RETURN_IF_ERROR(ConvImage(ctx, g, x, n, xz, wc, acc.data()));
      for (int64_t m = 0; m < g.m; ++m) {
        const int32_t b = bias ? bias->data<int32_t>()[m] : 0;
        const int32_t* a = acc.data() + m * g.out_size;
        const int64_t base = (n * g.m + m) * g.out_size;
        for (int64_t p = 0; p < g.out_size; ++p) {
          if (out_type == DataType::kUint8)
            y->data<uint8_t>()[base + p] = Requantize<uint8_t>(a[p] + b, mult[m], yz, range);
          else
            y->data<int8_t>()[base + p] = Requantize<int8_t>(a[p] + b, mult[m], yz, range);
        }
      }
    }
    return Status::Ok();
  }
};

StatusOr<std::unique_ptr<Kernel>> MakeMatMulInteger(const KernelInit& init) {
  RETURN_IF_ERROR(
      Check8BitInputs(init, {{0, "A"}, {1, "B"}, {2, "a_zero_point"}, {3, "b_zero_point"}}));
  RETURN_IF_ERROR(CheckSameType(init, 0, 2, "A and a_zero_point must have the same type"));
  RETURN_IF_ERROR(CheckSameType(init, 1, 3, "B and b_zero_point must have the same type"));
  return SimpleKernel(RunMatMulInteger)(init);
}

StatusOr<std::unique_ptr<Kernel>> MakeQLinearMatMul(const KernelInit& init) {
  RETURN_IF_ERROR(Check8BitInputs(
      init, {{0, "a"}, {2, "a_zero_point"}, {3, "b"}, {5, "b_zero_point"}, {7, "y_zero_point"}}));
  RETURN_IF_ERROR(CheckSameType(init, 0, 2, "a and a_zero_point must have the same type"));
  RETURN_IF_ERROR(CheckSameType(init, 3, 5, "b and b_zero_point must have the same type"));
  std::vector<DataType> scale_types = {DataType::kFloat};
  if (init.opset >= 21) {
    scale_types.push_back(DataType::kFloat16);
    scale_types.push_back(DataType::kBfloat16);
  }
  for (size_t i : {1, 4, 6}) RETURN_IF_ERROR(CheckType(init, i, "scale", scale_types));
  return SimpleKernel(RunQLinearMatMul)(init);
}

StatusOr<std::unique_ptr<Kernel>> MakeDynamicQuantizeLinear(const KernelInit& init) {
  RETURN_IF_ERROR(CheckType(init, 0, "x", {DataType::kFloat}));
  return SimpleKernel(RunDynamicQuantizeLinear)(init);
}

}  // namespace

void RegisterQuantizeKernels(KernelRegistry& r) {
  // QuantizeLinear / DequantizeLinear: 10 per-tensor; 13 adds `axis` (per-axis); 19 adds
  // float16/bfloat16 scales (and float8, unsupported); 21 adds blocked quantization, 16-bit
  // types and QuantizeLinear's output_dtype (int4 and float8 unsupported).
  const std::initializer_list<std::pair<int, int>> ranges = {
      {10, 12}, {13, 18}, {19, 20}, {21, 22}};
  for (auto [since, until] : ranges) {
    r.Add("QuantizeLinear", since, until, QuantizeLinearKernel::Create);
    r.Add("DequantizeLinear", since, until, DequantizeLinearKernel::Create);
  }
  r.Add("DynamicQuantizeLinear", 11, 25, MakeDynamicQuantizeLinear);
  r.Add("MatMulInteger", 10, 25, MakeMatMulInteger);
  r.Add("QLinearMatMul", 10, 20, MakeQLinearMatMul);
  r.Add("QLinearMatMul", 21, 25, MakeQLinearMatMul);  // adds float16/bfloat16 scales
  r.Add("ConvInteger", 10, 25, ConvIntegerKernel::Create);
  r.Add("QLinearConv", 10, 25, QLinearConvKernel::Create);
}

}  // namespace edgefit
