// 2-D convolution over few input channels (a network's first conv on an RGB image), computed
// directly instead of through im2col + GEMM.
//
// With C = 3 the im2col matrix has only C * KH * KW rows (27 for 3x3) but one column per output
// pixel: building it writes 27 floats per pixel, and a GEMM of so shallow a depth spends its time
// packing and storing rather than multiplying. Here each input row is first copied once into
// SW zero-padded "phase" rows (phase p holds input columns p, p + SW, p + 2 SW, ... shifted by
// the left pad), so that for any tap (kh, kw) the inputs of consecutive output columns are
// consecutive floats of one phase row. Output tiles of kBlockRows channels x NV vectors of
// columns then accumulate every tap with one load per vector and one broadcast weight per
// channel, and are stored once with the bias and a fused Relu/Clip applied.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "runtime/kernels/conv_impl.h"

namespace edgefit {
namespace {

using spatial::Geometry;

constexpr int kBlockRows = 8;  // output channels per tile

// The input of one image as phase rows: row (c, ih, p) holds L floats, element j being input
// column j * SW + p - PW (zero outside [0, W)).
struct PhaseRows {
  int64_t L = 0;
  const float* data = nullptr;
  // Per kw: where tap kw's inputs start in row (c, ih)'s phases. The tap reads input column
  // ow * SW - PW + kw * DW, and kw * DW = q * SW + p: element ow + q of phase p.
  std::vector<int64_t> tap_offset;
  const float* row(int64_t c, int64_t ih, int64_t p, int64_t H, int64_t SW) const {
    return data + ((c * H + ih) * SW + p) * L;
  }
};

// W [M, C, KH, KW] -> blocks of kBlockRows channels, tap-major: block b, tap t at
// (b * taps + t) * kBlockRows, zero rows past M.
std::vector<float> PackBlocks(const float* w, int64_t M, int64_t taps) {
  const int64_t blocks = (M + kBlockRows - 1) / kBlockRows;
  std::vector<float> packed(static_cast<size_t>(blocks * taps * kBlockRows), 0.f);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t t = 0; t < taps; ++t)
      packed[((m / kBlockRows) * taps + t) * kBlockRows + m % kBlockRows] = w[m * taps + t];
  return packed;
}

// Output rows [row0, row1) of channel block `block` (each output row: all its column tiles).
template <int VW, int NV>
EDGEFIT_ALWAYS_INLINE void ComputeRows(const PhaseRows& in, const float* wpack, const float* bias,
                                       float lo, float hi, float* y, int64_t M, int64_t C,
                                       const Geometry& g, int64_t block, int64_t row0,
                                       int64_t row1) {
  using V = typename FloatVector<VW>::type;
  constexpr int NR = NV * VW;
  const int64_t H = g.in[0], KH = g.kernel[0], KW = g.kernel[1];
  const int64_t SH = g.stride[0], SW = g.stride[1], DH = g.dilation[0];
  const int64_t PH = g.pad_begin[0], OH = g.out[0], OW = g.out[1], S = OH * OW;
  const int64_t m0 = block * kBlockRows;
  const int rows = static_cast<int>(std::min<int64_t>(kBlockRows, M - m0));
  const float* wb = wpack + block * C * KH * KW * kBlockRows;
  for (int64_t oh = row0; oh < row1; ++oh) {
    for (int64_t j0 = 0; j0 < OW; j0 += NR) {
      V acc[kBlockRows][NV];
      for (int r = 0; r < kBlockRows; ++r)
        for (int v = 0; v < NV; ++v) acc[r][v] = V{};
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t kh = 0; kh < KH; ++kh) {
          const int64_t ih = oh * SH - PH + kh * DH;
          if (ih < 0 || ih >= H) continue;  // a padding row: adds nothing
          const float* wt = wb + (c * KH + kh) * KW * kBlockRows;
          const float* base = in.row(c, ih, 0, H, SW) + j0;
          for (int64_t kw = 0; kw < KW; ++kw, wt += kBlockRows) {
            const float* src = base + in.tap_offset[kw];
            V xv[NV];
            for (int v = 0; v < NV; ++v) std::memcpy(&xv[v], src + v * VW, sizeof(V));
            for (int r = 0; r < kBlockRows; ++r)
              for (int v = 0; v < NV; ++v) acc[r][v] += wt[r] * xv[v];
          }
        }
      }
      const int64_t cols = std::min<int64_t>(NR, OW - j0);
      for (int r = 0; r < rows; ++r) {
        const float b = bias ? bias[m0 + r] : 0.f;
        float* out = y + (m0 + r) * S + oh * OW + j0;
        for (int v = 0; v < NV && v * VW < cols; ++v) {
          V t = acc[r][v] + b;
          t = t < lo ? lo : (t > hi ? hi : t);  // as ClampFloats: NaN stays NaN
          const int64_t n = std::min<int64_t>(VW, cols - v * VW);
          if (n == VW) {
            std::memcpy(out + v * VW, &t, sizeof(V));
          } else {
            for (int64_t i = 0; i < n; ++i) out[v * VW + i] = t[i];
          }
        }
      }
    }
  }
}

