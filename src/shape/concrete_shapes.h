// Shapes "as the model will be once its batch is fixed": a copy of the model with dynamic
// leading (batch) dims of its graph inputs set to 1, ONNX shape inference with data propagation,
// and, where ONNX gives up (e.g. Reshape targets computed by Shape->Gather->Concat chains at
// opsets 11/13), one run of edgefit's executor on zero-filled inputs that records the shape of
// every value it computes.
//
// The caller's model is never modified. The executor only completes what inference left open;
// when it cannot run (a kernel is missing, an input dim other than the batch is dynamic, a
// kernel fails on zeros), the result says why and keeps what ONNX found.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"

namespace edgefit {

// What one executor run saw for one value.
struct ConcreteValue {
  DataType dtype = DataType::kUndefined;
  Shape shape;
  // The contents of small integer tensors (shapes, axes, indices), widened to int64; empty when
  // the tensor is not an integer tensor or has more than ConcreteShapeOptions::max_recorded.
  bool has_data = false;
  std::vector<int64_t> data;
};

struct ConcreteShapeOptions {
  int num_threads = 1;
  // Do not run when the tensors whose shapes are already known need more memory than this.
  size_t max_memory_bytes = size_t{1} << 31;
  // Integer tensors up to this many elements have their contents recorded.
  int64_t max_recorded = 64;
  // Shapes of the zero inputs by input name, instead of the inputs' declared (static) shapes.
  std::unordered_map<std::string, Shape> input_shapes;
};

// Runs `model` once on zero-filled inputs and records every node output (main graph only).
// Every graph input that is not an initializer must have a static shape (or one given in
// options.input_shapes). Fails if the session
// cannot be built (e.g. a missing kernel) or a kernel fails.
StatusOr<std::unordered_map<std::string, ConcreteValue>> RecordConcreteShapes(
    const Model& model, const ConcreteShapeOptions& options = {});

struct FrozenShapeOptions {
  // Run the executor where ONNX inference leaves shapes open, or where small computed integer
  // tensors (shape arithmetic) are worth knowing.
  bool use_executor = true;
  ConcreteShapeOptions executor;
};

struct FrozenShapes {
  // Main-graph value name -> its type in the frozen model (inference merged with executor
  // shapes). Values whose type is unknown are absent.
  std::unordered_map<std::string, TypeInfo> types;
  // Main-graph value name -> contents of small integer tensors the executor computed.
  std::unordered_map<std::string, std::vector<int64_t>> small_values;
  // "input 'x' dim 0 'batch' -> 1" for every dim that was frozen.
  std::vector<std::string> frozen;
  bool executor_ran = false;
  // Why the executor did not run or failed ("" when it ran or was not needed).
  std::string executor_note;
  // Main-graph values (node outputs and graph inputs) whose shape is still not static.
  std::vector<std::string> incomplete;
};

// Copies `model`, fixes every dynamic dim 0 of a graph input of rank >= 2 to 1, and infers shapes
// as described at the top of this file. Fails only if the model cannot be copied.
StatusOr<FrozenShapes> InferFrozenShapes(const Model& model,
                                         const FrozenShapeOptions& options = {});

// Gives every value of the main graph its dtype and static shape: ONNX inference, completed by
// one executor run on zero-filled inputs; every intermediate gets a value_info record. Problems
// (inference errors, the executor cannot run) are appended to `warnings`, never fatal.
void RecordStaticShapes(Model& model, std::vector<std::string>* warnings);

}  // namespace edgefit
