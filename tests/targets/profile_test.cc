// Tests for target profiles: the built-in profiles load and say what targets/*.json say, and
// malformed profiles give errors that name the file and the field.
#include "targets/profile.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

namespace edgefit {
namespace {

using Json = nlohmann::json;
// EXPECT_CONTAINS(text, part): `part` occurs in `text` (plain gtest, no gmock needed).
::testing::AssertionResult AssertContains(const char* text_expr, const char* part_expr,
                                          const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << text_expr << " does not contain " << part_expr
                                       << "\n  text: " << text << "\n  part: " << part;
}
#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(AssertContains, text, part)

// A small profile that passes validation; tests break one thing at a time.
Json MinimalProfile() {
  Json fact_source = "test fixture";
  auto fact = [&](Json value) {
    return Json{{"value", value}, {"status", "assumed"}, {"source", fact_source}};
  };
  return Json{
      {"schema", "edgefit-target/1"},
      {"id", "my-npu"},
      {"name", "My NPU"},
      {"version", 1},
      {"toolchain",
       {{"name", "mytool"},
        {"versions", fact(Json::array({"1.0"}))},
        {"input_model", fact("qdq_int8")},
        {"handoff_opset", fact(13)},
        {"steps", Json::array({{{"id", "build"},
                                {"kind", "shell"},
                                {"command", "mytool build {model} -o {out}"},
                                {"status", "documented"},
                                {"source", "mytool manual"}}})}}},
      {"opset", {{"min", fact(11)}, {"max", fact(17)}, {"recommended", fact(13)}}},
      {"shapes",
       {{"static", fact(true)},
        {"max_rank", fact(4)},
        {"preferred_rank", fact(4)},
        {"batch_one_at_io", fact(true)},
        {"batch_one_ops", fact(Json::array({"Conv"}))}}},
      {"axes",
       {{"rules", Json::array({{{"ops", {"Squeeze"}},
                                {"must_be", "constant"},
                                {"status", "assumed"},
                                {"source", "test"}}})},
        {"reshape_wildcards", fact("warn")}}},
      {"ops",
       {{"Conv",
         {{"runs_on", "npu"},
          {"on_fail", "cpu"},
          {"status", "documented"},
          {"source", "mytool manual"},
          {"conditions", Json::array({{{"attr", "kernel_shape"},
                                       {"max", {7, 7}},
                                       {"status", "documented"},
                                       {"source", "mytool manual"}}})}}},
        {"Relu", {{"runs_on", "npu"}, {"status", "assumed"}, {"source", "test"}}}}},
      {"dtypes", fact(Json::array({"float32", "int8"}))},
      {"quantization",
       {{"format", fact("qdq")},
        {"weights", fact({{"dtype", "int8"},
                          {"symmetric", true},
                          {"granularity", "per_channel"},
                          {"channel_axis", "output_channel"}})},
        {"activations",
         fact({{"dtype", "int8"}, {"symmetric", false}, {"granularity", "per_tensor"}})},
        {"bias", fact("int32")},
        {"per_tensor_weights", fact(true)},
        {"float_ops_run_on", fact("cpu")}}},
      {"control_flow", fact(false)},
      {"memory", {{"regions", Json::array()}}},
      {"pipeline", {"fix-dynamic-dims", "topo-sort"}},
  };
}

StatusOr<TargetProfile> Parse(const Json& json, const std::string& origin = "my_npu.json") {
  return ParseTargetProfile(json.dump(2), origin);
}

// The error message of a profile that must fail; fails the test if it loads.
std::string ErrorOf(const StatusOr<TargetProfile>& result) {
  EXPECT_FALSE(result.ok()) << "the profile loaded but should not have";
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidProfile) << result.status().ToString();
  return result.status().message();
}

std::vector<double> Numbers(const std::optional<ConditionValue>& value) {
  if (!value || !std::holds_alternative<std::vector<double>>(*value)) return {};
  return std::get<std::vector<double>>(*value);
}

// A fresh directory for files written by one test.
std::filesystem::path TestDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                              (std::string("edgefit_profile_") + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// ---- Built-in profiles ----------------------------------------------------------------------

TEST(BuiltinProfiles, ListsTheShippedTargets) {
  EXPECT_EQ(BuiltinTargetIds(),
            (std::vector<std::string>{"generic-int8", "kl530", "kl720", "kl730", "stm32n6"}));
}

TEST(BuiltinProfiles, EveryOneLoads) {
  for (const std::string& id : BuiltinTargetIds()) {
    SCOPED_TRACE(id);
    StatusOr<TargetProfile> profile = LoadTargetProfile(id);
    ASSERT_TRUE(profile.ok()) << profile.status().ToString();
    EXPECT_EQ(profile->id, id);
    EXPECT_EQ(profile->origin, "builtin:" + id);
    EXPECT_FALSE(profile->name.empty());
    EXPECT_FALSE(profile->ops.empty());
    EXPECT_FALSE(profile->pipeline.empty());
    EXPECT_LE(profile->opset.min.value, profile->opset.recommended.value);
    EXPECT_LE(profile->opset.recommended.value, profile->opset.max.value);
    EXPECT_LE(profile->shapes.preferred_rank.value, profile->shapes.max_rank.value);
    for (const auto& [op_type, rule] : profile->ops) {
      EXPECT_EQ(rule.op_type, op_type);
      EXPECT_FALSE(rule.provenance.source.empty()) << op_type;
      for (const OpCondition& condition : rule.conditions) {
        EXPECT_NE(condition.on_fail, Placement::kNpu) << op_type;
        EXPECT_FALSE(condition.provenance.source.empty()) << op_type;
      }
    }
  }
}

TEST(BuiltinProfiles, Stm32n6OpsetAndShapes) {
  StatusOr<TargetProfile> n6 = LoadTargetProfile("stm32n6");
  ASSERT_TRUE(n6.ok()) << n6.status().ToString();
  EXPECT_EQ(n6->opset.min.value, 7);
  EXPECT_EQ(n6->opset.max.value, 20);
  EXPECT_EQ(n6->opset.recommended.value, 17);
  EXPECT_EQ(n6->opset.max.status, FactStatus::kDocumented);
  EXPECT_EQ(n6->toolchain.handoff_opset.value, 17);
  EXPECT_EQ(n6->toolchain.input_model.value, HandoffModel::kQdqInt8);
  EXPECT_EQ(n6->toolchain.platform, "stm32n6");
  ASSERT_EQ(n6->toolchain.steps.size(), 2u);
  EXPECT_EQ(n6->toolchain.steps[0].id, "analyze");
  EXPECT_CONTAINS(n6->toolchain.steps[0].command, "stedgeai analyze --model {model}");

  EXPECT_TRUE(n6->shapes.static_shapes.value);
  EXPECT_EQ(n6->shapes.static_shapes.status, FactStatus::kDocumented);
  EXPECT_EQ(n6->shapes.max_rank.value, 5);
  EXPECT_EQ(n6->shapes.max_rank.status, FactStatus::kUserReported);
  EXPECT_EQ(n6->shapes.preferred_rank.value, 4);
  EXPECT_TRUE(n6->shapes.batch_one_at_io.value);
  const std::vector<std::string>& batch_ops = n6->shapes.batch_one_ops.value;
  for (const char* op : {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "Gemm", "MatMul"}) {
    EXPECT_NE(std::find(batch_ops.begin(), batch_ops.end(), op), batch_ops.end()) << op;
  }
  ASSERT_TRUE(n6->shapes.max_dim.has_value());
  EXPECT_EQ(n6->shapes.max_dim->value, 65535);

  ASSERT_FALSE(n6->axes.rules.empty());
  EXPECT_EQ(n6->axes.rules[0].must_be, AxesForm::kConstant);
  EXPECT_EQ(n6->axes.reshape_wildcards.value, RuleLevel::kWarn);
  EXPECT_FALSE(n6->control_flow.value);
}

TEST(BuiltinProfiles, Stm32n6ConvConditions) {
  StatusOr<TargetProfile> n6 = LoadTargetProfile("stm32n6");
  ASSERT_TRUE(n6.ok()) << n6.status().ToString();
  const OpRule* conv = n6->FindOp("Conv");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->runs_on, Placement::kNpu);
  ASSERT_EQ(conv->conditions.size(), 2u);

  const OpCondition& weights = conv->conditions[0];
  EXPECT_EQ(weights.subject, OpCondition::Subject::kInput);
  EXPECT_EQ(weights.input, 1);
  EXPECT_EQ(weights.constant, std::optional<bool>(true));
  EXPECT_EQ(weights.on_fail, Placement::kCpu);
  EXPECT_EQ(weights.provenance.status, FactStatus::kUserReported);

  const OpCondition& size = conv->conditions[1];
  EXPECT_EQ(size.subject, OpCondition::Subject::kManual);
  EXPECT_EQ(size.on_fail, Placement::kUnsupported);
  EXPECT_EQ(size.provenance.status, FactStatus::kDocumented);

  // Listed as unsupported, and not listed at all.
  ASSERT_NE(n6->FindOp("Einsum"), nullptr);
  EXPECT_EQ(n6->FindOp("Einsum")->runs_on, Placement::kUnsupported);
  EXPECT_EQ(n6->FindOp("NoSuchOp"), nullptr);
}

TEST(BuiltinProfiles, Stm32n6QuantizationAndMemory) {
  StatusOr<TargetProfile> n6 = LoadTargetProfile("stm32n6");
  ASSERT_TRUE(n6.ok()) << n6.status().ToString();
  const QuantScheme& q = n6->quantization;
  EXPECT_EQ(q.format.value, QuantFormat::kQdq);
  EXPECT_EQ(q.weights.value.dtype, "int8");
  EXPECT_TRUE(q.weights.value.symmetric);
  EXPECT_EQ(q.weights.value.granularity, QuantGranularity::kPerChannel);
  EXPECT_EQ(q.weights.value.channel_axis, "output_channel");
  EXPECT_FALSE(q.activations.value.symmetric);
  EXPECT_EQ(q.activations.value.granularity, QuantGranularity::kPerTensor);
  EXPECT_EQ(q.bias_dtype.value, "int32");
  EXPECT_EQ(q.float_ops_run_on.value, Placement::kCpu);

  int npu_banks = 0;
  for (const MemoryRegion& region : n6->memory.regions) {
    if (region.kind != MemoryKind::kNpuRam) continue;
    ++npu_banks;
    EXPECT_EQ(region.bytes, 448 * 1024) << region.name;
  }
  EXPECT_EQ(npu_banks, 4);
}

TEST(BuiltinProfiles, KneronProfilesExtendKl730) {
  StatusOr<TargetProfile> kl730 = LoadTargetProfile("kl730");
  StatusOr<TargetProfile> kl720 = LoadTargetProfile("kl720");
  StatusOr<TargetProfile> kl530 = LoadTargetProfile("kl530");
  ASSERT_TRUE(kl730.ok()) << kl730.status().ToString();
  ASSERT_TRUE(kl720.ok()) << kl720.status().ToString();
  ASSERT_TRUE(kl530.ok()) << kl530.status().ToString();

  EXPECT_EQ(kl730->toolchain.input_model.value, HandoffModel::kFloat);
  EXPECT_EQ(kl730->quantization.format.value, QuantFormat::kVendor);
  EXPECT_EQ(kl720->extends, "kl730");
  EXPECT_EQ(kl530->extends, "kl730");
  EXPECT_EQ(kl720->toolchain.platform, "720");
  // Inherited from kl730.
  EXPECT_EQ(kl720->toolchain.steps.size(), kl730->toolchain.steps.size());
  EXPECT_EQ(kl720->opset.max.value, 18);
  EXPECT_EQ(kl720->quantization.format.value, QuantFormat::kVendor);
  // Overridden.
  EXPECT_EQ(kl730->shapes.max_rank.value, 5);
  EXPECT_EQ(kl720->shapes.max_rank.value, 4);
  EXPECT_TRUE(kl730->control_flow.value);
  EXPECT_FALSE(kl720->control_flow.value);
  EXPECT_NE(kl720->description, kl730->description);
  // Removed with null: Div runs on the KL730 and KL530 NPU, not on the KL720's.
  EXPECT_NE(kl730->FindOp("Div"), nullptr);
  EXPECT_NE(kl530->FindOp("Div"), nullptr);
  EXPECT_EQ(kl720->FindOp("Div"), nullptr);
  EXPECT_EQ(kl530->FindOp("Split"), nullptr);

  const OpRule* conv = kl720->FindOp("Conv");
  ASSERT_NE(conv, nullptr);
  ASSERT_EQ(conv->conditions.size(), 2u);
  EXPECT_EQ(conv->conditions[1].attr, "strides");
  EXPECT_EQ(conv->conditions[1].max, (std::vector<double>{4, 16}));
}

TEST(BuiltinProfiles, AnyOfConditionsInheritProvenance) {
  StatusOr<TargetProfile> kl730 = LoadTargetProfile("kl730");
  ASSERT_TRUE(kl730.ok()) << kl730.status().ToString();
  const OpRule* pool = kl730->FindOp("AveragePool");
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(pool->conditions.size(), 1u);
  const OpCondition& any_of = pool->conditions[0];
  EXPECT_EQ(any_of.subject, OpCondition::Subject::kAnyOf);
  ASSERT_EQ(any_of.any_of.size(), 4u);
  const OpCondition& kernel = any_of.any_of[0][1];
  EXPECT_EQ(kernel.attr, "kernel_shape");
  EXPECT_EQ(kernel.max, (std::vector<double>{3}));
  EXPECT_EQ(kernel.provenance.status, FactStatus::kDocumented);
  EXPECT_EQ(kernel.provenance.source, any_of.provenance.source);
  EXPECT_EQ(kernel.on_fail, Placement::kCpu);
}

// ---- Loading by name or path ----------------------------------------------------------------

TEST(LoadTargetProfile, UnknownIdListsBuiltins) {
  StatusOr<TargetProfile> result = LoadTargetProfile("stm32n7");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_CONTAINS(result.status().message(), "unknown target \"stm32n7\"");
  EXPECT_CONTAINS(result.status().message(), "stm32n6");
}

TEST(LoadTargetProfile, MissingFile) {
  StatusOr<TargetProfile> result = LoadTargetProfile("/nonexistent/dir/my_npu.json");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
}

TEST(LoadTargetProfile, ReadsFileAndResolvesRelativeExtends) {
  std::filesystem::path dir = TestDir();
  WriteFile(dir / "base.json", MinimalProfile().dump(2));
  Json child = {
      {"schema", "edgefit-target/1"}, {"extends", "base.json"}, {"id", "child"},
      {"name", "Child NPU"},          {"version", 2},           {"ops", {{"Relu", nullptr}}}};
  WriteFile(dir / "child.json", child.dump(2));

  StatusOr<TargetProfile> profile = LoadTargetProfile((dir / "child.json").string());
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  EXPECT_EQ(profile->id, "child");
  EXPECT_EQ(profile->version, 2);
  EXPECT_EQ(profile->extends, "base.json");
  EXPECT_NE(profile->FindOp("Conv"), nullptr);
  EXPECT_EQ(profile->FindOp("Relu"), nullptr);
}

TEST(LoadTargetProfile, ExtendsCycleIsAnError) {
  std::filesystem::path dir = TestDir();
  Json a = {{"extends", "b.json"}, {"id", "a"}, {"name", "A"}, {"version", 1}};
  Json b = {{"extends", "./a.json"}, {"id", "b"}, {"name", "B"}, {"version", 1}};
  WriteFile(dir / "a.json", a.dump());
  WriteFile(dir / "b.json", b.dump());
  std::string error = ErrorOf(LoadTargetProfile((dir / "a.json").string()));
  EXPECT_CONTAINS(error, "extends: cycle");
  EXPECT_CONTAINS(error, "a.json -> ");
}

// ---- Extending a built-in from text ---------------------------------------------------------

TEST(ParseTargetProfile, ExtendsBuiltinAndReplacesFactsWhole) {
  Json child = {
      {"schema", "edgefit-target/1"},
      {"extends", "stm32n6"},
      {"id", "my-n6"},
      {"name", "STM32N6, 4-D only"},
      {"version", 1},
      {"shapes", {{"max_rank", {{"value", 4}, {"status", "assumed"}, {"source", "our lab"}}}}},
      {"ops", {{"Softmax", nullptr}}},
  };
  StatusOr<TargetProfile> profile = Parse(child);
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  EXPECT_EQ(profile->shapes.max_rank.value, 4);
  EXPECT_EQ(profile->shapes.max_rank.source, "our lab");
  EXPECT_TRUE(profile->shapes.max_rank.note.empty());  // not mixed with the parent's fact
  EXPECT_EQ(profile->shapes.preferred_rank.value, 4);  // untouched sibling inherited
  EXPECT_EQ(profile->FindOp("Softmax"), nullptr);
  EXPECT_NE(profile->FindOp("Conv"), nullptr);
  EXPECT_TRUE(profile->description.empty());  // identity fields are not inherited
}

TEST(ParseTargetProfile, PartialFactInChildIsNotMergedIntoParentFact) {
  Json child = {{"extends", "stm32n6"}, {"id", "x"}, {"name", "X"}, {"version", 1}};
  child["shapes"]["max_rank"] = {{"value", 4}};  // no status/source of its own
  EXPECT_CONTAINS(ErrorOf(Parse(child)), "shapes.max_rank.status: missing required field");
}

// ---- Malformed profiles ---------------------------------------------------------------------

TEST(ParseTargetProfile, MinimalProfileLoads) {
  StatusOr<TargetProfile> profile = Parse(MinimalProfile());
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  EXPECT_EQ(profile->ops.at("Conv").conditions[0].max, (std::vector<double>{7, 7}));
  EXPECT_EQ(profile->ops.at("Conv").conditions[0].on_fail, Placement::kCpu);
  EXPECT_EQ(profile->origin, "my_npu.json");
}

TEST(ParseTargetProfile, BadJsonGivesLineAndColumn) {
  std::string text = "{\n  \"schema\": \"edgefit-target/1\",\n  \"id\": ,\n}";
  std::string error = ErrorOf(ParseTargetProfile(text, "bad.json"));
  EXPECT_CONTAINS(error, "bad.json:3:9: invalid JSON");
}

TEST(ParseTargetProfile, DuplicateKey) {
  std::string text = R"({"ops": {"Conv": {"runs_on": "npu"}, "Conv": {"runs_on": "cpu"}}})";
  EXPECT_CONTAINS(ErrorOf(ParseTargetProfile(text, "dup.json")),
                  "dup.json: ops.Conv: duplicate key");
}

TEST(ParseTargetProfile, NotAnObject) {
  EXPECT_CONTAINS(ErrorOf(ParseTargetProfile("[1, 2]", "list.json")),
                  "list.json: a target profile is a JSON object");
}

TEST(ParseTargetProfile, UnknownFieldNamesFullPath) {
  Json profile = MinimalProfile();
  profile["ops"]["Conv"]["conditions"][0]["atr"] = "kernel_shape";
  EXPECT_CONTAINS(
      ErrorOf(Parse(profile)),
      "my_npu.json: ops.Conv.conditions[0].atr: unknown field (did you mean \"attr\"?)");

  profile = MinimalProfile();
  profile["shapes"]["max_rnk"] = profile["shapes"]["max_rank"];
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "shapes.max_rnk: unknown field");
}

