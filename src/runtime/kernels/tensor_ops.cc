// Kernel family: tensor ops (data movement). Transpose, Concat, Split, Slice, Expand, Tile, Pad,
// DepthToSpace, SpaceToDepth, Trilu.
//
// Every kernel works for every dtype: bodies are templates over the element's storage type
// (data_movement.h). Most of them describe their output as a strided view of the input and
// run StridedCopy; Transpose has a blocked fast path for (batched) 2-D transposes, which is what
// NCHW<->NHWC and the 6-D [0,1,2,4,5,3] permutations reduce to once contiguous dims are merged.
#include <set>

#include "runtime/kernels/broadcast.h"
#include "runtime/kernels/data_movement.h"
#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

using namespace datamove;

std::string Str(int64_t v) { return std::to_string(v); }

// Bounds that keep shape arithmetic far from int64 overflow (no real tensor comes close).
constexpr int64_t kMaxDim = int64_t{1} << 50;
constexpr int64_t kMaxBlock = int64_t{1} << 20;

// ------------------------------------------------------------------------------- Transpose

// out[b][r][c] = in[b][c][r] for b < batches, r < rows, c < cols (in is cols x rows per batch).
template <typename T>
void BlockedTranspose(const KernelContext& ctx, const T* in, T* out, int64_t batches, int64_t rows,
                      int64_t cols) {
  constexpr int64_t kBlock = 32;
  const int64_t row_blocks = (rows + kBlock - 1) / kBlock;
  const int64_t col_blocks = (cols + kBlock - 1) / kBlock;
  const int64_t tiles = row_blocks * col_blocks;
  ParallelItems(ctx, batches * tiles, rows * cols / tiles, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t b = item / tiles, tile = item % tiles;
      const int64_t r0 = (tile / col_blocks) * kBlock, r1 = std::min(rows, r0 + kBlock);
      const int64_t c0 = (tile % col_blocks) * kBlock, c1 = std::min(cols, c0 + kBlock);
      const T* src = in + b * rows * cols;
      T* dst = out + b * rows * cols;
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) dst[r * cols + c] = src[c * rows + r];
    }
  });
}

template <typename T>
void TransposeImpl(const KernelContext& ctx, const Tensor& x, const std::vector<int64_t>& perm,
                   Tensor& y) {
  std::vector<int64_t> in_strides = ContiguousStrides(x.shape());
  Shape shape(perm.size());
  std::vector<int64_t> strides(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    shape[i] = x.dim(perm[i]);
    strides[i] = in_strides[perm[i]];
  }
  if (y.numel() == 0) return;
  CoalesceDims(shape, strides);
  // Batched 2-D transpose: output [B,] R, C reads the input as [B,] C, R.
  if (shape.size() == 2 && strides[0] == 1 && strides[1] == shape[0]) {
    BlockedTranspose(ctx, Elems<T>(x), Elems<T>(y), 1, shape[0], shape[1]);
  } else if (shape.size() == 3 && strides[1] == 1 && strides[2] == shape[1] &&
             strides[0] == shape[1] * shape[2]) {
    BlockedTranspose(ctx, Elems<T>(x), Elems<T>(y), shape[0], shape[1], shape[2]);
  } else {
    StridedCopy(ctx, Elems<T>(x), 0, shape, strides, Elems<T>(y));
  }
}

StatusOr<std::unique_ptr<Kernel>> MakeTranspose(const KernelInit& init) {
  const Attribute* a = init.node.FindAttribute("perm");
  bool has_perm = a != nullptr;
  std::vector<int64_t> perm = has_perm ? a->ints : std::vector<int64_t>{};
  if (has_perm) {
    std::vector<bool> seen(perm.size(), false);
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[p])
        return init.Invalid("perm " + IntsToString(perm) + " is not a permutation");
      seen[p] = true;
    }
  }
  return SimpleKernel([has_perm, perm](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.input(0);
    std::vector<int64_t> p = perm;
    if (!has_perm) {
      for (size_t i = x.rank(); i-- > 0;) p.push_back(static_cast<int64_t>(i));
    } else if (p.size() != x.rank()) {
      return ctx.Error("perm " + IntsToString(p) + " does not match the input's rank " +
                       Str(x.rank()) + " (shape " + ShapeToString(x.shape()) + ")");
    }
    Shape out(p.size());
    for (size_t i = 0; i < p.size(); ++i) out[i] = x.dim(p[i]);
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), out));
    return DispatchByElement(x.dtype(), [&](auto* tag) -> Status {
      TransposeImpl<std::remove_pointer_t<decltype(tag)>>(ctx, x, p, *y);
      return Status::Ok();
    });
  })(init);
}

