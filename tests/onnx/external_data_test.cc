// Saving with external data, reloading it, saving again elsewhere, and the in_place rules.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "testing/onnx_builders.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

namespace fs = std::filesystem;

// Y[1,64] = MatMul(X[1,64], W[64,64]) + B[64]; plus Q (int8, exactly 1024 bytes) and S (int64[2]).
Model BuildModel() {
  Model m;
  m.ir_version = 8;
  m.opset_imports = {{"", 13}};
  m.producer_name = "edgefit-tests";
  Graph& g = *m.graph;
  g.name = "external";
  Value* x = *g.CreateValue("X");
  x->type() = TypeInfo::Tensor(DataType::kFloat, {1, 64});
  g.AddInput(x);
  Tensor w(DataType::kFloat, {64, 64});
  for (int i = 0; i < 64 * 64; ++i) w.data<float>()[i] = 0.5f * static_cast<float>(i % 97) - 3.f;
  Tensor b(DataType::kFloat, {64});
  for (int i = 0; i < 64; ++i) b.data<float>()[i] = static_cast<float>(i);
  Tensor q(DataType::kInt8, {32, 32});
  for (int i = 0; i < 1024; ++i) q.data<int8_t>()[i] = static_cast<int8_t>(i * 7);
  Tensor s = Tensor::FromVector<int64_t>(DataType::kInt64, {2}, {1, 64});
  Value* W = g.AddInitializer("W", w);
  Value* B = g.AddInitializer("B", b);
  g.AddInitializer("Q", q);
  g.AddInitializer("S", s);
  Value* mm = g.CreateUniqueValue("M");
  Value* y = *g.CreateValue("Y");
  y->type() = TypeInfo::Tensor(DataType::kFloat, {1, 64});
  g.AddNode("MatMul", {x, W}, {mm}, "matmul");
  g.AddNode("Add", {mm, B}, {y}, "add");
  g.AddOutput(y);
  return m;
}

// Same names, dtypes, shapes and bytes for every initializer.
void ExpectSameInitializers(const Model& a, const Model& b) {
  ASSERT_EQ(a.graph->initializers().size(), b.graph->initializers().size());
  for (const Value* va : a.graph->initializers()) {
    SCOPED_TRACE(va->name());
    const Value* vb = b.graph->FindValue(va->name());
    ASSERT_NE(vb, nullptr);
    ASSERT_TRUE(vb->has_initializer());
    const Tensor* ta = va->initializer();
    const Tensor* tb = vb->initializer();
    EXPECT_EQ(ta->dtype(), tb->dtype());
    EXPECT_EQ(ta->shape(), tb->shape());
    ASSERT_EQ(ta->nbytes(), tb->nbytes());
    ASSERT_NE(tb->raw(), nullptr);
    EXPECT_EQ(std::memcmp(ta->raw(), tb->raw(), ta->nbytes()), 0);
  }
}

const onnx::TensorProto* FindInitializer(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

std::string ExternalField(const onnx::TensorProto& t, const std::string& key) {
  for (const auto& e : t.external_data())
    if (e.key() == key) return e.value();
  return "";
}

SaveOptions External() {
  SaveOptions so;
  so.external_data = true;
  return so;
}

TEST(ExternalDataTest, SaveAndReload) {
  testing::TempDir dir;
  Model m = BuildModel();
  std::string path = dir.File("model.onnx");
  EDGEFIT_ASSERT_OK(SaveModel(m, path, External()));
  std::string data = dir.File("model.onnx.data");
  ASSERT_TRUE(fs::exists(data));
  // W (16 KiB) at 0, Q (1024 bytes: the threshold is inclusive) aligned to 4 KiB after it.
  EXPECT_EQ(fs::file_size(data), 16384u + 1024u);

  onnx::ModelProto proto = testing::ReadModelProto(path);
  const onnx::TensorProto* w = FindInitializer(proto, "W");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->data_location(), onnx::TensorProto::EXTERNAL);
  EXPECT_FALSE(w->has_raw_data());
  EXPECT_EQ(ExternalField(*w, "location"), "model.onnx.data");
  EXPECT_EQ(ExternalField(*w, "offset"), "0");
  EXPECT_EQ(ExternalField(*w, "length"), "16384");
  const onnx::TensorProto* q = FindInitializer(proto, "Q");
  EXPECT_EQ(q->data_location(), onnx::TensorProto::EXTERNAL);
  EXPECT_EQ(ExternalField(*q, "offset"), "16384");
  for (const char* small : {"B", "S"}) {
    const onnx::TensorProto* t = FindInitializer(proto, small);
    EXPECT_NE(t->data_location(), onnx::TensorProto::EXTERNAL) << small;
    EXPECT_TRUE(t->has_raw_data()) << small;
  }

  auto loaded = LoadModel(path);
  EDGEFIT_ASSERT_OK(loaded);
  ExpectSameInitializers(m, *loaded);
  EXPECT_TRUE(loaded->graph->FindValue("W")->initializer_encoding().was_external);
  EXPECT_FALSE(loaded->graph->FindValue("B")->initializer_encoding().was_external);
  ASSERT_EQ(loaded->external_data_files.size(), 1u);
  EXPECT_TRUE(fs::equivalent(loaded->external_data_files[0], data));
  EXPECT_TRUE(fs::equivalent(loaded->source_path, path));
}

