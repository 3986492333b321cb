// Kernel family: pooling. MaxPool (float32, int8, uint8; optional Indices), AveragePool, LpPool
// (float32), GlobalAveragePool, GlobalMaxPool, GlobalLpPool, MaxUnpool.
//
// Float MaxPool without Indices and AveragePool over 1-2 spatial axes take the vector path:
// each plane is copied into a padded buffer and blocks of output columns accumulate in vector
// registers. Everything else (Indices, int8/uint8, LpPool, 3-D) views the window as 3-D with
// leading size-1 axes and clips it to the input analytically, so the inner loops carry no
// bounds checks. Parallel over (batch, channel) planes when the work is large enough.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/kernels/conv_impl.h"
#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

using spatial::Geometry;
using spatial::Join;

int64_t CeilDiv(int64_t a, int64_t b) {  // b > 0
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

// A geometry of 1-3 spatial axes seen as exactly 3.
struct Window3 {
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
  explicit Window3(const Geometry& g) {
    const size_t lead = 3 - g.rank;
    for (size_t a = 0; a < 3; ++a) {
      bool real = a >= lead;
      size_t i = a - lead;
      in[a] = real ? g.in[i] : 1;
      out[a] = real ? g.out[i] : 1;
      k[a] = real ? g.kernel[i] : 1;
      s[a] = real ? g.stride[i] : 1;
      d[a] = real ? g.dilation[i] : 1;
      pb[a] = real ? g.pad_begin[i] : 0;
      pe[a] = real ? g.pad_end[i] : 0;
    }
  }
  // Taps [lo, hi) of axis a whose coordinate start + t * d lies in [0, in); start = o*s - pb.
  void Taps(size_t a, int64_t o, int64_t* start, int64_t* lo, int64_t* hi) const {
    *start = o * s[a] - pb[a];
    *lo = std::max<int64_t>(0, CeilDiv(-*start, d[a]));
    *hi = std::min<int64_t>(k[a], CeilDiv(in[a] - *start, d[a]));
    if (*hi < *lo) *hi = *lo;
  }
  // Taps of axis a inside the padded extent [-pb, in + pe).
  int64_t PaddedTaps(size_t a, int64_t start) const {
    return std::max<int64_t>(0, std::min<int64_t>(k[a], CeilDiv(in[a] + pe[a] - start, d[a])));
  }
};

enum class PoolKind { kMax, kAverage, kLp };

struct PoolConfig {
  PoolKind kind = PoolKind::kMax;
  spatial::Attrs attrs;
  bool count_include_pad = false;  // AveragePool
  int64_t storage_order = 0;       // MaxPool Indices: 0 row major, 1 column major
  float p = 2.f;                   // LpPool
};

template <typename T>
void MaxPoolPlanes(const T* x, T* y, int64_t* indices, int64_t planes, const Window3& w,
                   int64_t storage_order, KernelContext& ctx) {
  const int64_t in_size = w.in[0] * w.in[1] * w.in[2];
  const int64_t out_size = w.out[0] * w.out[1] * w.out[2];
  ParallelForCost(ctx, planes, out_size * w.k[0] * w.k[1] * w.k[2],
                  [&](int64_t begin, int64_t end) {
                    for (int64_t p = begin; p < end; ++p) {
                      const T* xp = x + p * in_size;
                      T* yp = y + p * out_size;
                      int64_t* ip = indices ? indices + p * out_size : nullptr;
                      int64_t o = 0;
                      for (int64_t o0 = 0; o0 < w.out[0]; ++o0) {
                        int64_t s0, lo0, hi0;
                        w.Taps(0, o0, &s0, &lo0, &hi0);
                        for (int64_t o1 = 0; o1 < w.out[1]; ++o1) {
                          int64_t s1, lo1, hi1;
                          w.Taps(1, o1, &s1, &lo1, &hi1);
                          for (int64_t o2 = 0; o2 < w.out[2]; ++o2, ++o) {
                            int64_t s2, lo2, hi2;
                            w.Taps(2, o2, &s2, &lo2, &hi2);
                            T best = std::numeric_limits<T>::lowest();
                            if constexpr (std::is_floating_point_v<T>)
                              best = -std::numeric_limits<T>::infinity();
                            int64_t arg = -1;
                            for (int64_t t0 = lo0; t0 < hi0; ++t0) {
                              const int64_t i0 = s0 + t0 * w.d[0];
                              for (int64_t t1 = lo1; t1 < hi1; ++t1) {
                                const int64_t i1 = s1 + t1 * w.d[1];
                                const T* row = xp + (i0 * w.in[1] + i1) * w.in[2];
                                for (int64_t t2 = lo2; t2 < hi2; ++t2) {
                                  const int64_t i2 = s2 + t2 * w.d[2];
                                  const T v = row[i2];
                                  bool take = v > best || arg < 0;
                                  if constexpr (std::is_floating_point_v<T>)
                                    take = take || (v != v && best == best);
                                  if (take) {
                                    best = v;
                                    arg = storage_order == 0 ? (i0 * w.in[1] + i1) * w.in[2] + i2
                                                             : i0 + w.in[0] * (i1 + w.in[1] * i2);
                                  }
                                }
                              }
                            }
                            yp[o] = best;
                            if (ip) ip[o] = arg < 0 ? -1 : p * in_size + arg;
                          }
                        }
                      }
                    }
                  });
}

void AvgLpPoolPlanes(const float* x, float* y, int64_t planes, const Window3& w,
                     const PoolConfig& cfg, KernelContext& ctx) {
  const int64_t in_size = w.in[0] * w.in[1] * w.in[2];
  const int64_t out_size = w.out[0] * w.out[1] * w.out[2];
  const bool lp = cfg.kind == PoolKind::kLp;
  const float p = cfg.p;
  ParallelForCost(
      ctx, planes, out_size * w.k[0] * w.k[1] * w.k[2], [&](int64_t begin, int64_t end) {
        for (int64_t pl = begin; pl < end; ++pl) {
          const float* xp = x + pl * in_size;
          float* yp = y + pl * out_size;
          int64_t o = 0;
          for (int64_t o0 = 0; o0 < w.out[0]; ++o0) {
            int64_t s0, lo0, hi0;
            w.Taps(0, o0, &s0, &lo0, &hi0);
            for (int64_t o1 = 0; o1 < w.out[1]; ++o1) {
              int64_t s1, lo1, hi1;
              w.Taps(1, o1, &s1, &lo1, &hi1);
              for (int64_t o2 = 0; o2 < w.out[2]; ++o2, ++o) {
                int64_t s2, lo2, hi2;
                w.Taps(2, o2, &s2, &lo2, &hi2);
                float sum = 0.f;
                for (int64_t t0 = lo0; t0 < hi0; ++t0) {
                  const int64_t i0 = s0 + t0 * w.d[0];
                  for (int64_t t1 = lo1; t1 < hi1; ++t1) {
                    const int64_t i1 = s1 + t1 * w.d[1];
                    const float* row = xp + (i0 * w.in[1] + i1) * w.in[2] + s2;
                    if (!lp) {
                      for (int64_t t2 = lo2; t2 < hi2; ++t2) sum += row[t2 * w.d[2]];
                    } else if (p == 2.f) {
                      for (int64_t t2 = lo2; t2 < hi2; ++t2)
                        sum += row[t2 * w.d[2]] * row[t2 * w.d[2]];
                    } else if (p == 1.f) {
                      for (int64_t t2 = lo2; t2 < hi2; ++t2) sum += std::fabs(row[t2 * w.d[2]]);
                    } else {
                      for (int64_t t2 = lo2; t2 < hi2; ++t2)
                        sum += std::pow(std::fabs(row[t2 * w.d[2]]), p);
                    }
                  }
                }
                if (lp) {
                  yp[o] = p == 2.f ? std::sqrt(sum) : p == 1.f ? sum : std::pow(sum, 1.f / p);
                  continue;
                }
                int64_t count;
                if (cfg.count_include_pad)
                  count = w.PaddedTaps(0, s0) * w.PaddedTaps(1, s1) * w.PaddedTaps(2, s2);
                else
                  count = (hi0 - lo0) * (hi1 - lo1) * (hi2 - lo2);
                yp[o] = count > 0 ? sum / static_cast<float>(count)
                                  : std::numeric_limits<float>::quiet_NaN();
              }
            }
          }
        }
      });
}

// ------------------------------------------------------------------------- fast 1-D/2-D path
//
// Float MaxPool without Indices and AveragePool over 1 or 2 spatial axes: each plane is copied
// into a padded buffer (border = -inf for max, 0 for average; sized so every block of B output
// columns reads inside it), then blocks of B outputs keep their accumulators in vector registers.
// Average divisors are separable: count = rows(oh) * cols(ow).

struct Plane2 {
  int64_t H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW;
  int64_t cols;      // OW rounded up to 8: the columns blocks compute
  int64_t rows, wp;  // padded buffer
};

Plane2 MakePlane2(const Window3& w) {
  Plane2 g{w.in[1], w.in[2], w.out[1], w.out[2], w.k[1], w.k[2], w.s[1], w.s[2],
           w.d[1],  w.d[2],  w.pb[1],  w.pb[2],  0,      0,      0};
  g.cols = (g.OW + 7) / 8 * 8;
  g.rows = (g.OH - 1) * g.SH + (g.KH - 1) * g.DH + 1;
  g.wp = (g.cols - 1) * g.SW + (g.KW - 1) * g.DW + 2;  // + 1 for the stride-2 loads
  return g;
}

// Output columns [ow, ow + B) of one row (stored up to OW). base: the row's first tap row in pad.
template <int B, int S, int K, bool kMax>
EDGEFIT_ALWAYS_INLINE void PoolBlock(const float* base, const Plane2& g, int64_t ow,
                                     float row_scale, const float* col_scale, float* yr) {
  using V = typename FloatVector<B>::type;
  const int64_t KH = K ? K : g.KH, KW = K ? K : g.KW, SW = S ? S : g.SW;
  V acc;
  for (int j = 0; j < B; ++j) acc[j] = kMax ? -std::numeric_limits<float>::infinity() : 0.f;
  for (int64_t kh = 0; kh < KH; ++kh) {
    const float* xr = base + kh * g.DH * g.wp + ow * SW;
    for (int64_t kw = 0; kw < KW; ++kw) {
      const float* p = xr + kw * g.DW;
      V v;
      LoadStrided<B, S>(p, SW, &v);
      if constexpr (kMax) {
        acc = v > acc ? v : acc;  // planes with NaN take the scalar path
      } else {
        acc += v;
      }
    }
  }
  if constexpr (!kMax) {
    V scale;
    std::memcpy(&scale, col_scale + ow, sizeof scale);
    acc *= scale * row_scale;
  }
  if (ow + B <= g.OW) {
    std::memcpy(yr + ow, &acc, sizeof acc);
  } else {
    for (int64_t j = 0; j < g.OW - ow; ++j) yr[ow + j] = acc[j];
  }
}

template <int S, int K, bool kMax>
EDGEFIT_ALWAYS_INLINE void PoolRows(const float* pad, const Plane2& g, const float* row_scale,
                                    const float* col_scale, float* y) {
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const float* base = pad + oh * g.SH * g.wp;
    float* yr = y + oh * g.OW;
    const float rs = kMax ? 1.f : row_scale[oh];
    int64_t ow = 0;
    for (; ow + 16 <= g.OW; ow += 16) PoolBlock<16, S, K, kMax>(base, g, ow, rs, col_scale, yr);
    for (; ow < g.OW; ow += 8) PoolBlock<8, S, K, kMax>(base, g, ow, rs, col_scale, yr);
  }
}

