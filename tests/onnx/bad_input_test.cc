// Hostile and broken model files: each must give a non-OK Status of the right code whose message
// is one line, starts with the file name and names the problem. None may crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <initializer_list>
#include <random>
#include <string>

#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "testing/onnx_builders.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

namespace fs = std::filesystem;
using testing::MakeFloatTensor;
using testing::MakeValueInfo;
using testing::SimpleModel;

// Loads `path` and checks the error: its code, that the message is one line starting with the
// path, and that it contains every one of `words`.
void ExpectLoadError(const std::string& path, StatusCode code,
                     std::initializer_list<std::string> words, const LoadOptions& options = {}) {
  SCOPED_TRACE(path);
  auto model = LoadModel(path, options);
  ASSERT_FALSE(model.ok()) << "loaded a broken model";
  const Status& st = model.status();
  EXPECT_EQ(st.code(), code) << st.ToString();
  EXPECT_TRUE(testing::IsOneLine(st.message())) << st.message();
  EXPECT_EQ(st.message().rfind(path + ": ", 0), 0u)
      << "does not start with the file: " << st.message();
  for (const auto& w : words) EXPECT_NE(st.message().find(w), std::string::npos) << st.message();
}

// Writes `model` to <dir>/<name>, then checks the error as above. Also checks that parsing the
// same bytes from memory gives the same code with "memory" as the origin.
void ExpectModelError(const testing::TempDir& dir, const std::string& name,
                      const onnx::ModelProto& model, StatusCode code,
                      std::initializer_list<std::string> words) {
  std::string path = dir.File(name);
  testing::WriteModel(path, model);
  ExpectLoadError(path, code, words);
  std::string bytes = testing::Serialize(model);
  auto from_memory = LoadModelFromBytes(bytes.data(), bytes.size(), "memory", dir.path());
  ASSERT_FALSE(from_memory.ok());
  EXPECT_EQ(from_memory.status().code(), code);
  EXPECT_EQ(from_memory.status().message().rfind("memory: ", 0), 0u)
      << from_memory.status().message();
}

class BadInputTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

// ---------------------------------------------------------------------------- not a model file

TEST_F(BadInputTest, MissingPath) {
  ExpectLoadError(dir_.File("no_such_model.onnx"), StatusCode::kNotFound, {"no such file"});
}

TEST_F(BadInputTest, Directory) {
  ExpectLoadError(dir_.path(), StatusCode::kInvalidModel, {"directory"});
}

TEST_F(BadInputTest, EmptyFile) {
  std::string path = dir_.File("empty.onnx");
  testing::WriteFile(path, "");
  ExpectLoadError(path, StatusCode::kInvalidModel, {"empty"});
  auto m = LoadModelFromBytes("", 0, "memory");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidModel);
}

TEST_F(BadInputTest, RandomBytes) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 20; ++round) {
    std::string bytes(1 + rng() % 4096, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string path = dir_.File("random" + std::to_string(round) + ".onnx");
    testing::WriteFile(path, bytes);
    // Random bytes rarely parse; when they do, they hold no graph. Either way: "ONNX".
    ExpectLoadError(path, StatusCode::kInvalidModel, {"ONNX"});
  }
}

TEST_F(BadInputTest, TextFile) {
  std::string path = dir_.File("script.onnx");
  testing::WriteFile(path, "#!/usr/bin/env python3\nimport onnx\nprint('hello')\n");
  ExpectLoadError(path, StatusCode::kInvalidModel, {"ONNX"});
  std::string json = dir_.File("model.json");
  testing::WriteFile(json, "{\"graph\": {\"node\": []}}\n");
  ExpectLoadError(json, StatusCode::kInvalidModel, {"ONNX"});
}

TEST_F(BadInputTest, TruncatedProtobuf) {
  std::string bytes = testing::ReadFile(testing::FixturePath("rppg_dyn_op14.onnx"));
  ASSERT_GT(bytes.size(), 1000u);
  std::string path = dir_.File("truncated.onnx");
  testing::WriteFile(path, bytes.substr(0, bytes.size() / 2));
  ExpectLoadError(path, StatusCode::kInvalidModel, {"truncated"});
}

