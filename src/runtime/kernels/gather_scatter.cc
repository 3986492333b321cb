// Kernel family: gather/scatter. Gather, GatherElements, GatherND, ScatterND, ScatterElements
// (and the deprecated Scatter), OneHot, NonZero.
//
// Index values are checked before anything is written: an index outside [-size, size) is a
// runtime error naming the index and the valid range, never an out-of-bounds access.
// Gathers and plain scatters move bytes for every dtype; scatter reductions (add/mul/max/min)
// compute in the element's own type (float16/bfloat16 through float).
#include <cmath>
#include <limits>

#include "runtime/kernels/data_movement.h"
#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

using namespace datamove;

std::string Str(int64_t v) { return std::to_string(v); }

// Normalizes index `i` against an axis of `size` or returns the error.
inline bool NormalizeIndex(int64_t& i, int64_t size) {
  if (i < -size || i >= size) return false;
  if (i < 0) i += size;
  return true;
}

std::string IndexError(int64_t index, int64_t size, const std::string& where) {
  return "index " + Str(index) + " is out of range [" + Str(-size) + ", " + Str(size) + ") " +
         where;
}

// ------------------------------------------------------------------------------- Gather

StatusOr<std::unique_ptr<Kernel>> MakeGather(const KernelInit& init) {
  int64_t axis_attr = init.node.GetInt("axis", 0);
  return SimpleKernel([axis_attr](KernelContext& ctx) -> Status {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    const int64_t r = static_cast<int64_t>(data.rank());
    if (r == 0) return ctx.Error("data must have rank >= 1");
    int64_t axis = axis_attr;
    if (!NormalizeAxis(axis, r)) return ctx.Error(AxisRangeError(axis_attr, r));
    ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadInts(ctx, 1, "indices"));
    const int64_t size = data.dim(axis);
    for (int64_t& i : idx) {
      int64_t v = i;
      if (!NormalizeIndex(i, size))
        return ctx.Error(IndexError(v, size,
                                    "for axis " + Str(axis) + " of size " + Str(size) +
                                        " (data shape " + ShapeToString(data.shape()) + ")"));
    }
    Shape out(data.shape().begin(), data.shape().begin() + axis);
    out.insert(out.end(), indices.shape().begin(), indices.shape().end());
    out.insert(out.end(), data.shape().begin() + axis + 1, data.shape().end());
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, data.dtype(), out));
    const int64_t outer = Product(data.shape(), 0, axis);
    const int64_t inner = Product(data.shape(), axis + 1, r);
    const int64_t n = static_cast<int64_t>(idx.size());
    return DispatchByElement(data.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      const T* src = Elems<T>(data);
      T* dst = Elems<T>(*y);
      ParallelItems(ctx, outer * n, inner, [&](int64_t b, int64_t e) {
        for (int64_t item = b; item < e; ++item) {
          const int64_t o = item / n, j = item % n;
          const T* from = src + (o * size + idx[j]) * inner;
          if (inner == 1)
            dst[item] = *from;
          else
            std::copy_n(from, inner, dst + item * inner);
        }
      });
      return Status::Ok();
    });
  })(init);
}

// ------------------------------------------------------------------------------- GatherElements