template <bool kMax>
EDGEFIT_ALWAYS_INLINE void PoolPlaneDispatch(const float* pad, const Plane2& g,
                                             const float* row_scale, const float* col_scale,
                                             float* y) {
  const int64_t k = g.KH == g.KW && (g.KH == 2 || g.KH == 3) ? g.KH : 0;
  if (g.SW == 1) {
    if (k == 3)
      PoolRows<1, 3, kMax>(pad, g, row_scale, col_scale, y);
    else
      PoolRows<1, 0, kMax>(pad, g, row_scale, col_scale, y);
  } else if (g.SW == 2) {
    if (k == 2)
      PoolRows<2, 2, kMax>(pad, g, row_scale, col_scale, y);
    else if (k == 3)
      PoolRows<2, 3, kMax>(pad, g, row_scale, col_scale, y);
    else
      PoolRows<2, 0, kMax>(pad, g, row_scale, col_scale, y);
  } else {
    PoolRows<0, 0, kMax>(pad, g, row_scale, col_scale, y);
  }
}

// One plane: copies x into the interior of `pad` (its border already holds the pad value), then
// pools. row_scale / col_scale: 1 / divisor factors (average only). Returns false, writing
// nothing, for a max pool over a plane holding a NaN (the caller takes the scalar path, which
// propagates it).
EDGEFIT_INLINE_COPIES EDGEFIT_VECTORIZE bool PoolPlane2(const float* __restrict x,
                                                        float* __restrict pad, const Plane2& g,
                                                        bool is_max, const float* row_scale,
                                                        const float* col_scale,
                                                        float* __restrict y) {
  const int64_t r0 = std::max<int64_t>(0, g.PH), r1 = std::min(g.rows, g.PH + g.H);
  const int64_t c0 = std::max<int64_t>(0, g.PW), c1 = std::min(g.wp, g.PW + g.W);
  bool nan = false;
  for (int64_t r = r0; r < r1; ++r) {
    const float* src = x + (r - g.PH) * g.W - g.PW;
    float* dst = pad + r * g.wp;
    for (int64_t c = c0; c < c1; ++c) {
      const float v = src[c];
      dst[c] = v;
      nan |= v != v;
    }
  }
  if (is_max) {
    if (nan) return false;
    PoolPlaneDispatch<true>(pad, g, row_scale, col_scale, y);
  } else {
    PoolPlaneDispatch<false>(pad, g, row_scale, col_scale, y);
  }
  return true;
}

