// Kernel family: (being written; registers nothing yet).
#include "runtime/kernels/families.h"

namespace edgefit {

void RegisterCastKernels(KernelRegistry& r) { (void)r; }

}  // namespace edgefit
