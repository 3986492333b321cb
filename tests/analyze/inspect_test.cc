// `inspect` reports: dynamic dims, max rank, parameters, JSON keys.
#include "analyze/inspect.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <set>
#include <string>

#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "testing/onnx_builders.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

InspectReport Inspect(const std::string& path) {
  auto m = LoadModel(path);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return {};
  return InspectModel(*m, path);
}

// Parameter totals computed straight from the protobuf, independently of the IR.
struct ProtoParams {
  int64_t count = 0;
  int64_t bytes = 0;
  size_t initializers = 0;
  size_t nodes = 0;
  size_t subgraphs = 0;
};

int64_t ElementSize(int32_t dtype) {
  switch (dtype) {
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::UINT32: return 4;
    case onnx::TensorProto::DOUBLE:
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::UINT64:
    case onnx::TensorProto::COMPLEX64: return 8;
    case onnx::TensorProto::COMPLEX128: return 16;
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16: return 2;
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL: return 1;
    default: return 0;  // strings
  }
}

void CountParams(const onnx::GraphProto& g, ProtoParams* p) {
  for (const auto& t : g.initializer()) {
    int64_t n = 1;
    for (int64_t d : t.dims()) n *= d;
    p->count += n;
    p->bytes += n * ElementSize(t.data_type());
    ++p->initializers;
  }
  p->nodes += g.node_size();
  for (const auto& node : g.node()) {
    for (const auto& a : node.attribute()) {
      if (a.has_g()) {
        ++p->subgraphs;
        CountParams(a.g(), p);
      }
      for (const auto& sub : a.graphs()) {
        ++p->subgraphs;
        CountParams(sub, p);
      }
    }
  }
}

ProtoParams ParamsOf(const std::string& path) {
  ProtoParams p;
  CountParams(testing::ReadModelProto(path).graph(), &p);
  return p;
}

TEST(InspectTest, RppgDynamicInputAndMaxRank) {
  std::string path = testing::FixturePath("rppg_dyn_op14.onnx");
  InspectReport r = Inspect(path);
  EXPECT_EQ(r.file, path);
  EXPECT_EQ(r.ir_version, 7);
  ASSERT_EQ(r.opset_imports.size(), 1u);
  EXPECT_EQ(r.opset_imports[0].version, 14);

  ASSERT_EQ(r.inputs.size(), 1u);
  const InspectedTensor& in = r.inputs[0];
  EXPECT_EQ(in.name, "input");
  EXPECT_EQ(in.dtype, "float32");
  EXPECT_FALSE(in.is_static);
  ASSERT_EQ(in.dims.size(), 4u);
  EXPECT_EQ(in.dims[0].kind, Dim::Kind::kParam);
  EXPECT_EQ(in.dims[0].param, "batch");
  EXPECT_FALSE(in.dims[0].is_fixed());
  for (size_t i = 1; i < 4; ++i) EXPECT_TRUE(in.dims[i].is_fixed());
  EXPECT_EQ(in.dims[1].value, 72);
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].name, "output");
  EXPECT_FALSE(r.outputs[0].is_static);

  EXPECT_EQ(r.max_rank, 6);
  ASSERT_EQ(r.max_rank_values.size(), 2u);
  EXPECT_EQ(r.max_rank_values[0].name, "/Reshape_output_0");
  EXPECT_EQ(r.max_rank_values[0].producer, "Reshape '/Reshape'");
  EXPECT_EQ(r.max_rank_values[0].shape, "[batch,8,3,3,36,36]");
  EXPECT_EQ(r.max_rank_values[1].name, "/Transpose_output_0");
  EXPECT_EQ(r.max_rank_values[1].producer, "Transpose '/Transpose'");
  EXPECT_EQ(r.max_rank_values[1].shape, "[batch,8,3,36,36,3]");

  EXPECT_GT(r.non_static_count, 0u);
  EXPECT_LE(r.non_static_count, r.value_count);
  EXPECT_TRUE(r.shape_inference_warnings.empty());

  // Op histogram: most frequent first, counts add up to the node count.
  ASSERT_FALSE(r.op_histogram.empty());
  size_t total = 0;
  for (size_t i = 0; i < r.op_histogram.size(); ++i) {
    total += r.op_histogram[i].second;
    if (i) {
      EXPECT_GE(r.op_histogram[i - 1].second, r.op_histogram[i].second);
    }
  }
  EXPECT_EQ(total, r.node_count);
  ProtoParams p = ParamsOf(path);
  EXPECT_EQ(r.node_count, p.nodes);
}