void FastPool2(const float* x, float* y, int64_t planes, const Window3& w, const PoolConfig& cfg,
               KernelContext& ctx) {
  const Plane2 g = MakePlane2(w);
  const bool is_max = cfg.kind == PoolKind::kMax;
  // Divisor factors per output row (axis 1) and column (axis 2), as 1 / count.
  std::vector<float> row_scale(g.OH), col_scale(g.cols, 0.f);
  if (!is_max) {
    auto factor = [&](size_t a, int64_t o) {
      int64_t start, lo, hi;
      w.Taps(a, o, &start, &lo, &hi);
      const int64_t n = cfg.count_include_pad ? w.PaddedTaps(a, start) : hi - lo;
      return n > 0 ? 1.f / static_cast<float>(n) : std::numeric_limits<float>::quiet_NaN();
    };
    for (int64_t o = 0; o < g.OH; ++o) row_scale[o] = factor(1, o);
    for (int64_t o = 0; o < g.OW; ++o) col_scale[o] = factor(2, o);
  }
  const float fill = is_max ? -std::numeric_limits<float>::infinity() : 0.f;
  const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
  ParallelForCost(ctx, planes, out_plane * g.KH * g.KW, [&](int64_t begin, int64_t end) {
    std::vector<float> pad(g.rows * g.wp, fill);
    for (int64_t p = begin; p < end; ++p) {
      if (!PoolPlane2(x + p * in_plane, pad.data(), g, is_max, row_scale.data(), col_scale.data(),
                      y + p * out_plane))
        MaxPoolPlanes(x + p * in_plane, y + p * out_plane, nullptr, 1, w, 0, ctx);
    }
  });
}