TEST_F(BadInputTest, SerializedTensorIsNotAModel) {
  std::string path = dir_.File("tensor.pb");
  onnx::TensorProto t = MakeFloatTensor("t", {2, 2}, {1, 2, 3, 4});
  testing::WriteFile(path, t.SerializeAsString());
  ExpectLoadError(path, StatusCode::kInvalidModel, {"not an ONNX model"});
}

TEST_F(BadInputTest, TestdataInputPbIsNotAModel) {
  std::string path = testing::OnnxTestdataDir() + "/node/test_abs/test_data_set_0/input_0.pb";
  if (!fs::exists(path)) GTEST_SKIP() << path << " not installed";
  ExpectLoadError(path, StatusCode::kInvalidModel, {"not an ONNX model"});
}

TEST_F(BadInputTest, MissingIrVersionAndOpset) {
  onnx::ModelProto m = SimpleModel();
  m.clear_ir_version();
  ExpectModelError(dir_, "no_ir.onnx", m, StatusCode::kInvalidModel, {"ir_version"});
  m = SimpleModel();
  m.clear_opset_import();
  ExpectModelError(dir_, "no_opset.onnx", m, StatusCode::kInvalidModel, {"opset_import"});
  m = SimpleModel();
  m.mutable_opset_import(0)->set_version(0);
  ExpectModelError(dir_, "opset0.onnx", m, StatusCode::kInvalidModel, {"opset_import", "version"});
}

// ---------------------------------------------------------------------------- broken graphs

TEST_F(BadInputTest, SimpleModelIsValid) {
  std::string path = dir_.File("simple.onnx");
  testing::WriteModel(path, SimpleModel());
  EDGEFIT_EXPECT_OK(LoadModel(path));
}

TEST_F(BadInputTest, Cycle) {
  onnx::ModelProto m = SimpleModel();
  auto* g = m.mutable_graph();
  g->clear_node();
  testing::AddNode(g, "Add", {"X", "T2"}, {"T1"}, "first");
  testing::AddNode(g, "Relu", {"T1"}, {"T2"}, "second");
  testing::AddNode(g, "Add", {"T2", "W"}, {"Y"}, "add");
  ExpectModelError(dir_, "cycle.onnx", m, StatusCode::kInvalidModel, {"cycle", "node"});
  auto loaded = LoadModel(dir_.File("cycle.onnx"));
  const std::string& msg = loaded.status().message();
  EXPECT_TRUE(msg.find("'first'") != std::string::npos || msg.find("'second'") != std::string::npos)
      << msg;
}

TEST_F(BadInputTest, SelfLoop) {
  onnx::ModelProto m = SimpleModel();
  testing::AddNode(m.mutable_graph(), "Add", {"X", "S"}, {"S"}, "self");
  ExpectModelError(dir_, "self_loop.onnx", m, StatusCode::kInvalidModel, {"cycle", "'self'"});
}

TEST_F(BadInputTest, InputNothingProduces) {
  onnx::ModelProto m = SimpleModel();
  m.mutable_graph()->mutable_node(1)->set_input(1, "ghost");
  ExpectModelError(dir_, "dangling.onnx", m, StatusCode::kInvalidModel,
                   {"'ghost'", "'add'", "not produced"});
}

TEST_F(BadInputTest, OutputNothingProduces) {
  onnx::ModelProto m = SimpleModel();
  *m.mutable_graph()->add_output() = MakeValueInfo("nowhere", onnx::TensorProto::FLOAT, {1});
  ExpectModelError(dir_, "dangling_output.onnx", m, StatusCode::kInvalidModel,
                   {"'nowhere'", "not produced"});
}

