// blas::Sgemm against a plain triple loop: every transpose combination, padded leading
// dimensions, and the one-row / one-column products it hands to sgemv.
#include "runtime/blas.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace edgefit {
namespace {

struct Case {
  bool ta, tb;
  int m, n, k;
  float alpha, beta;
};

void CheckAgainstLoop(const Case& t) {
  SCOPED_TRACE(::testing::Message() << "ta=" << t.ta << " tb=" << t.tb << " m=" << t.m
                                    << " n=" << t.n << " k=" << t.k << " beta=" << t.beta);
  // Stored shapes (before op) with 3 floats of padding per row.
  const int a_rows = t.ta ? t.k : t.m, a_cols = t.ta ? t.m : t.k;
  const int b_rows = t.tb ? t.n : t.k, b_cols = t.tb ? t.k : t.n;
  const int lda = a_cols + 3, ldb = b_cols + 3, ldc = t.n + 3;
  std::mt19937 rng(static_cast<unsigned>(t.m * 131 + t.n * 17 + t.k));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> a(static_cast<size_t>(a_rows) * lda), b(static_cast<size_t>(b_rows) * ldb);
  for (float& v : a) v = u(rng);
  for (float& v : b) v = u(rng);
  std::vector<float> c(static_cast<size_t>(t.m) * ldc);
  // With beta = 0 the old contents must not matter, not even NaN.
  for (float& v : c) v = t.beta == 0.f ? std::numeric_limits<float>::quiet_NaN() : u(rng);
  std::vector<float> expected = c;
  for (int i = 0; i < t.m; ++i) {
    for (int j = 0; j < t.n; ++j) {
      double sum = 0;
      for (int p = 0; p < t.k; ++p) {
        const float av = t.ta ? a[p * lda + i] : a[i * lda + p];
        const float bv = t.tb ? b[j * ldb + p] : b[p * ldb + j];
        sum += static_cast<double>(av) * bv;
      }
      float& e = expected[i * ldc + j];
      e = static_cast<float>(t.alpha * sum + (t.beta == 0.f ? 0.0 : t.beta * e));
    }
  }
  blas::Sgemm(t.ta, t.tb, t.m, t.n, t.k, t.alpha, a.data(), lda, b.data(), ldb, t.beta, c.data(),
              ldc);
  for (int i = 0; i < t.m; ++i) {
    for (int j = 0; j < ldc; ++j) {
      const size_t at = static_cast<size_t>(i) * ldc + j;
      if (j >= t.n) {  // padding is never written
        if (t.beta == 0.f)
          EXPECT_TRUE(std::isnan(c[at]));
        else
          EXPECT_EQ(c[at], expected[at]);
        continue;
      }
      EXPECT_NEAR(c[at], expected[at], 1e-4f * (1.f + std::fabs(expected[at])))
          << "at [" << i << ", " << j << "]";
    }
  }
}

TEST(BlasSgemmTest, MatchesLoopForEveryTransposeAndVectorShape) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (float beta : {0.f, 1.f, 0.5f}) {
        CheckAgainstLoop({ta, tb, 7, 5, 9, 1.f, beta});     // general
        CheckAgainstLoop({ta, tb, 1, 37, 50, 1.f, beta});   // one row: sgemv
        CheckAgainstLoop({ta, tb, 29, 1, 41, 0.5f, beta});  // one column: sgemv
        CheckAgainstLoop({ta, tb, 1, 1, 13, 2.f, beta});    // a dot product
      }
    }
  }
}

TEST(BlasSgemmTest, EmptyContractionScalesC) {
  CheckAgainstLoop({false, false, 1, 4, 0, 1.f, 0.5f});
  CheckAgainstLoop({false, false, 3, 4, 0, 1.f, 0.f});
}

}  // namespace
}  // namespace edgefit