bool IsPoolType(DataType t, PoolKind kind) {
  if (t == DataType::kFloat) return true;
  return kind == PoolKind::kMax && (t == DataType::kInt8 || t == DataType::kUint8);
}

class PoolKernel : public Kernel {
 public:
  explicit PoolKernel(PoolConfig cfg) : cfg_(std::move(cfg)) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& X = *ctx.input(0);
    if (!IsPoolType(X.dtype(), cfg_.kind))
      return Unsupported(ctx.node_description() + ": input of type " + DataTypeName(X.dtype()));
    const size_t r = cfg_.attrs.kernel_shape.size();
    if (X.rank() != r + 2)
      return ctx.Error("X " + ShapeToString(X.shape()) + " must have rank " +
                       std::to_string(r + 2) + " for kernel_shape " +
                       Join(cfg_.attrs.kernel_shape));
    std::vector<int64_t> in(X.shape().begin() + 2, X.shape().end());
    auto geometry = spatial::ForwardGeometry(cfg_.attrs, in, cfg_.attrs.kernel_shape);
    if (!geometry.ok()) return ctx.Error(geometry.status().message());
    Shape yshape = {X.dim(0), X.dim(1)};
    yshape.insert(yshape.end(), geometry->out.begin(), geometry->out.end());
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, X.dtype(), yshape));
    int64_t* indices = nullptr;
    if (cfg_.kind == PoolKind::kMax && ctx.num_outputs() > 1 && ctx.output_wanted(1)) {
      ASSIGN_OR_RETURN(Tensor * I, ctx.Output(1, DataType::kInt64, yshape));
      indices = I->data<int64_t>();
    }
    if (Y->numel() == 0) return Status::Ok();
    const Window3 w(*geometry);
    const int64_t planes = X.dim(0) * X.dim(1);
    if (X.dtype() == DataType::kFloat && geometry->rank <= 2 && !indices &&
        cfg_.kind != PoolKind::kLp) {
      FastPool2(X.data<float>(), Y->data<float>(), planes, w, cfg_, ctx);
      return Status::Ok();
    }
    if (cfg_.kind != PoolKind::kMax) {
      AvgLpPoolPlanes(X.data<float>(), Y->data<float>(), planes, w, cfg_, ctx);
      return Status::Ok();
    }
    switch (X.dtype()) {
      case DataType::kFloat:
        MaxPoolPlanes(X.data<float>(), Y->data<float>(), indices, planes, w, cfg_.storage_order,
                      ctx);
        break;
      case DataType::kInt8:
        MaxPoolPlanes(X.data<int8_t>(), Y->data<int8_t>(), indices, planes, w, cfg_.storage_order,
                      ctx);
        break;
      default:
        MaxPoolPlanes(X.data<uint8_t>(), Y->data<uint8_t>(), indices, planes, w, cfg_.storage_order,
                      ctx);
        break;
    }
    return Status::Ok();
  }

 private:
  PoolConfig cfg_;
};

