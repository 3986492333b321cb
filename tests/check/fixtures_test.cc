// The checker on the fixture models (tests/fixtures/README.md), with exact expectations: every
// violation and warning is listed, so anything spurious fails the test.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "check_test_util.h"
#include "onnx/model_io.h"
#include "testing/test_util.h"

namespace edgefit::testing {
namespace {

using Strings = std::vector<std::string>;

Model LoadFixture(const std::string& name) {
  auto model = LoadModel(FixturePath(name));
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? std::move(model).value() : Model{};
}

bool HasInfo(const CheckReport& r, const std::string& rule, const std::string& node = "") {
  for (const Finding& f : r.findings)
    if (f.severity == Severity::kInfo && f.rule == rule && (node.empty() || f.node == node))
      return true;
  return false;
}

// What stm32n6 must say about the dynamic rPPG model, at every opset: the dynamic batch on input
// and output, the rank-6 values and the nodes making them, every Conv (and the pools the profile
// lists) at batch 24, the Reshape constant with -1, and BatchNormalization on the CPU.
const Strings kRppgDynStm32n6 = {
    "violation dims.dynamic input",
    "violation dims.dynamic output",
    "violation batch.compute /conv1/Conv",
    "violation batch.compute /pool1/MaxPool",
    "violation batch.compute /conv2/Conv",
    "violation batch.compute /gap/GlobalAveragePool",
    "violation rank.max /Transpose",
    "violation rank.reshape /Reshape",
    "warning reshape.wildcard /Reshape_1",
    "warning op.cpu-fallback /bn1/BatchNormalization",
    "warning op.cpu-fallback /bn2/BatchNormalization",
};

class RppgDyn : public ::testing::TestWithParam<std::string> {};

TEST_P(RppgDyn, Stm32n6ReportsExactlyTheKnownProblems) {
  Model model = LoadFixture(GetParam() + ".onnx");
  CheckReport r = Check(model, Builtin("stm32n6"));
  EXPECT_EQ(Lines(r), kRppgDynStm32n6) << Dump(r);
  EXPECT_EQ(r.VerdictLine(), "8 violations, 3 warnings");
  EXPECT_STREQ(r.Verdict(), "incompatible");

  // Dynamic dims come from the original model, with their names.
  auto dynamic = Of(r, "dims.dynamic");
  ASSERT_EQ(dynamic.size(), 2u);
  EXPECT_NE(dynamic[0].message.find("dim 0 'batch'"), std::string::npos) << dynamic[0].message;
  EXPECT_EQ(dynamic[0].values.at(0).ShapeString(), "[batch,72,36,36]");
  EXPECT_EQ(dynamic[1].values.at(0).name, "output");
  EXPECT_EQ(dynamic[0].fixed_by, "fix-dynamic-dims");
  EXPECT_EQ(dynamic[0].source_status, FactStatus::kDocumented);

  // Batch and rank come from the frozen shapes.
  auto batch = Of(r, "batch.compute");
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_EQ(batch[0].values.at(0).name, "/Reshape_1_output_0");
  EXPECT_EQ(batch[0].values.at(0).ShapeString(), "[24,3,36,36]");
  EXPECT_EQ(batch[0].op, "Conv");
  EXPECT_EQ(batch[0].opset, model.OpsetVersion(""));
  EXPECT_EQ(batch[0].fixed_by, "unbatch");
  EXPECT_EQ(batch[2].values.at(0).ShapeString(), "[24,8,18,18]");
  EXPECT_EQ(batch[0].source_status, FactStatus::kUserReported);

  auto rank = Of(r, "rank.max");
  ASSERT_EQ(rank.size(), 1u);
  EXPECT_EQ(rank[0].values.at(0).name, "/Transpose_output_0");
  EXPECT_EQ(rank[0].values.at(0).ShapeString(), "[1,8,3,36,36,3]");
  EXPECT_EQ(rank[0].fixed_by, "reduce-rank");
  auto reshape = Of(r, "rank.reshape");
  ASSERT_EQ(reshape.size(), 1u);
  EXPECT_EQ(reshape[0].values.at(1).name, "/Reshape_output_0");
  EXPECT_EQ(reshape[0].values.at(1).ShapeString(), "[1,8,3,3,36,36]");

  auto wildcard = Of(r, "reshape.wildcard");
  ASSERT_EQ(wildcard.size(), 1u);
  EXPECT_EQ(wildcard[0].values.at(0).data, (std::vector<int64_t>{-1, 3, 36, 36}));
  EXPECT_EQ(wildcard[0].fixed_by, "fix-reshape-shape");
  EXPECT_EQ(Of(r, "op.cpu-fallback").at(0).fixed_by, "fold-batchnorm");

  // The Squeeze nodes with axes as an input (opsets 13 and 14; at 11 they are attributes).
  bool axes_input = GetParam() != "rppg_dyn_op11";
  EXPECT_EQ(HasInfo(r, "axes.form", "/Squeeze"), axes_input) << Dump(r);
  EXPECT_EQ(HasInfo(r, "axes.form", "/Squeeze_1"), axes_input) << Dump(r);
  EXPECT_EQ(Of(r, "axes.form").size(), axes_input ? 2u : 0u);
  if (axes_input) {
    EXPECT_EQ(Of(r, "axes.form")[0].fixed_by, "squeeze-to-reshape");
  }
  // The shape chain is folded, not reported op by op; every shape was learned.
  EXPECT_TRUE(HasInfo(r, "graph.constant-subgraph")) << Dump(r);
  EXPECT_FALSE(HasInfo(r, "shapes.incomplete")) << Dump(r);
}

INSTANTIATE_TEST_SUITE_P(Opsets, RppgDyn,
                         ::testing::Values("rppg_dyn_op14", "rppg_dyn_op13", "rppg_dyn_op11"));

TEST(RppgDyn, WithoutTheExecutorOpset13ShapesArePartlyUnknown) {
  // ONNX inference alone cannot follow Shape->Gather->Concat->Reshape at opset 13: the batch-24
  // Convs are then invisible, and the report says its shapes were partly unknown.
  CheckReport r = Check(LoadFixture("rppg_dyn_op13.onnx"), Builtin("stm32n6"), false);
  EXPECT_TRUE(HasInfo(r, "shapes.incomplete")) << Dump(r);
  EXPECT_TRUE(Of(r, "batch.compute").empty()) << Dump(r);
  EXPECT_EQ(Of(r, "dims.dynamic").size(), 2u);
}

TEST(RppgClean, Stm32n6OnlyBatchNormOnTheCpu) {
  // Compatible but for BatchNormalization, which stm32n6 runs in software until fold-batchnorm
  // (in its pipeline) folds it into the Conv before it.
  CheckReport r = Check(LoadFixture("rppg_clean_op14.onnx"), Builtin("stm32n6"));
  EXPECT_EQ(Lines(r), (Strings{"warning op.cpu-fallback /bn1/BatchNormalization",
                               "warning op.cpu-fallback /bn2/BatchNormalization"}))
      << Dump(r);
  for (const Finding& f : Of(r, "op.cpu-fallback")) EXPECT_EQ(f.fixed_by, "fold-batchnorm");
  EXPECT_EQ(r.Count(Severity::kViolation), 0);
  EXPECT_FALSE(HasInfo(r, "axes.form"));
  EXPECT_FALSE(HasInfo(r, "graph.constant-subgraph"));
  EXPECT_FALSE(HasInfo(r, "shapes.incomplete"));
}

TEST(RppgClean, Kl730OnlyTheReduceMeanWithoutKeepdims) {
  // Kneron runs ReduceMean on the NPU only with keepdims = 1; the clean model's temporal mean
  // drops the axis.
  CheckReport r = Check(LoadFixture("rppg_clean_op14.onnx"), Builtin("kl730"));
  EXPECT_EQ(Lines(r), Strings{"warning op.cpu-fallback /ReduceMean"}) << Dump(r);
  EXPECT_NE(Of(r, "op.cpu-fallback")[0].message.find("keepdims = 1, but keepdims is 0"),
            std::string::npos)
      << Dump(r);
  EXPECT_EQ(r.VerdictLine(), "0 violations, 1 warning");
  EXPECT_STREQ(r.Verdict(), "warnings");
}

TEST(Report, CompatibleWhenNothingIsAViolationOrAWarning) {
  ModelBuilder b(17);
  Value* x = b.Input("x", {1, 8});
  b.Output(b.Out(b.Add("Relu", {x}, "relu")));
  CheckReport r = Check(b.Take(), Builtin("stm32n6"));
  EXPECT_EQ(Lines(r), Strings{}) << Dump(r);
  EXPECT_EQ(r.VerdictLine(), "COMPATIBLE");
  EXPECT_STREQ(r.Verdict(), "compatible");
  std::string text = FormatCheckText(r);
  EXPECT_EQ(text.substr(text.rfind('\n', text.size() - 2) + 1), "stm32n6: COMPATIBLE (1 info)\n");
}

TEST(Hrnet, Kl730OnlyTheAssumedStaticShapeRule) {
  CheckReport r = Check(LoadFixture("hrnet_like_op12_dyn.onnx"), Builtin("kl730"));
  // kl730's "static shapes" is an assumption, so the dynamic batch is a warning.
  EXPECT_EQ(Lines(r), (Strings{"warning dims.dynamic input", "warning dims.dynamic heatmaps"}))
      << Dump(r);
  EXPECT_EQ(Of(r, "dims.dynamic")[0].source_status, FactStatus::kAssumed);
}

TEST(Hrnet, Stm32n6FlagsTheBilinearResize) {
  CheckReport r = Check(LoadFixture("hrnet_like_op12_dyn.onnx"), Builtin("stm32n6"));
  // The nearest/asymmetric/floor Resize maps to the NPU; the bilinear half_pixel one does not.
  // The other CPU fallbacks are the 15 BatchNormalizations, each folded by fold-batchnorm.
  std::vector<Finding> resize, batchnorm;
  for (const Finding& f : Of(r, "op.cpu-fallback"))
    (f.op == "Resize" ? resize : batchnorm).push_back(f);
  ASSERT_EQ(resize.size(), 1u) << Dump(r);
  EXPECT_EQ(resize[0].node, "/Resize");
  EXPECT_NE(resize[0].message.find("the NPU needs mode = nearest, but mode is linear"),
            std::string::npos)
      << resize[0].message;
  EXPECT_FALSE(resize[0].fixed_by.has_value());
  EXPECT_EQ(batchnorm.size(), 15u);
  for (const Finding& f : batchnorm) {
    EXPECT_EQ(f.op, "BatchNormalization");
    EXPECT_EQ(f.fixed_by, "fold-batchnorm");
  }
  EXPECT_EQ(r.VerdictLine(), "2 violations, 16 warnings");
}

TEST(Mobilenet, Stm32n6OnlyTheDynamicBatch) {
  CheckReport r = Check(LoadFixture("mobilenet_like_op13.onnx"), Builtin("stm32n6"));
  EXPECT_EQ(Lines(r), (Strings{"violation dims.dynamic input", "violation dims.dynamic logits"}))
      << Dump(r);
}

TEST(Report, TextIsGroupedMostSeriousFirstWithTheVerdictLast) {
  CheckReport r = Check(LoadFixture("rppg_dyn_op14.onnx"), Builtin("stm32n6"));
  std::string text = FormatCheckText(r);
  size_t dims = text.find("\ndims.dynamic: 2 violations\n");
  size_t wildcard = text.find("\nreshape.wildcard: 1 warning\n");
  size_t axes = text.find("\naxes.form: 2 infos\n");
  ASSERT_NE(dims, std::string::npos) << text;
  ASSERT_NE(wildcard, std::string::npos) << text;
  ASSERT_NE(axes, std::string::npos) << text;
  EXPECT_LT(dims, wildcard);
  EXPECT_LT(wildcard, axes);
  EXPECT_NE(text.find("-> fixed by: unbatch"), std::string::npos);
  EXPECT_NE(text.find("-> fixed by: fix-dynamic-dims"), std::string::npos);
  std::string last = text.substr(text.rfind('\n', text.size() - 2) + 1);
  EXPECT_EQ(last, "stm32n6: 8 violations, 3 warnings (8 infos)\n");
  // Every line fits a terminal, except messages that are long by themselves.
  for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    if (text.compare(start, 4, "    ") == 0) {
      EXPECT_LE(end - start, 100u);
    }
}

TEST(Report, Json) {
  CheckReport r = Check(LoadFixture("rppg_dyn_op14.onnx"), Builtin("stm32n6"));
  r.model = "rppg_dyn_op14.onnx";
  auto j = nlohmann::json::parse(FormatCheckJson(r));
  EXPECT_EQ(j["schema"], "edgefit-check/1");
  EXPECT_EQ(j["target"], "stm32n6");
  EXPECT_EQ(j["verdict"], "incompatible");
  EXPECT_EQ(j["summary"], "8 violations, 3 warnings");
  EXPECT_EQ(j["violations"].size(), 8u);
  EXPECT_EQ(j["warnings"].size(), 3u);
  EXPECT_EQ(j["infos"].size(), 8u);
  const auto& conv = j["violations"][2];
  EXPECT_EQ(conv["rule"], "batch.compute");
  EXPECT_EQ(conv["severity"], "violation");
  EXPECT_EQ(conv["node"], "/conv1/Conv");
  EXPECT_EQ(conv["op"], "Conv");
  EXPECT_EQ(conv["opset"], 14);
  EXPECT_EQ(conv["values"][0]["shape"], nlohmann::json({24, 3, 36, 36}));
  EXPECT_EQ(conv["values"][0]["dtype"], "float32");
  EXPECT_EQ(conv["fixed_by"], "unbatch");
  EXPECT_EQ(conv["source_status"], "user_reported");
  EXPECT_FALSE(conv["source"].get<std::string>().empty());
  const auto& input = j["violations"][0];
  EXPECT_EQ(input["node"], nullptr);
  EXPECT_EQ(input["values"][0]["shape"], nlohmann::json({"batch", 72, 36, 36}));
  EXPECT_EQ(j["warnings"][0]["values"][0]["data"], nlohmann::json({-1, 3, 36, 36}));
  for (const auto& info : j["infos"]) EXPECT_EQ(info["severity"], "info");
}

TEST(Report, SameInputSameOutput) {
  Model model = LoadFixture("rppg_dyn_op13.onnx");
  TargetProfile n6 = Builtin("stm32n6");
  EXPECT_EQ(FormatCheckJson(Check(model, n6)), FormatCheckJson(Check(model, n6)));
}

TEST(Check, DoesNotModifyTheModel) {
  Model model = LoadFixture("rppg_dyn_op13.onnx");
  std::string before = model.graph->FindValue("/Reshape_1_output_0")->type().ShapeString();
  Check(model, Builtin("stm32n6"));
  EXPECT_EQ(model.graph->FindValue("/Reshape_1_output_0")->type().ShapeString(), before);
  EXPECT_EQ(model.graph->inputs()[0]->type().ShapeString(), "[batch,72,36,36]");
}

TEST(Check, TenThousandNodesWellUnderASecond) {
  // A chain of 10,000 small ops with a few side branches; static shapes, so the executor is not
  // needed. The checker is linear: a quadratic scan would take seconds here.
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 4, 8, 8});
  Value* w = b.Floats("w", {4, 4, 1, 1});
  Value* cur = x;
  for (int i = 0; i < 10000; ++i) {
    Node* n = i % 3 == 0   ? b.Add("Conv", {cur, w}, "conv" + std::to_string(i))
              : i % 3 == 1 ? b.Add("Relu", {cur}, "relu" + std::to_string(i))
                           : b.Add("Add", {cur, x}, "add" + std::to_string(i));
    cur = b.Out(n);
  }
  b.Output(cur);
  Model model = b.Take();
  TargetProfile n6 = Builtin("stm32n6");
  auto start = std::chrono::steady_clock::now();
  CheckReport r = Check(model, n6);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "check of 10,000 nodes: " << seconds << " s\n";
  EXPECT_EQ(r.Count(Severity::kViolation), 0) << Lines(r).at(0);
  // Generous for sanitizer builds; a release build takes a fraction of this.
  EXPECT_LT(seconds, 5.0);
}

}  // namespace
}  // namespace edgefit::testing