// ------------------------------------------------------------------------------- Concat

StatusOr<std::unique_ptr<Kernel>> MakeConcat(const KernelInit& init) {
  if (init.opset >= 4 && !init.node.HasAttribute("axis"))
    return init.Invalid("attribute 'axis' is required");
  int64_t axis_attr = init.node.GetInt("axis", 1);
  return SimpleKernel([axis_attr](KernelContext& ctx) -> Status {
    size_t n = ctx.num_inputs();
    if (n == 0) return ctx.Error("needs at least one input");
    for (size_t i = 0; i < n; ++i)
      if (!ctx.input(i)) return ctx.Error("input " + Str(i) + " is missing");
    const Tensor& first = *ctx.input(0);
    int64_t r = static_cast<int64_t>(first.rank());
    if (r == 0) return ctx.Error("cannot concatenate scalars");
    int64_t axis = axis_attr;
    if (!NormalizeAxis(axis, r)) return ctx.Error(AxisRangeError(axis_attr, r));
    Shape out = first.shape();
    out[axis] = 0;
    for (size_t i = 0; i < n; ++i) {
      const Tensor& t = *ctx.input(i);
      bool ok = t.rank() == first.rank() && t.dtype() == first.dtype();
      for (int64_t d = 0; ok && d < r; ++d) ok = d == axis || t.dim(d) == first.dim(d);
      if (!ok)
        return ctx.Error("input " + Str(i) + " " + ShapeToString(t.shape()) + " (" +
                         DataTypeName(t.dtype()) + ") does not match input 0 " +
                         ShapeToString(first.shape()) + " (" + DataTypeName(first.dtype()) +
                         ") outside axis " + Str(axis));
      out[axis] += t.dim(axis);
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, first.dtype(), out));
    const int64_t outer = Product(out, 0, axis);
    const int64_t inner = Product(out, axis + 1, out.size());
    const int64_t out_row = out[axis] * inner;
    std::vector<int64_t> offset(n + 1, 0);  // element offset of each input inside an out row
    for (size_t i = 0; i < n; ++i) offset[i + 1] = offset[i] + ctx.input(i)->dim(axis) * inner;
    return DispatchByElement(first.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      T* dst = Elems<T>(*y);
      int64_t items = outer * static_cast<int64_t>(n);
      ParallelItems(ctx, items, out_row / static_cast<int64_t>(n), [&](int64_t b, int64_t e) {
        for (int64_t item = b; item < e; ++item) {
          int64_t o = item / static_cast<int64_t>(n);
          size_t i = static_cast<size_t>(item % static_cast<int64_t>(n));
          int64_t chunk = offset[i + 1] - offset[i];
          if (chunk == 0) continue;
          std::copy_n(Elems<T>(*ctx.input(i)) + o * chunk, chunk, dst + o * out_row + offset[i]);
        }
      });
      return Status::Ok();
    });
  })(init);
}

// ------------------------------------------------------------------------------- Split