Status CheckInputType(const KernelInit& init, PoolKind kind) {
  if (!init.has_input(0)) return init.Invalid("needs input X");
  DataType t = init.input_types[0]->elem_type;
  if (t != DataType::kUndefined && !IsPoolType(t, kind))
    return init.Unsupported(std::string("input of type ") + DataTypeName(t) +
                            (kind == PoolKind::kMax ? " (float32, int8, uint8 are implemented)"
                                                    : " (float32 is implemented)"));
  return Status::Ok();
}

KernelFactory MakePool(PoolKind kind) {
  return [kind](const KernelInit& init) -> StatusOr<std::unique_ptr<Kernel>> {
    RETURN_IF_ERROR(CheckInputType(init, kind));
    PoolConfig cfg;
    cfg.kind = kind;
    ASSIGN_OR_RETURN(cfg.attrs, spatial::ParseAttrs(init, true));
    const size_t r = cfg.attrs.kernel_shape.size();
    if (r > 3)
      return init.Unsupported("pooling over " + std::to_string(r) + " spatial axes (at most 3)");
    int64_t ceil_mode = init.node.GetInt("ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1)
      return init.Invalid("ceil_mode " + std::to_string(ceil_mode) + " must be 0 or 1");
    cfg.attrs.ceil_mode = ceil_mode == 1;
    if (kind == PoolKind::kMax) {
      cfg.storage_order = init.node.GetInt("storage_order", 0);
      if (cfg.storage_order != 0 && cfg.storage_order != 1)
        return init.Invalid("storage_order " + std::to_string(cfg.storage_order) +
                            " must be 0 or 1");
    }
    if (kind == PoolKind::kAverage) {
      int64_t cip = init.node.GetInt("count_include_pad", 0);
      if (cip != 0 && cip != 1)
        return init.Invalid("count_include_pad " + std::to_string(cip) + " must be 0 or 1");
      cfg.count_include_pad = cip == 1;
    }
    if (kind == PoolKind::kLp) {
      // LpPool-1 has a float p; from version 2 it is an int.
      const Attribute* a = init.node.FindAttribute("p");
      if (a) cfg.p = a->type == AttrType::kFloat ? a->f : static_cast<float>(a->i);
      if (!(cfg.p > 0)) return init.Invalid("p " + std::to_string(cfg.p) + " must be positive");
    }
    return std::unique_ptr<Kernel>(new PoolKernel(std::move(cfg)));
  };
}

// ------------------------------------------------------------------------- global pools

float SumFloats(const float* x, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += x[i + j];
  float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; i < n; ++i) s += x[i];
  return s;
}

