#include "check_test_util.h"

#include <nlohmann/json.hpp>

namespace edgefit::testing {

ModelBuilder::ModelBuilder(int64_t opset) {
  model_.ir_version = 8;
  model_.opset_imports = {{"", opset}};
  model_.graph->name = "test";
}

Value* ModelBuilder::Input(const std::string& name, const std::vector<int64_t>& dims,
                           DataType dtype) {
  Value* v = *model_.graph->CreateValue(name);
  TypeInfo t;
  t.kind = TypeInfo::Kind::kTensor;
  t.elem_type = dtype;
  t.has_shape = true;
  for (int64_t d : dims) t.dims.push_back(d < 0 ? Dim::Symbolic("N") : Dim::Fixed(d));
  v->type() = t;
  model_.graph->AddInput(v);
  return v;
}

Value* ModelBuilder::Initializer(const std::string& name, Tensor tensor) {
  Value* v = *model_.graph->CreateValue(name);
  v->type() = TypeInfo::Tensor(tensor.dtype(), tensor.shape());
  model_.graph->SetInitializer(v, std::move(tensor));
  return v;
}

Value* ModelBuilder::Floats(const std::string& name, const Shape& shape, float fill) {
  return Initializer(name, FloatTensor(shape, fill));
}

Value* ModelBuilder::Ints(const std::string& name, const std::vector<int64_t>& values,
                          DataType dtype) {
  return Initializer(name, IntTensor(values, dtype, {static_cast<int64_t>(values.size())}));
}

Value* ModelBuilder::ConstantNode(const std::string& name, Tensor tensor) {
  Value* v = *model_.graph->CreateValue(name);
  v->type() = TypeInfo::Tensor(tensor.dtype(), tensor.shape());
  Node* n = model_.graph->AddNode("Constant", {}, {v}, name + "_node");
  n->SetAttribute(Attribute::TensorValue("value", std::move(tensor)));
  return v;
}

Node* ModelBuilder::Add(const std::string& op, const std::vector<Value*>& inputs,
                        const std::string& name, std::vector<Attribute> attrs, int outputs) {
  std::vector<Value*> outs;
  for (int i = 0; i < outputs; ++i)
    outs.push_back(
        *model_.graph->CreateValue(name + "_out" + (outputs > 1 ? std::to_string(i) : "")));
  Node* n = model_.graph->AddNode(op, inputs, outs, name);
  for (Attribute& a : attrs) n->SetAttribute(std::move(a));
  return n;
}

Tensor IntTensor(const std::vector<int64_t>& values, DataType dtype, Shape shape) {
  if (shape.empty() && values.size() != 1) shape = {static_cast<int64_t>(values.size())};
  Tensor t(dtype, shape);
  for (size_t i = 0; i < values.size(); ++i) {
    switch (dtype) {
      case DataType::kInt8: t.data<int8_t>()[i] = static_cast<int8_t>(values[i]); break;
      case DataType::kUint8: t.data<uint8_t>()[i] = static_cast<uint8_t>(values[i]); break;
      case DataType::kInt32: t.data<int32_t>()[i] = static_cast<int32_t>(values[i]); break;
      default: t.data<int64_t>()[i] = values[i]; break;
    }
  }
  return t;
}

Tensor FloatTensor(const Shape& shape, float fill) {
  Tensor t(DataType::kFloat, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = fill;
  return t;
}

std::string TestProfileJson() {
  using Json = nlohmann::json;
  auto fact = [](Json value) {
    return Json{{"value", value}, {"status", "documented"}, {"source", "test"}};
  };
  auto op = [](const char* runs_on, Json conditions = Json::array(),
               const char* on_fail = nullptr) {
    Json j{{"runs_on", runs_on}, {"status", "documented"}, {"source", "test"}};
    if (!conditions.empty()) j["conditions"] = conditions;
    if (on_fail) j["on_fail"] = on_fail;
    return j;
  };
  auto cond = [](Json c, const char* on_fail = "unsupported") {
    c["status"] = "documented";
    c["source"] = "test";
    c["on_fail"] = on_fail;
    return c;
  };
  Json ops = {
      {"Add", op("npu")},
      {"Relu", op("npu")},
      {"Sigmoid", op("npu", {cond({{"manual", "only after a Conv"}}, "cpu")})},
      {"Constant", op("npu")},
      {"Identity", op("npu")},
      {"Cast", op("npu")},
      {"Shape", op("npu")},
      {"Concat", op("npu")},
      {"Unsqueeze", op("npu")},
      {"Squeeze", op("npu")},
      {"ReduceMean", op("npu")},
      {"Reshape", op("npu")},
      {"Flatten", op("npu")},
      {"MatMul", op("npu")},
      {"Gemm", op("npu")},
      {"QuantizeLinear", op("npu")},
      {"DequantizeLinear", op("npu")},
      {"NonZero", op("cpu")},
      {"BatchNormalization", op("cpu")},
      {"Einsum", op("unsupported")},
      {"Conv", op("npu", {cond({{"attr", "dilations"}, {"max", 1}}),
                          cond({{"attr", "kernel_shape"}, {"max", 3}}, "cpu"),
                          cond({{"input", 1}, {"constant", true}}, "cpu")})},
      {"MaxPool",
       op("npu",
          {cond({{"any_of", Json::array({Json::array({{{"attr", "kernel_shape"}, {"max", 2}}}),
                                         Json::array({{{"attr", "strides"}, {"min", 3}}})})}})})},
      {"Transpose", op("npu", {cond({{"touches_batch", false}})})},
      {"Softmax", op("npu", {cond({{"attr", "axis"}, {"equals", 1}})})},
      {"Gather", op("npu", {cond({{"attr", "axis"}, {"not_in", {0}}}),
                            cond({{"input", 1}, {"elements_max", 1}}, "cpu")})},
      {"Resize", op("npu", {cond({{"attr", "mode"}, {"in", {"nearest"}}}, "cpu")})},
      {"Pad", op("npu", {cond({{"attr", "mode"}, {"equals", "constant"}}),
                         cond({{"input", 2}, {"equals", 0}})})},
      {"GlobalAveragePool", op("npu", {cond({{"spatial_size_max", 64}}, "cpu")})},
  };
  Json j = {
      {"schema", "edgefit-target/1"},
      {"id", "test-npu"},
      {"name", "Test NPU"},
      {"version", 1},
      {"toolchain",
       {{"name", "testtool"},
        {"versions", fact(Json::array({"1"}))},
        {"input_model", fact("qdq_int8")},
        {"handoff_opset", fact(13)},
        {"steps", Json::array()}}},
      {"opset", {{"min", fact(11)}, {"max", fact(17)}, {"recommended", fact(13)}}},
      {"shapes",
       {{"static", fact(true)},
        {"max_rank", fact(5)},
        {"preferred_rank", fact(4)},
        {"batch_one_at_io", fact(true)},
        {"batch_one_ops", fact(Json::array({"Conv", "MatMul", "GlobalAveragePool"}))},
        {"max_dim", fact(1000)}}},
      {"axes",
       {{"rules", Json::array({{{"ops", {"Squeeze", "Unsqueeze", "ReduceMean"}},
                                {"must_be", "constant"},
                                {"status", "documented"},
                                {"source", "test"}}})},
        {"reshape_wildcards", fact("error")}}},
      {"ops", ops},
      {"dtypes", fact(Json::array({"float32", "int8", "int32"}))},
      {"quantization",
       {{"format", fact("qdq")},
        {"weights", fact({{"dtype", "int8"},
                          {"symmetric", true},
                          {"granularity", "per_channel"},
                          {"channel_axis", "output_channel"}})},
        {"activations",
         fact({{"dtype", "int8"}, {"symmetric", false}, {"granularity", "per_tensor"}})},
        {"bias", fact("int32")},
        {"per_tensor_weights", fact(false)},
        {"float_ops_run_on", fact("cpu")}}},
      {"control_flow", fact(false)},
      {"memory", {{"regions", Json::array()}}},
      {"pipeline", KnownFixPassIds()},
  };
  return j.dump(2);
}

TargetProfile TestProfile() {
  auto p = ParseTargetProfile(TestProfileJson(), "test-npu.json");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : TargetProfile{};
}

TargetProfile Builtin(const std::string& id) {
  auto p = LoadTargetProfile(id);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : TargetProfile{};
}

CheckReport Check(const Model& model, const TargetProfile& profile, bool executor) {
  CheckOptions options;
  options.use_executor = executor;
  auto report = CheckModel(model, profile, options);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  return report.ok() ? std::move(report).value() : CheckReport{};
}

std::vector<Finding> Of(const CheckReport& report, const std::string& rule) {
  std::vector<Finding> out;
  for (const Finding& f : report.findings)
    if (f.rule == rule) out.push_back(f);
  return out;
}

std::vector<std::string> Lines(const CheckReport& report, bool infos) {
  std::vector<std::string> out;
  for (const Finding& f : report.findings) {
    if (!infos && f.severity == Severity::kInfo) continue;
    std::string subject = f.node;
    if (subject.empty() && !f.values.empty()) subject = f.values[0].name;
    out.push_back(std::string(SeverityName(f.severity)) + " " + f.rule + " " + subject);
  }
  return out;
}

std::string Dump(const CheckReport& report) { return FormatCheckText(report); }

}  // namespace edgefit::testing
