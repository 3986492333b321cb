// Kernel family: reductions.
//   ReduceSum ReduceMean ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceSumSquare
//   ReduceLogSum ReduceLogSumExp, ArgMax ArgMin, TopK, CumSum.
//
// Reduce*: `axes` is an attribute up to opset 17 (ReduceSum: up to 12) and an optional input
// from 18 (ReduceSum: from 13), where noop_with_empty_axes=1 turns a missing/empty `axes` into a
// reduction over no axis at all (each output is the op applied to one element: x, |x|, x*x,
// log x, ...). The input shape is canonicalized by dropping size-1 dims and merging neighbouring
// dims that are both kept or both reduced; then one of three loops runs:
//   [O, R]     contiguous runs (innermost axes; GlobalAveragePool-like mean over H,W)
//   [O, R, I]  rows of I contiguous elements accumulated R times (e.g. mean over channels)
//   otherwise  the reduced elements of each output are gathered through an offset table.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

// ------------------------------------------------------------------------- numeric helpers

struct Half {  // float16 storage (math is done in float)
  uint16_t bits;
};

template <typename T>
struct Tag {
  using type = T;
};

bool IsNumericType(DataType dt, bool allow_bool) {
  switch (dt) {
    case DataType::kFloat:
    case DataType::kDouble:
    case DataType::kFloat16:
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt32:
    case DataType::kUint32:
    case DataType::kInt64:
    case DataType::kUint64: return true;
    case DataType::kBool: return allow_bool;
    default: return false;
  }
}

// Calls fn(Tag<T>{}) for the storage type of `dt`. Callers check IsNumericType first.
template <typename Fn>
void VisitNumeric(DataType dt, Fn&& fn) {
  switch (dt) {
    case DataType::kFloat: fn(Tag<float>{}); break;
    case DataType::kDouble: fn(Tag<double>{}); break;
    case DataType::kFloat16: fn(Tag<Half>{}); break;
    case DataType::kInt8: fn(Tag<int8_t>{}); break;
    case DataType::kUint8: fn(Tag<uint8_t>{}); break;
    case DataType::kInt16: fn(Tag<int16_t>{}); break;
    case DataType::kUint16: fn(Tag<uint16_t>{}); break;
    case DataType::kInt32: fn(Tag<int32_t>{}); break;
    case DataType::kUint32: fn(Tag<uint32_t>{}); break;
    case DataType::kInt64: fn(Tag<int64_t>{}); break;
    case DataType::kUint64: fn(Tag<uint64_t>{}); break;
    case DataType::kBool: fn(Tag<bool>{}); break;
    default: break;
  }
}

// The type math is done in: float for float/float16, double for double, int64/uint64 for ints.
template <typename T>
struct Num {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, T,
                                 std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;
  static Acc Load(T v) { return static_cast<Acc>(v); }
  static Acc Lowest() {
    if constexpr (std::is_floating_point_v<T>)
      return -std::numeric_limits<T>::infinity();
    else
      return static_cast<Acc>(std::numeric_limits<T>::lowest());
  }
  static Acc Highest() {
    if constexpr (std::is_floating_point_v<T>)
      return std::numeric_limits<T>::infinity();
    else
      return static_cast<Acc>(std::numeric_limits<T>::max());
  }
};
template <>
struct Num<Half> {
  using Acc = float;
  static float Load(Half v) { return HalfToFloat(v.bits); }
  static float Lowest() { return -std::numeric_limits<float>::infinity(); }
  static float Highest() { return std::numeric_limits<float>::infinity(); }
};

template <typename A>
bool IsNan(A v) {
  if constexpr (std::is_floating_point_v<A>)
    return std::isnan(v);
  else
    return false;
}

