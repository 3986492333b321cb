// The BLAS calls edgefit uses (OpenBLAS from Debian), behind one small interface.
//
// OpenBLAS is always used single-threaded: the kernels split their products over the session's
// threads themselves (gemm_impl.h), so OpenBLAS's own thread pool never competes with the
// session's (ThreadTeam).
#pragma once

#include <string>

namespace edgefit::blas {

// Sets OpenBLAS up once per process (called by Sgemm; Session::Create calls it early): one
// thread, and the best kernels for this CPU. Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) falls back
// to its SSE3 "Prescott" kernels on CPUs newer than itself (e.g. Emerald Rapids, family 6 model
// 0xCF); then the kernel set is chosen from the CPU's features, as OPENBLAS_CORETYPE would (an
// OPENBLAS_CORETYPE set by the user is left alone).
void Init();

// Threads OpenBLAS itself uses (1 after Init).
int NumThreads();

// The OpenBLAS kernel set in use ("Cooperlake", "Haswell", ...; "" when unknown).
std::string CoreName();

// C = alpha * op(A) * op(B) + beta * C, row-major; op(X) = X or X^T.
// A is MxK after op, B is KxN after op, C is MxN.
void Sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace edgefit::blas
