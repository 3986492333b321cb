// Kernel family: (being written; registers nothing yet).
#include "runtime/kernels/families.h"

namespace edgefit {

void RegisterShapeKernels(KernelRegistry& r) { (void)r; }

}  // namespace edgefit