// Converts a math value back to storage: float16 rounding; saturating float->int (NaN -> 0);
// plain (wrapping) conversion between integers.
template <typename T, typename A>
T StoreAs(A v) {
  if constexpr (std::is_same_v<T, Half>) {
    return Half{FloatToHalf(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<T, bool>) {
    return v != A(0);
  } else if constexpr (std::is_integral_v<T> && std::is_floating_point_v<A>) {
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<A>(std::numeric_limits<T>::lowest()))
      return std::numeric_limits<T>::lowest();
    if (v >= static_cast<A>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  } else {
    return static_cast<T>(v);
  }
}

// Runs fn(begin, end) over [0, n), on the session's threads when the work is large enough.
void Parallel(KernelContext& ctx, int64_t n, int64_t work,
              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (ctx.num_threads() <= 1 || work < (int64_t{1} << 15) || n == 1) {
    fn(0, n);
    return;
  }
  ctx.ParallelFor(n, fn);
}

// Marks `axes` (negative counts from the back) in `mask`; false with a message on a bad axis.
bool MarkAxes(const std::vector<int64_t>& axes, int64_t rank, std::vector<bool>* mask,
              std::string* error) {
  mask->assign(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    int64_t d = a < 0 ? a + rank : a;
    if (d < 0 || d >= rank) {
      *error = "axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank);
      return false;
    }
    if ((*mask)[d]) {
      *error = "axis " + std::to_string(a) + " is repeated";
      return false;
    }
    (*mask)[d] = true;
  }
  return true;
}

// A single axis in [-rank, rank-1] made non-negative, or -1.
int64_t NormalizeAxis(int64_t axis, int64_t rank) {
  int64_t d = axis < 0 ? axis + rank : axis;
  return d >= 0 && d < rank ? d : -1;
}

// Splits `shape` around `axis` into outer * size * inner.
void SplitAt(const Shape& shape, int64_t axis, int64_t* outer, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int64_t d = 0; d < axis; ++d) *outer *= shape[d];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) *inner *= shape[d];
}

std::string DtypeList() { return "float, double, float16 and integer types"; }

// ------------------------------------------------------------------------- Reduce*

enum class RK { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kSumSquare, kLogSum, kLogSumExp };

// One reduction: acc = Init(); acc = Step(acc, x) for each element; Finish(acc, count).
// Merge combines two partial accumulators (used by the lane-split contiguous loop).
template <RK K, typename T>
struct Red {
  using A0 = typename Num<T>::Acc;
  using A = std::conditional_t<K == RK::kLogSumExp && !std::is_floating_point_v<A0>, double, A0>;

  static A Load(T v) { return static_cast<A>(Num<T>::Load(v)); }
  static A Init() {
    if constexpr (K == RK::kMax)
      return static_cast<A>(Num<T>::Lowest());
    else if constexpr (K == RK::kMin)
      return static_cast<A>(Num<T>::Highest());
    else if constexpr (K == RK::kProd)
      return A(1);
    else
      return A(0);
  }
  static A Abs(A v) {
    if constexpr (std::is_floating_point_v<A>)
      return std::fabs(v);
    else if constexpr (std::is_signed_v<A>)
      return v < 0 ? A(0) - v : v;
    else
      return v;
  }
  static A Step(A acc, A x) {
    if constexpr (K == RK::kMax)
      return (x > acc || IsNan(x)) ? x : acc;
    else if constexpr (K == RK::kMin)
      return (x < acc || IsNan(x)) ? x : acc;
    else if constexpr (K == RK::kProd)
      return acc * x;
    else if constexpr (K == RK::kL1)
      return acc + Abs(x);
    else if constexpr (K == RK::kL2 || K == RK::kSumSquare)
      return acc + x * x;
    else
      return acc + x;  // Sum, Mean, LogSum
  }
  static A Merge(A a, A b) {
    if constexpr (K == RK::kMax || K == RK::kMin)
      return Step(a, b);
    else if constexpr (K == RK::kProd)
      return a * b;
    else
      return a + b;
  }
  static A Finish(A acc, int64_t n) {
    if constexpr (K == RK::kMean) {
      if constexpr (std::is_floating_point_v<A>)
        return acc / static_cast<A>(n);
      else
        return n ? acc / static_cast<A>(n) : A(0);
    } else if constexpr (K == RK::kL2) {
      if constexpr (std::is_floating_point_v<A>)
        return std::sqrt(acc);
      else
        return StoreAs<A>(std::sqrt(static_cast<double>(acc)));
    } else if constexpr (K == RK::kLogSum) {
      if constexpr (std::is_floating_point_v<A>)
        return std::log(acc);
      else
        return StoreAs<A>(std::log(static_cast<double>(acc)));
    } else {
      return acc;
    }
  }
};

// log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m = max(x); an infinite or NaN
// max is the result itself (all -inf -> -inf, any +inf -> +inf). Empty -> -inf.
template <typename A, typename Get>
A LogSumExp(int64_t n, Get get) {
  A m = -std::numeric_limits<A>::infinity();
  for (int64_t k = 0; k < n; ++k) {
    A v = get(k);
    if (v > m || IsNan(v)) m = v;
  }
  if (!std::isfinite(m)) return m;
  A s = 0;
  for (int64_t k = 0; k < n; ++k) s += std::exp(get(k) - m);
  return std::log(s) + m;
}

template <RK K, typename T, typename Get>
typename Red<K, T>::A ReduceOne(int64_t n, Get get) {
  using R = Red<K, T>;
  using A = typename R::A;
  if constexpr (K == RK::kLogSumExp) {
    return LogSumExp<A>(n, [&](int64_t k) { return R::Load(get(k)); });
  } else {
    A acc = R::Init();
    for (int64_t k = 0; k < n; ++k) acc = R::Step(acc, R::Load(get(k)));
    return R::Finish(acc, n);
  }
}