TEST(ParseTargetProfile, WrongType) {
  Json profile = MinimalProfile();
  profile["opset"]["max"]["value"] = "17";
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "opset.max.value: expected an integer, got string");

  profile = MinimalProfile();
  profile["shapes"]["static"]["value"] = 1;
  EXPECT_CONTAINS(ErrorOf(Parse(profile)),
                  "shapes.static.value: expected true or false, got number");
}

TEST(ParseTargetProfile, MissingRequiredField) {
  Json profile = MinimalProfile();
  profile["shapes"].erase("max_rank");
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "shapes.max_rank: missing required field");

  profile = MinimalProfile();
  profile["ops"]["Relu"].erase("source");
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "ops.Relu.source: missing required field");
}

TEST(ParseTargetProfile, InvalidStatusValue) {
  Json profile = MinimalProfile();
  profile["opset"]["min"]["status"] = "documentd";
  std::string error = ErrorOf(Parse(profile));
  EXPECT_CONTAINS(error, "opset.min.status: invalid value \"documentd\"");
  EXPECT_CONTAINS(error, "documented, user_reported, assumed");
}

TEST(ParseTargetProfile, OpsetMinAboveMax) {
  Json profile = MinimalProfile();
  profile["opset"]["min"]["value"] = 18;
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "opset: min (18) is greater than max (17)");

  profile = MinimalProfile();
  profile["opset"]["recommended"]["value"] = 21;
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "opset.recommended: 21 is outside the window");
}

