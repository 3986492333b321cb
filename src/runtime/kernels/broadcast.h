// NumPy-style (multidirectional) broadcasting, shared by elementwise kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "edgefit/status.h"
#include "ir/tensor.h"

namespace edgefit {

// The broadcast shape of `shapes`, or an error naming the two that disagree.
StatusOr<Shape> BroadcastShapes(const std::vector<Shape>& shapes);

// For iterating an output of shape `out` while reading an input of shape `in` broadcast to it:
// the input's element strides per output axis (0 on broadcast axes).
std::vector<int64_t> BroadcastStrides(const Shape& in, const Shape& out);

// Calls fn(out_index, in_offsets...) for every output element, where each input offset follows
// its broadcast strides. Fast paths: identical shapes and scalars are handled by the callers.
template <typename Fn>
void ForEachBroadcast(const Shape& out, const std::vector<std::vector<int64_t>>& strides,
                      int64_t begin, int64_t end, Fn&& fn) {
  const size_t rank = out.size();
  const size_t k = strides.size();
  std::vector<int64_t> coord(rank, 0);
  std::vector<int64_t> offset(k, 0);
  // Position the coordinates at `begin`.
  int64_t rem = begin;
  for (size_t d = rank; d-- > 0;) {
    coord[d] = out[d] ? rem % out[d] : 0;
    rem = out[d] ? rem / out[d] : 0;
    for (size_t j = 0; j < k; ++j) offset[j] += coord[d] * strides[j][d];
  }
  for (int64_t i = begin; i < end; ++i) {
    fn(i, offset);
    for (size_t d = rank; d-- > 0;) {
      ++coord[d];
      for (size_t j = 0; j < k; ++j) offset[j] += strides[j][d];
      if (coord[d] < out[d]) break;
      for (size_t j = 0; j < k; ++j) offset[j] -= coord[d] * strides[j][d];
      coord[d] = 0;
    }
  }
}

}  // namespace edgefit