// Max or min of n >= 8 contiguous floats, any NaN giving NaN. Written with GCC/Clang vector
// extensions: the compilers do not vectorize a NaN-propagating max reduction on their own.
#if defined(__GNUC__)
template <bool kMax>
float MaxMinFloat(const float* p, int64_t n) {
  typedef float V __attribute__((vector_size(16)));
  typedef int VI __attribute__((vector_size(16)));
  V a0, a1;
  std::memcpy(&a0, p, sizeof(V));
  std::memcpy(&a1, p + 4, sizeof(V));
  VI nan = (a0 != a0) | (a1 != a1);
  int64_t k = 8;
  for (; k + 8 <= n; k += 8) {
    V v0, v1;
    std::memcpy(&v0, p + k, sizeof(V));
    std::memcpy(&v1, p + k + 4, sizeof(V));
    if constexpr (kMax) {
      a0 = v0 > a0 ? v0 : a0;
      a1 = v1 > a1 ? v1 : a1;
    } else {
      a0 = v0 < a0 ? v0 : a0;
      a1 = v1 < a1 ? v1 : a1;
    }
    nan |= (v0 != v0) | (v1 != v1);
  }
  float m = a0[0];
  bool any_nan = false;
  auto take = [&](float v) {
    any_nan = any_nan || v != v;
    m = kMax ? (v > m ? v : m) : (v < m ? v : m);
  };
  for (int i = 0; i < 4; ++i) {
    take(a0[i]);
    take(a1[i]);
    any_nan = any_nan || nan[i] != 0;
  }
  for (; k < n; ++k) take(p[k]);
  return any_nan ? std::numeric_limits<float>::quiet_NaN() : m;
}
#endif

// Reduction of n contiguous elements; 8 independent accumulators so that the loop vectorizes.
template <RK K, typename T>
typename Red<K, T>::A ReduceContiguous(const T* p, int64_t n) {
  using R = Red<K, T>;
  using A = typename R::A;
#if defined(__GNUC__)
  if constexpr ((K == RK::kMax || K == RK::kMin) && std::is_same_v<T, float>) {
    if (n >= 16) return MaxMinFloat<K == RK::kMax>(p, n);
#else
  if constexpr (false) {
#endif
  } else if constexpr (K != RK::kLogSumExp) {
    constexpr int kLanes = 8;
    if (n >= 2 * kLanes) {
      A acc[kLanes];
      for (int j = 0; j < kLanes; ++j) acc[j] = R::Init();
      int64_t k = 0;
      for (; k + kLanes <= n; k += kLanes)
        for (int j = 0; j < kLanes; ++j) acc[j] = R::Step(acc[j], R::Load(p[k + j]));
      A total = acc[0];
      for (int j = 1; j < kLanes; ++j) total = R::Merge(total, acc[j]);
      for (; k < n; ++k) total = R::Step(total, R::Load(p[k]));
      return R::Finish(total, n);
    }
  }
  return ReduceOne<K, T>(n, [p](int64_t k) { return p[k]; });
}

// [O, R, I]: y[o, i] = reduce_r x[o, r, i], accumulating whole rows at a time.
template <RK K, typename T>
void ReduceRows(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, KernelContext& ctx) {
  using R = Red<K, T>;
  using A = typename R::A;
  constexpr int64_t kBlock = 256;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  Parallel(ctx, outer * blocks, outer * n * inner, [&](int64_t begin, int64_t end) {
    A acc[kBlock];
    A mx[kBlock];
    for (int64_t t = begin; t < end; ++t) {
      const int64_t o = t / blocks, i0 = (t % blocks) * kBlock;
      const int64_t len = std::min(kBlock, inner - i0);
      const T* base = x + o * n * inner + i0;
      T* out = y + o * inner + i0;
      if constexpr (K == RK::kLogSumExp) {
        for (int64_t i = 0; i < len; ++i) mx[i] = -std::numeric_limits<A>::infinity();
        for (int64_t r = 0; r < n; ++r) {
          const T* row = base + r * inner;
          for (int64_t i = 0; i < len; ++i) {
            A v = R::Load(row[i]);
            if (v > mx[i] || IsNan(v)) mx[i] = v;
          }
        }
        for (int64_t i = 0; i < len; ++i) acc[i] = 0;
        for (int64_t r = 0; r < n; ++r) {
          const T* row = base + r * inner;
          for (int64_t i = 0; i < len; ++i)
            if (std::isfinite(mx[i])) acc[i] += std::exp(R::Load(row[i]) - mx[i]);
        }
        for (int64_t i = 0; i < len; ++i)
          out[i] = StoreAs<T>(std::isfinite(mx[i]) ? std::log(acc[i]) + mx[i] : mx[i]);
      } else {
        for (int64_t i = 0; i < len; ++i) acc[i] = R::Init();
        for (int64_t r = 0; r < n; ++r) {
          const T* row = base + r * inner;
          for (int64_t i = 0; i < len; ++i) acc[i] = R::Step(acc[i], R::Load(row[i]));
        }
        for (int64_t i = 0; i < len; ++i) out[i] = StoreAs<T>(R::Finish(acc[i], n));
      }
    }
  });
}

// Any pattern: for each output, the reduced elements are read at base + offsets[k].
template <RK K, typename T>
void ReduceGather(const T* x, T* y, const std::vector<int64_t>& dims,
                  const std::vector<bool>& reduced, KernelContext& ctx) {
  const size_t rank = dims.size();
  std::vector<int64_t> stride(rank, 1);
  for (size_t d = rank; d-- > 1;) stride[d - 1] = stride[d] * dims[d];
  std::vector<int64_t> kept_size, kept_stride;
  std::vector<int64_t> offsets{0};
  for (size_t d = 0; d < rank; ++d) {
    if (!reduced[d]) {
      kept_size.push_back(dims[d]);
      kept_stride.push_back(stride[d]);
      continue;
    }
    std::vector<int64_t> next;
    next.reserve(offsets.size() * dims[d]);
    for (int64_t off : offsets)
      for (int64_t c = 0; c < dims[d]; ++c) next.push_back(off + c * stride[d]);
    offsets.swap(next);
  }
  int64_t out_count = 1;
  for (int64_t s : kept_size) out_count *= s;
  const int64_t n = static_cast<int64_t>(offsets.size());
  const int64_t* offs = offsets.data();
  Parallel(ctx, out_count, out_count * n, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      int64_t base = 0, rem = o;
      for (size_t k = kept_size.size(); k-- > 0;) {
        base += (rem % kept_size[k]) * kept_stride[k];
        rem /= kept_size[k];
      }
      const T* p = x + base;
      y[o] = StoreAs<T>(ReduceOne<K, T>(n, [p, offs](int64_t k) { return p[offs[k]]; }));
    }
  });
}