TEST_F(BadInputTest, TwoNodesProduceOneValue) {
  onnx::ModelProto m = SimpleModel();
  testing::AddNode(m.mutable_graph(), "Neg", {"X"}, {"R"}, "neg");
  ExpectModelError(dir_, "dup_producer.onnx", m, StatusCode::kInvalidModel,
                   {"'R'", "'neg'", "'relu'"});
}

TEST_F(BadInputTest, NodeProducesGraphInputOrInitializer) {
  onnx::ModelProto m = SimpleModel();
  testing::AddNode(m.mutable_graph(), "Neg", {"R"}, {"X"}, "neg");
  ExpectModelError(dir_, "produces_input.onnx", m, StatusCode::kInvalidModel,
                   {"'X'", "graph input"});
  m = SimpleModel();
  testing::AddNode(m.mutable_graph(), "Neg", {"R"}, {"W"}, "neg");
  ExpectModelError(dir_, "produces_initializer.onnx", m, StatusCode::kInvalidModel,
                   {"'W'", "initializer"});
}

TEST_F(BadInputTest, DuplicateInitializer) {
  onnx::ModelProto m = SimpleModel();
  *m.mutable_graph()->add_initializer() = MakeFloatTensor("W", {4}, {0, 0, 0, 0});
  ExpectModelError(dir_, "dup_init.onnx", m, StatusCode::kInvalidModel, {"'W'", "twice"});
}

TEST_F(BadInputTest, DuplicateGraphInput) {
  onnx::ModelProto m = SimpleModel();
  *m.mutable_graph()->add_input() = MakeValueInfo("X", onnx::TensorProto::FLOAT, {1, 4});
  ExpectModelError(dir_, "dup_input.onnx", m, StatusCode::kInvalidModel, {"'X'", "twice"});
}

TEST_F(BadInputTest, LineBreaksInNamesStayOnOneLine) {
  // Found by the fuzzer: names are quoted in messages, so control characters are escaped.
  onnx::ModelProto m = SimpleModel();
  m.mutable_graph()->set_name("two\nlines");
  m.mutable_graph()->mutable_node(1)->set_input(1, "gh\rost\x01");
  ExpectModelError(dir_, "line_break.onnx", m, StatusCode::kInvalidModel,
                   {"graph 'two\\x0alines'", "'gh\\x0dost\\x01'"});
}

// ---------------------------------------------------------------------------- bad types/shapes

TEST_F(BadInputTest, UnknownDtypeInInitializer) {
  onnx::ModelProto m = SimpleModel();
  m.mutable_graph()->mutable_initializer(0)->set_data_type(99);
  ExpectModelError(dir_, "dtype_init.onnx", m, StatusCode::kInvalidModel,
                   {"'W'", "unknown data type 99"});
}

TEST_F(BadInputTest, UnknownDtypeInValueInfo) {
  onnx::ModelProto m = SimpleModel();
  *m.mutable_graph()->add_value_info() = MakeValueInfo("R", 77, {1, 4});
  ExpectModelError(dir_, "dtype_vi.onnx", m, StatusCode::kInvalidModel,
                   {"'R'", "unknown element type 77"});
  m = SimpleModel();
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(-5);
  ExpectModelError(dir_, "dtype_input.onnx", m, StatusCode::kInvalidModel,
                   {"'X'", "unknown element type -5"});
}