class GlobalPoolKernel : public Kernel {
 public:
  GlobalPoolKernel(PoolKind kind, float p) : kind_(kind), p_(p) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& X = *ctx.input(0);
    if (!IsPoolType(X.dtype(), kind_))
      return Unsupported(ctx.node_description() + ": input of type " + DataTypeName(X.dtype()));
    if (X.rank() < 2)
      return ctx.Error("X " + ShapeToString(X.shape()) + " must have rank >= 2 (N, C, ...)");
    Shape yshape = X.shape();
    for (size_t i = 2; i < yshape.size(); ++i) yshape[i] = 1;
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, X.dtype(), yshape));
    const int64_t planes = X.dim(0) * X.dim(1);
    if (planes == 0) return Status::Ok();
    const int64_t size = X.numel() / planes;
    if (X.dtype() == DataType::kInt8) return MaxPlanes<int8_t>(ctx, X, Y, planes, size);
    if (X.dtype() == DataType::kUint8) return MaxPlanes<uint8_t>(ctx, X, Y, planes, size);
    if (kind_ == PoolKind::kMax) return MaxPlanes<float>(ctx, X, Y, planes, size);
    const float* x = X.data<float>();
    float* y = Y->data<float>();
    const PoolKind kind = kind_;
    const float p = p_;
    ParallelForCost(ctx, planes, size, [&](int64_t begin, int64_t end) {
      for (int64_t pl = begin; pl < end; ++pl) {
        const float* xp = x + pl * size;
        if (kind == PoolKind::kAverage) {
          y[pl] = size ? SumFloats(xp, size) / static_cast<float>(size)
                       : std::numeric_limits<float>::quiet_NaN();
          continue;
        }
        float sum = 0.f;
        for (int64_t i = 0; i < size; ++i)
          sum += p == 2.f ? xp[i] * xp[i] : std::pow(std::fabs(xp[i]), p);
        y[pl] = p == 2.f ? std::sqrt(sum) : std::pow(sum, 1.f / p);
      }
    });
    return Status::Ok();
  }

 private:
  template <typename T>
  Status MaxPlanes(KernelContext& ctx, const Tensor& X, Tensor* Y, int64_t planes, int64_t size) {
    const T* x = X.data<T>();
    T* y = Y->data<T>();
    ParallelForCost(ctx, planes, size, [&](int64_t begin, int64_t end) {
      for (int64_t pl = begin; pl < end; ++pl) {
        const T* xp = x + pl * size;
        T best = std::numeric_limits<T>::lowest();
        if constexpr (std::is_floating_point_v<T>) best = -std::numeric_limits<T>::infinity();
        bool nan = false;
        for (int64_t i = 0; i < size; ++i) {
          best = std::max(best, xp[i]);
          if constexpr (std::is_floating_point_v<T>) nan = nan || xp[i] != xp[i];
        }
        y[pl] = nan ? std::numeric_limits<T>::quiet_NaN() : best;
      }
    });
    return Status::Ok();
  }

  PoolKind kind_;
  float p_;
};

