// The picture of a real model's output: the HRNet-like fixture (dynamic batch, 17 heatmaps of
// 16x12 for a 64x48 input) run on a generated image. Keypoints are checked against an
// independent decoding of the executor's output.
#include "draw/draw.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/dataset.h"
#include "draw/image_io.h"
#include "onnx/model_io.h"
#include "png_check.h"
#include "runtime/session.h"
#include "testing/test_util.h"

namespace edgefit::draw {
namespace {

using testing::FixturePath;
using testing::TempDir;

// A 96x128 (w x h) test picture: a colour gradient with a bright disc, so the model's heatmaps
// are not flat. Written with our encoder; the data library decodes it with its own stb_image.
Image TestPicture() {
  Image img(96, 128);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      img.Set(x, y,
              Rgb{static_cast<uint8_t>(x * 255 / 95), static_cast<uint8_t>(y * 2),
                  static_cast<uint8_t>((x * y) % 256)});
  FillCircle(&img, 40, 70, 12, Rgb{250, 250, 240});
  return img;
}

class DrawModel : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = dir_.File("person.png");
    ASSERT_TRUE(WritePng(TestPicture(), image_).ok());
    auto m = LoadModel(FixturePath("hrnet_like_op12_dyn.onnx"));
    ASSERT_TRUE(m.ok()) << m.status().message();
    model_ = std::move(*m);
    std::vector<std::string> frozen = FreezeBatchToOne(&model_);
    ASSERT_EQ(frozen, std::vector<std::string>{"input"});
    preprocess_.mean = {0.485f, 0.456f, 0.406f};
    preprocess_.std = {0.229f, 0.224f, 0.225f};
  }
  TempDir dir_;
  std::string image_;
  Model model_;
  ImagePreprocess preprocess_;
};

// The heatmaps as `edgefit run` computes them: the data library's sample, our executor.
Tensor RunHeatmaps(const Model& model, const std::string& image, const ImagePreprocess& pre) {
  auto specs = InputSpecsOf(model);
  EXPECT_TRUE(specs.ok()) << specs.status().message();
  DatasetOptions opt;
  opt.sources = {image};
  opt.image = pre;
  auto data = Dataset::Open(opt, *specs);
  EXPECT_TRUE(data.ok()) << data.status().message();
  auto sample = data->Get(0);
  EXPECT_TRUE(sample.ok());
  auto session = Session::Create(model);
  EXPECT_TRUE(session.ok());
  auto out = (*session)->Run(*sample);
  EXPECT_TRUE(out.ok());
  return std::move((*out)[0]);
}

TEST_F(DrawModel, KeypointsMatchAnIndependentDecodingOfTheRunOutput) {
  Tensor hm = RunHeatmaps(model_, image_, preprocess_);
  ASSERT_EQ(hm.shape(), (Shape{1, 17, 16, 12}));
  const float* p = hm.data<float>();
  const int K = 17, H = 16, W = 12, kImageW = 96, kImageH = 128;

  DrawOptions opt;
  opt.preprocess = preprocess_;
  opt.threshold = -1e30f;  // draw all
  auto result = Draw({&model_}, image_, opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->panels.size(), 1u);
  EXPECT_EQ(result->panels[0].output_name, "heatmaps");
  const std::vector<Keypoint>& kps = result->panels[0].keypoints;
  ASSERT_EQ(kps.size(), 17u);

  for (int k = 0; k < K; ++k) {
    // Plain argmax, first maximum wins.
    int bx = 0, by = 0;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        if (p[(k * H + y) * W + x] > p[(k * H + by) * W + bx]) bx = x, by = y;
    auto v = [&](int y, int x) { return p[(k * H + y) * W + x]; };
    double x = bx, y = by;
    if (bx > 0 && bx < W - 1 && v(by, bx + 1) != v(by, bx - 1))
      x += v(by, bx + 1) > v(by, bx - 1) ? 0.25 : -0.25;
    if (by > 0 && by < H - 1 && v(by + 1, bx) != v(by - 1, bx))
      y += v(by + 1, bx) > v(by - 1, bx) ? 0.25 : -0.25;
    // Heatmap -> 48x64 model input (stride 4) -> 96x128 image, half-pixel centres.
    double in_x = (x + 0.5) * 4 - 0.5, in_y = (y + 0.5) * 4 - 0.5;
    double img_x = (in_x + 0.5) * kImageW / 48 - 0.5, img_y = (in_y + 0.5) * kImageH / 64 - 0.5;
    EXPECT_NEAR(kps[k].x, img_x, 1e-4) << "keypoint " << k;
    EXPECT_NEAR(kps[k].y, img_y, 1e-4) << "keypoint " << k;
    EXPECT_FLOAT_EQ(kps[k].score, v(by, bx)) << "keypoint " << k;
  }
}

