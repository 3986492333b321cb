#include "runtime/blas.h"

#include <cblas.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace edgefit::blas {

namespace {

// The kernel set OPENBLAS_CORETYPE should name on this CPU, or nullptr.
const char* CoreTypeForThisCpu() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  if (avx512) return __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
  return nullptr;
}

void SelectKernels() {
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's choice
  const char* core = openblas_get_corename();
  if (!core || std::strcmp(core, "Prescott") != 0) return;  // OpenBLAS knows this CPU
  const char* want = CoreTypeForThisCpu();
  // A DYNAMIC_ARCH OpenBLAS re-detects its kernels in gotoblas_dynamic_init after
  // gotoblas_dynamic_quit, reading OPENBLAS_CORETYPE (other builds do not export these).
  auto quit = reinterpret_cast<void (*)()>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit"));
  auto init = reinterpret_cast<void (*)()>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init"));
  if (!want || !quit || !init) return;
  setenv("OPENBLAS_CORETYPE", want, 0);
  quit();
  init();
  unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace

void Init() {
  static std::once_flag once;
  std::call_once(once, [] {
    openblas_set_num_threads(1);
    // OpenBLAS started its worker threads when it was loaded (one per core). With one thread
    // they get no work, but they spin on sched_yield before they sleep, and perf showed one
    // spinning through a whole calibration run (~12% of the samples). Stop them: a single-
    // threaded OpenBLAS never needs them again.
    if (auto shutdown = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "blas_thread_shutdown_")))
      shutdown();
    // Only then re-select the kernels: swapping OpenBLAS's kernel table (and setting the
    // environment it reads) while its workers ran crashed in gotoblas_dynamic_init about once
    // in a thousand starts on a loaded machine (a core dump of a test run under ctest -j3).
    SelectKernels();
  });
}

int NumThreads() {
  Init();
  return openblas_get_num_threads();
}

std::string CoreName() {
  Init();
  const char* core = openblas_get_corename();
  return core ? core : "";
}

void Sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc) {
  if (m == 0 || n == 0) return;
  Init();
  // A product with one row or one column is a matrix-vector product. OpenBLAS 0.3.21's sgemm
  // packs the whole matrix first (for a classifier's Gemm [1, 1280] x [1280, 1000]^T: a 5 MB copy
  // on every call); sgemv streams it once. Measured on mobilenet_v2's fc: 0.64 -> 0.35 ms.
  if ((m == 1 || n == 1) && k > 0) {
    if (beta == 0.f) {  // BLAS may read y even when beta is 0 (0 * NaN): start from zeros
      if (m == 1)
        std::memset(c, 0, sizeof(float) * static_cast<size_t>(n));
      else
        for (int i = 0; i < m; ++i) c[static_cast<size_t>(i) * ldc] = 0.f;
    }
    if (m == 1) {  // c[1, n] = a[1, k] * op(B)[k, n]; a's elements lda apart when transposed
      const int inc_a = trans_a ? lda : 1;
      if (trans_b)  // B is [n, k]
        cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, alpha, b, ldb, a, inc_a, beta, c, 1);
      else  // B is [k, n]
        cblas_sgemv(CblasRowMajor, CblasTrans, k, n, alpha, b, ldb, a, inc_a, beta, c, 1);
    } else {  // c[m, 1] (elements ldc apart) = op(A)[m, k] * b[k, 1]
      const int inc_b = trans_b ? 1 : ldb;
      if (trans_a)  // A is [k, m]
        cblas_sgemv(CblasRowMajor, CblasTrans, k, m, alpha, a, lda, b, inc_b, beta, c, ldc);
      else  // A is [m, k]
        cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, alpha, a, lda, b, inc_b, beta, c, ldc);
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace edgefit::blas