class SplitKernel : public Kernel {
 public:
  SplitKernel(int64_t opset, int64_t axis, std::vector<int64_t> split, bool has_split,
              int64_t num_outputs)
      : opset_(opset),
        axis_(axis),
        split_(std::move(split)),
        has_split_(has_split),
        num_outputs_(num_outputs) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    int64_t r = static_cast<int64_t>(x.rank());
    int64_t axis = axis_;
    if (!NormalizeAxis(axis, r)) return ctx.Error(AxisRangeError(axis_, r));
    const int64_t dim = x.dim(axis);
    const int64_t n = static_cast<int64_t>(ctx.num_outputs());
    std::vector<int64_t> sizes = split_;
    bool has_split = has_split_;
    if (opset_ >= 13 && ctx.input(1) && ctx.input(1)->numel() > 0) {
      ASSIGN_OR_RETURN(sizes, ReadInts(ctx, 1, "split"));
      has_split = true;
    }
    if (has_split) {
      int64_t sum = 0;
      for (int64_t s : sizes) {
        if (s < 0 || s > dim)
          return ctx.Error("split " + IntsToString(sizes) + " does not split axis " + Str(axis) +
                           " of size " + Str(dim));
        sum += s;
      }
      if (static_cast<int64_t>(sizes.size()) != n || sum != dim)
        return ctx.Error("split " + IntsToString(sizes) + " does not split axis " + Str(axis) +
                         " of size " + Str(dim) + " into " + Str(n) + " outputs");
    } else {
      int64_t parts = num_outputs_ > 0 ? num_outputs_ : n;
      if (parts != n)
        return ctx.Error("num_outputs is " + Str(parts) + " but the node has " + Str(n) +
                         " outputs");
      int64_t chunk = (dim + parts - 1) / parts;
      if (opset_ < 18 && dim % parts != 0)
        return ctx.Error("axis " + Str(axis) + " of size " + Str(dim) + " cannot be split into " +
                         Str(parts) + " equal parts");
      sizes.assign(parts, chunk);
      sizes.back() = dim - chunk * (parts - 1);
      if (sizes.back() < 0)
        return ctx.Error("axis " + Str(axis) + " of size " + Str(dim) + " cannot be split into " +
                         Str(parts) + " parts of " + Str(chunk));
    }
    const int64_t outer = Product(x.shape(), 0, axis);
    const int64_t inner = Product(x.shape(), axis + 1, x.rank());
    int64_t start = 0;
    for (int64_t j = 0; j < n; ++j) {
      int64_t size = sizes[j];
      int64_t begin = start;
      start += size;
      if (!ctx.output_wanted(j)) continue;
      Shape shape = x.shape();
      shape[axis] = size;
      ASSIGN_OR_RETURN(Tensor * y, ctx.Output(j, x.dtype(), shape));
      RETURN_IF_ERROR(DispatchByElement(x.dtype(), [&](auto* tag) -> Status {
        using T = std::remove_pointer_t<decltype(tag)>;
        StridedCopy(ctx, Elems<T>(x), begin * inner, {outer, size * inner}, {dim * inner, 1},
                    Elems<T>(*y));
        return Status::Ok();
      }));
    }
    return Status::Ok();
  }

 private:
  int64_t opset_, axis_;
  std::vector<int64_t> split_;
  bool has_split_;
  int64_t num_outputs_;
};

StatusOr<std::unique_ptr<Kernel>> MakeSplit(const KernelInit& init) {
  int64_t axis = init.node.GetInt("axis", 0);
  const Attribute* split = init.opset < 13 ? init.node.FindAttribute("split") : nullptr;
  int64_t num_outputs = 0;
  if (init.opset >= 18) {
    if (const Attribute* a = init.node.FindAttribute("num_outputs")) {
      if (init.has_input(1))
        return init.Invalid("the 'split' input and 'num_outputs' cannot both be given");
      num_outputs = a->i;
      if (num_outputs < 1) return init.Invalid("num_outputs must be positive");
      if (num_outputs != static_cast<int64_t>(init.num_outputs))
        return init.Invalid("num_outputs is " + Str(num_outputs) + " but the node has " +
                            Str(init.num_outputs) + " outputs");
    }
  }
  if (init.num_outputs == 0) return init.Invalid("needs at least one output");
  return std::unique_ptr<Kernel>(new SplitKernel(init.opset, axis,
                                                 split ? split->ints : std::vector<int64_t>{},
                                                 split != nullptr, num_outputs));
}

// ------------------------------------------------------------------------------- Slice

