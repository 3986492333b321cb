// The BLAS wrapper: OpenBLAS runs single-threaded with kernels that match the CPU (Debian's
// 0.3.21 falls back to SSE3 "Prescott" kernels on CPUs newer than itself), and Sgemm agrees with
// a plain loop for every transpose combination and odd shapes.
#include "runtime/blas.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

namespace edgefit {
namespace {

TEST(Blas, SingleThreadedWithKernelsForThisCpu) {
  blas::Init();
  EXPECT_EQ(blas::NumThreads(), 1);
  const std::string core = blas::CoreName();
  EXPECT_FALSE(core.empty());
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      std::getenv("OPENBLAS_CORETYPE") == nullptr) {
    EXPECT_NE(core, "Prescott") << "OpenBLAS uses SSE3 kernels on an AVX2 machine";
  }
#endif
}

TEST(Blas, SgemmMatchesPlainLoop) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  const int shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {64, 448, 576}, {33, 49, 300}, {5, 1, 17}};
  for (const auto& s : shapes) {
    const int m = s[0], n = s[1], k = s[2];
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      std::vector<float> a(m * k), b(k * n), c(m * n), want(m * n);
      for (float& v : a) v = dist(rng);
      for (float& v : b) v = dist(rng);
      for (float& v : c) v = dist(rng);
      const int lda = ta ? m : k, ldb = tb ? k : n;
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
          double sum = 0;
          for (int p = 0; p < k; ++p)
            sum += double(ta ? a[p * lda + i] : a[i * lda + p]) *
                   double(tb ? b[j * ldb + p] : b[p * ldb + j]);
          want[i * n + j] = static_cast<float>(0.5 * sum + 2.0 * c[i * n + j]);
        }
      blas::Sgemm(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, 2.f, c.data(), n);
      for (int i = 0; i < m * n; ++i)
        ASSERT_NEAR(c[i], want[i], 1e-4 * (1 + std::sqrt(double(k))))
            << "m=" << m << " n=" << n << " k=" << k << " ta=" << ta << " tb=" << tb << " at " << i;
    }
  }
}

}  // namespace
}  // namespace edgefit
