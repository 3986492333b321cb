// Lossless load -> save -> reload of every model in Debian's libonnx-testdata and the fixtures.
// The saved protobuf must equal the original field by field (MessageDifferencer), including the
// choice between raw_data and the typed *_data fields.
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "testing/onnx_builders.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

namespace fs = std::filesystem;
using google::protobuf::util::DefaultFieldComparator;
using google::protobuf::util::MessageDifferencer;

// Returns "" when equal, else a description of the differences (truncated). EQUIVALENT: a
// field that is unset equals one explicitly set to its default value. ONNX gives both the same
// meaning, and the IR does not record which one a file used for `NodeProto.domain`,
// `OperatorSetIdProto.domain` and an attribute tensor's `name` (see PresenceOnly below).
std::string Diff(
    const google::protobuf::Message& expected, const google::protobuf::Message& actual,
    MessageDifferencer::MessageFieldComparison comparison = MessageDifferencer::EQUIVALENT) {
  DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);  // NaN payloads are checked by the byte counts
  MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  differencer.set_message_field_comparison(comparison);
  std::string report;
  differencer.ReportDifferencesToString(&report);
  if (differencer.Compare(expected, actual)) return "";
  if (report.size() > 3000) report = report.substr(0, 3000) + "\n...";
  return report.empty() ? "(differ)" : report;
}

// Where a tensor's bytes live: raw_data, typed fields, or external. Compared separately because
// EQUIVALENT treats an empty raw_data like an absent one.
void CompareEncodings(const onnx::GraphProto& a, const onnx::GraphProto& b,
                      const std::string& where, std::vector<std::string>* problems);
void CompareTensorEncoding(const onnx::TensorProto& a, const onnx::TensorProto& b,
                           const std::string& where, std::vector<std::string>* problems) {
  if (a.has_raw_data() != b.has_raw_data() || a.data_location() != b.data_location())
    problems->push_back(where + " '" + a.name() + "': raw_data " +
                        (a.has_raw_data() ? "set" : "unset") + " -> " +
                        (b.has_raw_data() ? "set" : "unset"));
}
void CompareEncodings(const onnx::GraphProto& a, const onnx::GraphProto& b,
                      const std::string& where, std::vector<std::string>* problems) {
  for (int i = 0; i < a.initializer_size() && i < b.initializer_size(); ++i)
    CompareTensorEncoding(a.initializer(i), b.initializer(i), where + " initializer", problems);
  for (int n = 0; n < a.node_size() && n < b.node_size(); ++n) {
    for (int k = 0; k < a.node(n).attribute_size() && k < b.node(n).attribute_size(); ++k) {
      const auto& aa = a.node(n).attribute(k);
      const auto& ba = b.node(n).attribute(k);
      std::string at = where + " node " + std::to_string(n) + " attribute '" + aa.name() + "'";
      if (aa.has_t() && ba.has_t()) CompareTensorEncoding(aa.t(), ba.t(), at, problems);
      for (int t = 0; t < aa.tensors_size() && t < ba.tensors_size(); ++t)
        CompareTensorEncoding(aa.tensors(t), ba.tensors(t), at, problems);
      if (aa.has_g() && ba.has_g()) CompareEncodings(aa.g(), ba.g(), at, problems);
      for (int g = 0; g < aa.graphs_size() && g < ba.graphs_size(); ++g)
        CompareEncodings(aa.graphs(g), ba.graphs(g), at, problems);
    }
  }
}

struct RoundTripCounts {
  int models = 0;
  int equal = 0;           // field by field
  int strictly_equal = 0;  // also with proto2 presence compared (MessageDifferencer::EQUAL)
  int byte_identical = 0;  // and the serialized bytes are the same
  int failed = 0;
};