class SliceKernel : public Kernel {
 public:
  SliceKernel(bool from_inputs, std::vector<int64_t> starts, std::vector<int64_t> ends,
              std::vector<int64_t> axes, bool has_axes)
      : from_inputs_(from_inputs),
        starts_(std::move(starts)),
        ends_(std::move(ends)),
        axes_(std::move(axes)),
        has_axes_(has_axes) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    const int64_t r = static_cast<int64_t>(x.rank());
    std::vector<int64_t> starts = starts_, ends = ends_, axes = axes_, steps;
    bool has_axes = has_axes_;
    if (from_inputs_) {
      ASSIGN_OR_RETURN(starts, ReadInts(ctx, 1, "starts"));
      ASSIGN_OR_RETURN(ends, ReadInts(ctx, 2, "ends"));
      if (ctx.input(3)) {
        ASSIGN_OR_RETURN(axes, ReadInts(ctx, 3, "axes"));
        has_axes = true;
      }
      if (ctx.input(4)) {
        ASSIGN_OR_RETURN(steps, ReadInts(ctx, 4, "steps"));
      }
    }
    const size_t n = starts.size();
    if (!has_axes) {
      axes.resize(n);
      for (size_t i = 0; i < n; ++i) axes[i] = static_cast<int64_t>(i);
    }
    if (steps.empty()) steps.assign(n, 1);
    if (ends.size() != n || axes.size() != n || steps.size() != n)
      return ctx.Error("starts " + IntsToString(starts) + ", ends " + IntsToString(ends) +
                       ", axes " + IntsToString(axes) + " and steps " + IntsToString(steps) +
                       " must have the same length");
    Shape out = x.shape();
    std::vector<int64_t> first(r, 0), step(r, 1);
    std::vector<bool> seen(r, false);
    for (size_t i = 0; i < n; ++i) {
      int64_t axis = axes[i];
      if (!NormalizeAxis(axis, r)) return ctx.Error(AxisRangeError(axes[i], r));
      if (seen[axis]) return ctx.Error("axes " + IntsToString(axes) + " repeat an axis");
      seen[axis] = true;
      const int64_t dim = x.dim(axis), s = steps[i];
      if (s == 0) return ctx.Error("steps " + IntsToString(steps) + " contain 0");
      int64_t b = starts[i], e = ends[i];
      if (b < 0) b += dim;
      if (e < 0) e += dim;
      // A step longer than the axis takes at most one element: counting with the axis size
      // instead keeps the arithmetic from overflowing on steps such as INT64_MAX.
      const int64_t span = std::max<int64_t>(dim, 1);
      int64_t count = 0;
      if (s > 0) {
        b = std::clamp<int64_t>(b, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
        int64_t ps = std::min(s, span);
        if (e > b) count = (e - b + ps - 1) / ps;
      } else if (dim > 0) {
        b = std::clamp<int64_t>(b, 0, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
        int64_t ns = s < -span ? span : -s;
        if (b > e) count = (b - e + ns - 1) / ns;
      }
      out[axis] = count;
      first[axis] = count > 0 ? b : 0;
      step[axis] = count > 1 ? s : 1;
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), out));
    if (y->numel() == 0) return Status::Ok();
    std::vector<int64_t> in_strides = ContiguousStrides(x.shape());
    std::vector<int64_t> strides(r);
    int64_t base = 0;
    for (int64_t d = 0; d < r; ++d) {
      base += first[d] * in_strides[d];
      strides[d] = step[d] * in_strides[d];
    }
    return DispatchByElement(x.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      StridedCopy(ctx, Elems<T>(x), base, out, strides, Elems<T>(*y));
      return Status::Ok();
    });
  }

 private:
  bool from_inputs_;
  std::vector<int64_t> starts_, ends_, axes_;
  bool has_axes_;
};

StatusOr<std::unique_ptr<Kernel>> MakeSlice(const KernelInit& init) {
  if (init.opset >= 10) {
    if (const Tensor* steps = init.constant(4)) {
      auto v = steps->ToInt64Vector();
      if (!v.ok()) return init.Invalid("steps: " + v.status().message());
      for (int64_t s : *v)
        if (s == 0) return init.Invalid("steps " + IntsToString(*v) + " contain 0");
    }
    return std::unique_ptr<Kernel>(new SliceKernel(true, {}, {}, {}, false));
  }
  const Attribute* starts = init.node.FindAttribute("starts");
  const Attribute* ends = init.node.FindAttribute("ends");
  const Attribute* axes = init.node.FindAttribute("axes");
  if (!starts || !ends) return init.Invalid("attributes 'starts' and 'ends' are required");
  return std::unique_ptr<Kernel>(new SliceKernel(false, starts->ints, ends->ints,
                                                 axes ? axes->ints : std::vector<int64_t>{},
                                                 axes != nullptr));
}

// ------------------------------------------------------------------------------- Expand, Tile