TEST_F(BadInputTest, NegativeDims) {
  onnx::ModelProto m = SimpleModel();
  m.mutable_graph()->mutable_initializer(0)->set_dims(0, -4);
  ExpectModelError(dir_, "neg_init.onnx", m, StatusCode::kInvalidModel, {"'W'", "negative dim"});
  m = SimpleModel();
  *m.mutable_graph()->add_value_info() = MakeValueInfo("R", onnx::TensorProto::FLOAT, {1, 4});
  m.mutable_graph()
      ->mutable_value_info(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(1)
      ->set_dim_value(-3);
  ExpectModelError(dir_, "neg_vi.onnx", m, StatusCode::kInvalidModel, {"'R'", "negative dim -3"});
}

TEST_F(BadInputTest, AbsurdDimsInInitializer) {
  const int64_t k21 = int64_t{1} << 21;
  onnx::ModelProto m = SimpleModel();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_dims();
  w->add_dims(k21);
  w->add_dims(k21);  // 2^42 elements
  ExpectModelError(dir_, "huge_init.onnx", m, StatusCode::kInvalidModel,
                   {"'W'", "more elements than allowed"});
  w->set_dims(0, int64_t{1} << 40);
  w->set_dims(1, int64_t{1} << 40);  // overflows int64
  ExpectModelError(dir_, "overflow_init.onnx", m, StatusCode::kInvalidModel,
                   {"'W'", "more elements than allowed"});
}

TEST_F(BadInputTest, AbsurdDimsInValueInfo) {
  onnx::ModelProto m = SimpleModel();
  *m.mutable_graph()->add_value_info() =
      MakeValueInfo("R", onnx::TensorProto::FLOAT, {int64_t{1} << 30, int64_t{1} << 30, 4});
  ExpectModelError(dir_, "huge_vi.onnx", m, StatusCode::kInvalidModel,
                   {"'R'", "more than 2^40 elements"});
  m = SimpleModel();
  *m.mutable_graph()->mutable_input(0) =
      MakeValueInfo("X", onnx::TensorProto::FLOAT, {INT64_MAX, INT64_MAX});
  ExpectModelError(dir_, "huge_input.onnx", m, StatusCode::kInvalidModel,
                   {"'X'", "more than 2^40 elements"});
}

TEST_F(BadInputTest, LargeDeclaredTensorWithoutData) {
  // 2^34 floats (64 GiB) under the element limit but with no bytes behind them: must be refused
  // before anything is allocated.
  for (bool raw : {true, false}) {
    onnx::ModelProto m = SimpleModel();
    auto* w = m.mutable_graph()->mutable_initializer(0);
    w->set_dims(0, int64_t{1} << 34);
    if (!raw) {
      w->clear_raw_data();
      w->add_float_data(1.f);
    }
    ExpectModelError(dir_, raw ? "big_raw.onnx" : "big_typed.onnx", m, StatusCode::kInvalidModel,
                     {"'W'"});
  }
  onnx::ModelProto m = SimpleModel();
  auto* s = m.mutable_graph()->add_initializer();
  s->set_name("S");
  s->set_data_type(onnx::TensorProto::STRING);
  s->add_dims(int64_t{1} << 36);
  ExpectModelError(dir_, "big_string.onnx", m, StatusCode::kInvalidModel, {"'S'"});
}

TEST_F(BadInputTest, RawDataSizeMismatch) {
  onnx::ModelProto m = SimpleModel();
  m.mutable_graph()->mutable_initializer(0)->set_raw_data(std::string(12, '\0'));
  ExpectModelError(dir_, "raw_size.onnx", m, StatusCode::kInvalidModel,
                   {"'W'", "needs 16 bytes of raw_data but has 12"});
}

TEST_F(BadInputTest, TypedDataCountMismatch) {
  onnx::ModelProto m = SimpleModel();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  for (float f : {1.f, 2.f, 3.f}) w->add_float_data(f);
  ExpectModelError(dir_, "typed_count.onnx", m, StatusCode::kInvalidModel,
                   {"'W'", "declares 4 values but stores 3"});
}

TEST_F(BadInputTest, BadTensorInNodeAttribute) {
  onnx::ModelProto m = SimpleModel();
  auto* c = testing::AddNode(m.mutable_graph(), "Constant", {}, {"C"}, "const");
  auto* a = c->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = MakeFloatTensor("", {3}, {1, 2});
  ExpectModelError(dir_, "attr_tensor.onnx", m, StatusCode::kInvalidModel,
                   {"Constant 'const'", "'value'", "raw_data"});
}

TEST_F(BadInputTest, BrokenSubgraph) {
  onnx::ModelProto m = SimpleModel();
  auto* n = testing::AddNode(m.mutable_graph(), "If", {"cond"}, {"Z"}, "if");
  *m.mutable_graph()->add_input() = MakeValueInfo("cond", onnx::TensorProto::BOOL, {});
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* a = n->add_attribute();
    a->set_name(branch);
    a->set_type(onnx::AttributeProto::GRAPH);
    auto* sub = a->mutable_g();
    sub->set_name(branch);
    testing::AddNode(sub, "Neg", {"R"}, {std::string(branch) + "_out"}, "neg");
    *sub->add_output() = MakeValueInfo(std::string(branch) + "_out", onnx::TensorProto::FLOAT, {});
  }
  std::string path = dir_.File("if.onnx");
  testing::WriteModel(path, m);
  EDGEFIT_ASSERT_OK(LoadModel(path));  // outer reference to R is fine
  m.mutable_graph()->mutable_node(2)->mutable_attribute(1)->mutable_g()->mutable_node(0)->set_input(
      0, "undefined_anywhere");
  ExpectModelError(dir_, "bad_if.onnx", m, StatusCode::kInvalidModel,
                   {"'undefined_anywhere'", "else_branch"});
}

