// Activation memory of a model on the device: every activation tensor (at its deployed dtype,
// see cost.h) gets an offset in one arena, so that tensors alive at the same time never overlap.
//
// Steps are the layers of CostReport in order. A tensor lives from the step that writes it to
// the last step that reads it, both included (at step s the layer's inputs and outputs are all
// alive, unless the layer works in place). Graph inputs live from step 0, graph outputs to the
// last step.
//
// Buffers, not tensors, are placed:
//  * views (Reshape, Flatten, Squeeze, Unsqueeze, Identity) and fused Q/DQ share the buffer of
//    their input and extend its lifetime;
//  * in place: an elementwise layer (LayerCost::may_inplace: unary activations, BatchNorm, and
//    binary ops such as Add for an input with the output's shape) writes its output over an
//    input whose buffer dies at this layer, when that buffer is at least as large and is not a
//    graph input or output.
// Buffers are then placed greedy by size (largest first, each at the lowest offset where it
// overlaps no buffer alive at the same time, the best-fitting gap), as TFLite Micro and ONNX
// Runtime do. The arena can exceed the peak of live bytes (fragmentation); both are reported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyze/cost.h"
#include "edgefit/status.h"

namespace edgefit {

// A block of memory alive from step `first` to step `last` (both included).
struct Lifetime {
  int64_t size = 0;
  int first = 0;
  int last = 0;
};

struct OffsetPlan {
  std::vector<int64_t> offsets;  // one per lifetime
  int64_t arena_bytes = 0;       // max over blocks of offset + size
};

// Greedy by size with best-fit gaps. `alignment` rounds every offset up (1 = none).
OffsetPlan PlanOffsets(const std::vector<Lifetime>& blocks, int64_t alignment = 1);
// Fails, naming the two blocks, if two blocks alive at a common step overlap in memory, or if an
// offset is negative.
Status CheckNoOverlap(const std::vector<Lifetime>& blocks, const std::vector<int64_t>& offsets);
// Largest sum of sizes of blocks alive at one step: a lower bound for any arena.
int64_t PeakLiveBytes(const std::vector<Lifetime>& blocks, int* peak_step = nullptr);

struct MemoryPlanOptions {
  bool inplace = true;
  int64_t alignment = 1;  // offsets are multiples of this
};

struct PlannedBuffer {
  std::vector<int> tensors;  // tensor indices sharing this buffer (first one owns it)
  Lifetime life;
  int64_t offset = 0;
};

struct MemoryPlan {
  std::vector<PlannedBuffer> buffers;
  std::vector<int> tensor_buffer;  // tensor index -> buffer index (-1: no bytes)
  int64_t arena_bytes = 0;         // planned activation RAM
  int64_t peak_live_bytes = 0;     // largest sum of live buffers at one step
  int peak_layer = -1;             // the layer at which the peak is reached
  int64_t naive_bytes = 0;         // every activation buffer of its own, no reuse
  int64_t largest_buffer = 0;
  std::vector<int64_t> live_bytes;   // per layer: bytes alive during that layer
  std::vector<std::string> inplace;  // "Relu '/Relu' writes over '/bn1/...'" per in-place reuse
};

MemoryPlan PlanActivationMemory(const CostReport& cost, const MemoryPlanOptions& options = {});
// Checks that no two buffers of the plan alive at the same step overlap.
Status CheckMemoryPlan(const MemoryPlan& plan);

}  // namespace edgefit