TEST(InspectTest, RppgDynamicText) {
  std::string path = testing::FixturePath("rppg_dyn_op14.onnx");
  std::string text = FormatInspectText(Inspect(path));
  for (const char* expected : {
           "input: float32 [batch,72,36,36]  DYNAMIC",
           "dim[0]: batch (DYNAMIC)",
           "Max tensor rank: 6",
           "/Reshape_output_0 [batch,8,3,3,36,36] from Reshape '/Reshape'",
           "/Transpose_output_0 [batch,8,3,36,36,3] from Transpose '/Transpose'",
           "Parameters: 6673 in 18 initializers",
       })
    EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << "\n" << text;
  EXPECT_EQ(text.find("warning"), std::string::npos) << text;
}

TEST(InspectTest, RppgCleanIsStatic) {
  InspectReport r = Inspect(testing::FixturePath("rppg_clean_op14.onnx"));
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_TRUE(r.inputs[0].is_static);
  EXPECT_TRUE(r.outputs[0].is_static);
  EXPECT_EQ(r.max_rank, 4);
  EXPECT_EQ(r.non_static_count, 0u);
  EXPECT_TRUE(r.non_static_examples.empty());
  std::string text = FormatInspectText(r);
  EXPECT_EQ(text.find("DYNAMIC"), std::string::npos) << text;
}

TEST(InspectTest, ParameterCountMatchesInitializers) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(testing::SourcePath("tests/fixtures"))) {
    if (entry.path().extension() != ".onnx") continue;
    std::string path = entry.path().string();
    SCOPED_TRACE(path);
    InspectReport r = Inspect(path);
    ProtoParams p = ParamsOf(path);
    EXPECT_EQ(r.parameter_count, p.count);
    EXPECT_EQ(r.parameter_bytes, p.bytes);
    EXPECT_EQ(r.initializer_count, p.initializers);
    int64_t by_dtype = 0;
    for (const auto& [dtype, cb] : r.parameters_by_dtype) by_dtype += cb.first;
    EXPECT_EQ(by_dtype, r.parameter_count);
    ++checked;
  }
  EXPECT_GE(checked, 6);
  // The README's numbers for the rPPG model.
  EXPECT_EQ(Inspect(testing::FixturePath("rppg_dyn_op14.onnx")).parameter_count, 6673);
}

TEST(InspectTest, JsonHasTheDocumentedKeys) {
  std::string path = testing::FixturePath("rppg_dyn_op14.onnx");
  InspectReport r = Inspect(path);
  json j = InspectToJson(r);
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys,
            (std::set<std::string>{"schema", "file", "ir_version", "opset_imports", "producer",
                                   "inputs", "outputs", "node_count", "subgraph_count",
                                   "op_histogram", "parameters", "max_rank", "max_rank_values",
                                   "values", "functions", "external_data_files", "warnings"}));
  EXPECT_EQ(j["schema"], "edgefit-inspect/1");
  EXPECT_EQ(j["file"], path);
  EXPECT_EQ(j["ir_version"], 7);
  EXPECT_EQ(j["opset_imports"][0]["domain"], "ai.onnx");
  EXPECT_EQ(j["opset_imports"][0]["version"], 14);
  EXPECT_EQ(j["producer"]["name"], "pytorch");

  const json& in = j["inputs"][0];
  for (const char* k : {"name", "dtype", "shape", "static"}) EXPECT_TRUE(in.contains(k)) << k;
  EXPECT_EQ(in["name"], "input");
  EXPECT_EQ(in["static"], false);
  EXPECT_EQ(in["shape"][0]["param"], "batch");
  EXPECT_EQ(in["shape"][0]["fixed"], false);
  EXPECT_EQ(in["shape"][1]["value"], 72);
  EXPECT_EQ(in["shape"][1]["fixed"], true);

  EXPECT_EQ(j["max_rank"], 6);
  ASSERT_EQ(j["max_rank_values"].size(), 2u);
  EXPECT_EQ(j["max_rank_values"][0]["name"], "/Reshape_output_0");
  EXPECT_EQ(j["max_rank_values"][0]["producer"], "Reshape '/Reshape'");
  EXPECT_EQ(j["max_rank_values"][1]["name"], "/Transpose_output_0");
  EXPECT_EQ(j["parameters"]["count"], ParamsOf(path).count);
  for (const char* k : {"count", "bytes", "initializers", "by_dtype"})
    EXPECT_TRUE(j["parameters"].contains(k)) << k;
  EXPECT_EQ(j["parameters"]["by_dtype"]["float32"]["count"], 6673);
  EXPECT_EQ(j["values"]["count"], r.value_count);
  EXPECT_EQ(j["values"]["non_static"], r.non_static_count);
  EXPECT_EQ(j["node_count"], r.node_count);
  EXPECT_EQ(j["op_histogram"]["Conv"], 3);
  EXPECT_TRUE(j["warnings"].is_array());
  EXPECT_TRUE(j["external_data_files"].is_array());

  // A rank-unknown tensor has "shape": null.
  InspectedTensor unknown;
  unknown.name = "u";
  unknown.dtype = "unknown";
  InspectReport small;
  small.inputs.push_back(unknown);
  EXPECT_TRUE(InspectToJson(small)["inputs"][0]["shape"].is_null());
}