TEST_F(BadInputTest, Segments) {
  onnx::ModelProto m = SimpleModel();
  m.mutable_graph()->mutable_initializer(0)->mutable_segment()->set_begin(0);
  ExpectModelError(dir_, "segment.onnx", m, StatusCode::kInvalidModel, {"'W'", "segment"});
}

// ---------------------------------------------------------------------------- external data

// SimpleModel with W stored externally in `location` (16 bytes at `offset`).
onnx::ModelProto ExternalModel(const std::string& location, const std::string& offset = "0",
                               const std::string& length = "16") {
  onnx::ModelProto m = SimpleModel();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* k, const std::string& v) {
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", location);
  if (!offset.empty()) add("offset", offset);
  if (!length.empty()) add("length", length);
  return m;
}

TEST_F(BadInputTest, ExternalDataValid) {
  testing::WriteFile(dir_.File("w.bin"), std::string(16, '\x01'));
  std::string path = dir_.File("ext.onnx");
  testing::WriteModel(path, ExternalModel("w.bin"));
  auto m = LoadModel(path);
  EDGEFIT_ASSERT_OK(m);
  EXPECT_EQ(m->external_data_files.size(), 1u);
}

TEST_F(BadInputTest, ExternalDataMissingFile) {
  ExpectModelError(dir_, "ext_missing.onnx", ExternalModel("missing.bin"),
                   StatusCode::kInvalidModel, {"'W'", "'missing.bin'", "cannot be read"});
}

TEST_F(BadInputTest, ExternalDataAbsoluteLocation) {
  ExpectModelError(dir_, "ext_abs.onnx", ExternalModel("/etc/passwd"), StatusCode::kInvalidModel,
                   {"'W'", "'/etc/passwd'", "absolute"});
}

TEST_F(BadInputTest, ExternalDataEscapesFolder) {
  fs::create_directory(dir_.File("sub"));
  testing::WriteFile(dir_.File("outside.bin"), std::string(16, '\0'));
  std::string path = dir_.File("sub/ext_escape.onnx");
  testing::WriteModel(path, ExternalModel("../outside.bin"));
  ExpectLoadError(path, StatusCode::kInvalidModel,
                  {"'../outside.bin'", "outside the model's folder"});
  testing::WriteModel(path, ExternalModel("a/../../outside.bin"));
  ExpectLoadError(path, StatusCode::kInvalidModel, {"outside the model's folder"});
  // A symlink inside the folder pointing outside is refused too.
  fs::create_symlink(dir_.File("outside.bin"), dir_.File("sub/link.bin"));
  testing::WriteModel(path, ExternalModel("link.bin"));
  ExpectLoadError(path, StatusCode::kInvalidModel, {"outside the model's folder"});
}