template <RK K, typename T>
void ReduceTyped(const Tensor& xt, Tensor* yt, const std::vector<bool>& mask, KernelContext& ctx) {
  const T* x = xt.data<T>();
  T* y = yt->data<T>();
  const int64_t out_count = yt->numel();
  if (out_count == 0) return;
  // Canonical groups: size-1 dims dropped, neighbours of the same kind merged.
  std::vector<int64_t> dims;
  std::vector<bool> red;
  int64_t reduce_count = 1;
  for (size_t d = 0; d < xt.rank(); ++d) {
    if (mask[d]) reduce_count *= xt.dim(d);
    if (xt.dim(d) == 1) continue;
    if (!dims.empty() && red.back() == mask[d]) {
      dims.back() *= xt.dim(d);
    } else {
      dims.push_back(xt.dim(d));
      red.push_back(mask[d]);
    }
  }
  if (reduce_count == 0) {
    const T v = StoreAs<T>(ReduceOne<K, T>(0, [x](int64_t k) { return x[k]; }));
    std::fill(y, y + out_count, v);
    return;
  }
  const int reduced_groups = static_cast<int>(std::count(red.begin(), red.end(), true));
  if (reduced_groups == 0 || (reduced_groups == 1 && red.back())) {
    // [O, R] (R = 1 when nothing is reduced).
    const int64_t n = reduce_count;
    Parallel(ctx, out_count, out_count * n, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) y[o] = StoreAs<T>(ReduceContiguous<K, T>(x + o * n, n));
    });
    return;
  }
  if (reduced_groups == 1) {
    // [R, I] or [O, R, I].
    const bool has_outer = !red.front();
    const int64_t outer = has_outer ? dims[0] : 1;
    const int64_t n = dims[has_outer ? 1 : 0];
    const int64_t inner = dims.back();
    ReduceRows<K, T>(x, y, outer, n, inner, ctx);
    return;
  }
  ReduceGather<K, T>(x, y, dims, red, ctx);
}