// Load, save, compare, reload, save again (must be stable). Adds a test failure on any problem.
void RoundTrip(const std::string& path, const testing::TempDir& dir, RoundTripCounts* counts) {
  ++counts->models;
  std::string original_bytes = testing::ReadFile(path);
  onnx::ModelProto original;
  if (!original.ParseFromString(original_bytes)) {
    ADD_FAILURE() << path << ": does not parse with protobuf";
    ++counts->failed;
    return;
  }
  auto model = LoadModel(path);
  if (!model.ok()) {
    ADD_FAILURE() << path << ": load failed: " << model.status().ToString();
    ++counts->failed;
    return;
  }
  std::string out = dir.File("saved.onnx");
  Status st = SaveModel(*model, out);
  if (!st.ok()) {
    ADD_FAILURE() << path << ": save failed: " << st.ToString();
    ++counts->failed;
    return;
  }
  std::string saved_bytes = testing::ReadFile(out);
  onnx::ModelProto saved;
  if (!saved.ParseFromString(saved_bytes)) {
    ADD_FAILURE() << path << ": the saved file does not parse";
    ++counts->failed;
    return;
  }
  std::string diff = Diff(original, saved);
  if (!diff.empty()) {
    ADD_FAILURE() << path << ": saved model differs from the original:\n" << diff;
    ++counts->failed;
    return;
  }
  std::vector<std::string> encoding_problems;
  CompareEncodings(original.graph(), saved.graph(), "graph", &encoding_problems);
  if (!encoding_problems.empty()) {
    std::string all;
    for (const auto& p : encoding_problems) all += "\n  " + p;
    ADD_FAILURE() << path << ": tensor encoding changed:" << all;
    ++counts->failed;
    return;
  }
  ++counts->equal;
  if (Diff(original, saved, MessageDifferencer::EQUAL).empty()) ++counts->strictly_equal;
  if (saved_bytes == original_bytes) ++counts->byte_identical;

  auto reloaded = LoadModel(out);
  if (!reloaded.ok()) {
    ADD_FAILURE() << path << ": reloading the saved model failed: " << reloaded.status().ToString();
    ++counts->failed;
    return;
  }
  onnx::ModelProto again;
  st = ModelToProto(*reloaded, &again);
  if (!st.ok() || !Diff(saved, again).empty()) {
    ADD_FAILURE() << path << ": second round trip differs: " << st.ToString() << "\n"
                  << Diff(saved, again);
    ++counts->failed;
  }
}

void RoundTripFolder(const std::string& folder, int min_models) {
  std::vector<std::string> models = testing::TestdataModels(folder);
  if (models.empty())
    GTEST_SKIP() << "no models under " << testing::OnnxTestdataDir() << "/" << folder;
  EXPECT_GE(static_cast<int>(models.size()), min_models);
  testing::TempDir dir;
  RoundTripCounts counts;
  for (const auto& path : models) RoundTrip(path, dir, &counts);
  std::cout << "[ round trip ] " << folder << ": " << counts.models << " models, " << counts.equal
            << " equal field by field (" << counts.strictly_equal
            << " also with presence of default-valued fields, " << counts.byte_identical
            << " byte-identical), " << counts.failed << " failed\n";
  ::testing::Test::RecordProperty("models", counts.models);
  ::testing::Test::RecordProperty("equal", counts.equal);
  ::testing::Test::RecordProperty("strictly_equal", counts.strictly_equal);
  ::testing::Test::RecordProperty("byte_identical", counts.byte_identical);
  EXPECT_EQ(counts.equal, counts.models);
}

// The Debian package holds 932 node, 82 pytorch-converted, 35 pytorch-operator and 23 simple
// models (ONNX 1.12).
TEST(RoundTripTest, OnnxTestdataNode) { RoundTripFolder("node", 900); }
TEST(RoundTripTest, OnnxTestdataPytorchConverted) { RoundTripFolder("pytorch-converted", 80); }
TEST(RoundTripTest, OnnxTestdataPytorchOperator) { RoundTripFolder("pytorch-operator", 30); }
TEST(RoundTripTest, OnnxTestdataSimple) { RoundTripFolder("simple", 20); }

TEST(RoundTripTest, Fixtures) {
  testing::TempDir dir;
  RoundTripCounts counts;
  for (const auto& entry : fs::directory_iterator(testing::SourcePath("tests/fixtures"))) {
    if (entry.path().extension() == ".onnx") RoundTrip(entry.path().string(), dir, &counts);
  }
  std::cout << "[ round trip ] fixtures: " << counts.models << " models, " << counts.equal
            << " equal field by field (" << counts.strictly_equal
            << " also with presence of default-valued fields, " << counts.byte_identical
            << " byte-identical)\n";
  EXPECT_GE(counts.models, 6);
  EXPECT_EQ(counts.equal, counts.models);
}