TEST(InspectTest, CountsSubgraphs) {
  std::string path = testing::OnnxTestdataDir() + "/node/test_if/model.onnx";
  if (!fs::exists(path)) GTEST_SKIP() << path << " not installed";
  InspectReport r = Inspect(path);
  ProtoParams p = ParamsOf(path);
  EXPECT_EQ(r.subgraph_count, 2u);
  EXPECT_EQ(r.subgraph_count, p.subgraphs);
  EXPECT_EQ(r.node_count, p.nodes);
  EXPECT_NE(FormatInspectText(r).find("subgraphs"), std::string::npos);
}

TEST(InspectTest, ReportsShapeInferenceProblems) {
  // MatMul [1,4] x [3,5]: inspect still reports, with the ONNX error as a one-line warning.
  onnx::ModelProto m = testing::SimpleModel();
  auto* g = m.mutable_graph();
  *g->add_initializer() = testing::MakeFloatTensor("M", {3, 5}, std::vector<float>(15, 0.f));
  testing::AddNode(g, "MatMul", {"Y", "M"}, {"Z"}, "bad_matmul");
  *g->add_output() = testing::MakeValueInfo("Z", onnx::TensorProto::FLOAT, {});
  g->mutable_output(1)->mutable_type()->mutable_tensor_type()->clear_shape();
  testing::TempDir dir;
  std::string path = dir.File("bad_matmul.onnx");
  testing::WriteModel(path, m);
  InspectReport r = Inspect(path);
  ASSERT_FALSE(r.shape_inference_warnings.empty());
  for (const auto& w : r.shape_inference_warnings) {
    EXPECT_TRUE(testing::IsOneLine(w)) << w;
  }
  EXPECT_NE(r.shape_inference_warnings[0].find("bad_matmul"), std::string::npos)
      << r.shape_inference_warnings[0];
  // The nodes before the failing one are still inferred.
  EXPECT_EQ(r.value_count, 4u);  // X, R, Y, Z
  EXPECT_NE(FormatInspectText(r).find("warning: shape inference:"), std::string::npos);
}

// Inspect every testdata model: no crash, parameters agree with the protobuf, JSON serializes.
TEST(InspectTest, EveryTestdataModel) {
  int models = 0, with_warnings = 0, with_subgraphs = 0;
  for (const char* folder : {"node", "pytorch-converted", "pytorch-operator", "simple"}) {
    for (const auto& path : testing::TestdataModels(folder)) {
      SCOPED_TRACE(path);
      ++models;
      InspectReport r = Inspect(path);
      ProtoParams p = ParamsOf(path);
      EXPECT_EQ(r.parameter_count, p.count);
      EXPECT_EQ(r.initializer_count, p.initializers);
      EXPECT_EQ(r.node_count, p.nodes);
      EXPECT_EQ(r.subgraph_count, p.subgraphs);
      EXPECT_FALSE(InspectToJson(r).dump().empty());
      EXPECT_FALSE(FormatInspectText(r).empty());
      for (const auto& w : r.shape_inference_warnings) EXPECT_TRUE(testing::IsOneLine(w)) << w;
      if (!r.shape_inference_warnings.empty()) ++with_warnings;
      if (r.subgraph_count) ++with_subgraphs;
    }
  }
  if (models == 0) GTEST_SKIP() << "libonnx-testdata not installed";
  std::cout << "[ inspect ] " << models << " testdata models, " << with_subgraphs
            << " with subgraphs, " << with_warnings << " with shape inference warnings\n";
  EXPECT_GT(models, 1000);
}

}  // namespace
}  // namespace edgefit