TEST(ExternalDataTest, CustomNameAndThreshold) {
  testing::TempDir dir;
  Model m = BuildModel();
  SaveOptions so = External();
  so.external_data_name = "weights.bin";
  so.external_data_threshold = 100;  // now B (256 bytes) moves too
  std::string path = dir.File("m.onnx");
  EDGEFIT_ASSERT_OK(SaveModel(m, path, so));
  EXPECT_TRUE(fs::exists(dir.File("weights.bin")));
  EXPECT_FALSE(fs::exists(dir.File("m.onnx.data")));
  onnx::ModelProto proto = testing::ReadModelProto(path);
  EXPECT_EQ(FindInitializer(proto, "B")->data_location(), onnx::TensorProto::EXTERNAL);
  EXPECT_NE(FindInitializer(proto, "S")->data_location(), onnx::TensorProto::EXTERNAL);
  auto loaded = LoadModel(path);
  EDGEFIT_ASSERT_OK(loaded);
  ExpectSameInitializers(m, *loaded);
}

TEST(ExternalDataTest, SaveAgainElsewhere) {
  testing::TempDir dir;
  Model m = BuildModel();
  std::string first = dir.File("a/model.onnx");
  fs::create_directory(dir.File("a"));
  fs::create_directory(dir.File("b"));
  EDGEFIT_ASSERT_OK(SaveModel(m, first, External()));
  auto loaded = LoadModel(first);
  EDGEFIT_ASSERT_OK(loaded);

  // With external data, into another folder: a new data file next to the new model.
  std::string second = dir.File("b/copy.onnx");
  EDGEFIT_ASSERT_OK(SaveModel(*loaded, second, External()));
  EXPECT_TRUE(fs::exists(dir.File("b/copy.onnx.data")));
  auto reloaded = LoadModel(second);
  EDGEFIT_ASSERT_OK(reloaded);
  ExpectSameInitializers(m, *reloaded);
  EXPECT_TRUE(fs::equivalent(reloaded->external_data_files.at(0), dir.File("b/copy.onnx.data")));

  // Without external data: everything inline again.
  std::string third = dir.File("b/inline.onnx");
  EDGEFIT_ASSERT_OK(SaveModel(*loaded, third));
  onnx::ModelProto proto = testing::ReadModelProto(third);
  for (const auto& t : proto.graph().initializer())
    EXPECT_NE(t.data_location(), onnx::TensorProto::EXTERNAL) << t.name();
  auto inline_model = LoadModel(third);
  EDGEFIT_ASSERT_OK(inline_model);
  ExpectSameInitializers(m, *inline_model);
  EXPECT_TRUE(inline_model->external_data_files.empty());

  // The first copy is untouched.
  auto first_again = LoadModel(first);
  EDGEFIT_ASSERT_OK(first_again);
  ExpectSameInitializers(m, *first_again);
}