// Element offsets into `data` for every element of `indices` along `axis` (shared by
// GatherElements and ScatterElements). Checks ranks, shapes and index values.
StatusOr<std::vector<int64_t>> ElementOffsets(const KernelContext& ctx, const Tensor& data,
                                              const Tensor& indices, int64_t axis_attr) {
  const int64_t r = static_cast<int64_t>(data.rank());
  if (r == 0) return ctx.Error("data must have rank >= 1");
  if (indices.rank() != data.rank())
    return ctx.Error("indices " + ShapeToString(indices.shape()) + " must have the rank of data " +
                     ShapeToString(data.shape()));
  int64_t axis = axis_attr;
  if (!NormalizeAxis(axis, r)) return ctx.Error(AxisRangeError(axis_attr, r));
  for (int64_t d = 0; d < r; ++d)
    if (d != axis && indices.dim(d) > data.dim(d))
      return ctx.Error("indices " + ShapeToString(indices.shape()) + " exceed data " +
                       ShapeToString(data.shape()) + " on axis " + Str(d));
  ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadInts(ctx, 1, "indices"));
  const std::vector<int64_t> ds = ContiguousStrides(data.shape());
  const int64_t size = data.dim(axis);
  std::vector<int64_t> coord(r, 0);
  int64_t base = 0;  // offset of coord with the axis coordinate left out
  for (size_t e = 0; e < idx.size(); ++e) {
    int64_t v = idx[e];
    int64_t i = v;
    if (!NormalizeIndex(i, size))
      return ctx.Error(IndexError(v, size,
                                  "for axis " + Str(axis) + " of size " + Str(size) +
                                      " (data shape " + ShapeToString(data.shape()) + ")"));
    idx[e] = base + i * ds[axis];
    for (int64_t d = r; d-- > 0;) {
      if (d != axis) base += ds[d];
      if (++coord[d] < indices.dim(d)) break;
      if (d != axis) base -= coord[d] * ds[d];
      coord[d] = 0;
    }
  }
  return idx;
}

StatusOr<std::unique_ptr<Kernel>> MakeGatherElements(const KernelInit& init) {
  int64_t axis = init.node.GetInt("axis", 0);
  return SimpleKernel([axis](KernelContext& ctx) -> Status {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    ASSIGN_OR_RETURN(std::vector<int64_t> offsets, ElementOffsets(ctx, data, indices, axis));
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, data.dtype(), indices.shape()));
    return DispatchByElement(data.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      const T* src = Elems<T>(data);
      T* dst = Elems<T>(*y);
      ParallelItems(ctx, static_cast<int64_t>(offsets.size()), 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) dst[i] = src[offsets[i]];
      });
      return Status::Ok();
    });
  })(init);
}

// ------------------------------------------------------------------------------- GatherND

// Where each k-tuple of `indices` starts in `data` (GatherND and ScatterND).
struct NdPlan {
  std::vector<int64_t> offsets;  // one per tuple
  int64_t slice = 1;             // elements per tuple
  Shape prefix;                  // indices.shape[:-1]
};

StatusOr<NdPlan> PlanNd(const KernelContext& ctx, const Tensor& data, const Tensor& indices,
                        int64_t batch_dims) {
  const int64_t r = static_cast<int64_t>(data.rank()), q = static_cast<int64_t>(indices.rank());
  if (r < 1 || q < 1)
    return ctx.Error("data " + ShapeToString(data.shape()) + " and indices " +
                     ShapeToString(indices.shape()) + " must have rank >= 1");
  if (batch_dims < 0 || batch_dims >= std::min(r, q))
    return ctx.Error("batch_dims " + Str(batch_dims) + " must be in [0, " + Str(std::min(r, q)) +
                     ")");
  for (int64_t d = 0; d < batch_dims; ++d)
    if (indices.dim(d) != data.dim(d))
      return ctx.Error("the batch dims of indices " + ShapeToString(indices.shape()) +
                       " and data " + ShapeToString(data.shape()) + " differ");
  const int64_t k = indices.dim(q - 1);
  if (k < 1 || k > r - batch_dims)
    return ctx.Error("indices " + ShapeToString(indices.shape()) + " have tuples of " + Str(k) +
                     " values; data " + ShapeToString(data.shape()) + " with batch_dims " +
                     Str(batch_dims) + " allows 1 to " + Str(r - batch_dims));
  ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadInts(ctx, 1, "indices"));
  NdPlan plan;
  plan.prefix.assign(indices.shape().begin(), indices.shape().end() - 1);
  plan.slice = Product(data.shape(), batch_dims + k, r);
  const std::vector<int64_t> ds = ContiguousStrides(data.shape());
  const int64_t tuples = static_cast<int64_t>(idx.size()) / k;
  const int64_t per_batch = Product(indices.shape(), batch_dims, q - 1);
  const int64_t batch_stride = Product(data.shape(), batch_dims, r);
  plan.offsets.resize(tuples);
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = per_batch ? (t / per_batch) * batch_stride : 0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t v = idx[t * k + j], i = v;
      const int64_t size = data.dim(batch_dims + j);
      if (!NormalizeIndex(i, size))
        return ctx.Error(IndexError(v, size,
                                    "for data axis " + Str(batch_dims + j) + " of size " +
                                        Str(size) + " (data shape " + ShapeToString(data.shape()) +
                                        ")"));
      off += i * ds[batch_dims + j];
    }
    plan.offsets[t] = off;
  }
  return plan;
}

