// Helpers shared by the data-movement kernel families (shape_ops.cc, tensor_ops.cc,
// gather_scatter.cc). These kernels never interpret element values, so every dtype is handled
// by its storage type: an unsigned integer of the element's size (complex128: 16 bytes), or
// std::string for string tensors. A kernel body is written once as a template over that type
// and dispatched with DispatchByElement.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/kernel.h"

namespace edgefit::datamove {

// Storage of one complex128 element.
struct Bytes16 {
  uint64_t lo = 0, hi = 0;
};

template <typename T>
const T* Elems(const Tensor& t) {
  if constexpr (std::is_same_v<T, std::string>) {
    return t.strings().data();
  } else {
    return static_cast<const T*>(t.raw());
  }
}
template <typename T>
T* Elems(Tensor& t) {
  if constexpr (std::is_same_v<T, std::string>) {
    return t.strings().data();
  } else {
    return static_cast<T*>(t.raw());
  }
}

// True for the dtypes DispatchByElement handles (every defined ONNX dtype).
inline bool IsMovable(DataType dtype) {
  return dtype == DataType::kString || DataTypeSize(dtype) > 0;
}

// Calls fn(static_cast<T*>(nullptr)) with T the storage type of `dtype` and returns its Status.
template <typename Fn>
Status DispatchByElement(DataType dtype, Fn&& fn) {
  if (dtype == DataType::kString) return fn(static_cast<std::string*>(nullptr));
  switch (DataTypeSize(dtype)) {
    case 1: return fn(static_cast<uint8_t*>(nullptr));
    case 2: return fn(static_cast<uint16_t*>(nullptr));
    case 4: return fn(static_cast<uint32_t*>(nullptr));
    case 8: return fn(static_cast<uint64_t*>(nullptr));
    case 16: return fn(static_cast<Bytes16*>(nullptr));
    default: break;
  }
  return Unsupported(std::string("dtype ") + DataTypeName(dtype) + " is not supported");
}

// Row-major element strides of `shape`.
inline std::vector<int64_t> ContiguousStrides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

// Product of shape[begin, end).
inline int64_t Product(const Shape& shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t d = begin; d < end && d < shape.size(); ++d) n *= shape[d];
  return n;
}

// Maps axis from [-rank, rank) to [0, rank); false when out of range.
inline bool NormalizeAxis(int64_t& axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return false;
  if (axis < 0) axis += rank;
  return true;
}

inline std::string AxisRangeError(int64_t axis, int64_t rank) {
  return "axis " + std::to_string(axis) + " is out of range [" + std::to_string(-rank) + ", " +
         std::to_string(rank) + ") for rank " + std::to_string(rank);
}

inline std::string IntsToString(const std::vector<int64_t>& v) { return ShapeToString(v); }

// The values of integer input i widened to int64 (for shapes, axes, pads, indices).
inline StatusOr<std::vector<int64_t>> ReadInts(const KernelContext& ctx, size_t i,
                                               const char* what) {
  const Tensor* t = ctx.input(i);
  if (!t) return ctx.Error(std::string("input '") + what + "' is missing");
  auto v = t->ToInt64Vector();
  if (!v.ok()) return ctx.Error(std::string("input '") + what + "': " + v.status().message());
  return v;
}

// Drops size-1 dims and merges neighbouring dims that are contiguous in the source (an outer dim
// whose stride equals the inner dim's stride times its size). An empty result is a scalar copy.
inline void CoalesceDims(Shape& shape, std::vector<int64_t>& strides) {
  Shape s;
  std::vector<int64_t> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!s.empty() && st.back() == strides[d] * shape[d]) {
      s.back() *= shape[d];
      st.back() = strides[d];
      continue;
    }
    s.push_back(shape[d]);
    st.push_back(strides[d]);
  }
  shape = std::move(s);
  strides = std::move(st);
}

// Below this many elements a copy runs on the calling thread.
constexpr int64_t kParallelMinElements = int64_t{1} << 16;

// Runs fn(begin, end) over [0, items) where each item moves about `item_elems` elements, in
// parallel when the whole job is large enough.
template <typename Fn>
void ParallelItems(const KernelContext& ctx, int64_t items, int64_t item_elems, Fn&& fn) {
  if (items <= 0) return;
  if (ctx.num_threads() <= 1 || items < 2 ||
      items * std::max<int64_t>(item_elems, 1) < kParallelMinElements) {
    fn(int64_t{0}, items);
    return;
  }
  ctx.ParallelFor(items, [&](int64_t begin, int64_t end) { fn(begin, end); });
}

