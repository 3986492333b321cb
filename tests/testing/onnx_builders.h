// Small builders for onnx protobuf messages, used to write valid and deliberately broken models.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace edgefit::testing {

// A tensor value_info; a dim < 0 becomes the symbolic dim "N".
onnx::ValueInfoProto MakeValueInfo(const std::string& name, int32_t elem_type,
                                   const std::vector<int64_t>& dims);
// A float tensor stored in raw_data (little-endian).
onnx::TensorProto MakeFloatTensor(const std::string& name, const std::vector<int64_t>& dims,
                                  const std::vector<float>& values);
onnx::NodeProto* AddNode(onnx::GraphProto* graph, const std::string& op_type,
                         const std::vector<std::string>& inputs,
                         const std::vector<std::string>& outputs, const std::string& name);

// A valid model (IR 8, opset 13), graph "g": Y[1,4] = Relu(X[1,4]) + W[4], W an initializer.
// Nodes are named "relu" and "add"; the intermediate is "R".
onnx::ModelProto SimpleModel();

std::string Serialize(const onnx::ModelProto& model);
// Serializes `model` into `path`.
void WriteModel(const std::string& path, const onnx::ModelProto& model);
// Parses a model file (fails the test if it does not parse).
onnx::ModelProto ReadModelProto(const std::string& path);

}  // namespace edgefit::testing