StatusOr<std::unique_ptr<Kernel>> MakeExpand(const KernelInit& init) {
  return SimpleKernel([](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.input(0);
    ASSIGN_OR_RETURN(std::vector<int64_t> shape, ReadInts(ctx, 1, "shape"));
    for (int64_t d : shape)
      if (d < 0) return ctx.Error("shape " + IntsToString(shape) + " has a negative dim");
    auto out = BroadcastShapes({x.shape(), shape});
    if (!out.ok()) return ctx.Error(out.status().message());
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), *out));
    std::vector<int64_t> strides = BroadcastStrides(x.shape(), *out);
    return DispatchByElement(x.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      StridedCopy(ctx, Elems<T>(x), 0, *out, strides, Elems<T>(*y));
      return Status::Ok();
    });
  })(init);
}

StatusOr<std::unique_ptr<Kernel>> MakeTile(const KernelInit& init) {
  return SimpleKernel([](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.input(0);
    ASSIGN_OR_RETURN(std::vector<int64_t> repeats, ReadInts(ctx, 1, "repeats"));
    if (repeats.size() != x.rank())
      return ctx.Error("repeats " + IntsToString(repeats) + " must have one value per dim of " +
                       ShapeToString(x.shape()));
    Shape out(x.rank()), view;
    std::vector<int64_t> in_strides = ContiguousStrides(x.shape()), strides;
    for (size_t d = 0; d < x.rank(); ++d) {
      if (repeats[d] < 0)
        return ctx.Error("repeats " + IntsToString(repeats) + " has a negative value");
      if (repeats[d] > 0 && x.dim(d) > kMaxDim / repeats[d])
        return ctx.Error("repeats " + IntsToString(repeats) + " make " + ShapeToString(x.shape()) +
                         " too large");
      out[d] = x.dim(d) * repeats[d];
      // Output axis d is [repeat, dim] row-major: the repeat index does not move the source.
      view.push_back(repeats[d]);
      strides.push_back(0);
      view.push_back(x.dim(d));
      strides.push_back(in_strides[d]);
    }
    if (NumElements(out) < 0) return ctx.Error("output shape " + ShapeToString(out) + " overflows");
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), out));
    return DispatchByElement(x.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      StridedCopy(ctx, Elems<T>(x), 0, view, strides, Elems<T>(*y));
      return Status::Ok();
    });
  })(init);
}

// ------------------------------------------------------------------------------- Pad

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// The input index that output position i (already shifted by the begin pad) reads along an axis
// of size n, or -1 for the constant value.
int64_t PadSource(int64_t i, int64_t n, PadMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return i < 0 ? 0 : n - 1;
    case PadMode::kReflect: {
      if (n == 1) return 0;
      int64_t period = 2 * (n - 1);
      int64_t m = ((i % period) + period) % period;
      return m < n ? m : period - m;
    }
    case PadMode::kWrap: return ((i % n) + n) % n;
  }
  return -1;
}

// One axis of a Pad. Negative pads crop first (as ONNX Runtime does), then the kept window
// [lo, lo + len) is padded: output position o reads window position o - shift.
struct PadAxis {
  int64_t shift = 0;  // positive begin pad
  int64_t lo = 0;     // elements cropped at the begin
  int64_t len = 0;    // elements kept
  // The input index output position o reads, or -1 for the constant.
  int64_t Source(int64_t o, PadMode mode) const {
    int64_t i = PadSource(o - shift, len, mode);
    return i < 0 ? -1 : lo + i;
  }
};

