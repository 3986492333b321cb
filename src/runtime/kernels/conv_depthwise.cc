// Depthwise convolution (one input channel per group), 1-D or 2-D (treated as H = 1), one
// output plane at a time, with the bias and a fused Relu/Clip applied in registers. Two ways:
//
// * Rows: the input plane is copied into a zero-padded plane, then each output row is computed
//   in blocks of 16 (then 8) columns, every block accumulating all taps in registers (a
//   stride-2 tap loads two vectors and keeps the even lanes). For wide planes and strided convs.
// * Flat (stride 1, output rows narrower than 32): output (oh, ow) is flat index
//   o = oh * WP + ow of the padded plane's width WP, so that tap (kh, kw) reads the contiguous
//   run starting at o + kh * DH * WP + kw * DW: the whole plane is computed in flat vectors of
//   16 outputs, 4 at a time (the WP - OW columns past each row's end are computed too and
//   dropped when the rows are copied out). A 7x7 plane then takes 4 full vectors instead of 7
//   half-empty ones, and a 14x14 plane 13 instead of 14 half-empty ones.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "runtime/kernels/conv_impl.h"

namespace edgefit {
namespace {

// ---------------------------------------------------------------- rows

using DepthwiseGeometry = PlaneWindow;

// Depthwise output columns [ow, ow + B) of one row from a zero-padded input plane:
// pad[r][c] = x[r - PH][c - PW] (0 outside), wide and tall enough that every block reads inside
// it. The B accumulators stay in vector registers and are clamped to [lo, hi] there (a fused
// Relu/Clip; +-inf when none). S: stride along W (0 = any), K: kernel size (0 = any). base: the
// row's first tap row in pad. `room`: floats that may be written at yr + ow (the block stores
// all B when room >= B: the columns past OW land in the next row, which is written after).
template <int B, int S, int K>
EDGEFIT_ALWAYS_INLINE void DepthwiseBlock(const float* base, int64_t wp, const float* w,
                                          const DepthwiseGeometry& g, float bias, float lo,
                                          float hi, int64_t ow, int64_t room, float* yr) {
  using V = typename FloatVector<B>::type;
  const int64_t KH = K ? K : g.KH, KW = K ? K : g.KW, SW = S ? S : g.SW;
  V acc;
  for (int j = 0; j < B; ++j) acc[j] = bias;
  for (int64_t kh = 0; kh < KH; ++kh) {
    const float* xr = base + kh * g.DH * wp + ow * SW;
    for (int64_t kw = 0; kw < KW; ++kw) {
      const float* p = xr + kw * g.DW;
      V v;
      LoadStrided<B, S>(p, SW, &v);
      acc += w[kh * KW + kw] * v;
    }
  }
  acc = acc < lo ? lo : (acc > hi ? hi : acc);  // as ClampFloats: NaN stays NaN
  if (room >= B) {
    std::memcpy(yr + ow, &acc, sizeof acc);
  } else {
    for (int64_t j = 0; j < room; ++j) yr[ow + j] = acc[j];
  }
}

// All rows: blocks of 16 columns, then of 8 (the last one partial). Every row but the last
// stores whole blocks (their extra columns are overwritten by the next row).
template <int S, int K>
EDGEFIT_ALWAYS_INLINE void DepthwiseRows(const float* pad, int64_t wp, const float* w,
                                         const DepthwiseGeometry& g, float bias, float lo, float hi,
                                         float* y) {
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const float* base = pad + oh * g.SH * wp;
    float* yr = y + oh * g.OW;
    const int64_t end = (g.OH - oh) * g.OW;  // floats of this plane from yr on
    int64_t ow = 0;
    for (; ow + 16 <= g.OW; ow += 16)
      DepthwiseBlock<16, S, K>(base, wp, w, g, bias, lo, hi, ow, end - ow, yr);
    for (; ow < g.OW; ow += 8)
      DepthwiseBlock<8, S, K>(base, wp, w, g, bias, lo, hi, ow, std::min(end, g.OW) - ow, yr);
  }
}

// Size of the padded plane DepthwisePlane needs, in floats (rows * wp).
int64_t DepthwisePadRows(const DepthwiseGeometry& g) {
  return (g.OH - 1) * g.SH + (g.KH - 1) * g.DH + 1;
}
int64_t DepthwisePadWidth(const DepthwiseGeometry& g) {
  const int64_t cols = (g.OW + 7) / 8 * 8;  // the columns the blocks compute
  // + 1: a stride-2 block loads one float past its last tap.
  return (cols - 1) * g.SW + (g.KW - 1) * g.DW + 2;
}

// One output plane: y = clamp(bias + sum over taps of w[tap] * x shifted, lo, hi). `pad` is a
// zeroed buffer of DepthwisePadRows x DepthwisePadWidth floats reused across planes: the input
// plane x is copied into its interior (the border stays zero); x = nullptr when pad already
// holds it.
EDGEFIT_INLINE_COPIES EDGEFIT_VECTORIZE void DepthwisePlane(const float* __restrict x,
                                                            const float* __restrict w, float bias,
                                                            float lo, float hi, float* __restrict y,
                                                            const DepthwiseGeometry& g,
                                                            float* __restrict pad) {
  const int64_t wp = DepthwisePadWidth(g);
  if (x) {
    // Padded column c holds input column c - PW; rows likewise with PH.
    const int64_t r0 = std::max<int64_t>(0, g.PH), r1 = std::min(DepthwisePadRows(g), g.PH + g.H);
    const int64_t c0 = std::max<int64_t>(0, g.PW), c1 = std::min(wp, g.PW + g.W);
    for (int64_t r = r0; r < r1; ++r) {
      const float* src = x + (r - g.PH) * g.W - g.PW;
      float* dst = pad + r * wp;
      for (int64_t c = c0; c < c1; ++c) dst[c] = src[c];
    }
  }
  const int64_t k = g.KH == g.KW && (g.KH == 3 || g.KH == 5) ? g.KH : 0;
  if (g.SW == 1) {
    if (k == 3)
      DepthwiseRows<1, 3>(pad, wp, w, g, bias, lo, hi, y);
    else if (k == 5)
      DepthwiseRows<1, 5>(pad, wp, w, g, bias, lo, hi, y);
    else
      DepthwiseRows<1, 0>(pad, wp, w, g, bias, lo, hi, y);
  } else if (g.SW == 2) {
    if (k == 3)
      DepthwiseRows<2, 3>(pad, wp, w, g, bias, lo, hi, y);
    else if (k == 5)
      DepthwiseRows<2, 5>(pad, wp, w, g, bias, lo, hi, y);
    else
      DepthwiseRows<2, 0>(pad, wp, w, g, bias, lo, hi, y);
  } else {
    DepthwiseRows<0, 0>(pad, wp, w, g, bias, lo, hi, y);
  }
}

// ---------------------------------------------------------------- flat (stride 1, narrow rows)

constexpr int kLanes = 16;  // outputs per flat vector (one AVX-512 register; two AVX2 ones)
constexpr int kUnroll = 4;  // flat vectors computed together: independent FMA chains

// Stride 2 does not gain: its flat rows would be the padded input's width, twice the output's.
bool UseFlat(const DepthwiseGeometry& g) { return g.SH == 1 && g.SW == 1 && g.OW < 32; }

// The padded plane of the flat path: WP = OW + (KW - 1) * DW columns (the input's W and both
// pads), RP = OH + (KH - 1) * DH rows; output (oh, ow) at flat o = oh * WP + ow reads, for tap
// (kh, kw), padded element o + kh * DH * WP + kw * DW.
struct FlatGeometry {
  int64_t WP, RP, flat;  // flat: OH * WP rounded up to whole vectors
  explicit FlatGeometry(const DepthwiseGeometry& g)
      : WP(g.OW + (g.KW - 1) * g.DW),
        RP(g.OH + (g.KH - 1) * g.DH),
        flat((g.OH * WP + kLanes - 1) / kLanes * kLanes) {}
  // The plane plus the reads of the last vectors past it.
  int64_t buffer_size(const DepthwiseGeometry& g) const {
    return (g.KH - 1) * g.DH * WP + (g.KW - 1) * g.DW + flat + kLanes;
  }
};

// out[o] = clamp(bias + sum over taps t of w[t] * pad[offset[t] + o], lo, hi) for the U
// vectors at o. T: the number of taps when known at compile time (9 for 3x3), else 0.
template <int T, int U>
EDGEFIT_ALWAYS_INLINE void FlatVectors(const float* __restrict pad,
                                       const int64_t* __restrict offset, const float* __restrict w,
                                       int taps, float bias, float lo, float hi, int64_t o,
                                       float* __restrict out) {
  using V = FloatVector<kLanes>::type;
  const int n_taps = T > 0 ? T : taps;
  V acc[U];
  for (int u = 0; u < U; ++u) acc[u] = V{} + bias;
  for (int t = 0; t < n_taps; ++t) {
    const float* src = pad + offset[t] + o;
    const float wt = w[t];
    for (int u = 0; u < U; ++u) {
      V v;
      std::memcpy(&v, src + u * kLanes, sizeof(V));
      acc[u] += wt * v;
    }
  }
  for (int u = 0; u < U; ++u) {
    V t = acc[u];
    t = t < lo ? lo : (t > hi ? hi : t);  // as ClampFloats: NaN stays NaN
    std::memcpy(out + o + u * kLanes, &t, sizeof(V));
  }
}

// Planes [begin, end) of the flat path (plane p: image p / M, output channel p % M).
template <int T>
EDGEFIT_ALWAYS_INLINE void FlatPlanes(const float* x, const float* w, const float* bias, float* y,
                                      int64_t channels, int64_t mg, const DepthwiseGeometry& g,
                                      const int64_t* offset, float lo, float hi, int64_t begin,
                                      int64_t end) {
  const FlatGeometry f(g);
  const int taps = static_cast<int>(g.KH * g.KW);
  const int64_t M = channels * mg, in_plane = g.H * g.W, out_plane = g.OH * g.OW;
  // The padded plane (its border stays zero: every plane writes the same interior) and the
  // flat output.
  std::vector<float> pad(static_cast<size_t>(f.buffer_size(g)), 0.f), out(f.flat);
  const float* filled = nullptr;  // the input plane `pad` holds
  for (int64_t p = begin; p < end; ++p) {
    const int64_t n = p / M, m = p % M;
    const float* src = x + (n * channels + m / mg) * in_plane;
    if (src != filled) {
      for (int64_t r = 0; r < g.H; ++r)
        std::memcpy(pad.data() + (r + g.PH) * f.WP + g.PW, src + r * g.W,
                    static_cast<size_t>(g.W) * sizeof(float));
      filled = src;
    }
    const float* wm = w + m * taps;
    const float b = bias ? bias[m] : 0.f;
    int64_t o = 0;
    for (; o + kLanes * kUnroll <= f.flat; o += kLanes * kUnroll)
      FlatVectors<T, kUnroll>(pad.data(), offset, wm, taps, b, lo, hi, o, out.data());
    for (; o < f.flat; o += kLanes)
      FlatVectors<T, 1>(pad.data(), offset, wm, taps, b, lo, hi, o, out.data());
    float* yp = y + p * out_plane;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) yp[oh * g.OW + ow] = out[oh * f.WP + ow];
  }
}

