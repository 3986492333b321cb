// How the ONNX Runtime oracle compares edgefit's outputs with ORT's (see docs/run.md).
#pragma once

#include <string>

#include "ir/tensor.h"

namespace edgefit::oracle {

// Tolerances: |edgefit - ort| <= atol + rtol * |ort| element-wise.
struct Tolerance {
  double rtol = 1e-4;
  double atol = 1e-5;
};
// float32/float64: rtol 1e-4, atol 1e-5. float16/bfloat16 outputs are compared with the same
// atol and one step of their own precision as rtol (2^-10 and 2^-7). Integers and bools: exact.
Tolerance ToleranceFor(DataType type);

// Empty when `got` (edgefit) matches `want` (ORT): same dtype, same shape, values within
// ToleranceFor(dtype); NaN only where ORT has NaN, +-Inf only where ORT has the same Inf.
// Otherwise one line: the first differing element, how many differ and the largest difference.
std::string Compare(const Tensor& got, const Tensor& want);

}  // namespace edgefit::oracle