KernelFactory MakeGlobalPool(PoolKind kind) {
  return [kind](const KernelInit& init) -> StatusOr<std::unique_ptr<Kernel>> {
    RETURN_IF_ERROR(CheckInputType(init, kind));
    float p = 2.f;
    if (kind == PoolKind::kLp) {
      const Attribute* a = init.node.FindAttribute("p");
      if (a) p = a->type == AttrType::kFloat ? a->f : static_cast<float>(a->i);
      if (!(p > 0)) return init.Invalid("p " + std::to_string(p) + " must be positive");
    }
    return std::unique_ptr<Kernel>(new GlobalPoolKernel(kind, p));
  };
}

// ------------------------------------------------------------------------- MaxUnpool

// Y = zeros; Y.flat[I[j]] = X.flat[j] (I: MaxPool's flat Indices). Y's shape: the optional
// output_shape input, else (in - 1) * stride + kernel - pads per spatial axis.
class MaxUnpoolKernel : public Kernel {
 public:
  explicit MaxUnpoolKernel(spatial::Attrs attrs) : attrs_(std::move(attrs)) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& X = *ctx.input(0);
    const Tensor& I = *ctx.input(1);
    const Tensor* out_shape = ctx.input(2);
    if (X.dtype() != DataType::kFloat)
      return Unsupported(ctx.node_description() + ": input of type " + DataTypeName(X.dtype()));
    if (I.dtype() != DataType::kInt64)
      return ctx.Error(std::string("I must be int64, got ") + DataTypeName(I.dtype()));
    if (I.shape() != X.shape())
      return ctx.Error("I " + ShapeToString(I.shape()) + " must have X's shape " +
                       ShapeToString(X.shape()));
    const size_t r = attrs_.kernel_shape.size();
    if (X.rank() != r + 2)
      return ctx.Error("X " + ShapeToString(X.shape()) + " must have rank " +
                       std::to_string(r + 2) + " for kernel_shape " + Join(attrs_.kernel_shape));
    // Indices refer to the inferred shape; with output_shape the values keep their coordinates
    // (the extra elements at the end of each axis stay zero).
    Shape inferred = {X.dim(0), X.dim(1)};
    for (size_t i = 0; i < r; ++i) {
      const int64_t s = attrs_.strides.empty() ? 1 : attrs_.strides[i];
      const int64_t pads = attrs_.pads.empty() ? 0 : attrs_.pads[i] + attrs_.pads[i + r];
      inferred.push_back((X.dim(i + 2) - 1) * s + attrs_.kernel_shape[i] - pads);
    }
    for (int64_t d : inferred)
      if (d < 0) return ctx.Error("output shape " + ShapeToString(inferred) + " is negative");
    Shape yshape = inferred;
    if (out_shape) {
      ASSIGN_OR_RETURN(std::vector<int64_t> given, out_shape->ToInt64Vector());
      if (given.size() != yshape.size())
        return ctx.Error("output_shape " + Join(given) + " must have " +
                         std::to_string(yshape.size()) + " values");
      for (size_t i = 0; i < given.size(); ++i)
        if (given[i] < inferred[i] || (i < 2 && given[i] != inferred[i]))
          return ctx.Error("output_shape " + Join(given) + " is smaller than the inferred " +
                           ShapeToString(inferred));
      yshape = given;
    }
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, DataType::kFloat, yshape));
    float* y = Y->data<float>();
    std::fill(y, y + Y->numel(), 0.f);
    const float* x = X.data<float>();
    const int64_t* idx = I.data<int64_t>();
    const int64_t total = NumElements(inferred);
    for (int64_t j = 0; j < X.numel(); ++j) {
      if (idx[j] < 0 || idx[j] >= total)
        return ctx.Error("index " + std::to_string(idx[j]) + " out of range [0, " +
                         std::to_string(total) + ") for the unpooled shape " +
                         ShapeToString(inferred));
      int64_t rem = idx[j], flat = 0, scale = 1;
      for (size_t d = inferred.size(); d-- > 0;) {
        flat += (rem % inferred[d]) * scale;
        rem /= inferred[d];
        scale *= yshape[d];
      }
      y[flat] = x[j];
    }
    return Status::Ok();
  }

 private:
  spatial::Attrs attrs_;
};

