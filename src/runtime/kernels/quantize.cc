// Kernel family: (being written; registers nothing yet).
#include "runtime/kernels/families.h"

namespace edgefit {

void RegisterQuantizeKernels(KernelRegistry& r) { (void)r; }

}  // namespace edgefit