StatusOr<std::unique_ptr<Kernel>> MakeGatherND(const KernelInit& init) {
  int64_t batch_dims = init.opset >= 12 ? init.node.GetInt("batch_dims", 0) : 0;
  if (batch_dims < 0) return init.Invalid("batch_dims must be >= 0");
  return SimpleKernel([batch_dims](KernelContext& ctx) -> Status {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    ASSIGN_OR_RETURN(NdPlan plan, PlanNd(ctx, data, indices, batch_dims));
    const int64_t k = indices.dim(indices.rank() - 1);
    Shape out = plan.prefix;
    out.insert(out.end(), data.shape().begin() + batch_dims + k, data.shape().end());
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, data.dtype(), out));
    return DispatchByElement(data.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      const T* src = Elems<T>(data);
      T* dst = Elems<T>(*y);
      const int64_t slice = plan.slice;
      ParallelItems(ctx, static_cast<int64_t>(plan.offsets.size()), slice,
                    [&](int64_t b, int64_t e) {
                      for (int64_t t = b; t < e; ++t)
                        std::copy_n(src + plan.offsets[t], slice, dst + t * slice);
                    });
      return Status::Ok();
    });
  })(init);
}

// ------------------------------------------------------------------------------- Scatter

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

StatusOr<Reduction> ParseReduction(const KernelInit& init) {
  if (init.opset < 16) return Reduction::kNone;
  std::string s = init.node.GetString("reduction", "none");
  if (s == "none") return Reduction::kNone;
  if (s == "add") return Reduction::kAdd;
  if (s == "mul") return Reduction::kMul;
  if (s == "max" && init.opset >= 18) return Reduction::kMax;
  if (s == "min" && init.opset >= 18) return Reduction::kMin;
  return init.Invalid("reduction '" + s + "' is not allowed at this opset");
}

template <typename T>
T CombineInt(T a, T b, Reduction r) {
  switch (r) {
    case Reduction::kAdd:
      return static_cast<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
    case Reduction::kMul:
      return static_cast<T>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
    case Reduction::kMax: return std::max(a, b);
    case Reduction::kMin: return std::min(a, b);
    case Reduction::kNone: break;
  }
  return b;
}

template <typename T>
T CombineFloat(T a, T b, Reduction r) {
  switch (r) {
    case Reduction::kAdd: return a + b;
    case Reduction::kMul: return a * b;
    case Reduction::kMax: return std::isnan(a) || std::isnan(b) ? a + b : std::max(a, b);
    case Reduction::kMin: return std::isnan(a) || std::isnan(b) ? a + b : std::min(a, b);
    case Reduction::kNone: break;
  }
  return b;
}

bool IsReducible(DataType t) { return IsNumberType(t); }