template <typename T>
void PadImpl(const KernelContext& ctx, const Tensor& x, const std::vector<PadAxis>& axes,
             PadMode mode, const T& value, Tensor& y) {
  const T* in = Elems<T>(x);
  T* out = Elems<T>(y);
  const size_t r = x.rank();
  if (r == 0) {
    out[0] = in[0];
    return;
  }
  const Shape& os = y.shape();
  const int64_t inner_out = os[r - 1];
  const PadAxis& last = axes[r - 1];
  const int64_t rows = Product(os, 0, r - 1);
  const std::vector<int64_t> in_strides = ContiguousStrides(x.shape());
  // The run of the last axis that copies the kept window directly.
  const int64_t run_begin = std::min(last.shift, inner_out);
  const int64_t run_end = std::min(last.shift + last.len, inner_out);
  ParallelItems(ctx, rows, inner_out, [&](int64_t b, int64_t e) {
    std::vector<int64_t> coord(r - 1);
    for (int64_t row = b; row < e; ++row) {
      int64_t rem = row;
      for (size_t d = r - 1; d-- > 0;) {
        coord[d] = rem % os[d];
        rem /= os[d];
      }
      T* dst = out + row * inner_out;
      int64_t offset = 0;
      bool constant_row = false;
      for (size_t d = 0; d + 1 < r; ++d) {
        int64_t src = axes[d].Source(coord[d], mode);
        if (src < 0) {
          constant_row = true;
          break;
        }
        offset += src * in_strides[d];
      }
      if (constant_row) {
        std::fill_n(dst, inner_out, value);
        continue;
      }
      const T* src_row = in + offset;
      for (int64_t o = 0; o < run_begin; ++o) {
        int64_t s = last.Source(o, mode);
        dst[o] = s < 0 ? value : src_row[s];
      }
      if (run_end > run_begin) std::copy_n(src_row + last.lo, run_end - run_begin, dst + run_begin);
      for (int64_t o = std::max(run_begin, run_end); o < inner_out; ++o) {
        int64_t s = last.Source(o, mode);
        dst[o] = s < 0 ? value : src_row[s];
      }
    }
  });
}

class PadKernel : public Kernel {
 public:
  PadKernel(int64_t opset, PadMode mode, std::vector<int64_t> pads, float value)
      : opset_(opset), mode_(mode), pads_(std::move(pads)), value_(value) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    const int64_t r = static_cast<int64_t>(x.rank());
    std::vector<int64_t> pads = pads_, axes;
    if (opset_ >= 11) {
      ASSIGN_OR_RETURN(pads, ReadInts(ctx, 1, "pads"));
    }
    if (opset_ >= 18 && ctx.input(3)) {
      ASSIGN_OR_RETURN(axes, ReadInts(ctx, 3, "axes"));
    } else {
      for (int64_t d = 0; d < r; ++d) axes.push_back(d);
    }
    const size_t n = axes.size();
    if (pads.size() != 2 * n)
      return ctx.Error("pads " + IntsToString(pads) + " must have " + Str(2 * n) +
                       " values (begin and end for " + Str(n) + " axes of input " +
                       ShapeToString(x.shape()) + ")");
    std::vector<int64_t> begin(r, 0), end(r, 0);
    for (size_t i = 0; i < n; ++i) {
      int64_t axis = axes[i];
      if (!NormalizeAxis(axis, r)) return ctx.Error(AxisRangeError(axes[i], r));
      begin[axis] = pads[i];
      end[axis] = pads[i + n];
      auto huge = [](int64_t v) { return v > kMaxDim || v < -kMaxDim; };
      if (huge(pads[i]) || huge(pads[i + n]))
        return ctx.Error("pads " + IntsToString(pads) + " are too large");
    }
    Shape out(r);
    std::vector<PadAxis> pad_axes(r);
    for (int64_t d = 0; d < r; ++d) {
      PadAxis& a = pad_axes[d];
      a.shift = std::max<int64_t>(begin[d], 0);
      a.lo = std::max<int64_t>(-begin[d], 0);
      a.len = x.dim(d) - a.lo - std::max<int64_t>(-end[d], 0);
      if (a.len < 0)
        return ctx.Error("pads " + IntsToString(pads) + " remove more than axis " + Str(d) +
                         " of size " + Str(x.dim(d)));
      out[d] = a.shift + a.len + std::max<int64_t>(end[d], 0);
      if (mode_ != PadMode::kConstant && a.len == 0 && out[d] > 0)
        return ctx.Error("cannot pad the empty axis " + Str(d) + " (size " + Str(x.dim(d)) +
                         " after cropping) in a non-constant mode");
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), out));
    if (y->numel() == 0) return Status::Ok();
    // The constant: input 2 (opset 11+), else the 'value' attribute, else 0 / "" / false.
    const Tensor* cv = opset_ >= 11 ? ctx.input(2) : nullptr;
    if (cv && cv->numel() > 0 && cv->dtype() != x.dtype())
      return ctx.Error(std::string("constant_value has dtype ") + DataTypeName(cv->dtype()) +
                       ", the data " + DataTypeName(x.dtype()));
    return DispatchByElement(x.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      T value{};
      if (cv && cv->numel() > 0) {
        value = Elems<T>(*cv)[0];
      } else if (opset_ < 11 && value_ != 0) {
        if constexpr (!std::is_same_v<T, std::string> && !std::is_same_v<T, Bytes16>) {
          alignas(8) uint8_t bytes[16] = {};
          if (!StoreNumber(x.dtype(), bytes, value_))
            return ctx.Error(std::string("a pad value for dtype ") + DataTypeName(x.dtype()));
          std::memcpy(&value, bytes, sizeof(T));
        }
      }
      PadImpl<T>(ctx, x, pad_axes, mode_, value, *y);
      return Status::Ok();
    });
  }

 private:
  int64_t opset_;
  PadMode mode_;
  std::vector<int64_t> pads_;
  float value_;
};

