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
    SelectKernels();
    openblas_set_num_threads(1);
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
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace edgefit::blas