// Calls fn(T*, apply) where apply(T& dst, const T& src) folds an update into the output with
// `reduction` (assignment for kNone, for every dtype).
template <typename Fn>
Status DispatchScatter(DataType dtype, Reduction reduction, Fn&& fn) {
  if (reduction == Reduction::kNone) {
    return DispatchByElement(dtype, [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      return fn(tag, [](T& dst, const T& src) { dst = src; });
    });
  }
  auto ints = [&](auto* tag) -> Status {
    using T = std::remove_pointer_t<decltype(tag)>;
    return fn(tag, [reduction](T& dst, const T& src) { dst = CombineInt<T>(dst, src, reduction); });
  };
  switch (dtype) {
    case DataType::kFloat:
      return fn(static_cast<float*>(nullptr), [reduction](float& dst, const float& src) {
        dst = CombineFloat(dst, src, reduction);
      });
    case DataType::kDouble:
      return fn(static_cast<double*>(nullptr), [reduction](double& dst, const double& src) {
        dst = CombineFloat(dst, src, reduction);
      });
    case DataType::kFloat16:
      return fn(static_cast<uint16_t*>(nullptr), [reduction](uint16_t& dst, const uint16_t& src) {
        dst = FloatToHalf(CombineFloat(HalfToFloat(dst), HalfToFloat(src), reduction));
      });
    case DataType::kBfloat16:
      return fn(static_cast<uint16_t*>(nullptr), [reduction](uint16_t& dst, const uint16_t& src) {
        dst = FloatToBfloat16(CombineFloat(Bfloat16ToFloat(dst), Bfloat16ToFloat(src), reduction));
      });
    case DataType::kBool:
      // NumPy's bool arithmetic: add/max = or, mul/min = and.
      return fn(static_cast<uint8_t*>(nullptr), [reduction](uint8_t& dst, const uint8_t& src) {
        bool a = dst != 0, b = src != 0;
        dst = (reduction == Reduction::kAdd || reduction == Reduction::kMax) ? (a || b) : (a && b);
      });
    case DataType::kInt8: return ints(static_cast<int8_t*>(nullptr));
    case DataType::kInt16: return ints(static_cast<int16_t*>(nullptr));
    case DataType::kInt32: return ints(static_cast<int32_t*>(nullptr));
    case DataType::kInt64: return ints(static_cast<int64_t*>(nullptr));
    case DataType::kUint8: return ints(static_cast<uint8_t*>(nullptr));
    case DataType::kUint16: return ints(static_cast<uint16_t*>(nullptr));
    case DataType::kUint32: return ints(static_cast<uint32_t*>(nullptr));
    case DataType::kUint64: return ints(static_cast<uint64_t*>(nullptr));
    default: break;
  }
  return Unsupported(std::string("scatter reductions on dtype ") + DataTypeName(dtype));
}

StatusOr<std::unique_ptr<Kernel>> MakeScatterND(const KernelInit& init) {
  ASSIGN_OR_RETURN(Reduction reduction, ParseReduction(init));
  DataType t = DeclaredType(init, 0);
  if (reduction != Reduction::kNone && t != DataType::kUndefined && !IsReducible(t))
    return init.Unsupported(std::string("reductions on dtype ") + DataTypeName(t));
  return SimpleKernel([reduction](KernelContext& ctx) -> Status {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    const Tensor& updates = *ctx.input(2);
    ASSIGN_OR_RETURN(NdPlan plan, PlanNd(ctx, data, indices, 0));
    const int64_t k = indices.dim(indices.rank() - 1);
    Shape expected = plan.prefix;
    expected.insert(expected.end(), data.shape().begin() + k, data.shape().end());
    if (updates.shape() != expected || updates.dtype() != data.dtype())
      return ctx.Error("updates " + ShapeToString(updates.shape()) + " (" +
                       DataTypeName(updates.dtype()) + ") must be " + ShapeToString(expected) +
                       " (" + DataTypeName(data.dtype()) + ")");
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, data.dtype(), data.shape()));
    Status st = DispatchScatter(data.dtype(), reduction, [&](auto* tag, auto apply) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      T* dst = Elems<T>(*y);
      const T* upd = Elems<T>(updates);
      std::copy_n(Elems<T>(data), data.numel(), dst);
      const int64_t slice = plan.slice;
      for (size_t t = 0; t < plan.offsets.size(); ++t)
        for (int64_t e = 0; e < slice; ++e) apply(dst[plan.offsets[t] + e], upd[t * slice + e]);
      return Status::Ok();
    });
    return st.ok() ? st : ctx.Error(st.message());
  })(init);
}

