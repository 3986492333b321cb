// Helpers for kernel tests: build a one-node model in memory and run it on edgefit's executor.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/session.h"

namespace edgefit::testing {

struct NodeInput {
  std::string name;   // "" = omitted optional input
  Tensor value;
  bool constant = false;  // true: an initializer (the kernel sees it at build time)
};

struct NodeSpec {
  std::string op_type;
  std::vector<NodeInput> inputs;
  size_t num_outputs = 1;
  std::vector<Attribute> attributes = {};
  int64_t opset = 17;
  std::string domain = {};  // "" = default ONNX domain
};

// The one-node model (inputs as graph inputs or initializers, outputs "y0", "y1", ...).
Model MakeNodeModel(const NodeSpec& spec);
// Builds a session for the node and runs it once.
StatusOr<std::vector<Tensor>> RunNode(const NodeSpec& spec, int threads = 1);

template <typename T>
Tensor Make(DataType dtype, Shape shape, const std::vector<T>& values) {
  return Tensor::FromVector<T>(dtype, std::move(shape), values);
}
inline Tensor F32(Shape shape, const std::vector<float>& v) { return Make(DataType::kFloat, shape, v); }
inline Tensor I64(Shape shape, const std::vector<int64_t>& v) { return Make(DataType::kInt64, shape, v); }
inline Tensor I32(Shape shape, const std::vector<int32_t>& v) { return Make(DataType::kInt32, shape, v); }

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

// EXPECTs equal shapes and values within atol + rtol * |expected|.
void ExpectNear(const Tensor& actual, const Shape& shape, const std::vector<float>& expected,
                float atol = 1e-5f, float rtol = 1e-5f);

}  // namespace edgefit::testing
