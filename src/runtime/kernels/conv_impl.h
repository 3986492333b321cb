// Private helpers shared by conv.cc and pool.cc: the spatial attributes of Conv / ConvTranspose /
// *Pool (kernel_shape, strides, dilations, pads, auto_pad) and the output geometry they imply.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgefit/status.h"
#include "runtime/kernel.h"

namespace edgefit::spatial {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// Attributes as written on the node. Empty vectors mean "not given" (defaults are filled in
// when the number of spatial axes is known).
struct Attrs {
  AutoPad auto_pad = AutoPad::kNotSet;
  std::vector<int64_t> kernel_shape;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;  // [x1_begin, x2_begin, ..., x1_end, x2_end, ...]
  bool ceil_mode = false;     // pools only
};

// Reads and validates the attributes (values > 0, pads >= 0, consistent lengths). `pool`: a
// pooling op (kernel_shape required, dilations only when the opset has them).
StatusOr<Attrs> ParseAttrs(const KernelInit& init, bool kernel_required);

// Per spatial axis: input size, kernel, stride, dilation, pads and the resulting output size.
struct Geometry {
  size_t rank = 0;  // number of spatial axes
  std::vector<int64_t> in, kernel, stride, dilation, pad_begin, pad_end, out;

  int64_t in_size() const;
  int64_t out_size() const;
  int64_t kernel_size() const;
  int64_t effective_kernel(size_t i) const { return (kernel[i] - 1) * dilation[i] + 1; }
};

// Geometry of a convolution or pooling window over `in` (spatial dims only) with `kernel`.
// Fails (with the numbers) when the attributes' lengths do not match or the output would be empty.
StatusOr<Geometry> ForwardGeometry(const Attrs& a, const std::vector<int64_t>& in,
                                   const std::vector<int64_t>& kernel);

// "[3,4]"
std::string Join(const std::vector<int64_t>& v);

}  // namespace edgefit::spatial
