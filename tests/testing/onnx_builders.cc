#include "testing/onnx_builders.h"

#include <gtest/gtest.h>

#include <cstring>

#include "testing/test_util.h"

namespace edgefit::testing {

onnx::ValueInfoProto MakeValueInfo(const std::string& name, int32_t elem_type,
                                   const std::vector<int64_t>& dims) {
  onnx::ValueInfoProto vi;
  vi.set_name(name);
  auto* tt = vi.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) {
    auto* dim = shape->add_dim();
    if (d >= 0)
      dim->set_dim_value(d);
    else
      dim->set_dim_param("N");
  }
  return vi;
}

onnx::TensorProto MakeFloatTensor(const std::string& name, const std::vector<int64_t>& dims,
                                  const std::vector<float>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  std::string raw(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  t.set_raw_data(raw);
  return t;
}

onnx::NodeProto* AddNode(onnx::GraphProto* graph, const std::string& op_type,
                         const std::vector<std::string>& inputs,
                         const std::vector<std::string>& outputs, const std::string& name) {
  auto* node = graph->add_node();
  node->set_op_type(op_type);
  node->set_name(name);
  for (const auto& in : inputs) node->add_input(in);
  for (const auto& out : outputs) node->add_output(out);
  return node;
}

onnx::ModelProto SimpleModel() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("edgefit-tests");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* g = model.mutable_graph();
  g->set_name("g");
  *g->add_input() = MakeValueInfo("X", onnx::TensorProto::FLOAT, {1, 4});
  *g->add_initializer() = MakeFloatTensor("W", {4}, {1.f, 2.f, 3.f, 4.f});
  AddNode(g, "Relu", {"X"}, {"R"}, "relu");
  AddNode(g, "Add", {"R", "W"}, {"Y"}, "add");
  *g->add_output() = MakeValueInfo("Y", onnx::TensorProto::FLOAT, {1, 4});
  return model;
}

std::string Serialize(const onnx::ModelProto& model) {
  std::string bytes;
  EXPECT_TRUE(model.SerializeToString(&bytes));
  return bytes;
}

void WriteModel(const std::string& path, const onnx::ModelProto& model) {
  WriteFile(path, Serialize(model));
}

onnx::ModelProto ReadModelProto(const std::string& path) {
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromString(ReadFile(path))) << path << " does not parse";
  return model;
}

}  // namespace edgefit::testing