template <typename Fn>
void VisitKind(RK k, Fn&& fn) {
  switch (k) {
    case RK::kSum: fn(std::integral_constant<RK, RK::kSum>{}); break;
    case RK::kMean: fn(std::integral_constant<RK, RK::kMean>{}); break;
    case RK::kMax: fn(std::integral_constant<RK, RK::kMax>{}); break;
    case RK::kMin: fn(std::integral_constant<RK, RK::kMin>{}); break;
    case RK::kProd: fn(std::integral_constant<RK, RK::kProd>{}); break;
    case RK::kL1: fn(std::integral_constant<RK, RK::kL1>{}); break;
    case RK::kL2: fn(std::integral_constant<RK, RK::kL2>{}); break;
    case RK::kSumSquare: fn(std::integral_constant<RK, RK::kSumSquare>{}); break;
    case RK::kLogSum: fn(std::integral_constant<RK, RK::kLogSum>{}); break;
    case RK::kLogSumExp: fn(std::integral_constant<RK, RK::kLogSumExp>{}); break;
  }
}

class ReduceKernel final : public Kernel {
 public:
  RK kind = RK::kSum;
  bool keepdims = true;
  bool axes_input = false;  // opset 18+ (ReduceSum 13+)
  bool noop_with_empty_axes = false;
  bool allow_bool = false;
  std::vector<int64_t> axes;  // the attribute (axes_input == false)

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    if (!IsNumericType(x.dtype(), allow_bool))
      return ctx.Error(std::string("input type ") + DataTypeName(x.dtype()) +
                       " is not supported (" + DtypeList() + ")");
    std::vector<int64_t> ax = axes;
    if (axes_input && ctx.input(1)) {
      auto v = ctx.input(1)->ToInt64Vector();
      if (!v.ok()) return ctx.Error("'axes' must be an integer tensor");
      ax = std::move(v).value();
    }
    const int64_t rank = static_cast<int64_t>(x.rank());
    std::vector<bool> mask;
    if (ax.empty()) {
      mask.assign(rank, !(axes_input && noop_with_empty_axes));
    } else {
      std::string error;
      if (!MarkAxes(ax, rank, &mask, &error)) return ctx.Error("'axes': " + error);
    }
    Shape out_shape;
    bool identity = true;  // nothing of size > 1 is reduced
    for (int64_t d = 0; d < rank; ++d) {
      if (!mask[d]) {
        out_shape.push_back(x.dim(d));
      } else {
        if (keepdims) out_shape.push_back(1);
        if (x.dim(d) != 1) identity = false;
      }
    }
    if (identity && (kind == RK::kSum || kind == RK::kMean || kind == RK::kMax ||
                     kind == RK::kMin || kind == RK::kProd))
      return ctx.OutputView(0, 0, out_shape);
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), out_shape));
    VisitKind(kind, [&](auto kc) {
      VisitNumeric(x.dtype(), [&](auto tag) {
        ReduceTyped<decltype(kc)::value, typename decltype(tag)::type>(x, y, mask, ctx);
      });
    });
    return Status::Ok();
  }
};

// Checks a known rank against the axes; "" when fine.
std::string CheckAxes(const std::vector<int64_t>& axes, const KernelInit& init) {
  if (!init.has_input(0) || init.input_types[0]->rank() < 0) return "";
  std::vector<bool> mask;
  std::string error;
  if (!MarkAxes(axes, init.input_types[0]->rank(), &mask, &error)) return error;
  return "";
}

KernelFactory ReduceFactory(RK kind, bool axes_input) {
  return [kind, axes_input](const KernelInit& init) -> StatusOr<std::unique_ptr<Kernel>> {
    auto k = std::make_unique<ReduceKernel>();
    k->kind = kind;
    k->keepdims = init.node.GetInt("keepdims", 1) != 0;
    k->axes_input = axes_input;
    k->allow_bool = kind == RK::kMax || kind == RK::kMin;
    if (!init.has_input(0)) return init.Invalid("input 'data' is missing");
    DataType dt = init.input_types[0]->elem_type;
    if (dt != DataType::kUndefined && !IsNumericType(dt, k->allow_bool))
      return init.Unsupported(std::string("input type ") + DataTypeName(dt) +
                              " is not supported (" + DtypeList() + ")");
    if (axes_input) {
      if (init.node.HasAttribute("axes"))
        return init.Invalid("'axes' is an input at this opset, not an attribute");
      k->noop_with_empty_axes = init.node.GetInt("noop_with_empty_axes", 0) != 0;
      if (const Tensor* a = init.constant(1)) {
        auto v = a->ToInt64Vector();
        if (!v.ok()) return init.Invalid("'axes' must be an integer tensor");
        std::string error = CheckAxes(*v, init);
        if (!error.empty()) return init.Invalid("'axes': " + error);
      }
    } else {
      if (init.node.num_inputs() > 1 && init.node.input(1))
        return init.Invalid("takes one input at this opset ('axes' is an attribute)");
      k->axes = init.node.GetInts("axes");
      std::string error = CheckAxes(k->axes, init);
      if (!error.empty()) return init.Invalid("'axes': " + error);
    }
    return std::unique_ptr<Kernel>(std::move(k));
  };
}

