// The explicit list of kernel families edgefit ships. No global constructors: adding a
// family means adding one line here and one in kernels/families.h.
#include "runtime/kernel.h"
#include "runtime/kernels/families.h"

namespace edgefit {

const KernelRegistry& DefaultKernelRegistry() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    RegisterElementwiseUnaryKernels(r);
    RegisterElementwiseBinaryKernels(r);
    RegisterCastKernels(r);
    RegisterSoftmaxKernels(r);
    RegisterConvKernels(r);
    RegisterPoolKernels(r);
    RegisterNormalizationKernels(r);
    RegisterGemmKernels(r);
    RegisterShapeKernels(r);
    RegisterTensorKernels(r);
    RegisterGatherScatterKernels(r);
    RegisterReduceKernels(r);
    RegisterResizeKernels(r);
    RegisterQuantizeKernels(r);
    RegisterRecurrentKernels(r);
    return r;
  }();
  return registry;
}

}  // namespace edgefit
