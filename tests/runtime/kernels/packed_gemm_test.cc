// PackedGemm against a plain loop: row counts around the panel height, depths around the depth
// block, column counts around the tile width, padded leading dimensions, row ranges starting at
// later panels, bias and clamp, and NaN/Inf propagation.
#include "runtime/kernels/packed_gemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace edgefit {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct Case {
  int64_t rows, depth, n, m0, m1;
  bool bias;
  float lo = -kInf, hi = kInf;
};

void Check(const Case& c, std::mt19937& rng) {
  SCOPED_TRACE(::testing::Message()
               << "rows=" << c.rows << " depth=" << c.depth << " n=" << c.n << " m0=" << c.m0
               << " m1=" << c.m1 << " bias=" << c.bias << " lo=" << c.lo << " hi=" << c.hi);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int64_t ldw = c.depth + 2, ldx = c.n + 5, ldy = c.n + 3;
  std::vector<float> w(c.rows * ldw), x(c.depth * ldx), b(c.rows);
  for (float& v : w) v = u(rng);
  for (float& v : x) v = u(rng);
  for (float& v : b) v = u(rng);
  const PackedWeights packed(w.data(), c.rows, c.depth, ldw);
  ASSERT_EQ(packed.rows(), c.rows);
  const int64_t out_rows = std::min(c.m1, c.rows) - c.m0;  // rows past W's are not written
  std::vector<float> y(out_rows * ldy, 12345.f);
  PackedGemm(packed, c.m0, c.m1, x.data(), ldx, c.n, c.bias ? b.data() : nullptr, c.lo, c.hi,
             y.data(), ldy);
  for (int64_t i = 0; i < out_rows; ++i) {
    const int64_t m = c.m0 + i;
    for (int64_t j = 0; j < ldy; ++j) {
      const float got = y[i * ldy + j];
      if (j >= c.n) {
        ASSERT_EQ(got, 12345.f) << "wrote past the columns at [" << i << ", " << j << "]";
        continue;
      }
      double sum = c.bias ? b[m] : 0.0;
      for (int64_t k = 0; k < c.depth; ++k)
        sum += static_cast<double>(w[m * ldw + k]) * x[k * ldx + j];
      const float want = std::min(std::max(static_cast<float>(sum), c.lo), c.hi);
      ASSERT_NEAR(got, want, 1e-5f * (1.f + std::sqrt(static_cast<float>(c.depth))))
          << "at [" << i << ", " << j << "]";
    }
  }
}

// Both tile widths (on a CPU without AVX-512 both runs use the narrow one).
class PackedGemmTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { SetPackedGemmAvx512(GetParam()); }
  void TearDown() override { SetPackedGemmAvx512(true); }
};

TEST_P(PackedGemmTest, MatchesLoopAcrossTileEdges) {
  std::mt19937 rng(7);
  constexpr int64_t P = kPackedRows;
  // Up to 4 panels X is packed a column block at a time, past that all at once.
  for (int64_t rows : {int64_t{1}, P - 1, P, P + 1, 2 * P + 1, 4 * P, 4 * P + 1, 5 * P + 3}) {
    // Depths around the depth block (1024: partial sums kept in the output between blocks).
    for (int64_t depth : {1, 3, 129, 1023, 1024, 1025, 2100}) {
      // Columns around the tile widths (8 with AVX2, 32 with AVX-512).
      for (int64_t n : {1, 7, 8, 9, 16, 17, 31, 32, 33, 49, 100}) {
        Check({rows, depth, n, 0, rows, (rows + depth + n) % 2 == 0}, rng);
      }
    }
  }
}

TEST_P(PackedGemmTest, RowRangesBiasAndClamp) {
  std::mt19937 rng(8);
  constexpr int64_t P = kPackedRows;
  Check({3 * P - 2, 40, 33, P, 3 * P - 2, true}, rng);      // from the second panel on
  Check({3 * P - 2, 40, 33, 2 * P, 2 * P + 3, true}, rng);  // a middle range, inside a panel
  Check({3 * P - 2, 40, 33, 2 * P, 100, false}, rng);       // m1 past the rows: clipped
  Check({9, 1100, 64, 0, 9, true, 0.f, 0.5f}, rng);         // Clip(0, 0.5), two depth blocks
  Check({9, 7, 20, 0, 9, false, 0.f, kInf}, rng);           // Relu
  Check({9, 7, 20, 0, 9, true, -0.1f, 0.1f}, rng);
}

TEST_P(PackedGemmTest, EmptyDepthGivesTheBias) {
  const std::vector<float> bias = {1.f, -2.f, 3.f};
  const PackedWeights packed(nullptr, 3, 0, 0);
  std::vector<float> y(3 * 4, 9.f);
  PackedGemm(packed, 0, 3, nullptr, 0, 4, bias.data(), -kInf, 2.f, y.data(), 4);
  for (int j = 0; j < 4; ++j) {
    EXPECT_EQ(y[j], 1.f);
    EXPECT_EQ(y[4 + j], -2.f);
    EXPECT_EQ(y[8 + j], 2.f);  // clamped
  }
}

TEST_P(PackedGemmTest, NanAndInfPropagateAsInALoop) {
  // Row 0 of W has an Inf, column 1 of X a NaN: y[0][j] = +-Inf (or NaN where Inf * 0 / NaN),
  // y[r][1] = NaN; everything else finite. Zero padding must not leak Inf * 0 into real outputs.
  const int64_t rows = 7, depth = 3, n = 5;
  std::vector<float> w(rows * depth, 0.5f), x(depth * n, 1.f);
  w[0] = kInf;
  x[1] = std::numeric_limits<float>::quiet_NaN();
  const PackedWeights packed(w.data(), rows, depth, depth);
  std::vector<float> y(rows * n);
  PackedGemm(packed, 0, rows, x.data(), n, n, nullptr, -kInf, kInf, y.data(), n);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < n; ++j) {
      const float v = y[r * n + j];
      if (j == 1) {
        EXPECT_TRUE(std::isnan(v)) << r << "," << j;
      } else if (r == 0) {
        EXPECT_EQ(v, kInf) << r << "," << j;
      } else {
        EXPECT_EQ(v, 1.5f) << r << "," << j;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TileWidths, PackedGemmTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Avx512Tiles" : "Avx2Tiles";
                         });

}  // namespace
}  // namespace edgefit