// ------------------------------------------------------------------------- ArgMax / ArgMin

template <bool kMax, typename T>
void ArgTyped(const T* x, int64_t* y, int64_t outer, int64_t n, int64_t inner, bool last,
              KernelContext& ctx) {
  using A = typename Num<T>::Acc;
  Parallel(ctx, outer * inner, outer * n * inner, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const T* p = x + (t / inner) * n * inner + t % inner;
      A best = Num<T>::Load(p[0]);
      int64_t best_index = 0;
      for (int64_t r = 1; r < n; ++r) {
        A v = Num<T>::Load(p[r * inner]);
        bool take;
        if (IsNan(best))
          take = last && IsNan(v);  // the first (or last) NaN wins
        else if (IsNan(v))
          take = true;
        else if (kMax)
          take = v > best || (last && v == best);
        else
          take = v < best || (last && v == best);
        if (take) {
          best = v;
          best_index = r;
        }
      }
      y[t] = best_index;
    }
  });
}

class ArgKernel final : public Kernel {
 public:
  bool is_max = true;
  int64_t axis = 0;
  bool keepdims = true;
  bool select_last_index = false;

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    if (!IsNumericType(x.dtype(), false))
      return ctx.Error(std::string("input type ") + DataTypeName(x.dtype()) + " is not supported");
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t d = NormalizeAxis(axis, rank);
    if (d < 0)
      return ctx.Error("axis " + std::to_string(axis) + " is out of range for rank " +
                       std::to_string(rank));
    const int64_t n = x.dim(d);
    Shape out_shape = x.shape();
    if (keepdims)
      out_shape[d] = 1;
    else
      out_shape.erase(out_shape.begin() + d);
    int64_t outer, inner;
    SplitAt(x.shape(), d, &outer, &inner);
    if (n == 0 && outer * inner > 0)
      return ctx.Error("cannot take the arg" + std::string(is_max ? "max" : "min") +
                       " over an empty axis (shape " + ShapeToString(x.shape()) + ")");
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, DataType::kInt64, out_shape));
    if (y->numel() == 0) return Status::Ok();
    VisitNumeric(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (is_max)
        ArgTyped<true, T>(x.data<T>(), y->data<int64_t>(), outer, n, inner, select_last_index, ctx);
      else
        ArgTyped<false, T>(x.data<T>(), y->data<int64_t>(), outer, n, inner, select_last_index,
                           ctx);
    });
    return Status::Ok();
  }
};

KernelFactory ArgFactory(bool is_max) {
  return [is_max](const KernelInit& init) -> StatusOr<std::unique_ptr<Kernel>> {
    auto k = std::make_unique<ArgKernel>();
    k->is_max = is_max;
    k->axis = init.node.GetInt("axis", 0);
    k->keepdims = init.node.GetInt("keepdims", 1) != 0;
    k->select_last_index = init.node.GetInt("select_last_index", 0) != 0;
    if (!init.has_input(0)) return init.Invalid("input 'data' is missing");
    const TypeInfo& t = *init.input_types[0];
    if (t.elem_type != DataType::kUndefined && !IsNumericType(t.elem_type, false))
      return init.Unsupported(std::string("input type ") + DataTypeName(t.elem_type) +
                              " is not supported (" + DtypeList() + ")");
    if (t.rank() >= 0 && NormalizeAxis(k->axis, t.rank()) < 0)
      return init.Invalid("axis " + std::to_string(k->axis) + " is out of range for rank " +
                          std::to_string(t.rank()));
    return std::unique_ptr<Kernel>(std::move(k));
  };
}

// ------------------------------------------------------------------------- TopK

// Orders with NaN above every number; ties (equal values) go to the lower index.
template <typename A>
bool GreaterNan(A a, A b) {
  if (IsNan(a)) return !IsNan(b);
  return !IsNan(b) && a > b;
}

