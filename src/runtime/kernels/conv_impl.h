// Private helpers of the conv, pool, normalization and gemm kernels: the spatial attributes of Conv
// / ConvTranspose / *Pool (kernel_shape, strides, dilations, pads, auto_pad), the output geometry
// they imply, and how hot loops are compiled and parallelized.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "edgefit/status.h"
#include "runtime/kernel.h"

// Hot loops are compiled for AVX-512 and AVX2+FMA too and picked at run time (the build itself
// targets baseline x86-64).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EDGEFIT_VECTORIZE \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EDGEFIT_VECTORIZE
#endif

#if defined(__GNUC__) && !defined(__clang__)
#define EDGEFIT_ALWAYS_INLINE __attribute__((always_inline)) inline
// Keeps short copy loops inline instead of turning each into a memcpy call.
#define EDGEFIT_INLINE_COPIES __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define EDGEFIT_ALWAYS_INLINE inline
#define EDGEFIT_INLINE_COPIES
#endif

namespace edgefit {

// GCC/Clang vector types of B lanes (B floats in one AVX-512 register, or split by the compiler).
template <int B>
struct FloatVector {
  typedef float type __attribute__((vector_size(B * sizeof(float))));
};
template <int B>
struct IntVector {
  typedef int32_t type __attribute__((vector_size(B * sizeof(int32_t))));
};

// Runs fn(begin, end) over [0, n) on the session's threads when the work (n * cost_per_item,
// roughly in multiply-adds) is worth a parallel region, otherwise inline.
template <typename Fn>
void ParallelForCost(KernelContext& ctx, int64_t n, int64_t cost_per_item, Fn&& fn) {
  constexpr int64_t kMinParallelWork = 1 << 16;
  if (n <= 0) return;
  if (ctx.num_threads() <= 1 || n == 1 || n * cost_per_item < kMinParallelWork) {
    fn(int64_t{0}, n);
    return;
  }
  ctx.ParallelFor(n, fn);
}

}  // namespace edgefit

namespace edgefit::spatial {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// Attributes as written on the node. Empty vectors mean "not given" (defaults are filled in
// when the number of spatial axes is known).
struct Attrs {
  AutoPad auto_pad = AutoPad::kNotSet;
  std::vector<int64_t> kernel_shape;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;  // [x1_begin, x2_begin, ..., x1_end, x2_end, ...]
  bool ceil_mode = false;     // pools only
};

// Reads and validates the attributes (values > 0, pads >= 0, consistent lengths). `pool`: a
// pooling op (kernel_shape required, dilations only when the opset has them).
StatusOr<Attrs> ParseAttrs(const KernelInit& init, bool kernel_required);

// Per spatial axis: input size, kernel, stride, dilation, pads and the resulting output size.
struct Geometry {
  size_t rank = 0;  // number of spatial axes
  std::vector<int64_t> in, kernel, stride, dilation, pad_begin, pad_end, out;

  int64_t in_size() const;
  int64_t out_size() const;
  int64_t kernel_size() const;
  int64_t effective_kernel(size_t i) const { return (kernel[i] - 1) * dilation[i] + 1; }
};

// Geometry of a convolution or pooling window over `in` (spatial dims only) with `kernel`.
// Fails (with the numbers) when the attributes' lengths do not match or the output would be empty.
StatusOr<Geometry> ForwardGeometry(const Attrs& a, const std::vector<int64_t>& in,
                                   const std::vector<int64_t>& kernel);

// "[3,4]"
std::string Join(const std::vector<int64_t>& v);

}  // namespace edgefit::spatial

namespace edgefit {

// Whether the CPU has AVX-512 (the widest tiles of the hand-blocked kernels).
inline bool CpuHasAvx512() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") != 0;
#else
  return false;
#endif
}

// A window over one 2-D plane (a 1-D one is H = 1): input and output sizes, kernel, stride,
// dilation and begin pads of the two axes.
struct PlaneWindow {
  int64_t H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW;
};
// The plane window of a 1-D or 2-D geometry.
PlaneWindow PlaneWindowOf(const spatial::Geometry& g);

// *out = the B floats p[0], p[stride], ..., p[(B - 1) * stride]: one load for S = 1, two loads
// and a shuffle for S = 2, element by element for S = 0 (any stride). (An out parameter: a
// vector returned by value warns about the ABI in the baseline build.)
template <int B, int S>
EDGEFIT_ALWAYS_INLINE void LoadStrided(const float* p, int64_t stride,
                                       typename FloatVector<B>::type* out) {
  typename FloatVector<B>::type& v = *out;
  if constexpr (S == 1) {
    std::memcpy(&v, p, sizeof v);
#if defined(__GNUC__) && !defined(__clang__)
  } else if constexpr (S == 2) {
    // The even elements of 2B consecutive floats.
    using I = typename IntVector<B>::type;
    typename FloatVector<B>::type lo, hi;
    std::memcpy(&lo, p, sizeof lo);
    std::memcpy(&hi, p + B, sizeof hi);
    I even;
    for (int j = 0; j < B; ++j) even[j] = 2 * j;
    v = __builtin_shuffle(lo, hi, even);
#endif
  } else {
    for (int j = 0; j < B; ++j) v[j] = p[j * (S ? S : stride)];
  }
}

// Conv with one input channel per group (channel multiplier mg), 1-D or 2-D
// (conv_depthwise.cc): y = clamp(bias + W * x) in NCHW, `batch` images of `channels` channels.
void DepthwiseConv2D(const float* x, const float* w, const float* bias, float* y, int64_t batch,
                     int64_t channels, int64_t mg, const spatial::Geometry& geo,
                     const FusedActivation& act, KernelContext& ctx);

// Conv over 2-4 input channels in 2-D, group 1 (a first conv on an image; conv_few_channels.cc):
// whether it applies, and the conv itself (y = clamp(bias + W * x) in NCHW, N images).
bool FewChannelConvApplies(int64_t C, int64_t group, const spatial::Geometry& g);
void FewChannelConv2D(const float* x, const float* w, const float* bias, float* y, int64_t N,
                      int64_t C, int64_t M, const spatial::Geometry& g, const FusedActivation& act,
                      KernelContext& ctx);
// Tests: false makes it use the AVX2-width tiles on an AVX-512 CPU (true restores the default).
void SetFewChannelConvAvx512(bool on);

}  // namespace edgefit
