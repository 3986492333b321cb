// One registration function per kernel family (one family per file in this folder).
// registry.cc calls them all, in this order.
#pragma once

#include "runtime/kernel.h"

namespace edgefit {

void RegisterElementwiseUnaryKernels(KernelRegistry& r);   // elementwise_unary.cc
void RegisterElementwiseBinaryKernels(KernelRegistry& r);  // elementwise_binary.cc
void RegisterCastKernels(KernelRegistry& r);               // cast.cc
void RegisterSoftmaxKernels(KernelRegistry& r);            // softmax.cc
void RegisterConvKernels(KernelRegistry& r);               // conv.cc
void RegisterPoolKernels(KernelRegistry& r);               // pool.cc
void RegisterNormalizationKernels(KernelRegistry& r);      // normalization.cc
void RegisterGemmKernels(KernelRegistry& r);               // gemm.cc
void RegisterShapeKernels(KernelRegistry& r);              // shape_ops.cc
void RegisterTensorKernels(KernelRegistry& r);             // tensor_ops.cc
void RegisterGatherScatterKernels(KernelRegistry& r);      // gather_scatter.cc
void RegisterReduceKernels(KernelRegistry& r);             // reduce.cc
void RegisterResizeKernels(KernelRegistry& r);             // resize.cc
void RegisterQuantizeKernels(KernelRegistry& r);           // quantize.cc
void RegisterRecurrentKernels(KernelRegistry& r);          // recurrent.cc

}  // namespace edgefit