template <typename T>
void TopKTyped(const T* x, T* values, int64_t* indices, int64_t outer, int64_t n, int64_t inner,
               int64_t k, bool largest, KernelContext& ctx) {
  using A = typename Num<T>::Acc;
  Parallel(ctx, outer * inner, outer * n * inner, [&](int64_t begin, int64_t end) {
    std::vector<std::pair<A, int64_t>> items(static_cast<size_t>(n));
    auto before = [largest](const std::pair<A, int64_t>& a, const std::pair<A, int64_t>& b) {
      if (largest ? GreaterNan(a.first, b.first) : GreaterNan(b.first, a.first)) return true;
      if (largest ? GreaterNan(b.first, a.first) : GreaterNan(a.first, b.first)) return false;
      return a.second < b.second;
    };
    for (int64_t t = begin; t < end; ++t) {
      const int64_t o = t / inner, i = t % inner;
      const T* p = x + o * n * inner + i;
      for (int64_t r = 0; r < n; ++r) items[r] = {Num<T>::Load(p[r * inner]), r};
      if (k < n)
        std::partial_sort(items.begin(), items.begin() + k, items.end(), before);
      else
        std::sort(items.begin(), items.end(), before);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t at = (o * k + j) * inner + i;
        values[at] = p[items[j].second * inner];
        indices[at] = items[j].second;
      }
    }
  });
}

class TopKKernel final : public Kernel {
 public:
  int64_t axis = -1;
  int64_t k_attr = -1;  // opset < 10
  bool largest = true;

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    if (!IsNumericType(x.dtype(), false))
      return ctx.Error(std::string("input type ") + DataTypeName(x.dtype()) + " is not supported");
    int64_t k = k_attr;
    if (k_attr < 0) {
      const Tensor* kt = ctx.input(1);
      if (!kt) return ctx.Error("input 'K' is missing");
      auto v = kt->ToInt64Vector();
      if (!v.ok() || v->size() != 1)
        return ctx.Error("'K' must hold one integer, got shape " + ShapeToString(kt->shape()));
      k = (*v)[0];
    }
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t d = NormalizeAxis(axis, rank);
    if (d < 0)
      return ctx.Error("axis " + std::to_string(axis) + " is out of range for rank " +
                       std::to_string(rank));
    const int64_t n = x.dim(d);
    if (k < 0 || k > n)
      return ctx.Error("k = " + std::to_string(k) + " is out of range [0, " + std::to_string(n) +
                       "] for axis " + std::to_string(d) + " of shape " + ShapeToString(x.shape()));
    Shape out_shape = x.shape();
    out_shape[d] = k;
    ASSIGN_OR_RETURN(Tensor * values, ctx.Output(0, x.dtype(), out_shape));
    ASSIGN_OR_RETURN(Tensor * indices, ctx.Output(1, DataType::kInt64, out_shape));
    if (values->numel() == 0) return Status::Ok();
    int64_t outer, inner;
    SplitAt(x.shape(), d, &outer, &inner);
    VisitNumeric(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      TopKTyped<T>(x.data<T>(), values->data<T>(), indices->data<int64_t>(), outer, n, inner, k,
                   largest, ctx);
    });
    return Status::Ok();
  }
};

StatusOr<std::unique_ptr<Kernel>> MakeTopK(const KernelInit& init) {
  auto k = std::make_unique<TopKKernel>();
  k->axis = init.node.GetInt("axis", -1);
  if (init.opset < 10) {
    const Attribute* a = init.node.FindAttribute("k");
    if (!a || a->type != AttrType::kInt) return init.Invalid("attribute 'k' is required");
    if (a->i < 0) return init.Invalid("k = " + std::to_string(a->i) + " is negative");
    k->k_attr = a->i;
  } else {
    if (!init.has_input(1)) return init.Invalid("input 'K' is missing");
    if (const Tensor* kt = init.constant(1)) {
      auto v = kt->ToInt64Vector();
      if (!v.ok() || v->size() != 1) return init.Invalid("'K' must hold one integer");
      if ((*v)[0] < 0) return init.Invalid("k = " + std::to_string((*v)[0]) + " is negative");
    }
  }
  // largest/sorted exist from opset 11. sorted=0 leaves the order unspecified: the output is
  // sorted anyway.
  if (init.opset >= 11) k->largest = init.node.GetInt("largest", 1) != 0;
  if (!init.has_input(0)) return init.Invalid("input 'X' is missing");
  const TypeInfo& t = *init.input_types[0];
  if (t.elem_type != DataType::kUndefined && !IsNumericType(t.elem_type, false))
    return init.Unsupported(std::string("input type ") + DataTypeName(t.elem_type) +
                            " is not supported (" + DtypeList() + ")");
  if (t.rank() >= 0 && NormalizeAxis(k->axis, t.rank()) < 0)
    return init.Invalid("axis " + std::to_string(k->axis) + " is out of range for rank " +
                        std::to_string(t.rank()));
  return std::unique_ptr<Kernel>(std::move(k));
}

// ------------------------------------------------------------------------- CumSum

