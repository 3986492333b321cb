#include "runtime/kernels/packed_gemm.h"

#include <algorithm>
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

// K per block: a W panel slice (kPackedRows x kDepthBlock floats, 24 KB) stays in L1 across
// column blocks; most convs have K <= 1024 and need no partial sums.
constexpr int64_t kDepthBlock = 1024;

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

// Rows [m0, m1) of W times the packed X (n columns): tiles of kPackedRows x (2 x VW).
template <int VW>
EDGEFIT_ALWAYS_INLINE void Multiply(const PackedWeights& w, int64_t m0, int64_t m1, const float* xp,
                                    int64_t n, const float* bias, float lo, float hi, float* y,
                                    int64_t ldy) {
  using V = typename FloatVector<VW>::type;
  constexpr int NR = 2 * VW;
  constexpr int MR = static_cast<int>(kPackedRows);
  const int64_t depth = w.depth();
  for (int64_t k0 = 0; k0 < depth; k0 += kDepthBlock) {
    const int64_t k1 = std::min(depth, k0 + kDepthBlock);
    const bool first = k0 == 0, last = k1 == depth;
    // The smaller factor stays in cache while the larger streams once: with more rows than
    // columns, panels outside and column blocks inside (each W slice is read once per depth
    // block, the packed X stays in L2); otherwise column blocks outside (each X block stays in
    // L1 while all of W's panels pass).
    const bool panels_outer = m1 - m0 > n;
    const int64_t panels = (m1 - m0 + MR - 1) / MR, blocks = (n + NR - 1) / NR;
    for (int64_t outer = 0; outer < (panels_outer ? panels : blocks); ++outer) {
      for (int64_t inner = 0; inner < (panels_outer ? blocks : panels); ++inner) {
        const int64_t r0 = m0 + (panels_outer ? outer : inner) * MR;
        const int64_t j0 = (panels_outer ? inner : outer) * NR;
        const int rows = static_cast<int>(std::min<int64_t>(MR, m1 - r0));
        const int64_t cols = std::min<int64_t>(NR, n - j0);
        const float* xb = xp + j0 * depth;
        float* yt = y + (r0 - m0) * ldy + j0;
        V a0[MR], a1[MR];
        for (int r = 0; r < MR; ++r) a0[r] = a1[r] = V{};
        if (!first) {  // the partial sums of the previous depth blocks
          for (int r = 0; r < rows; ++r) {
            const float* in = yt + r * ldy;
            if (cols == NR) {
              std::memcpy(&a0[r], in, sizeof(V));
              std::memcpy(&a1[r], in + VW, sizeof(V));
            } else {
              for (int64_t c = 0; c < cols; ++c) (c < VW ? a0[r][c] : a1[r][c - VW]) = in[c];
            }
          }
        }
        const float* wp = w.panel(r0 / MR) + k0 * MR;
        const float* xk = xb + k0 * NR;
        for (int64_t k = k0; k < k1; ++k, wp += MR, xk += NR) {
          V x0, x1;
          std::memcpy(&x0, xk, sizeof x0);
          std::memcpy(&x1, xk + VW, sizeof x1);
          for (int r = 0; r < MR; ++r) {
            a0[r] += wp[r] * x0;
            a1[r] += wp[r] * x1;
          }
        }
        for (int r = 0; r < rows; ++r) {
          V v0 = a0[r], v1 = a1[r];
          if (last) {
            const float b = bias ? bias[r0 + r] : 0.f;
            v0 += b;
            v1 += b;
            v0 = v0 < lo ? lo : (v0 > hi ? hi : v0);  // as ClampFloats: NaN stays NaN
            v1 = v1 < lo ? lo : (v1 > hi ? hi : v1);
          }
          float* out = yt + r * ldy;
          if (cols == NR) {
            std::memcpy(out, &v0, sizeof(V));
            std::memcpy(out + VW, &v1, sizeof(V));
          } else {
            for (int64_t c = 0; c < cols; ++c) out[c] = c < VW ? v0[c] : v1[c - VW];
          }
        }
      }
    }
  }
}

template <int VW>
EDGEFIT_ALWAYS_INLINE void Run(const PackedWeights& w, int64_t m0, int64_t m1, const float* x,
                               int64_t ldx, int64_t n, const float* bias, float lo, float hi,
                               float* y, int64_t ldy) {
  constexpr int NR = 2 * VW;
  static thread_local std::vector<float> xp;  // packed X, reused across calls
  const size_t need = static_cast<size_t>((n + NR - 1) / NR * NR * w.depth());
  if (xp.size() < need) xp.resize(need);
  PackColumns<NR>(x, ldx, w.depth(), n, xp.data());
  Multiply<VW>(w, m0, m1, xp.data(), n, bias, lo, hi, y, ldy);
}

// One instance per vector width, each compiled for AVX-512, AVX2+FMA and baseline x86-64.
EDGEFIT_VECTORIZE void RunWide(const PackedWeights& w, int64_t m0, int64_t m1, const float* x,
                               int64_t ldx, int64_t n, const float* bias, float lo, float hi,
                               float* y, int64_t ldy) {
  Run<16>(w, m0, m1, x, ldx, n, bias, lo, hi, y, ldy);
}
EDGEFIT_VECTORIZE void RunNarrow(const PackedWeights& w, int64_t m0, int64_t m1, const float* x,
                                 int64_t ldx, int64_t n, const float* bias, float lo, float hi,
                                 float* y, int64_t ldy) {
  Run<8>(w, m0, m1, x, ldx, n, bias, lo, hi, y, ldy);
}

bool HasAvx512() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return yes;
#else
  return false;
#endif
}

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
  if (HasAvx512())
    RunWide(w, m0, m1, x, ldx, n, bias, lo, hi, y, ldy);
  else
    RunNarrow(w, m0, m1, x, ldx, n, bias, lo, hi, y, ldy);
}

}  // namespace edgefit
