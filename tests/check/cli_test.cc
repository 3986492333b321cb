// `edgefit check` and `edgefit targets` as a user runs them: output, exit codes, errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "check_test_util.h"
#include "testing/test_util.h"

namespace edgefit::testing {
namespace {

CommandResult Edgefit(std::vector<std::string> args) {
  args.insert(args.begin(), EDGEFIT_BINARY);
  return RunCommand(args);
}

TEST(CheckCli, ViolationsExitWithOne) {
  auto r = Edgefit({"check", FixturePath("rppg_dyn_op14.onnx"), "--target", "stm32n6"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("batch.compute: 4 violations"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nstm32n6: 8 violations, 3 warnings"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(CheckCli, FailOn) {
  std::string clean = FixturePath("rppg_clean_op14.onnx");
  EXPECT_EQ(Edgefit({"check", clean, "--target", "stm32n6"}).exit_code, 0);
  EXPECT_EQ(Edgefit({"check", clean, "--target", "stm32n6", "--fail-on", "warning"}).exit_code, 1);
  std::string hrnet = FixturePath("hrnet_like_op12_dyn.onnx");  // kl730: 2 warnings
  EXPECT_EQ(Edgefit({"check", hrnet, "--target", "kl730"}).exit_code, 0);
  EXPECT_EQ(Edgefit({"check", hrnet, "--target", "kl730", "--fail-on", "warning"}).exit_code, 1);
  EXPECT_EQ(Edgefit({"check", clean, "--target", "stm32n6", "--fail-on", "sometimes"}).exit_code,
            2);
}

TEST(CheckCli, Json) {
  auto r = Edgefit({"check", FixturePath("hrnet_like_op12_dyn.onnx"), "-t", "kl730", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["target"], "kl730");
  EXPECT_EQ(j["verdict"], "warnings");
  EXPECT_EQ(j["violations"].size(), 0u);
  EXPECT_EQ(j["warnings"].size(), 2u);
  EXPECT_TRUE(j["infos"].is_array());
}

TEST(CheckCli, UsageErrors) {
  EXPECT_EQ(Edgefit({"check"}).exit_code, 2);
  EXPECT_EQ(Edgefit({"check", FixturePath("rppg_clean_op14.onnx")}).exit_code, 2);  // no target
}

TEST(CheckCli, UnreadableModel) {
  TempDir dir;
  WriteFile(dir.File("garbage.onnx"), "this is not a model");
  auto missing = Edgefit({"check", dir.File("missing.onnx"), "--target", "stm32n6"});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  auto garbage = Edgefit({"check", dir.File("garbage.onnx"), "--target", "stm32n6"});
  EXPECT_EQ(garbage.exit_code, 3) << garbage.err;
  EXPECT_NE(garbage.err.find("edgefit check: error:"), std::string::npos) << garbage.err;
}

TEST(CheckCli, BadProfilesNameTheField) {
  TempDir dir;
  std::string model = FixturePath("rppg_clean_op14.onnx");
  auto run = [&](const std::string& name, const std::string& text) {
    WriteFile(dir.File(name), text);
    return Edgefit({"check", model, "--target", dir.File(name)});
  };
  auto bad_json = run("bad.json", "{\"schema\": \"edgefit-target/1\",\n  \"id\": }");
  EXPECT_EQ(bad_json.exit_code, 5);
  EXPECT_NE(bad_json.err.find("bad.json:2:"), std::string::npos) << bad_json.err;
  EXPECT_NE(bad_json.err.find("invalid JSON"), std::string::npos) << bad_json.err;

  auto json = nlohmann::json::parse(TestProfileJson());
  json["shapes"]["max_rnk"] = json["shapes"]["max_rank"];
  auto unknown = run("unknown.json", json.dump());
  EXPECT_EQ(unknown.exit_code, 5);
  EXPECT_NE(unknown.err.find("shapes.max_rnk: unknown field"), std::string::npos) << unknown.err;

  json = nlohmann::json::parse(TestProfileJson());
  json["shapes"]["max_rank"]["value"] = "five";
  auto wrong = run("wrong.json", json.dump());
  EXPECT_EQ(wrong.exit_code, 5);
  EXPECT_NE(wrong.err.find("shapes.max_rank.value: expected an integer"), std::string::npos)
      << wrong.err;

  auto missing = Edgefit({"check", model, "--target", dir.File("absent.json")});
  EXPECT_EQ(missing.exit_code, 5) << missing.err;
  auto unknown_id = Edgefit({"check", model, "--target", "stm32n7"});
  EXPECT_EQ(unknown_id.exit_code, 5);
  EXPECT_NE(unknown_id.err.find("built-in targets: generic-int8, kl530, kl720, kl730, stm32n6"),
            std::string::npos)
      << unknown_id.err;

  // A valid user profile works like a built-in one.
  auto ok = run("test-npu.json", TestProfileJson());
  EXPECT_TRUE(ok.exit_code == 0 || ok.exit_code == 1) << ok.out << ok.err;
  EXPECT_TRUE(ok.err.empty()) << ok.err;
  EXPECT_NE(ok.out.find("on test-npu (Test NPU)"), std::string::npos) << ok.out;
}

TEST(TargetsCli, OneLinePerBuiltinProfile) {
  auto r = Edgefit({"targets"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> ids;
  for (size_t start = 0, end; (end = r.out.find('\n', start)) != std::string::npos; start = end + 1)
    ids.push_back(r.out.substr(start, r.out.find(' ', start) - start));
  EXPECT_EQ(ids, (std::vector<std::string>{"generic-int8", "kl530", "kl720", "kl730", "stm32n6"}));
  EXPECT_NE(r.out.find("STMicroelectronics STM32N6 (Neural-ART NPU): ST Edge AI Core"),
            std::string::npos)
      << r.out;
  auto j = Edgefit({"targets", "--json"});
  EXPECT_EQ(nlohmann::json::parse(j.out).size(), 5u);
}

}  // namespace
}  // namespace edgefit::testing
