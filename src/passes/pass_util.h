// Small helpers shared by passes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace edgefit {

// The value of `v` if it is known without running the model: an initializer, or the output of
// a Constant node with a `value` tensor. nullptr otherwise.
const Tensor* ConstantValue(const Value* v);

// Integer contents of a constant value (shape/axes inputs), or nullopt.
std::optional<std::vector<int64_t>> ConstantInts(const Value* v);

// True for the default ONNX domain ("" or "ai.onnx").
bool IsOnnxDomain(const Node& n);
bool IsOp(const Node& n, const char* op_type);

// Exactly one reader, and not a graph output.
bool HasSingleConsumer(const Value* v);

// Adds an initializer named after `base` (unique) holding int64 `values` as a 1-D tensor.
Value* AddInt64Initializer(Graph& g, const std::string& base, const std::vector<int64_t>& values);

// Makes `replacement` take over every use of `old` (including graph outputs). When `old` is a
// graph output and `replacement` is a node output read nowhere else, the replacement value is
// renamed to keep the model's output name. Returns false if that is not possible.
bool ReplaceValue(Graph& g, Value* old, Value* replacement);

}  // namespace edgefit