TEST(ParseTargetProfile, UnknownExtends) {
  Json profile = MinimalProfile();
  profile["extends"] = "kl999";
  std::string error = ErrorOf(Parse(profile));
  EXPECT_CONTAINS(error, "my_npu.json: extends: unknown target \"kl999\"");
  EXPECT_CONTAINS(error, "kl730");
}

TEST(ParseTargetProfile, WrongSchema) {
  Json profile = MinimalProfile();
  profile["schema"] = "edgefit-target/2";
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "schema: unsupported schema");
}

TEST(ParseTargetProfile, BadConditions) {
  Json profile = MinimalProfile();
  Json& condition = profile["ops"]["Conv"]["conditions"][0];
  condition["input"] = 1;
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "conditions[0]: a condition has one subject");

  profile = MinimalProfile();
  profile["ops"]["Conv"]["conditions"][0].erase("max");
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "conditions[0]: no test given");

  profile = MinimalProfile();
  profile["ops"]["Conv"]["conditions"][0]["constant"] = true;
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "conditions[0].constant: only allowed with \"input\"");

  profile = MinimalProfile();
  profile["ops"]["Conv"]["conditions"][0]["on_fail"] = "npu";
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "conditions[0].on_fail: invalid value \"npu\"");

  profile = MinimalProfile();
  profile["ops"]["Conv"]["conditions"][0]["max"] = Json::array();
  EXPECT_CONTAINS(ErrorOf(Parse(profile)),
                  "conditions[0].max: expected a number or a list of numbers");

  profile = MinimalProfile();
  profile["ops"]["Conv"]["conditions"][0] = {
      {"any_of", {{{{"attr", "group"}, {"equals", 1}, {"on_fail", "cpu"}}}}},
      {"status", "assumed"},
      {"source", "test"}};
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "any_of[0][0].on_fail: set on_fail on the");
}

