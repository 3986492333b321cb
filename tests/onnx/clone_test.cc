// CloneModel (the IR deep copy, Model::Clone): the copy of every model in Debian's
// libonnx-testdata (If/Loop/Scan subgraphs included) and of the fixtures exports to exactly the
// same protobuf as the original, passes Graph::Verify, and is independent of the original
// (weights, attributes, subgraphs and node lists are not shared).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

namespace fs = std::filesystem;

std::string Serialized(const Model& m) {
  onnx::ModelProto proto;
  EXPECT_TRUE(ModelToProto(m, &proto).ok());
  std::string bytes;
  EXPECT_TRUE(proto.SerializeToString(&bytes));
  return bytes;
}

// Every graph of the model and every graph's parent link, in a fixed order.
void CollectGraphs(const Graph& g, std::vector<const Graph*>* out) {
  out->push_back(&g);
  for (const auto& n : g.nodes())
    for (const Attribute& a : n->attributes())
      for (const auto& sg : a.graphs) {
        EXPECT_EQ(sg->parent(), &g) << "a subgraph's parent must be the graph holding its node";
        CollectGraphs(*sg, out);
      }
}

int CloneAndCompare(const std::vector<std::string>& paths) {
  int compared = 0;
  for (const std::string& path : paths) {
    auto loaded = LoadModel(path);
    if (!loaded.ok()) continue;  // models edgefit rejects are covered by the round-trip test
    auto copy = CloneModel(*loaded);
    if (!copy.ok()) {
      ADD_FAILURE() << path << ": " << copy.status().ToString();
      continue;
    }
    EXPECT_EQ(Serialized(*copy), Serialized(*loaded)) << path;
    EXPECT_TRUE(copy->graph->Verify().ok()) << path;
    std::vector<const Graph*> a, b;
    CollectGraphs(*loaded->graph, &a);
    CollectGraphs(*copy->graph, &b);
    if (a.size() != b.size()) {
      ADD_FAILURE() << path << ": " << a.size() << " graphs, the copy " << b.size();
      continue;
    }
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_NE(a[i], b[i]) << path << ": a graph is shared";
      if (a[i]->num_nodes() != b[i]->num_nodes()) {
        ADD_FAILURE() << path << ": node counts differ";
        break;
      }
      auto na = a[i]->nodes().begin();
      auto nb = b[i]->nodes().begin();
      for (; na != a[i]->nodes().end(); ++na, ++nb) EXPECT_EQ((*nb)->graph(), b[i]) << path;
    }
    ++compared;
  }
  return compared;
}

TEST(CloneModelTest, OnnxTestdataExportsTheSame) {
  int n = 0;
  for (const char* folder : {"node", "pytorch-converted", "pytorch-operator", "simple"})
    n += CloneAndCompare(testing::TestdataModels(folder));
  if (n == 0) GTEST_SKIP() << "no models under " << testing::OnnxTestdataDir();
  EXPECT_GE(n, 1000);
}

TEST(CloneModelTest, FixturesExportTheSame) {
  std::vector<std::string> paths;
  for (const auto& dir : {"tests/fixtures", "tests/fixtures/quant"})
    for (const auto& e : fs::directory_iterator(testing::SourcePath(dir)))
      if (e.path().extension() == ".onnx") paths.push_back(e.path().string());
  EXPECT_GE(CloneAndCompare(paths), 8);
}

TEST(CloneModelTest, TheCopyIsIndependent) {
  // test_if: subgraphs in the then/else branches; rppg: weights and attributes.
  auto m = LoadModel(testing::FixturePath("rppg_clean_op14.onnx"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::string before = Serialized(*m);
  auto copy = CloneModel(*m);
  ASSERT_TRUE(copy.ok());
  Graph& g = *copy->graph;
  ASSERT_FALSE(g.initializers().empty());
  Value* w = g.initializers()[0];
  ASSERT_GT(w->initializer()->nbytes(), 0u);
  static_cast<uint8_t*>(w->mutable_initializer()->raw())[0] ^= 0xff;  // weights have own bytes
  Node* first = g.nodes().front().get();
  first->SetAttribute(Attribute::Int("edgefit_test", 1));
  first->set_name("renamed");
  g.RemoveNode(g.nodes().back().get());
  Value* extra = g.CreateUniqueValue("extra");
  g.AddOutput(extra);
  copy->opset_imports.push_back({"com.example", 1});
  EXPECT_EQ(Serialized(*m), before) << "changing the copy changed the original";

  auto with_if = LoadModel(testing::OnnxTestdataDir() + "/node/test_if/model.onnx");
  if (!with_if.ok()) GTEST_SKIP() << "no libonnx-testdata";
  const std::string if_before = Serialized(*with_if);
  auto if_copy = CloneModel(*with_if);
  ASSERT_TRUE(if_copy.ok());
  for (const auto& n : if_copy->graph->nodes())
    for (Attribute& a : n->attributes())
      for (auto& sg : a.graphs) sg->RemoveNode(sg->nodes().front().get());
  EXPECT_EQ(Serialized(*with_if), if_before) << "subgraphs are shared";
}

}  // namespace
}  // namespace edgefit