EDGEFIT_VECTORIZE void ComputeRowsWide(const PhaseRows& in, const float* wpack, const float* bias,
                                       float lo, float hi, float* y, int64_t M, int64_t C,
                                       const Geometry& g, int64_t block, int64_t row0,
                                       int64_t row1) {
  ComputeRows<16, 2>(in, wpack, bias, lo, hi, y, M, C, g, block, row0, row1);
}
EDGEFIT_VECTORIZE void ComputeRowsNarrow(const PhaseRows& in, const float* wpack, const float* bias,
                                         float lo, float hi, float* y, int64_t M, int64_t C,
                                         const Geometry& g, int64_t block, int64_t row0,
                                         int64_t row1) {
  ComputeRows<8, 1>(in, wpack, bias, lo, hi, y, M, C, g, block, row0, row1);
}

// dst[j] = src[j * stride] for j in [0, n); strides 1 and 2 as vector copies.
EDGEFIT_VECTORIZE void CopyStrided(const float* __restrict src, int64_t stride, int64_t n,
                                   float* __restrict dst) {
  if (stride == 1) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
  } else if (stride == 2) {
    for (int64_t j = 0; j < n; ++j) dst[j] = src[2 * j];
  } else {
    for (int64_t j = 0; j < n; ++j) dst[j] = src[j * stride];
  }
}

std::atomic<bool> use_wide_tiles{CpuHasAvx512()};

}  // namespace

bool FewChannelConvApplies(int64_t C, int64_t group, const Geometry& g) {
  return group == 1 && g.rank == 2 && C >= 2 && C <= 4 && g.out[1] >= 8 && g.stride[1] <= 4 &&
         g.kernel[0] * g.kernel[1] <= 64;
}

void FewChannelConv2D(const float* x, const float* w, const float* bias, float* y, int64_t N,
                      int64_t C, int64_t M, const Geometry& g, const FusedActivation& act,
                      KernelContext& ctx) {
  const int64_t H = g.in[0], W = g.in[1], SW = g.stride[1], PW = g.pad_begin[1];
  const int64_t OH = g.out[0], OW = g.out[1], taps = C * g.kernel[0] * g.kernel[1];
  // Phase rows long enough for whole tiles of the widest kind (32 columns) and the taps'
  // shift, (KW - 1) * DW / SW, past the last output column.
  constexpr int64_t kMaxTile = 32;
  PhaseRows in;
  in.L = (OW + kMaxTile - 1) / kMaxTile * kMaxTile + (g.kernel[1] - 1) * g.dilation[1] / SW + 1;
  for (int64_t kw = 0; kw < g.kernel[1]; ++kw) {
    const int64_t shift = kw * g.dilation[1];
    in.tap_offset.push_back(shift % SW * in.L + shift / SW);
  }
  // Every element is written below (no zeroing first).
  std::unique_ptr<float[]> phases(new float[static_cast<size_t>(C * H * SW * in.L)]);
  in.data = phases.get();
  const std::vector<float> wpack = PackBlocks(w, M, taps);
  const int64_t blocks = (M + kBlockRows - 1) / kBlockRows;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const float lo = act.active ? act.lo : -kInf, hi = act.active ? act.hi : kInf;
  const bool wide = use_wide_tiles.load(std::memory_order_relaxed);
  for (int64_t n = 0; n < N; ++n) {
    const float* xn = x + n * C * H * W;
    for (int64_t r = 0; r < C * H; ++r) {  // row r = c * H + ih
      for (int64_t p = 0; p < SW; ++p) {
        float* dst = phases.get() + (r * SW + p) * in.L;
        // Element j is column j * SW + p - PW: inside [0, W) for j in [j0, j1).
        const int64_t j0 = std::min(in.L, std::max<int64_t>(0, (PW - p + SW - 1) / SW));
        const int64_t last = W - 1 - p + PW;  // j * SW <= last
        const int64_t j1 = last < 0 ? j0 : std::max(j0, std::min(in.L, last / SW + 1));
        const float* src = xn + r * W + p - PW;
        std::fill(dst, dst + j0, 0.f);
        CopyStrided(src + j0 * SW, SW, j1 - j0, dst + j0);
        std::fill(dst + j1, dst + in.L, 0.f);
      }
    }
    float* yn = y + n * M * OH * OW;
    // Work items: (channel block, band of output rows).
    const int64_t band = std::max<int64_t>(1, std::min<int64_t>(OH, 4));
    const int64_t bands = (OH + band - 1) / band;
    ParallelForCost(
        ctx, blocks * bands, kBlockRows * band * OW * taps, [&](int64_t begin, int64_t end) {
          for (int64_t item = begin; item < end; ++item) {
            const int64_t block = item / bands, r0 = item % bands * band;
            const int64_t r1 = std::min(OH, r0 + band);
            if (wide)
              ComputeRowsWide(in, wpack.data(), bias, lo, hi, yn, M, C, g, block, r0, r1);
            else
              ComputeRowsNarrow(in, wpack.data(), bias, lo, hi, yn, M, C, g, block, r0, r1);
          }
        });
  }
}

void SetFewChannelConvAvx512(bool on) { use_wide_tiles = on && CpuHasAvx512(); }

}  // namespace edgefit
