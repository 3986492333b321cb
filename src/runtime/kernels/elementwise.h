// Private helpers of the elementwise kernel families (unary, binary, cast, softmax): element type
// traits and dispatch, a broadcasting plan with collapsed dimensions, and the tight (parallel)
// loops that run unary and binary functions over tensors.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/kernel.h"
#include "runtime/kernels/broadcast.h"

namespace edgefit::elementwise {

// ------------------------------------------------------------------------------ element types

// Storage types for the 16-bit floats and bool: the kernels compute in float / bool.
struct Half {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};
struct Bool8 {
  uint8_t v;
};

// Elem<T>: how a stored element is loaded into its compute type C and stored back.
template <class T>
struct Elem {
  using C = T;
  static C Load(T x) { return x; }
  template <class V>
  static T Store(V v) {
    return static_cast<T>(v);
  }
};
template <>
struct Elem<Half> {
  using C = float;
  static float Load(Half x) { return HalfToFloat(x.bits); }
  template <class V>
  static Half Store(V v) {
    return Half{FloatToHalf(static_cast<float>(v))};
  }
};
template <>
struct Elem<BFloat16> {
  using C = float;
  static float Load(BFloat16 x) { return Bfloat16ToFloat(x.bits); }
  template <class V>
  static BFloat16 Store(V v) {
    return BFloat16{FloatToBfloat16(static_cast<float>(v))};
  }
};
template <>
struct Elem<Bool8> {
  using C = bool;
  static bool Load(Bool8 x) { return x.v != 0; }
  template <class V>
  static Bool8 Store(V v) {
    return Bool8{static_cast<uint8_t>(v ? 1 : 0)};
  }
};

template <class T>
using Compute = typename Elem<T>::C;

template <class T>
constexpr DataType DataTypeOf() {
  if constexpr (std::is_same_v<T, float>)
    return DataType::kFloat;
  else if constexpr (std::is_same_v<T, double>)
    return DataType::kDouble;
  else if constexpr (std::is_same_v<T, Half>)
    return DataType::kFloat16;
  else if constexpr (std::is_same_v<T, BFloat16>)
    return DataType::kBfloat16;
  else if constexpr (std::is_same_v<T, Bool8>)
    return DataType::kBool;
  else if constexpr (std::is_same_v<T, int8_t>)
    return DataType::kInt8;
  else if constexpr (std::is_same_v<T, int16_t>)
    return DataType::kInt16;
  else if constexpr (std::is_same_v<T, int32_t>)
    return DataType::kInt32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return DataType::kInt64;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return DataType::kUint8;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return DataType::kUint16;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return DataType::kUint32;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return DataType::kUint64;
  else
    static_assert(sizeof(T) == 0, "not an element type");
}

template <class... Ts>
struct TypeList {};

template <class... A, class... B>
constexpr TypeList<A..., B...> operator+(TypeList<A...>, TypeList<B...>) {
  return {};
}

using FloatTypes = TypeList<float, double, Half, BFloat16>;
using SignedIntTypes = TypeList<int8_t, int16_t, int32_t, int64_t>;
using UnsignedIntTypes = TypeList<uint8_t, uint16_t, uint32_t, uint64_t>;
using IntTypes = decltype(SignedIntTypes{} + UnsignedIntTypes{});
using SignedTypes = decltype(FloatTypes{} + SignedIntTypes{});
using NumericTypes = decltype(FloatTypes{} + IntTypes{});
using BoolTypes = TypeList<Bool8>;
using NumericAndBoolTypes = decltype(NumericTypes{} + BoolTypes{});

template <class... Ts>
constexpr bool Contains(TypeList<Ts...>, DataType dt) {
  return ((dt == DataTypeOf<Ts>()) || ...);
}

template <class... Ts>
std::string TypeNames(TypeList<Ts...>) {
  std::string s;
  ((s += (s.empty() ? "" : ", ") + std::string(DataTypeName(DataTypeOf<Ts>()))), ...);
  return s;
}

// Calls f(std::type_identity<T>{}) (returning Status) for the T of the list matching dt.
// Returns Unsupported naming `who` when dt is not in the list.
template <class... Ts, class F>
Status Visit(TypeList<Ts...> list, DataType dt, const std::string& who, F&& f) {
  Status result;
  bool found = false;
  (void)((dt == DataTypeOf<Ts>() ? (found = true, result = f(std::type_identity<Ts>{}), true)
                                 : false) ||
         ...);
  if (!found)
    return Unsupported(who + ": element type " + DataTypeName(dt) +
                       " is not supported (supported: " + TypeNames(list) + ")");
  return result;
}

// The declared element type of input i (kUndefined when unknown or absent).
inline DataType DeclaredType(const KernelInit& init, size_t i) {
  if (!init.has_input(i) || !init.input_types[i]->is_tensor()) return DataType::kUndefined;
  return init.input_types[i]->elem_type;
}

// Build-time check of input i's declared element type against a list.
template <class List>
Status CheckDeclaredType(const KernelInit& init, size_t i, List list) {
  DataType dt = DeclaredType(init, i);
  if (dt == DataType::kUndefined || Contains(list, dt)) return Status::Ok();
  return init.Unsupported("input " + std::to_string(i) + " has element type " + DataTypeName(dt) +
                          ", which is not supported (supported: " + TypeNames(list) + ")");
}

// Build-time check that the declared types of inputs `idx` agree.
inline Status CheckSameDeclaredTypes(const KernelInit& init, const std::vector<size_t>& idx) {
  DataType first = DataType::kUndefined;
  for (size_t i : idx) {
    DataType dt = DeclaredType(init, i);
    if (dt == DataType::kUndefined) continue;
    if (first == DataType::kUndefined)
      first = dt;
    else if (dt != first)
      return init.Invalid(std::string("inputs must have the same element type, got ") +
                          DataTypeName(first) + " and " + DataTypeName(dt));
  }
  return Status::Ok();
}

// ------------------------------------------------------------------------------ parallel loops

// Elements below which a cheap elementwise loop runs on one thread.
constexpr int64_t kParallelMin = 1 << 16;
// The same for loops whose per-element cost is a transcendental function call.
constexpr int64_t kParallelMinExpensive = 1 << 13;

// Runs fn(begin, end) over [0, n), split across the session's threads when n is large.
template <class Fn>
void ParallelRange(KernelContext& ctx, int64_t n, int64_t min_parallel, const Fn& fn) {
  if (n <= 0) return;
  if (n < min_parallel || ctx.num_threads() <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  ctx.ParallelFor(n, [&](int64_t begin, int64_t end) { fn(begin, end); });
}

// y[i] = Store(fn(Load(x[i]))) for i in [0, n).
template <class TI, class TO, class Fn>
void MapUnary(KernelContext& ctx, const TI* x, TO* y, int64_t n, int64_t min_parallel,
              const Fn& fn) {
  ParallelRange(ctx, n, min_parallel, [&](int64_t begin, int64_t end) {
    const Fn f = fn;  // a local copy: stores to y cannot alias its parameters
    for (int64_t i = begin; i < end; ++i) y[i] = Elem<TO>::Store(f(Elem<TI>::Load(x[i])));
  });
}

// ------------------------------------------------------------------------------ broadcasting

// How to walk k inputs broadcast to an output: the output's dims with size-1 dims dropped and
// adjacent dims merged wherever every input is contiguous (or broadcast) across both, so that
// [N,C,H,W] + [C,1,1] becomes [N, C, H*W] with the second input's strides (0, 1, 0).
// The innermost dim's stride is 0 or 1 for every input.
struct BroadcastPlan {
  Shape out;                                  // the output shape
  int64_t numel = 0;                          // its element count
  std::vector<int64_t> dims;                  // collapsed dims (at least one)
  std::vector<std::vector<int64_t>> strides;  // per input, per collapsed dim
  int64_t inner() const { return dims.back(); }
  int64_t inner_stride(size_t input) const { return strides[input].back(); }
};

// A plan for `inputs` broadcast to `out` (which every input must broadcast to).
inline BroadcastPlan MakePlan(const std::vector<Shape>& inputs, const Shape& out) {
  BroadcastPlan p;
  p.out = out;
  p.numel = NumElements(out);
  const size_t k = inputs.size();
  std::vector<std::vector<int64_t>> full(k);
  for (size_t j = 0; j < k; ++j) full[j] = BroadcastStrides(inputs[j], out);
  p.strides.assign(k, {});
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    bool merge = !p.dims.empty();
    for (size_t j = 0; j < k && merge; ++j) merge = p.strides[j].back() == full[j][d] * out[d];
    if (merge) {
      p.dims.back() *= out[d];
      for (size_t j = 0; j < k; ++j) p.strides[j].back() = full[j][d];
    } else {
      p.dims.push_back(out[d]);
      for (size_t j = 0; j < k; ++j) p.strides[j].push_back(full[j][d]);
    }
  }
  if (p.dims.empty()) {
    p.dims.push_back(1);
    for (size_t j = 0; j < k; ++j) p.strides[j].push_back(0);
  }
  return p;
}

// The multidirectional broadcast of `inputs` and its plan; errors name the shapes.
inline StatusOr<BroadcastPlan> PlanBroadcast(KernelContext& ctx, const std::vector<Shape>& inputs) {
  auto out = BroadcastShapes(inputs);
  if (!out.ok()) return ctx.Error(out.status().message());
  return MakePlan(inputs, *out);
}

// Calls fn(out_pos, len, offsets) for each run of consecutive output elements in [begin, end)
// that lie in one innermost row; offsets[j] is input j's element offset at out_pos (advancing by
// inner_stride(j) along the run).
template <class Fn>
void ForEachRun(const BroadcastPlan& plan, int64_t begin, int64_t end, const Fn& fn) {
  if (begin >= end) return;
  const size_t k = plan.strides.size();
  const int64_t len_row = plan.inner();
  const size_t outer = plan.dims.size() - 1;
  std::vector<int64_t> coord(outer, 0), row_off(k, 0), off(k, 0);
  int64_t row = begin / len_row, col = begin % len_row;
  for (size_t d = outer; d-- > 0;) {
    coord[d] = row % plan.dims[d];
    row /= plan.dims[d];
    for (size_t j = 0; j < k; ++j) row_off[j] += coord[d] * plan.strides[j][d];
  }
  int64_t pos = begin;
  while (pos < end) {
    int64_t len = std::min(len_row - col, end - pos);
    for (size_t j = 0; j < k; ++j) off[j] = row_off[j] + col * plan.strides[j][outer];
    fn(pos, len, off.data());
    pos += len;
    col = 0;
    for (size_t d = outer; d-- > 0;) {
      ++coord[d];
      for (size_t j = 0; j < k; ++j) row_off[j] += plan.strides[j][d];
      if (coord[d] < plan.dims[d]) break;
      for (size_t j = 0; j < k; ++j) row_off[j] -= coord[d] * plan.strides[j][d];
      coord[d] = 0;
    }
  }
}

// One run of a binary function; sa/sb are 0 (broadcast) or 1 (contiguous).
template <class TA, class TB, class TO, class Fn>
inline void BinaryRun(const TA* a, int64_t sa, const TB* b, int64_t sb, TO* o, int64_t n,
                      const Fn& fn_ref) {
  const Fn fn = fn_ref;  // a local copy: stores to o cannot alias its parameters
  using EA = Elem<TA>;
  using EB = Elem<TB>;
  using EO = Elem<TO>;
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) o[i] = EO::Store(fn(EA::Load(a[i]), EB::Load(b[i])));
  } else if (sa) {
    const auto bv = EB::Load(*b);
    for (int64_t i = 0; i < n; ++i) o[i] = EO::Store(fn(EA::Load(a[i]), bv));
  } else if (sb) {
    const auto av = EA::Load(*a);
    for (int64_t i = 0; i < n; ++i) o[i] = EO::Store(fn(av, EB::Load(b[i])));
  } else {
    const TO v = EO::Store(fn(EA::Load(*a), EB::Load(*b)));
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

// o = fn(a, b) over a two-input plan. `o` may be `a` itself when a has the output's shape.
template <class TA, class TB, class TO, class Fn>
void MapBinary(KernelContext& ctx, const BroadcastPlan& plan, const TA* a, const TB* b, TO* o,
               int64_t min_parallel, const Fn& fn) {
  const int64_t sa = plan.inner_stride(0), sb = plan.inner_stride(1);
  const bool flat = plan.dims.size() == 1;
  ParallelRange(ctx, plan.numel, min_parallel, [&](int64_t begin, int64_t end) {
    if (flat) {
      BinaryRun(a + begin * sa, sa, b + begin * sb, sb, o + begin, end - begin, fn);
      return;
    }
    ForEachRun(plan, begin, end, [&](int64_t pos, int64_t len, const int64_t* off) {
      BinaryRun(a + off[0], sa, b + off[1], sb, o + pos, len, fn);
    });
  });
}

// ------------------------------------------------------------------------------ small helpers

// Integer arithmetic that wraps on overflow (two's complement) instead of being undefined.
template <class C>
inline C WrapAdd(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    using W = std::conditional_t<sizeof(C) <= 4, uint32_t, uint64_t>;
    return static_cast<C>(static_cast<W>(a) + static_cast<W>(b));
  } else {
    return a + b;
  }
}
template <class C>
inline C WrapSub(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    using W = std::conditional_t<sizeof(C) <= 4, uint32_t, uint64_t>;
    return static_cast<C>(static_cast<W>(a) - static_cast<W>(b));
  } else {
    return a - b;
  }
}
template <class C>
inline C WrapMul(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    using W = std::conditional_t<sizeof(C) <= 4, uint32_t, uint64_t>;
    return static_cast<C>(static_cast<W>(a) * static_cast<W>(b));
  } else {
    return a * b;
  }
}
template <class C>
inline C WrapNeg(C a) {
  return WrapSub(C{0}, a);
}

