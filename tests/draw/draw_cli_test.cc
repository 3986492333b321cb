// `edgefit draw` run as a user would: exit codes, the PNG it writes, what it prints.
#include <gtest/gtest.h>

#include "draw/canvas.h"
#include "draw/image_io.h"
#include "png_check.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

using testing::CommandResult;
using testing::FixturePath;
using testing::TempDir;

CommandResult Edgefit(std::vector<std::string> args) {
  args.insert(args.begin(), EDGEFIT_BINARY);
  return testing::RunCommand(args);
}

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

class DrawCli : public ::testing::Test {
 protected:
  void SetUp() override {
    draw::Image img(64, 48);  // wider than high: the model input is 48x64 (w x h)
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x)
        img.Set(x, y, draw::Rgb{static_cast<uint8_t>(x * 4), static_cast<uint8_t>(y * 5), 90});
    image_ = dir_.File("img.png");
    ASSERT_TRUE(draw::WritePng(img, image_).ok());
  }
  TempDir dir_;
  std::string image_;
  const std::string model_ = FixturePath("hrnet_like_op12_dyn.onnx");
};

TEST_F(DrawCli, KeypointsSideBySide) {
  std::string out = dir_.File("pose.png");
  CommandResult r = Edgefit(
      {"draw", model_, "--image", image_, "--task", "keypoints", "--compare", model_,
       "--preprocess", R"({"mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225]})", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.err.find("dynamic batch"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("output 'heatmaps' [1,17,16,12]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("left_shoulder"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mean 0.00 px, max 0.00 px"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote " + out + " (128x48)"), std::string::npos) << r.out;
  draw::Image png = testing::DecodePngForTest(testing::ReadFile(out));
  EXPECT_EQ(png.width, 128);
  EXPECT_EQ(png.height, 48);
}

TEST_F(DrawCli, Heatmap) {
  std::string out = dir_.File("heat.png");
  CommandResult r = Edgefit({"draw", model_, "--image", image_, "--task", "heatmap", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  draw::Image png = testing::DecodePngForTest(testing::ReadFile(out));
  EXPECT_EQ(png.width, 64);
  EXPECT_EQ(png.height, 48);
}

TEST_F(DrawCli, ErrorsHaveTheDocumentedExitCodes) {
  // Not a PNG name: usage (2).
  EXPECT_EQ(
      Edgefit({"draw", model_, "--image", image_, "--task", "keypoints", "-o", dir_.File("x.jpg")})
          .exit_code,
      2);
  // Unknown task: usage (2).
  EXPECT_EQ(
      Edgefit({"draw", model_, "--image", image_, "--task", "boxes", "-o", dir_.File("x.png")})
          .exit_code,
      2);
  // A broken image: invalid data (8), nothing written.
  std::string bad = dir_.File("bad.png");
  testing::WriteFile(bad, "nope");
  CommandResult r =
      Edgefit({"draw", model_, "--image", bad, "--task", "keypoints", "-o", dir_.File("y.png")});
  EXPECT_EQ(r.exit_code, 8) << Describe(r);
  EXPECT_NE(r.err.find("bad.png"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("y.png")));
  // A missing model: 3.
  EXPECT_EQ(Edgefit({"draw", dir_.File("none.onnx"), "--image", image_, "--task", "heatmap", "-o",
                     dir_.File("z.png")})
                .exit_code,
            3);
  // Overwriting the image: refused (4).
  EXPECT_EQ(
      Edgefit({"draw", model_, "--image", image_, "--task", "heatmap", "-o", image_}).exit_code, 4);
}

}  // namespace
}  // namespace edgefit
