// A few lines to build small test graphs by hand: inputs, constants, one-output nodes.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pass_util.h"

namespace edgefit::testing {

class GraphBuilder {
 public:
  explicit GraphBuilder(int opset, int ir_version = 8) {
    model.ir_version = ir_version;
    model.opset_imports.push_back({"", opset});
    model.graph->name = "graph";  // ONNX's checker requires one
  }
  Graph& g() { return *model.graph; }

  // A graph input; dims < 0 are symbolic ("N").
  Value* Input(const std::string& name, const std::vector<int64_t>& dims,
               DataType dtype = DataType::kFloat) {
    Value* v = *g().CreateValue(name);
    v->type() = TypeInfo::Tensor(dtype, {});
    for (int64_t d : dims) v->type().dims.push_back(d < 0 ? Dim::Symbolic("N") : Dim::Fixed(d));
    g().AddInput(v);
    return v;
  }
  Value* Ints(const std::string& name, const std::vector<int64_t>& values) {
    return AddInt64Initializer(g(), name, values);
  }
  Value* Floats(const std::string& name, const Shape& shape, float base = 0.5f) {
    Tensor t(DataType::kFloat, shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = base + 0.25f * (i % 7) - 0.5f;
    return g().AddInitializer(name, t);
  }
  // A Constant node holding int64 `values` (1-D).
  Value* ConstantInts(const std::string& name, const std::vector<int64_t>& values) {
    Value* v = *g().CreateValue(name);
    Node* n = g().AddNode("Constant", {}, {v}, name + "_node");
    n->SetAttribute(Attribute::TensorValue(
        "value", Tensor::FromVector<int64_t>(DataType::kInt64,
                                             {static_cast<int64_t>(values.size())}, values)));
    return v;
  }
  // A node with one output named `out`.
  Value* Op(const std::string& op, const std::vector<Value*>& inputs, const std::string& out,
            std::vector<Attribute> attrs = {}) {
    Value* v = *g().CreateValue(out);
    Node* n = g().AddNode(op, inputs, {v}, out + "_node");
    for (Attribute& a : attrs) n->SetAttribute(std::move(a));
    return v;
  }
  Node* NodeOf(const std::string& value) { return g().FindValue(value)->producer(); }
  void Output(Value* v) { g().AddOutput(v); }

  Model model;
};

// The int64 contents of a node input that must be an initializer.
inline std::vector<int64_t> InitializerInts(const Value* v) {
  EXPECT_TRUE(v && v->has_initializer()) << (v ? v->name() : "(null)") << " is no initializer";
  if (!v || !v->has_initializer()) return {};
  return *v->initializer()->ToInt64Vector();
}

inline int CountNodes(const Model& m) { return static_cast<int>(m.graph->num_nodes()); }

}  // namespace edgefit::testing