StatusOr<std::unique_ptr<Kernel>> MakeMaxUnpool(const KernelInit& init) {
  if (!init.has_input(0) || !init.has_input(1)) return init.Invalid("needs inputs X and I");
  DataType t = init.input_types[0]->elem_type;
  if (t != DataType::kUndefined && t != DataType::kFloat)
    return init.Unsupported(std::string("input of type ") + DataTypeName(t) +
                            " (float32 is implemented)");
  ASSIGN_OR_RETURN(spatial::Attrs attrs, spatial::ParseAttrs(init, true));
  if (attrs.auto_pad != spatial::AutoPad::kNotSet) return init.Invalid("MaxUnpool has no auto_pad");
  return std::unique_ptr<Kernel>(new MaxUnpoolKernel(std::move(attrs)));
}

}  // namespace

// Versions: MaxPool 1 (no Indices), 8 (Indices, storage_order), 10 (ceil_mode, dilations),
// 11 (pads semantics spelled out), 12 (int8/uint8); AveragePool 1, 7 (count_include_pad),
// 10 (ceil_mode), 11, 19 (dilations); LpPool 1 (float p), 2 (int p), 11, 18 (ceil_mode,
// dilations); MaxUnpool 9, 11 (types only). One kernel reads whichever attributes the node has.
void RegisterPoolKernels(KernelRegistry& r) {
  r.Add("MaxPool", 1, 7, MakePool(PoolKind::kMax));
  r.Add("MaxPool", 8, 9, MakePool(PoolKind::kMax));
  r.Add("MaxPool", 10, 10, MakePool(PoolKind::kMax));
  r.Add("MaxPool", 11, 11, MakePool(PoolKind::kMax));
  r.Add("MaxPool", 12, 1000, MakePool(PoolKind::kMax));
  r.Add("AveragePool", 1, 6, MakePool(PoolKind::kAverage));
  r.Add("AveragePool", 7, 9, MakePool(PoolKind::kAverage));
  r.Add("AveragePool", 10, 10, MakePool(PoolKind::kAverage));
  r.Add("AveragePool", 11, 18, MakePool(PoolKind::kAverage));
  r.Add("AveragePool", 19, 1000, MakePool(PoolKind::kAverage));
  r.Add("LpPool", 1, 1, MakePool(PoolKind::kLp));
  r.Add("LpPool", 2, 10, MakePool(PoolKind::kLp));
  r.Add("LpPool", 11, 17, MakePool(PoolKind::kLp));
  r.Add("LpPool", 18, 1000, MakePool(PoolKind::kLp));
  r.Add("GlobalAveragePool", 1, 1000, MakeGlobalPool(PoolKind::kAverage));
  r.Add("GlobalMaxPool", 1, 1000, MakeGlobalPool(PoolKind::kMax));
  r.Add("GlobalLpPool", 1, 1, MakeGlobalPool(PoolKind::kLp));
  r.Add("GlobalLpPool", 2, 1000, MakeGlobalPool(PoolKind::kLp));
  r.Add("MaxUnpool", 9, 10, MakeMaxUnpool);
  r.Add("MaxUnpool", 11, 1000, MakeMaxUnpool);
}

}  // namespace edgefit
