#include "runtime/kernels/packed_gemm.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "runtime/kernels/conv_impl.h"

namespace edgefit {

PackedWeights::PackedWeights(const float* w, int64_t rows, int64_t depth, int64_t ldw)
    : rows_(rows), depth_(depth) {
  const int64_t panels = (rows + kPackedRows - 1) / kPackedRows;
  data_.assign(static_cast<size_t>(panels * depth * kPackedRows), 0.f);
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = data_.data() + (r / kPackedRows) * depth * kPackedRows + r % kPackedRows;
    const float* src = w + r * ldw;
    for (int64_t k = 0; k < depth; ++k) dst[k * kPackedRows] = src[k];
  }
}

namespace {

// K per block: a W panel slice (kPackedRows x kDepthBlock floats, 32 KB) stays in L1 while the
// X blocks pass; most convs have K <= 1024 and need no partial sums.
constexpr int64_t kDepthBlock = 1024;

// Up to this many output rows, X is packed one column block at a time (see Run). With more, the
// block order of Multiply would write each column block across as many rows, far apart in a
// large output (~100 pages per block with 96 rows of 112x112: half speed); with up to 32 rows
// the projections of mobilenet_v2 (144 -> 24 channels at 56x56, ...) ran 20-30% faster.
constexpr int64_t kFewRows = 4 * kPackedRows;

// X [depth, n] -> blocks of NR columns, each depth x NR floats k-major, zero-padded past n.
template <int NR>
EDGEFIT_ALWAYS_INLINE void PackColumns(const float* x, int64_t ldx, int64_t depth, int64_t n,
                                       float* xp) {
  for (int64_t j0 = 0; j0 < n; j0 += NR) {
    const int64_t cols = std::min<int64_t>(NR, n - j0);
    float* dst = xp + j0 * depth;  // block j0 / NR starts at (j0 / NR) * depth * NR
    for (int64_t k = 0; k < depth; ++k, dst += NR) {
      const float* src = x + k * ldx + j0;
      if (cols == NR) {
        std::memcpy(dst, src, NR * sizeof(float));
      } else {
        for (int64_t c = 0; c < cols; ++c) dst[c] = src[c];
        for (int64_t c = cols; c < NR; ++c) dst[c] = 0.f;
      }
    }
  }
}

// Rows [m0, m1) of W times the packed X (n columns): tiles of kPackedRows x (NV x VW), in
// panel order: each panel's row tiles are written across all columns before the next panel,
// so the output is written a few rows at a time (with one tile per panel and column block in
// the other order, a 96-row output 50 KB per row apart touched ~100 pages per column block and
// ran at half speed), while the packed X block (depth x n) is read again from L2 per panel.
template <int VW, int NV>
EDGEFIT_ALWAYS_INLINE void Multiply(const PackedWeights& w, int64_t m0, int64_t m1, const float* xp,
                                    int64_t n, const float* bias, float lo, float hi, float* y,
                                    int64_t ldy) {
  using V = typename FloatVector<VW>::type;
  constexpr int NR = NV * VW;
  constexpr int MR = static_cast<int>(kPackedRows);
  const int64_t depth = w.depth();
  for (int64_t k0 = 0; k0 < depth; k0 += kDepthBlock) {
    const int64_t k1 = std::min(depth, k0 + kDepthBlock);
    const bool first = k0 == 0, last = k1 == depth;
    for (int64_t r0 = m0; r0 < m1; r0 += MR) {
      const int rows = static_cast<int>(std::min<int64_t>(MR, m1 - r0));
      for (int64_t j0 = 0; j0 < n; j0 += NR) {
        const int64_t cols = std::min<int64_t>(NR, n - j0);
        const float* xb = xp + j0 * depth;
        float* yt = y + (r0 - m0) * ldy + j0;
        V acc[MR][NV];
        for (int r = 0; r < MR; ++r)
          for (int v = 0; v < NV; ++v) acc[r][v] = V{};
        if (!first) {  // the partial sums of the previous depth blocks
          for (int r = 0; r < rows; ++r) {
            const float* in = yt + r * ldy;
            float part[NR] = {};  // (no dynamic index into acc: it would leave registers)
            std::memcpy(part, in, static_cast<size_t>(cols) * sizeof(float));
            for (int v = 0; v < NV; ++v) std::memcpy(&acc[r][v], part + v * VW, sizeof(V));
          }
        }
        const float* wp = w.panel(r0 / MR) + k0 * MR;
        const float* xk = xb + k0 * NR;
        for (int64_t k = k0; k < k1; ++k, wp += MR, xk += NR) {
          V xv[NV];
          for (int v = 0; v < NV; ++v) std::memcpy(&xv[v], xk + v * VW, sizeof(V));
          for (int r = 0; r < MR; ++r)
            for (int v = 0; v < NV; ++v) acc[r][v] += wp[r] * xv[v];
        }
        for (int r = 0; r < rows; ++r) {
          const float b = last && bias ? bias[r0 + r] : 0.f;
          float* out = yt + r * ldy;
          for (int v = 0; v < NV; ++v) {
            V t = acc[r][v];
            if (last) {
              t += b;
              t = t < lo ? lo : (t > hi ? hi : t);  // as ClampFloats: NaN stays NaN
            }
            if (cols == NR) {
              std::memcpy(out + v * VW, &t, sizeof(V));
            } else if (cols > v * VW) {
              float part[VW];
              std::memcpy(part, &t, sizeof(V));
              std::memcpy(
                  out + v * VW, part,
                  static_cast<size_t>(std::min<int64_t>(VW, cols - v * VW)) * sizeof(float));
            }
          }
        }
      }
    }
  }
}

template <int VW, int NV>
EDGEFIT_ALWAYS_INLINE void Run(const PackedWeights& w, int64_t m0, int64_t m1, const float* x,
                               int64_t ldx, int64_t n, const float* bias, float lo, float hi,
                               float* y, int64_t ldy) {
  constexpr int NR = NV * VW;
  static thread_local std::vector<float> xp;  // packed X, reused across calls
  const bool few_rows = m1 - m0 <= kFewRows;
  const int64_t packed_columns = few_rows ? NR : (n + NR - 1) / NR * NR;
  const size_t need = static_cast<size_t>(packed_columns * w.depth());
  if (xp.size() < need) xp.resize(need);
  if (few_rows) {
    // Few output rows: each block of NR columns is packed and multiplied by every panel while
    // it is in L1, instead of packing all of X first and reading it back from L2 per panel.
    for (int64_t j0 = 0; j0 < n; j0 += NR) {
      const int64_t cols = std::min<int64_t>(NR, n - j0);
      PackColumns<NR>(x + j0, ldx, w.depth(), cols, xp.data());
      Multiply<VW, NV>(w, m0, m1, xp.data(), cols, bias, lo, hi, y + j0, ldy);
    }
    return;
  }
  PackColumns<NR>(x, ldx, w.depth(), n, xp.data());
  Multiply<VW, NV>(w, m0, m1, xp.data(), n, bias, lo, hi, y, ldy);
}

// One instance per vector width, each compiled for AVX-512, AVX2+FMA and baseline x86-64.
EDGEFIT_VECTORIZE void RunWide(const PackedWeights& w, int64_t m0, int64_t m1, const float* x,
                               int64_t ldx, int64_t n, const float* bias, float lo, float hi,
                               float* y, int64_t ldy) {
  Run<16, 2>(w, m0, m1, x, ldx, n, bias, lo, hi, y, ldy);
}
EDGEFIT_VECTORIZE void RunNarrow(const PackedWeights& w, int64_t m0, int64_t m1, const float* x,
                                 int64_t ldx, int64_t n, const float* bias, float lo, float hi,
                                 float* y, int64_t ldy) {
  Run<8, 1>(w, m0, m1, x, ldx, n, bias, lo, hi, y, ldy);
}

std::atomic<bool> use_wide_tiles{CpuHasAvx512()};

}  // namespace

void PackedGemm(const PackedWeights& w, int64_t m0, int64_t m1, const float* x, int64_t ldx,
                int64_t n, const float* bias, float lo, float hi, float* y, int64_t ldy) {
  m1 = std::min(m1, w.rows());
  if (m0 >= m1 || n <= 0) return;
  if (w.depth() == 0) {  // an empty sum: the bias alone
    for (int64_t m = m0; m < m1; ++m) {
      const float v = bias ? bias[m] : 0.f;
      std::fill(y + (m - m0) * ldy, y + (m - m0) * ldy + n, v < lo ? lo : (v > hi ? hi : v));
    }
    return;
  }
  // 16 lanes (2 x 16 columns per tile) with AVX-512's 32 registers; 8 otherwise (12
  // accumulators + 3 fit AVX2's 16).
  if (use_wide_tiles.load(std::memory_order_relaxed))
    RunWide(w, m0, m1, x, ldx, n, bias, lo, hi, y, ldy);
  else
    RunNarrow(w, m0, m1, x, ldx, n, bias, lo, hi, y, ldy);
}

void SetPackedGemmAvx512(bool on) { use_wide_tiles = on && CpuHasAvx512(); }

}  // namespace edgefit