EDGEFIT_VECTORIZE void FlatPlanesAny(const float* x, const float* w, const float* bias, float* y,
                                     int64_t channels, int64_t mg, const DepthwiseGeometry& g,
                                     const int64_t* offset, float lo, float hi, int64_t begin,
                                     int64_t end) {
  if (g.KH * g.KW == 9)
    FlatPlanes<9>(x, w, bias, y, channels, mg, g, offset, lo, hi, begin, end);
  else
    FlatPlanes<0>(x, w, bias, y, channels, mg, g, offset, lo, hi, begin, end);
}

}  // namespace

void DepthwiseConv2D(const float* x, const float* w, const float* bias, float* y, int64_t batch,
                     int64_t channels, int64_t mg, const spatial::Geometry& geo,
                     const FusedActivation& act, KernelContext& ctx) {
  const DepthwiseGeometry g = PlaneWindowOf(geo);
  const int64_t M = channels * mg, in_plane = g.H * g.W, out_plane = g.OH * g.OW;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const float lo = act.active ? act.lo : -kInf, hi = act.active ? act.hi : kInf;
  if (UseFlat(g)) {
    const FlatGeometry f(g);
    std::vector<int64_t> offset;  // where tap (kh, kw)'s run starts in the padded plane
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) offset.push_back(kh * g.DH * f.WP + kw * g.DW);
    ParallelForCost(ctx, batch * M, out_plane * g.KH * g.KW, [&](int64_t begin, int64_t end) {
      FlatPlanesAny(x, w, bias, y, channels, mg, g, offset.data(), lo, hi, begin, end);
    });
    return;
  }
  const int64_t pad_size = DepthwisePadRows(g) * DepthwisePadWidth(g);
  ParallelForCost(ctx, batch * M, out_plane * g.KH * g.KW, [&](int64_t begin, int64_t end) {
    std::vector<float> pad(pad_size);
    const float* padded = nullptr;  // the input plane `pad` holds
    for (int64_t p = begin; p < end; ++p) {
      const int64_t n = p / M, m = p % M;
      const float* src = x + (n * channels + m / mg) * in_plane;
      DepthwisePlane(src != padded ? src : nullptr, w + m * g.KH * g.KW, bias ? bias[m] : 0.f, lo,
                     hi, y + p * out_plane, g, pad.data());
      padded = src;
    }
  });
}

}  // namespace edgefit