StatusOr<std::unique_ptr<Kernel>> MakeScatterElements(const KernelInit& init) {
  ASSIGN_OR_RETURN(Reduction reduction, ParseReduction(init));
  if (init.node.op_type() == "Scatter") reduction = Reduction::kNone;
  DataType t = DeclaredType(init, 0);
  if (reduction != Reduction::kNone && t != DataType::kUndefined && !IsReducible(t))
    return init.Unsupported(std::string("reductions on dtype ") + DataTypeName(t));
  int64_t axis = init.node.GetInt("axis", 0);
  return SimpleKernel([reduction, axis](KernelContext& ctx) -> Status {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    const Tensor& updates = *ctx.input(2);
    if (updates.shape() != indices.shape() || updates.dtype() != data.dtype())
      return ctx.Error("updates " + ShapeToString(updates.shape()) + " (" +
                       DataTypeName(updates.dtype()) + ") must have the shape of indices " +
                       ShapeToString(indices.shape()) + " and the dtype of data (" +
                       DataTypeName(data.dtype()) + ")");
    ASSIGN_OR_RETURN(std::vector<int64_t> offsets, ElementOffsets(ctx, data, indices, axis));
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, data.dtype(), data.shape()));
    Status st = DispatchScatter(data.dtype(), reduction, [&](auto* tag, auto apply) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      T* dst = Elems<T>(*y);
      const T* upd = Elems<T>(updates);
      std::copy_n(Elems<T>(data), data.numel(), dst);
      for (size_t i = 0; i < offsets.size(); ++i) apply(dst[offsets[i]], upd[i]);
      return Status::Ok();
    });
    return st.ok() ? st : ctx.Error(st.message());
  })(init);
}

// ------------------------------------------------------------------------------- OneHot

StatusOr<std::vector<int64_t>> ReadIndexValues(const Tensor& t) {
  if (t.dtype() == DataType::kFloat || t.dtype() == DataType::kDouble ||
      t.dtype() == DataType::kFloat16 || t.dtype() == DataType::kBfloat16) {
    std::vector<double> d = t.ToDoubleVector();
    std::vector<int64_t> out(d.size());
    for (size_t i = 0; i < d.size(); ++i) {
      double v = std::trunc(d[i]);
      // NaN and huge values can never name a position: map them outside every range.
      out[i] = std::isnan(v) || std::fabs(v) > 9e18 ? std::numeric_limits<int64_t>::max()
                                                    : static_cast<int64_t>(v);
    }
    return out;
  }
  return t.ToInt64Vector();
}

StatusOr<std::unique_ptr<Kernel>> MakeOneHot(const KernelInit& init) {
  int64_t axis_attr = init.node.GetInt("axis", -1);
  bool negative_indices = init.opset >= 11;
  return SimpleKernel([axis_attr, negative_indices](KernelContext& ctx) -> Status {
    const Tensor& indices = *ctx.input(0);
    const Tensor& depth_t = *ctx.input(1);
    const Tensor& values = *ctx.input(2);
    if (depth_t.numel() != 1)
      return ctx.Error("depth must have exactly one element, got shape " +
                       ShapeToString(depth_t.shape()));
    if (values.numel() != 2)
      return ctx.Error("values must be [off_value, on_value], got shape " +
                       ShapeToString(values.shape()));
    auto depth_v = ReadIndexValues(depth_t);
    if (!depth_v.ok()) return ctx.Error("depth: " + depth_v.status().message());
    const int64_t depth = (*depth_v)[0];
    if (depth < 1 || depth > (int64_t{1} << 40))
      return ctx.Error("depth " + Str(depth) + " must be positive");
    auto idx = ReadIndexValues(indices);
    if (!idx.ok()) return ctx.Error("indices: " + idx.status().message());
    const int64_t r = static_cast<int64_t>(indices.rank());
    int64_t axis = axis_attr;
    if (!NormalizeAxis(axis, r + 1)) return ctx.Error(AxisRangeError(axis_attr, r + 1));
    Shape out = indices.shape();
    out.insert(out.begin() + axis, depth);
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, values.dtype(), out));
    const int64_t inner = Product(indices.shape(), axis, r);
    return DispatchByElement(values.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      const T off = Elems<T>(values)[0], on = Elems<T>(values)[1];
      T* dst = Elems<T>(*y);
      std::fill_n(dst, y->numel(), off);
      for (size_t p = 0; p < idx->size(); ++p) {
        int64_t i = (*idx)[p];
        if (i < 0 && negative_indices && i >= -depth) i += depth;
        if (i < 0 || i >= depth) continue;
        const int64_t o = static_cast<int64_t>(p) / inner, in = static_cast<int64_t>(p) % inner;
        dst[(o * depth + i) * inner + in] = on;
      }
      return Status::Ok();
    });
  })(init);
}