template <typename T>
void CumSumTyped(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool exclusive,
                 bool reverse, KernelContext& ctx) {
  using A = typename Num<T>::Acc;
  constexpr int64_t kBlock = 256;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  Parallel(ctx, outer * blocks, outer * n * inner, [&](int64_t begin, int64_t end) {
    A acc[kBlock];
    for (int64_t t = begin; t < end; ++t) {
      const int64_t o = t / blocks, i0 = (t % blocks) * kBlock;
      const int64_t len = std::min(kBlock, inner - i0);
      for (int64_t i = 0; i < len; ++i) acc[i] = A(0);
      for (int64_t s = 0; s < n; ++s) {
        const int64_t r = reverse ? n - 1 - s : s;
        const int64_t at = (o * n + r) * inner + i0;
        const T* in = x + at;
        T* out = y + at;
        if (exclusive) {
          for (int64_t i = 0; i < len; ++i) {
            out[i] = StoreAs<T>(acc[i]);
            acc[i] += Num<T>::Load(in[i]);
          }
        } else {
          for (int64_t i = 0; i < len; ++i) {
            acc[i] += Num<T>::Load(in[i]);
            out[i] = StoreAs<T>(acc[i]);
          }
        }
      }
    }
  });
}

class CumSumKernel final : public Kernel {
 public:
  bool exclusive = false;
  bool reverse = false;

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    if (!IsNumericType(x.dtype(), false))
      return ctx.Error(std::string("input type ") + DataTypeName(x.dtype()) + " is not supported");
    const Tensor* at = ctx.input(1);
    if (!at) return ctx.Error("input 'axis' is missing");
    auto v = at->ToInt64Vector();
    if (!v.ok() || v->size() != 1 || at->rank() > 1)
      return ctx.Error("'axis' must be a scalar integer, got shape " + ShapeToString(at->shape()));
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t d = NormalizeAxis((*v)[0], rank);
    if (d < 0)
      return ctx.Error("axis " + std::to_string((*v)[0]) + " is out of range for rank " +
                       std::to_string(rank));
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), x.shape()));
    if (y->numel() == 0) return Status::Ok();
    int64_t outer, inner;
    SplitAt(x.shape(), d, &outer, &inner);
    VisitNumeric(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      CumSumTyped<T>(x.data<T>(), y->data<T>(), outer, x.dim(d), inner, exclusive, reverse, ctx);
    });
    return Status::Ok();
  }
};

StatusOr<std::unique_ptr<Kernel>> MakeCumSum(const KernelInit& init) {
  auto k = std::make_unique<CumSumKernel>();
  k->exclusive = init.node.GetInt("exclusive", 0) != 0;
  k->reverse = init.node.GetInt("reverse", 0) != 0;
  if (!init.has_input(0) || !init.has_input(1)) return init.Invalid("needs inputs 'x' and 'axis'");
  const TypeInfo& t = *init.input_types[0];
  if (t.elem_type != DataType::kUndefined && !IsNumericType(t.elem_type, false))
    return init.Unsupported(std::string("input type ") + DataTypeName(t.elem_type) +
                            " is not supported (" + DtypeList() + ")");
  if (const Tensor* a = init.constant(1)) {
    auto v = a->ToInt64Vector();
    if (!v.ok() || v->size() != 1 || a->rank() > 1)
      return init.Invalid("'axis' must be a scalar integer");
    if (t.rank() >= 0 && NormalizeAxis((*v)[0], t.rank()) < 0)
      return init.Invalid("axis " + std::to_string((*v)[0]) + " is out of range for rank " +
                          std::to_string(t.rank()));
  }
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace

void RegisterReduceKernels(KernelRegistry& r) {
  struct ReduceOp {
    const char* name;
    RK kind;
    int axes_input_since;
  };
  const ReduceOp ops[] = {
      {"ReduceSum", RK::kSum, 13},       {"ReduceMean", RK::kMean, 18},
      {"ReduceMax", RK::kMax, 18},       {"ReduceMin", RK::kMin, 18},
      {"ReduceProd", RK::kProd, 18},     {"ReduceL1", RK::kL1, 18},
      {"ReduceL2", RK::kL2, 18},         {"ReduceSumSquare", RK::kSumSquare, 18},
      {"ReduceLogSum", RK::kLogSum, 18}, {"ReduceLogSumExp", RK::kLogSumExp, 18},
  };
  for (const ReduceOp& op : ops) {
    r.Add(op.name, 1, op.axes_input_since - 1, ReduceFactory(op.kind, false));
    r.Add(op.name, op.axes_input_since, 1000, ReduceFactory(op.kind, true));
  }
  r.Add("ArgMax", 1, 1000, ArgFactory(true));
  r.Add("ArgMin", 1, 1000, ArgFactory(false));
  r.Add("TopK", 1, 1000, MakeTopK);
  r.Add("CumSum", 11, 1000, MakeCumSum);
}

}  // namespace edgefit