TEST_F(DrawModel, PngHasTheImageSizeAndKeypointColours) {
  DrawOptions opt;
  opt.preprocess = preprocess_;
  opt.threshold = -1e30f;
  auto result = Draw({&model_}, image_, opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  std::string out = dir_.File("out.png");
  ASSERT_TRUE(WritePng(result->picture, out).ok());
  Image png = testing::DecodePngForTest(testing::ReadFile(out));
  ASSERT_EQ(png.width, 96);
  ASSERT_EQ(png.height, 128);
  // The centre pixel of every keypoint not covered by a later one has its colour.
  const auto& kps = result->panels[0].keypoints;
  const float radius = 2.0f;  // max(2, 96 / 80)
  int checked = 0;
  for (size_t i = 0; i < kps.size(); ++i) {
    int x = static_cast<int>(std::lround(kps[i].x)), y = static_cast<int>(std::lround(kps[i].y));
    if (!png.Contains(x, y)) continue;
    bool covered = false;
    for (size_t j = i + 1; j < kps.size(); ++j)
      covered |= std::hypot(kps[j].x - x, kps[j].y - y) <= radius + 0.01f;
    if (covered) continue;
    EXPECT_EQ(png.At(x, y), KeypointColor(static_cast<int>(i), 17)) << "keypoint " << i;
    ++checked;
  }
  EXPECT_GT(checked, 0);
  // Something was drawn, and the rest is the image itself: pixels differ from the image only
  // where keypoint or limb colours were drawn.
  Image original = TestPicture();
  EXPECT_NE(png.rgb, original.rgb);
  for (int y = 0; y < png.height; ++y)
    for (int x = 0; x < png.width; ++x) {
      Rgb c = png.At(x, y);
      if (c == original.At(x, y)) continue;
      bool drawn = false;
      for (int i = 0; i < 17; ++i)
        drawn |= c == KeypointColor(i, 17) || c == LimbColor(i, (i + 1) % 17, 17);
      EXPECT_TRUE(drawn) << "pixel " << x << "," << y;
    }
}

TEST_F(DrawModel, CompareDrawsTwoLabelledPanelsSideBySide) {
  DrawOptions opt;
  opt.preprocess = preprocess_;
  auto result = Draw({&model_, &model_}, image_, opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->panels.size(), 2u);
  std::string out = dir_.File("pair.png");
  ASSERT_TRUE(WritePng(result->picture, out).ok());
  Image png = testing::DecodePngForTest(testing::ReadFile(out));
  EXPECT_EQ(png.width, 2 * 96);
  EXPECT_EQ(png.height, 128);
  // Same model twice: the halves are equal below the label boxes ("FP32" / "INT8").
  int differing = 0;
  for (int y = 12; y < 128; ++y)
    for (int x = 0; x < 96; ++x) differing += !(png.At(x, y) == png.At(96 + x, y));
  EXPECT_EQ(differing, 0);
  // ...and differ in the labels.
  int label_diff = 0;
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 26; ++x) label_diff += !(png.At(x, y) == png.At(96 + x, y));
  EXPECT_GT(label_diff, 0);
}

TEST_F(DrawModel, HeatmapOverlayKeepsTheSizeAndColoursThePicture) {
  DrawOptions opt;
  opt.task = DrawTask::kHeatmap;
  opt.preprocess = preprocess_;
  opt.labels = {""};
  auto result = Draw({&model_}, image_, opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->picture.width, 96);
  EXPECT_EQ(result->picture.height, 128);
  EXPECT_LT(result->panels[0].heat_min, result->panels[0].heat_max);
  // alpha 0.5: every pixel is the mean of the image pixel and some viridis colour, so it
  // differs from the image wherever the two differ.
  Image original = TestPicture();
  int changed = 0;
  for (int y = 0; y < 128; ++y)
    for (int x = 0; x < 96; ++x) changed += !(result->picture.At(x, y) == original.At(x, y));
  EXPECT_GT(changed, 96 * 128 / 2);
}

TEST_F(DrawModel, Errors) {
  DrawOptions opt;
  opt.preprocess = preprocess_;
  DrawFailure failure = DrawFailure::kNone;
  // A dynamic batch that was not frozen.
  auto dyn = LoadModel(FixturePath("hrnet_like_op12_dyn.onnx"));
  ASSERT_TRUE(dyn.ok());
  auto r = Draw({&*dyn}, image_, opt, &failure);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(failure, DrawFailure::kModel);
  // An unknown output.
  opt.output_name = "nope";
  r = Draw({&model_}, image_, opt, &failure);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("heatmaps"), std::string::npos) << r.status().message();
  EXPECT_EQ(failure, DrawFailure::kModel);
  opt.output_name = "";
  // Not an image.
  std::string bad = dir_.File("bad.png");
  testing::WriteFile(bad, "not a png");
  r = Draw({&model_}, bad, opt, &failure);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(failure, DrawFailure::kData);
  EXPECT_NE(r.status().message().find("bad.png"), std::string::npos);
}

}  // namespace
}  // namespace edgefit::draw