// ------------------------------------------------------------------------------- NonZero

// Whether element i is non-zero: any bit set, ignoring float sign bits (-0.0 is zero).
bool IsNonZero(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kString: return !t.strings()[i].empty();
    case DataType::kFloat: return (t.data<uint32_t>()[i] & 0x7fffffffu) != 0;
    case DataType::kDouble: return (t.data<uint64_t>()[i] & 0x7fffffffffffffffull) != 0;
    case DataType::kFloat16:
    case DataType::kBfloat16: return (t.data<uint16_t>()[i] & 0x7fffu) != 0;
    case DataType::kComplex64:
      return (t.data<uint32_t>()[2 * i] & 0x7fffffffu) != 0 ||
             (t.data<uint32_t>()[2 * i + 1] & 0x7fffffffu) != 0;
    case DataType::kComplex128:
      return (t.data<uint64_t>()[2 * i] & 0x7fffffffffffffffull) != 0 ||
             (t.data<uint64_t>()[2 * i + 1] & 0x7fffffffffffffffull) != 0;
    default: break;
  }
  switch (DataTypeSize(t.dtype())) {
    case 1: return t.data<uint8_t>()[i] != 0;
    case 2: return t.data<uint16_t>()[i] != 0;
    case 4: return t.data<uint32_t>()[i] != 0;
    case 8: return t.data<uint64_t>()[i] != 0;
    default: return false;
  }
}

StatusOr<std::unique_ptr<Kernel>> MakeNonZero(const KernelInit& init) {
  return SimpleKernel([](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.input(0);
    if (!IsMovable(x.dtype()))
      return ctx.Error(std::string("dtype ") + DataTypeName(x.dtype()) + " is not supported");
    std::vector<int64_t> hits;
    for (int64_t i = 0; i < x.numel(); ++i)
      if (IsNonZero(x, i)) hits.push_back(i);
    // A scalar counts as a 1-element vector (NumPy's behaviour).
    const Shape shape = x.rank() == 0 ? Shape{1} : x.shape();
    const int64_t r = static_cast<int64_t>(shape.size());
    const int64_t nnz = static_cast<int64_t>(hits.size());
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, DataType::kInt64, {r, nnz}));
    int64_t* out = y->data<int64_t>();
    for (int64_t j = 0; j < nnz; ++j) {
      int64_t rem = hits[j];
      for (int64_t d = r; d-- > 0;) {
        out[d * nnz + j] = rem % shape[d];
        rem /= shape[d];
      }
    }
    return Status::Ok();
  })(init);
}

}  // namespace

void RegisterGatherScatterKernels(KernelRegistry& r) {
  r.Add("Gather", 1, 10, MakeGather);
  r.Add("Gather", 11, 1000, MakeGather);  // negative indices
  r.Add("GatherElements", 11, 1000, MakeGatherElements);
  r.Add("GatherND", 11, 11, MakeGatherND);
  r.Add("GatherND", 12, 1000, MakeGatherND);  // batch_dims
  r.Add("ScatterND", 11, 15, MakeScatterND);
  r.Add("ScatterND", 16, 17, MakeScatterND);    // reduction add/mul
  r.Add("ScatterND", 18, 1000, MakeScatterND);  // + max/min
  r.Add("ScatterElements", 11, 15, MakeScatterElements);
  r.Add("ScatterElements", 16, 17, MakeScatterElements);
  r.Add("ScatterElements", 18, 1000, MakeScatterElements);
  r.Add("Scatter", 9, 10, MakeScatterElements);  // deprecated since 11
  r.Add("OneHot", 9, 10, MakeOneHot);
  r.Add("OneHot", 11, 1000, MakeOneHot);  // negative indices
  r.Add("NonZero", 9, 1000, MakeNonZero);
}

}  // namespace edgefit