// A floating value converted to an integer type the way C and NumPy do on common hardware for
// in-range values (truncation toward zero, then wrapping to the narrower type); NaN becomes 0 and
// values beyond the 64-bit range saturate. ONNX leaves out-of-range conversions undefined; this
// only guarantees they are deterministic and never undefined behaviour.
template <class T>
inline T FloatToInt(double v) {
  if (std::isnan(v)) return T(0);
  const double t = std::trunc(v);
  if constexpr (std::is_same_v<T, uint64_t>) {
    if (t >= 0 && t < 18446744073709551616.0) return static_cast<uint64_t>(t);
  }
  if (t >= -9223372036854775808.0 && t < 9223372036854775808.0)
    return static_cast<T>(static_cast<int64_t>(t));
  return t < 0 ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
}

// Normalizes an axis in [-rank, rank) to [0, rank); false when out of range.
inline bool NormalizeAxis(int64_t& axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return false;
  if (axis < 0) axis += rank;
  return true;
}

// Registers `factory` for each version range of `versions` (the op's since-versions, ascending):
// {1, 6, 13} -> [1, 5], [6, 12], [13, open].
inline void AddVersions(KernelRegistry& r, const std::string& op, const std::vector<int>& versions,
                        const KernelFactory& factory) {
  for (size_t i = 0; i < versions.size(); ++i)
    r.Add(op, versions[i], i + 1 < versions.size() ? versions[i + 1] - 1 : 1000, factory);
}

}  // namespace edgefit::elementwise
