// The BLAS calls edgefit uses (OpenBLAS from Debian), behind one small interface.
#pragma once

namespace edgefit::blas {

// Threads OpenBLAS may use for the next calls.
void SetThreads(int threads);

// C = alpha * op(A) * op(B) + beta * C, row-major; op(X) = X or X^T.
// A is MxK after op, B is KxN after op, C is MxN.
void Sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace edgefit::blas
