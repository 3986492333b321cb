// Private helpers of the kernels that multiply matrices (Conv, ConvTranspose, Gemm, MatMul,
// Einsum): one thread pool. OpenBLAS is always single-threaded (blas::Init), and these kernels
// spread their work with ctx.ParallelFor instead (slices of one product, or whole products), so
// OpenBLAS's own threads never compete with the session's.
#pragma once

#include <algorithm>
#include <cstdint>

#include "runtime/kernel.h"

namespace edgefit {

// Multiply-adds below which a product runs on the calling thread.
constexpr int64_t kMinParallelMacs = int64_t{1} << 18;

// C = alpha * op(A) * op(B) + beta * C (row-major, as blas::Sgemm), split into per-thread slices
// of N (or of M when M is the larger) when large enough.
void ParallelSgemm(KernelContext& ctx, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                   float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                   float beta, float* c, int64_t ldc);

// Calls fn(thread_slot, begin, end) over [0, items) split into at most ctx.num_threads()
// contiguous ranges; thread_slot < ctx.num_threads() is distinct per range (for per-thread
// scratch). Runs inline (slot 0) when cost_per_item * items is small.
template <typename Fn>
void ParallelItems(KernelContext& ctx, int64_t items, int64_t cost_per_item, Fn&& fn) {
  if (items <= 0) return;
  const int64_t t = std::min<int64_t>(ctx.num_threads(), items);
  if (t <= 1 || items * cost_per_item < kMinParallelMacs) {
    fn(int64_t{0}, int64_t{0}, items);
    return;
  }
  ctx.ParallelFor(t, [&](int64_t begin, int64_t end) {
    for (int64_t slot = begin; slot < end; ++slot)
      fn(slot, items * slot / t, items * (slot + 1) / t);
  });
}

}  // namespace edgefit