StatusOr<std::unique_ptr<Kernel>> MakePad(const KernelInit& init) {
  std::string m = init.node.GetString("mode", "constant");
  PadMode mode;
  if (m == "constant")
    mode = PadMode::kConstant;
  else if (m == "reflect")
    mode = PadMode::kReflect;
  else if (m == "edge")
    mode = PadMode::kEdge;
  else if (m == "wrap" && init.opset >= 19)
    mode = PadMode::kWrap;
  else
    return init.Invalid("mode '" + m + "' is not a Pad mode at this opset");
  std::vector<int64_t> pads;
  float value = 0;
  if (init.opset < 11) {
    const Attribute* a = init.node.FindAttribute("pads");
    if (!a) return init.Invalid("attribute 'pads' is required");
    pads = a->ints;
    value = init.node.GetFloat("value", 0.0f);
  } else if (!init.has_input(1)) {
    return init.Invalid("input 'pads' is required");
  }
  return std::unique_ptr<Kernel>(new PadKernel(init.opset, mode, pads, value));
}

// ------------------------------------------------------------------------------- DepthToSpace

StatusOr<std::unique_ptr<Kernel>> MakeDepthToSpace(const KernelInit& init) {
  int64_t b = init.node.GetInt("blocksize", 0);
  if (b <= 0 || b > kMaxBlock)
    return init.Invalid("attribute 'blocksize' must be in [1, " + Str(kMaxBlock) + "]");
  std::string mode = init.opset >= 11 ? init.node.GetString("mode", "DCR") : "DCR";
  if (mode != "DCR" && mode != "CRD") return init.Invalid("mode '" + mode + "' is not DCR or CRD");
  bool crd = mode == "CRD";
  return SimpleKernel([b, crd](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.input(0);
    if (x.rank() != 4) return ctx.Error("input must be 4-D, got " + ShapeToString(x.shape()));
    const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
    if (C % (b * b) != 0)
      return ctx.Error("channels " + Str(C) + " are not divisible by blocksize^2 = " + Str(b * b));
    const int64_t c_out = C / (b * b);
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), {N, c_out, H * b, W * b}));
    const int64_t sn = C * H * W, sc = H * W, sh = W;
    // Output as [N, C', H, b(i), W, b(j)]; the source channel is (i*b + j)*C' + c (DCR) or
    // c*b*b + i*b + j (CRD).
    Shape view = {N, c_out, H, b, W, b};
    std::vector<int64_t> strides =
        crd ? std::vector<int64_t>{sn, b * b * sc, sh, b * sc, 1, sc}
            : std::vector<int64_t>{sn, sc, sh, b * c_out * sc, 1, c_out * sc};
    return DispatchByElement(x.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      StridedCopy(ctx, Elems<T>(x), 0, view, strides, Elems<T>(*y));
      return Status::Ok();
    });
  })(init);
}