TEST(ParseTargetProfile, ConditionValues) {
  Json profile = MinimalProfile();
  profile["ops"]["Resize"] = {
      {"runs_on", "npu"},
      {"status", "assumed"},
      {"source", "test"},
      {"conditions",
       {{{"attr", "mode"}, {"in", {"nearest", "linear"}}, {"status", "assumed"}, {"source", "t"}},
        {{"attr", "antialias"}, {"equals", 0}, {"status", "assumed"}, {"source", "t"}},
        {{"input", 2}, {"constant", true}, {"status", "assumed"}, {"source", "t"}}}}};
  StatusOr<TargetProfile> parsed = Parse(profile);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const OpRule& resize = parsed->ops.at("Resize");
  ASSERT_EQ(resize.conditions.size(), 3u);
  ASSERT_EQ(resize.conditions[0].in.size(), 2u);
  EXPECT_EQ(std::get<std::string>(resize.conditions[0].in[1]), "linear");
  EXPECT_EQ(Numbers(resize.conditions[1].equals), (std::vector<double>{0}));
  EXPECT_EQ(resize.conditions[2].input, 2);
  EXPECT_EQ(resize.conditions[2].on_fail, Placement::kUnsupported);  // the default
}

TEST(ParseTargetProfile, CrossSectionRules) {
  Json profile = MinimalProfile();
  profile["toolchain"]["handoff_opset"]["value"] = 9;
  EXPECT_CONTAINS(ErrorOf(Parse(profile)),
                  "toolchain.handoff_opset: 9 is outside the opset window 11..17");

  profile = MinimalProfile();
  profile["ops"]["Loop"] = {{"runs_on", "cpu"}, {"status", "assumed"}, {"source", "test"}};
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "ops.Loop: control_flow is false");

  profile = MinimalProfile();
  profile["quantization"]["format"]["value"] = "vendor";
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "quantization.format: must be \"qdq\"");
}

