// Session: an executor for one model, built once and run many times.
//
// Building selects a kernel for every node (an unsupported op or attribute fails here, not
// half-way through a run). The first run allocates each intermediate on the heap and records
// its size and lifetime; the second lays out one arena from that record (greedy-by-size offset
// planner) and from then on intermediates live in it, so runs with the same input shapes
// allocate nothing but the graph outputs.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"
#include "runtime/kernel.h"

namespace edgefit {

struct SessionOptions {
  int num_threads = 0;          // 0: all cores
  size_t max_memory_bytes = 0;  // 0: no limit; otherwise refuse plans and tensors above it
  const KernelRegistry* registry = nullptr;  // nullptr: DefaultKernelRegistry()
};

// Called for every node output as soon as it is computed (node, the value, its tensor). The
// tensor is only valid during the call; copy what must be kept.
using Observer = std::function<void(const Node& node, const Value& value, const Tensor& tensor)>;

struct RunOptions {
  // Keep Conv+Relu/Clip fusion in a run with an observer: the observer then does not see the
  // Conv's own (pre-activation) output, only the activation's. For callers that never look at
  // those tensors, e.g. calibration, whose observed tensors are never a fused Conv's output.
  bool fuse_with_observer = false;
};

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

class Session {
 public:
  // The model must outlive the session and not change while it exists.
  static StatusOr<std::unique_ptr<Session>> Create(const Model& model,
                                                   const SessionOptions& options = {});
  ~Session();

  const std::vector<const Value*>& inputs() const;  // graph inputs that are not initializers
  const std::vector<const Value*>& outputs() const;

  // Runs the model. Inputs are matched by name; every graph input must be given. Returns the
  // graph outputs in order.
  StatusOr<std::vector<Tensor>> Run(const std::vector<NamedTensor>& inputs,
                                    const Observer& observer = {}, const RunOptions& options = {});

  // Lays out the arena from the last run now instead of at the start of the next run (for
  // reporting arena_bytes() after one run). No-op before a successful run or when planned.
  void PlanMemory();
  // Bytes of the intermediate-tensor arena (0 while not planned).
  size_t arena_bytes() const;
  // How many times the arena was laid out (once for runs of the same shapes; for tests).
  int plans_built() const;
  int num_threads() const;

  // Implementation detail (public only so session.cc's helpers can name it).
  struct Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The arena planner's placement (exposed for tests): blocks of `bytes` alive from step `first`
// to step `last` (inclusive, first <= last) are placed in the given order, each at the lowest
// offset where it overlaps no block placed before it that is alive at the same time (first fit
// among the blocks alive with it, sorted by offset). Returns each block's offset; *total gets the
// arena size (the largest end).
struct ArenaBlock {
  size_t bytes = 0;
  int first = 0, last = 0;
};
std::vector<size_t> PlaceArenaBlocks(const std::vector<ArenaBlock>& blocks, size_t* total);

// Number of hardware threads available to the process.
int DefaultThreadCount();

}  // namespace edgefit
