#include "kernel_test_util.h"

#include <cmath>

namespace edgefit::testing {

Model MakeNodeModel(const NodeSpec& spec) {
  Model m;
  m.ir_version = 8;
  m.opset_imports.push_back({"", spec.domain.empty() ? spec.opset : 17});
  if (!spec.domain.empty()) m.opset_imports.push_back({spec.domain, spec.opset});
  Graph& g = *m.graph;
  g.name = "test";
  std::vector<Value*> inputs;
  for (const NodeInput& in : spec.inputs) {
    if (in.name.empty()) {
      inputs.push_back(nullptr);
      continue;
    }
    Value* v = *g.CreateValue(in.name);
    v->type() = TypeInfo::Tensor(in.value.dtype(), in.value.shape());
    if (in.constant) g.SetInitializer(v, in.value);
    else g.AddInput(v);
    inputs.push_back(v);
  }
  std::vector<Value*> outputs;
  for (size_t i = 0; i < spec.num_outputs; ++i) {
    Value* v = *g.CreateValue("y" + std::to_string(i));
    outputs.push_back(v);
  }
  Node* n = g.AddNode(spec.op_type, inputs, outputs, "node");
  n->set_domain(spec.domain);
  for (const Attribute& a : spec.attributes) n->SetAttribute(a);
  for (Value* v : outputs) g.AddOutput(v);
  return m;
}

StatusOr<std::vector<Tensor>> RunNode(const NodeSpec& spec, int threads) {
  Model m = MakeNodeModel(spec);
  SessionOptions options;
  options.num_threads = threads;
  ASSIGN_OR_RETURN(auto session, Session::Create(m, options));
  std::vector<NamedTensor> feeds;
  for (const NodeInput& in : spec.inputs)
    if (!in.name.empty() && !in.constant) feeds.push_back({in.name, in.value});
  return session->Run(feeds);
}

void ExpectNear(const Tensor& actual, const Shape& shape, const std::vector<float>& expected,
                float atol, float rtol) {
  ASSERT_EQ(actual.dtype(), DataType::kFloat);
  ASSERT_EQ(actual.shape(), shape);
  ASSERT_EQ(static_cast<size_t>(actual.numel()), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    float a = actual.data<float>()[i], e = expected[i];
    if (std::isnan(e)) {
      EXPECT_TRUE(std::isnan(a)) << "at " << i;
      continue;
    }
    if (std::isinf(e)) {
      EXPECT_EQ(a, e) << "at " << i;
      continue;
    }
    EXPECT_NEAR(a, e, atol + rtol * std::fabs(e)) << "at " << i;
  }
}

}  // namespace edgefit::testing