TEST(ParseTargetProfile, PipelineAndPlaceholders) {
  Json profile = MinimalProfile();
  profile["pipeline"].push_back("fold-bn");
  EXPECT_CONTAINS(ErrorOf(Parse(profile)), "pipeline[2]: unknown pass \"fold-bn\"");

  profile = MinimalProfile();
  profile["toolchain"]["steps"][0]["command"] = "mytool {modle}";
  EXPECT_CONTAINS(ErrorOf(Parse(profile)),
                  "toolchain.steps[0].command: unknown placeholder {modle}");

  // Braces that are not placeholders (a Python dict) are fine.
  profile = MinimalProfile();
  profile["toolchain"]["steps"][0]["command"] = "run({'{input}': data})";
  EXPECT_TRUE(Parse(profile).ok());
}

TEST(ParseTargetProfile, NeverThrowsOnGarbage) {
  const std::vector<std::string> texts = {"",
                                          "null",
                                          "{",
                                          "\"x\"",
                                          "{\"schema\": 1}",
                                          std::string(100, '['),
                                          std::string(100000, '['),
                                          "{\"a\":1e999}",
                                          "{\"id\": \"\xff\xfe\"}"};
  for (const std::string& text : texts) {
    StatusOr<TargetProfile> result = ParseTargetProfile(text, "garbage.json");
    EXPECT_FALSE(result.ok()) << text.substr(0, 40);
  }
}

}  // namespace
}  // namespace edgefit
