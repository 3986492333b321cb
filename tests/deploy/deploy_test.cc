// deploy library: manifest hashing and the output-folder rules (the full flow is covered by
// deploy_e2e.sh).
#include "deploy/deploy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace edgefit {
namespace {

namespace fs = std::filesystem;

TEST(DeployTest, Sha256OfKnownStrings) {
  const fs::path dir = fs::temp_directory_path() / "edgefit_deploy_sha";
  fs::create_directories(dir);
  std::ofstream(dir / "abc") << "abc";
  std::ofstream(dir / "empty");
  // FIPS 180-2 test vectors.
  EXPECT_EQ(*Sha256File((dir / "abc").string()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(*Sha256File((dir / "empty").string()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_FALSE(Sha256File((dir / "missing").string()).ok());
  fs::remove_all(dir);
}

TEST(DeployTest, RefusesANonEmptyFolderAndLeavesNothingOnFailure) {
  const fs::path dir = fs::temp_directory_path() / "edgefit_deploy_out";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "keep") << "x";
  DeployOptions o;
  o.target = "stm32n6";
  o.out_dir = dir.string();
  o.calib.random = true;
  o.calib.random_count = 2;
  const std::string model =
      std::string(EDGEFIT_SOURCE_DIR) + "/tests/fixtures/rppg_clean_op14.onnx";
  auto r = Deploy(model, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--overwrite"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "keep"));
  // A model that does not exist: the run stops at 'load' and no output folder appears.
  fs::remove_all(dir);
  auto bad = Deploy("/nonexistent/model.onnx", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("stage 'load'"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir));
  for (const auto& e : fs::directory_iterator(dir.parent_path()))
    EXPECT_EQ(e.path().filename().string().find("edgefit_deploy_out.tmp"), std::string::npos);
}

}  // namespace
}  // namespace edgefit