TEST(ExternalDataTest, InPlaceRules) {
  testing::TempDir dir;
  Model m = BuildModel();
  std::string path = dir.File("model.onnx");
  std::string data = dir.File("model.onnx.data");
  EDGEFIT_ASSERT_OK(SaveModel(m, path, External()));
  std::string model_bytes = testing::ReadFile(path);
  std::string data_bytes = testing::ReadFile(data);
  auto loaded = LoadModel(path);
  EDGEFIT_ASSERT_OK(loaded);

  // The model file itself, with and without external data.
  Status st = SaveModel(*loaded, path);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  st = SaveModel(*loaded, path, External());
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  // Another model name whose external data would overwrite the input's data file.
  SaveOptions same_data = External();
  same_data.external_data_name = "model.onnx.data";
  st = SaveModel(*loaded, dir.File("other.onnx"), same_data);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_TRUE(testing::IsOneLine(st.message()));
  EXPECT_NE(st.message().find("model.onnx.data"), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(dir.File("other.onnx")));
  // A data file named like the input model.
  SaveOptions onto_model = External();
  onto_model.external_data_name = "model.onnx";
  st = SaveModel(*loaded, dir.File("other.onnx"), onto_model);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  // Through a symlink.
  fs::create_symlink(path, dir.File("link.onnx"));
  st = SaveModel(*loaded, dir.File("link.onnx"));
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();

  EXPECT_EQ(testing::ReadFile(path), model_bytes);
  EXPECT_EQ(testing::ReadFile(data), data_bytes);
  // No temporary files left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(e.path().filename().string().rfind(".", 0), std::string::npos) << e.path();
  }
  EXPECT_EQ(files, 3);  // model, data, link

  // With in_place: allowed, and the result is the same model.
  SaveOptions in_place = External();
  in_place.in_place = true;
  EDGEFIT_ASSERT_OK(SaveModel(*loaded, path, in_place));
  auto reloaded = LoadModel(path);
  EDGEFIT_ASSERT_OK(reloaded);
  ExpectSameInitializers(m, *reloaded);
  EXPECT_EQ(testing::ReadFile(data), data_bytes);

  SaveOptions in_place_inline;
  in_place_inline.in_place = true;
  EDGEFIT_ASSERT_OK(SaveModel(*reloaded, path, in_place_inline));
  auto inline_model = LoadModel(path);
  EDGEFIT_ASSERT_OK(inline_model);
  ExpectSameInitializers(m, *inline_model);
  EXPECT_TRUE(inline_model->external_data_files.empty());
}

TEST(ExternalDataTest, ModelBuiltInMemoryMayOverwrite) {
  testing::TempDir dir;
  std::string path = dir.File("model.onnx");
  testing::WriteFile(path, "old contents");
  EDGEFIT_ASSERT_OK(SaveModel(BuildModel(), path));
  EDGEFIT_EXPECT_OK(LoadModel(path));
}

TEST(ExternalDataTest, NotLoadingExternalDataKeepsTheReference) {
  testing::TempDir dir;
  std::string path = dir.File("model.onnx");
  EDGEFIT_ASSERT_OK(SaveModel(BuildModel(), path, External()));
  LoadOptions lo;
  lo.load_external_data = false;
  auto m = LoadModel(path, lo);
  EDGEFIT_ASSERT_OK(m);
  const Tensor* w = m->graph->FindValue("W")->initializer();
  EXPECT_EQ(w->shape(), (Shape{64, 64}));
  EXPECT_EQ(w->dtype(), DataType::kFloat);
  EXPECT_EQ(w->raw(), nullptr) << "external tensor holds (zero) data although not loaded";
  // Still listed: inspect shows them and saving must not overwrite them.
  ASSERT_EQ(m->external_data_files.size(), 1u);
  EXPECT_TRUE(fs::equivalent(m->external_data_files[0], dir.File("model.onnx.data")));
  Status st = SaveModel(*m, dir.File("other.onnx"), [] {
    SaveOptions so;
    so.external_data = true;
    so.external_data_name = "model.onnx.data";
    return so;
  }());
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  // Exporting keeps the external reference instead of writing zeros.
  onnx::ModelProto proto;
  EDGEFIT_ASSERT_OK(ModelToProto(*m, &proto));
  const onnx::TensorProto* wp = FindInitializer(proto, "W");
  EXPECT_EQ(wp->data_location(), onnx::TensorProto::EXTERNAL);
  EXPECT_FALSE(wp->has_raw_data());
  EXPECT_EQ(ExternalField(*wp, "location"), "model.onnx.data");
  // Inline tensors are loaded as usual.
  EXPECT_NE(m->graph->FindValue("B")->initializer()->raw(), nullptr);
}

}  // namespace
}  // namespace edgefit