TEST_F(BadInputTest, ExternalDataFileTooShort) {
  testing::WriteFile(dir_.File("short.bin"), std::string(10, '\0'));
  ExpectModelError(dir_, "ext_short.onnx", ExternalModel("short.bin"), StatusCode::kInvalidModel,
                   {"'W'", "has 10 bytes, but the tensor needs 16 bytes at offset 0"});
  testing::WriteFile(dir_.File("w.bin"), std::string(20, '\0'));
  ExpectModelError(dir_, "ext_offset.onnx", ExternalModel("w.bin", "8"), StatusCode::kInvalidModel,
                   {"'W'", "has 20 bytes"});
}

TEST_F(BadInputTest, ExternalDataBadFields) {
  testing::WriteFile(dir_.File("w.bin"), std::string(64, '\0'));
  ExpectModelError(dir_, "ext_len.onnx", ExternalModel("w.bin", "0", "12"),
                   StatusCode::kInvalidModel, {"'W'", "length 12"});
  ExpectModelError(dir_, "ext_nan.onnx", ExternalModel("w.bin", "abc"), StatusCode::kInvalidModel,
                   {"'W'", "not a number"});
  ExpectModelError(dir_, "ext_huge_offset.onnx", ExternalModel("w.bin", "99999999999999999999"),
                   StatusCode::kInvalidModel, {"'W'", "not a number"});
  ExpectModelError(dir_, "ext_neg.onnx", ExternalModel("w.bin", "-8"), StatusCode::kInvalidModel,
                   {"'W'", "negative"});
  ExpectModelError(dir_, "ext_noloc.onnx", ExternalModel(""), StatusCode::kInvalidModel,
                   {"'W'", "no location"});
}

TEST_F(BadInputTest, ExternalDataFromMemoryNeedsAFolder) {
  std::string bytes = testing::Serialize(ExternalModel("w.bin"));
  auto m = LoadModelFromBytes(bytes.data(), bytes.size(), "memory");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidModel);
  EXPECT_NE(m.status().message().find("needs a model file path"), std::string::npos);
}

// ---------------------------------------------------------------------------- saving

TEST_F(BadInputTest, SaveOverInputIsRefused) {
  std::string path = dir_.File("model.onnx");
  testing::WriteModel(path, SimpleModel());
  std::string before = testing::ReadFile(path);
  auto m = LoadModel(path);
  EDGEFIT_ASSERT_OK(m);
  for (const std::string& target : {path, dir_.path() + "/./model.onnx"}) {
    Status st = SaveModel(*m, target);
    EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
    EXPECT_TRUE(testing::IsOneLine(st.message()));
    EXPECT_EQ(st.message().rfind(target + ": ", 0), 0u) << st.message();
    EXPECT_NE(st.message().find("--in-place"), std::string::npos) << st.message();
  }
  EXPECT_EQ(testing::ReadFile(path), before);
}

TEST_F(BadInputTest, SaveToBadPlaces) {
  auto m = LoadModel(testing::FixturePath("rppg_clean_op14.onnx"));
  EDGEFIT_ASSERT_OK(m);
  Status st = SaveModel(*m, dir_.File("no_such_folder/out.onnx"));
  EXPECT_EQ(st.code(), StatusCode::kIoError) << st.ToString();
  EXPECT_NE(st.message().find("does not exist"), std::string::npos) << st.message();
  st = SaveModel(*m, dir_.path());
  EXPECT_FALSE(st.ok());
  SaveOptions so;
  so.external_data = true;
  so.external_data_name = "../escape.data";
  st = SaveModel(*m, dir_.File("out.onnx"), so);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_EQ(st.message().rfind(dir_.File("out.onnx") + ": ", 0), 0u) << st.message();
  so.external_data_name = "/tmp/abs.data";
  st = SaveModel(*m, dir_.File("out.onnx"), so);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  // Nothing half-written is left behind.
  for (const auto& e : fs::directory_iterator(dir_.path()))
    ADD_FAILURE() << "left behind: " << e.path();
}

}  // namespace
}  // namespace edgefit
