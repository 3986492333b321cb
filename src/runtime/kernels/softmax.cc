// Kernel family: Softmax, LogSoftmax, Hardmax.
//
// Before opset 13 the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])] and the op
// runs over each row (axis defaults to 1); from 13 it runs along the single dimension `axis`
// (default -1). Both reduce to an [outer, d, inner] view: inner = 1 before 13. Rows are
// numerically stabilized by their maximum. Hardmax marks the first maximum of each row.
#include <cmath>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

using namespace elementwise;

enum class Mode { kSoftmax, kLogSoftmax, kHardmax };

// The number of inner positions processed together when the axis is not the last one.
constexpr int64_t kBlock = 64;

// One row of d contiguous elements.
template <class T>
void ContiguousRow(Mode mode, const T* x, T* y, int64_t d) {
  using C = Compute<T>;
  using E = Elem<T>;
  if (mode == Mode::kHardmax) {
    int64_t best = 0;
    C bv = E::Load(x[0]);
    for (int64_t j = 1; j < d; ++j) {
      C v = E::Load(x[j]);
      if (v > bv) bv = v, best = j;
    }
    for (int64_t j = 0; j < d; ++j) y[j] = E::Store(C(j == best ? 1 : 0));
    return;
  }
  C m = E::Load(x[0]);
  for (int64_t j = 1; j < d; ++j) {
    C v = E::Load(x[j]);
    m = v > m ? v : m;
  }
  C sum = 0;
  if (mode == Mode::kSoftmax) {
    if constexpr (std::is_same_v<T, C>) {
      for (int64_t j = 0; j < d; ++j) {
        y[j] = std::exp(x[j] - m);
        sum += y[j];
      }
      const C inv = C(1) / sum;
      for (int64_t j = 0; j < d; ++j) y[j] *= inv;
    } else {
      for (int64_t j = 0; j < d; ++j) sum += std::exp(E::Load(x[j]) - m);
      const C inv = C(1) / sum;
      for (int64_t j = 0; j < d; ++j) y[j] = E::Store(std::exp(E::Load(x[j]) - m) * inv);
    }
  } else {
    for (int64_t j = 0; j < d; ++j) sum += std::exp(E::Load(x[j]) - m);
    // (x - max) - log(sum): subtracting the max first keeps float32 precision when the
    // inputs are large (adding max and log(sum) first would round away small differences).
    const C log_sum = std::log(sum);
    for (int64_t j = 0; j < d; ++j) y[j] = E::Store((E::Load(x[j]) - m) - log_sum);
  }
}

// Positions [i0, i0 + w) of the inner dimension of one outer slab x[d][inner].
template <class T>
void StridedBlock(Mode mode, const T* x, T* y, int64_t d, int64_t inner, int64_t w) {
  using C = Compute<T>;
  using E = Elem<T>;
  C m[kBlock], sum[kBlock];
  int64_t best[kBlock];
  for (int64_t i = 0; i < w; ++i) m[i] = E::Load(x[i]), best[i] = 0, sum[i] = 0;
  for (int64_t k = 1; k < d; ++k) {
    const T* row = x + k * inner;
    for (int64_t i = 0; i < w; ++i) {
      C v = E::Load(row[i]);
      if (v > m[i]) m[i] = v, best[i] = k;
    }
  }
  if (mode == Mode::kHardmax) {
    for (int64_t k = 0; k < d; ++k)
      for (int64_t i = 0; i < w; ++i) y[k * inner + i] = E::Store(C(k == best[i] ? 1 : 0));
    return;
  }
  for (int64_t k = 0; k < d; ++k) {
    const T* row = x + k * inner;
    if constexpr (std::is_same_v<T, C>) {
      if (mode == Mode::kSoftmax) {
        T* out = y + k * inner;
        for (int64_t i = 0; i < w; ++i) {
          out[i] = std::exp(row[i] - m[i]);
          sum[i] += out[i];
        }
        continue;
      }
    }
    for (int64_t i = 0; i < w; ++i) sum[i] += std::exp(E::Load(row[i]) - m[i]);
  }
  if (mode == Mode::kSoftmax) {
    for (int64_t i = 0; i < w; ++i) sum[i] = C(1) / sum[i];
    for (int64_t k = 0; k < d; ++k) {
      const T* row = x + k * inner;
      T* out = y + k * inner;
      if constexpr (std::is_same_v<T, C>) {
        for (int64_t i = 0; i < w; ++i) out[i] *= sum[i];
      } else {
        for (int64_t i = 0; i < w; ++i)
          out[i] = E::Store(std::exp(E::Load(row[i]) - m[i]) * sum[i]);
      }
    }
  } else {
    for (int64_t i = 0; i < w; ++i) sum[i] = std::log(sum[i]);
    for (int64_t k = 0; k < d; ++k) {
      const T* row = x + k * inner;
      T* out = y + k * inner;
      for (int64_t i = 0; i < w; ++i) out[i] = E::Store((E::Load(row[i]) - m[i]) - sum[i]);
    }
  }
}