template <typename T, typename Field>
void Fill(Field* field, std::initializer_list<T> values) {
  for (T v : values) field->Add(v);
}

// Typed *_data fields of every dtype survive a round trip as typed fields (not raw_data).
TEST(RoundTripTest, TypedDataFieldsOfEveryDtype) {
  onnx::ModelProto m = testing::SimpleModel();
  auto* g = m.mutable_graph();
  auto add = [&](const std::string& name, int32_t dtype) {
    onnx::TensorProto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(dtype);
    t->add_dims(2);
    return t;
  };
  Fill<float>(add("f32", onnx::TensorProto::FLOAT)->mutable_float_data(), {1.5f, -2.f});
  Fill<float>(add("c64", onnx::TensorProto::COMPLEX64)->mutable_float_data(), {1.f, 2.f, 3.f, 4.f});
  Fill<double>(add("f64", onnx::TensorProto::DOUBLE)->mutable_double_data(), {0.25, -8.0});
  Fill<double>(add("c128", onnx::TensorProto::COMPLEX128)->mutable_double_data(), {1, 2, 3, 4});
  Fill<int64_t>(add("i64", onnx::TensorProto::INT64)->mutable_int64_data(), {-5, int64_t{1} << 40});
  Fill<uint64_t>(add("u32", onnx::TensorProto::UINT32)->mutable_uint64_data(), {7, 4000000000u});
  Fill<uint64_t>(add("u64", onnx::TensorProto::UINT64)->mutable_uint64_data(), {9, ~uint64_t{0}});
  Fill<int32_t>(add("i32", onnx::TensorProto::INT32)->mutable_int32_data(), {-1, 1 << 30});
  Fill<int32_t>(add("i16", onnx::TensorProto::INT16)->mutable_int32_data(), {-300, 300});
  Fill<int32_t>(add("u16", onnx::TensorProto::UINT16)->mutable_int32_data(), {65535, 1});
  Fill<int32_t>(add("f16", onnx::TensorProto::FLOAT16)->mutable_int32_data(), {0x3C00, 0xC000});
  Fill<int32_t>(add("bf16", onnx::TensorProto::BFLOAT16)->mutable_int32_data(), {0x3F80, 0x7F80});
  Fill<int32_t>(add("i8", onnx::TensorProto::INT8)->mutable_int32_data(), {-128, 127});
  Fill<int32_t>(add("u8", onnx::TensorProto::UINT8)->mutable_int32_data(), {0, 255});
  Fill<int32_t>(add("b", onnx::TensorProto::BOOL)->mutable_int32_data(), {0, 1});
  auto* s = add("s", onnx::TensorProto::STRING);
  s->add_string_data("hello");
  s->add_string_data(std::string("\0bin", 4));
  onnx::TensorProto* empty = add("empty", onnx::TensorProto::FLOAT);
  empty->set_dims(0, 0);
  testing::TempDir dir;
  std::string path = dir.File("typed.onnx");
  testing::WriteModel(path, m);
  RoundTripCounts counts;
  RoundTrip(path, dir, &counts);
  EXPECT_EQ(counts.equal, 1);

  auto model = LoadModel(path);
  EDGEFIT_ASSERT_OK(model);
  const Tensor* i16 = model->graph->FindValue("i16")->initializer();
  EXPECT_EQ(i16->data<int16_t>()[0], -300);
  const Tensor* u32 = model->graph->FindValue("u32")->initializer();
  EXPECT_EQ(u32->data<uint32_t>()[1], 4000000000u);
  EXPECT_FALSE(model->graph->FindValue("f32")->initializer_encoding().raw_data);
  EXPECT_TRUE(model->graph->FindValue("W")->initializer_encoding().raw_data);
  EXPECT_EQ(model->graph->FindValue("s")->initializer()->strings()[1], std::string("\0bin", 4));
}

}  // namespace
}  // namespace edgefit
