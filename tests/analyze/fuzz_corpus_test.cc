// Replays fuzz/corpus/ (seeds and past crashes) through what load_model_fuzzer checks, so that
// regressions show up in the normal test run, without clang or libFuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "analyze/inspect.h"
#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

namespace fs = std::filesystem;

TEST(FuzzCorpusTest, Replay) {
  int files = 0, loaded = 0;
  for (const auto& e : fs::directory_iterator(testing::SourcePath("fuzz/corpus"))) {
    if (e.path().extension() != ".onnx") continue;
    ++files;
    SCOPED_TRACE(e.path().string());
    std::string bytes = testing::ReadFile(e.path().string());
    auto model = LoadModelFromBytes(bytes.data(), bytes.size(), "fuzz");
    if (!model.ok()) {
      EXPECT_TRUE(testing::IsOneLine(model.status().message())) << model.status().message();
      EXPECT_NE(model.status().code(), StatusCode::kInternal);
      continue;
    }
    ++loaded;
    EDGEFIT_EXPECT_OK(model->graph->Verify());
    onnx::ModelProto proto;
    EDGEFIT_ASSERT_OK(ModelToProto(*model, &proto));
    std::string exported = proto.SerializeAsString();
    EDGEFIT_EXPECT_OK(LoadModelFromBytes(exported.data(), exported.size(), "export"));
    InspectReport r = InspectModel(*model, "fuzz");
    EXPECT_FALSE(FormatInspectText(r).empty());
    EXPECT_FALSE(
        InspectToJson(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).empty());
  }
  std::cout << "[ fuzz corpus ] " << files << " files, " << loaded << " load\n";
  EXPECT_GE(files, 20);
}

}  // namespace
}  // namespace edgefit