StatusOr<std::unique_ptr<Kernel>> MakeSpaceToDepth(const KernelInit& init) {
  int64_t b = init.node.GetInt("blocksize", 0);
  if (b <= 0 || b > kMaxBlock)
    return init.Invalid("attribute 'blocksize' must be in [1, " + Str(kMaxBlock) + "]");
  return SimpleKernel([b](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.input(0);
    if (x.rank() != 4) return ctx.Error("input must be 4-D, got " + ShapeToString(x.shape()));
    const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
    if (H % b != 0 || W % b != 0)
      return ctx.Error("spatial dims " + Str(H) + "x" + Str(W) +
                       " are not divisible by blocksize " + Str(b));
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), {N, C * b * b, H / b, W / b}));
    const int64_t sn = C * H * W, sc = H * W, sh = W;
    // Output as [N, b(i), b(j), C, H/b, W/b] reading input (n, c, h*b + i, w*b + j).
    Shape view = {N, b, b, C, H / b, W / b};
    std::vector<int64_t> strides = {sn, sh, 1, sc, b * sh, b};
    return DispatchByElement(x.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      StridedCopy(ctx, Elems<T>(x), 0, view, strides, Elems<T>(*y));
      return Status::Ok();
    });
  })(init);
}

// ------------------------------------------------------------------------------- Trilu

StatusOr<std::unique_ptr<Kernel>> MakeTrilu(const KernelInit& init) {
  bool upper = init.node.GetInt("upper", 1) != 0;
  return SimpleKernel([upper](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.input(0);
    if (x.rank() < 2)
      return ctx.Error("input must have rank >= 2, got " + ShapeToString(x.shape()));
    int64_t k = 0;
    if (ctx.input(1)) {
      ASSIGN_OR_RETURN(std::vector<int64_t> kv, ReadInts(ctx, 1, "k"));
      if (kv.size() != 1) return ctx.Error("'k' must be a scalar");
      k = kv[0];
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), x.shape()));
    const int64_t rows = x.dim(x.rank() - 2), cols = x.dim(x.rank() - 1);
    const int64_t mats = Product(x.shape(), 0, x.rank() - 2);
    k = std::clamp<int64_t>(k, -rows - 1, cols + 1);  // keeps i + k from overflowing
    return DispatchByElement(x.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      const T* in = Elems<T>(x);
      T* out = Elems<T>(*y);
      ParallelItems(ctx, mats * rows, cols, [&](int64_t b, int64_t e) {
        for (int64_t row = b; row < e; ++row) {
          const int64_t i = row % rows;
          // Kept columns: j >= i + k (upper) or j <= i + k (lower).
          int64_t keep_lo = upper ? std::clamp<int64_t>(i + k, 0, cols) : 0;
          int64_t keep_hi = upper ? cols : std::clamp<int64_t>(i + k + 1, 0, cols);
          const T* src = in + row * cols;
          T* dst = out + row * cols;
          std::fill(dst, dst + keep_lo, T{});
          if (keep_hi > keep_lo) std::copy(src + keep_lo, src + keep_hi, dst + keep_lo);
          std::fill(dst + std::max(keep_lo, keep_hi), dst + cols, T{});
        }
      });
      return Status::Ok();
    });
  })(init);
}

}  // namespace

void RegisterTensorKernels(KernelRegistry& r) {
  r.Add("Transpose", 1, 1000, MakeTranspose);
  r.Add("Concat", 1, 3, MakeConcat);     // axis defaults to 1
  r.Add("Concat", 4, 1000, MakeConcat);  // axis required (negative from 11)
  r.Add("Split", 2, 12, MakeSplit);      // 'split' attribute
  r.Add("Split", 13, 17, MakeSplit);     // 'split' input
  r.Add("Split", 18, 1000, MakeSplit);   // + num_outputs, uneven last chunk
  r.Add("Slice", 1, 9, MakeSlice);       // starts/ends/axes attributes
  r.Add("Slice", 10, 1000, MakeSlice);   // inputs, steps
  r.Add("Expand", 8, 1000, MakeExpand);
  r.Add("Tile", 6, 1000, MakeTile);
  r.Add("Pad", 2, 10, MakePad);     // pads/value attributes
  r.Add("Pad", 11, 17, MakePad);    // pads/constant_value inputs
  r.Add("Pad", 18, 18, MakePad);    // + axes input
  r.Add("Pad", 19, 1000, MakePad);  // + wrap mode
  r.Add("DepthToSpace", 1, 10, MakeDepthToSpace);
  r.Add("DepthToSpace", 11, 1000, MakeDepthToSpace);  // mode DCR/CRD
  r.Add("SpaceToDepth", 1, 1000, MakeSpaceToDepth);
  r.Add("Trilu", 14, 1000, MakeTrilu);
}

}  // namespace edgefit