// out[i] (row-major over `shape`) = in[base + sum_d coord_d * strides[d]] for every output
// element. Strides may be 0 (broadcast) or negative (reversed slices).
template <typename T>
void StridedCopy(const KernelContext& ctx, const T* in, int64_t base, Shape shape,
                 std::vector<int64_t> strides, T* out) {
  for (int64_t d : shape)
    if (d == 0) return;
  CoalesceDims(shape, strides);
  if (shape.empty()) {
    out[0] = in[base];
    return;
  }
  const int64_t inner = shape.back();
  const int64_t inner_stride = strides.back();
  const size_t outer_rank = shape.size() - 1;
  const int64_t rows = Product(shape, 0, outer_rank);
  ParallelItems(ctx, rows, inner, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> coord(outer_rank, 0);
    int64_t offset = base;
    int64_t rem = begin;
    for (size_t d = outer_rank; d-- > 0;) {
      coord[d] = rem % shape[d];
      rem /= shape[d];
      offset += coord[d] * strides[d];
    }
    T* dst = out + begin * inner;
    for (int64_t r = begin; r < end; ++r) {
      const T* src = in + offset;
      if (inner_stride == 1) {
        std::copy_n(src, inner, dst);
      } else if (inner_stride == 0) {
        std::fill_n(dst, inner, *src);
      } else {
        for (int64_t i = 0; i < inner; ++i) dst[i] = src[i * inner_stride];
      }
      dst += inner;
      for (size_t d = outer_rank; d-- > 0;) {
        offset += strides[d];
        if (++coord[d] < shape[d]) break;
        offset -= coord[d] * strides[d];
        coord[d] = 0;
      }
    }
  });
}

// Writes `v` converted to `dtype` at `dst` (numeric and bool dtypes; false otherwise).
inline bool StoreNumber(DataType dtype, void* dst, double v) {
  switch (dtype) {
    case DataType::kFloat: *static_cast<float*>(dst) = static_cast<float>(v); return true;
    case DataType::kDouble: *static_cast<double*>(dst) = v; return true;
    case DataType::kFloat16:
      *static_cast<uint16_t*>(dst) = FloatToHalf(static_cast<float>(v));
      return true;
    case DataType::kBfloat16:
      *static_cast<uint16_t*>(dst) = FloatToBfloat16(static_cast<float>(v));
      return true;
    case DataType::kInt8: *static_cast<int8_t*>(dst) = static_cast<int8_t>(v); return true;
    case DataType::kInt16: *static_cast<int16_t*>(dst) = static_cast<int16_t>(v); return true;
    case DataType::kInt32: *static_cast<int32_t*>(dst) = static_cast<int32_t>(v); return true;
    case DataType::kInt64: *static_cast<int64_t*>(dst) = static_cast<int64_t>(v); return true;
    case DataType::kUint8: *static_cast<uint8_t*>(dst) = static_cast<uint8_t>(v); return true;
    case DataType::kUint16: *static_cast<uint16_t*>(dst) = static_cast<uint16_t>(v); return true;
    case DataType::kUint32: *static_cast<uint32_t*>(dst) = static_cast<uint32_t>(v); return true;
    case DataType::kUint64: *static_cast<uint64_t*>(dst) = static_cast<uint64_t>(v); return true;
    case DataType::kBool: *static_cast<uint8_t*>(dst) = v != 0; return true;
    default: return false;
  }
}

inline bool IsNumberType(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat:
    case DataType::kDouble:
    case DataType::kFloat16:
    case DataType::kBfloat16:
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kUint8:
    case DataType::kUint16:
    case DataType::kUint32:
    case DataType::kUint64:
    case DataType::kBool: return true;
    default: return false;
  }
}

// The declared elem type of input i, or kUndefined when unknown or omitted.
inline DataType DeclaredType(const KernelInit& init, size_t i) {
  if (!init.has_input(i)) return DataType::kUndefined;
  const TypeInfo* t = init.input_types[i];
  return t->is_tensor() ? t->elem_type : DataType::kUndefined;
}

// Rejects inputs declared as non-tensors (sequences, maps, optionals).
inline Status RequireTensorInputs(const KernelInit& init) {
  for (size_t i = 0; i < init.input_types.size(); ++i) {
    const TypeInfo* t = init.input_types[i];
    if (t && t->kind == TypeInfo::Kind::kOpaque)
      return init.Unsupported("input " + std::to_string(i) +
                              " is not a tensor (sequence/map/optional values are not supported)");
  }
  return Status::Ok();
}

}  // namespace edgefit::datamove