class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(Mode mode, int64_t axis, bool single_axis)
      : mode_(mode), axis_(axis), single_axis_(single_axis) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    int64_t axis = axis_;
    if (!NormalizeAxis(axis, rank))
      return ctx.Error("axis " + std::to_string(axis_) + " is out of range for input of shape " +
                       ShapeToString(x.shape()));
    int64_t outer = 1, d = 1, inner = 1;
    for (int64_t i = 0; i < rank; ++i) {
      if (i < axis)
        outer *= x.dim(i);
      else if (i == axis || !single_axis_)
        d *= x.dim(i);
      else
        inner *= x.dim(i);
    }
    return Visit(FloatTypes{}, x.dtype(), ctx.node_description(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), x.shape()));
      if (x.numel() == 0) return Status::Ok();
      const T* xd = x.data<T>();
      T* yd = y->data<T>();
      const Mode mode = mode_;
      const int64_t min_parallel = x.numel() >= kParallelMinExpensive ? 1 : INT64_MAX;
      if (inner == 1) {
        ParallelRange(ctx, outer, min_parallel, [&](int64_t begin, int64_t end) {
          for (int64_t o = begin; o < end; ++o) ContiguousRow(mode, xd + o * d, yd + o * d, d);
        });
      } else {
        const int64_t blocks = (inner + kBlock - 1) / kBlock;
        ParallelRange(ctx, outer * blocks, min_parallel, [&](int64_t begin, int64_t end) {
          for (int64_t item = begin; item < end; ++item) {
            const int64_t o = item / blocks, i0 = (item % blocks) * kBlock;
            const int64_t off = o * d * inner + i0;
            StridedBlock(mode, xd + off, yd + off, d, inner, std::min(kBlock, inner - i0));
          }
        });
      }
      return Status::Ok();
    });
  }

 private:
  Mode mode_;
  int64_t axis_;
  bool single_axis_;
};

KernelFactory MakeSoftmax(Mode mode) {
  return [mode](const KernelInit& init) -> StatusOr<std::unique_ptr<Kernel>> {
    if (!init.has_input(0)) return init.Invalid("input 0 is required");
    RETURN_IF_ERROR(CheckDeclaredType(init, 0, FloatTypes{}));
    const bool single_axis = init.opset >= 13;
    const int64_t axis = init.node.GetInt("axis", single_axis ? -1 : 1);
    const TypeInfo* t = init.input_types[0];
    if (t->is_tensor() && t->has_shape) {
      int64_t a = axis;
      if (!NormalizeAxis(a, t->rank()))
        return init.Invalid("axis " + std::to_string(axis) + " is out of range for rank " +
                            std::to_string(t->rank()));
    }
    return std::unique_ptr<Kernel>(new SoftmaxKernel(mode, axis, single_axis));
  };
}

}  // namespace

void RegisterSoftmaxKernels(KernelRegistry& r) {
  AddVersions(r, "Softmax", {1, 11, 13}, MakeSoftmax(Mode::kSoftmax));
  AddVersions(r, "LogSoftmax", {1, 11, 13}, MakeSoftmax(Mode::kLogSoftmax));
  AddVersions(r, "Hardmax", {1, 11, 13}, MakeSoftmax(Mode::kHardmax));
}

}  // namespace edgefit
