// Heatmap decoding (argmax + quarter offset), the mapping back to the image, the COCO
// skeleton, keypoint drawing and the heatmap overlay, on hand-made inputs.
#include "draw/keypoints.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "draw/heatmap.h"

namespace edgefit::draw {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// K heatmaps of h x w zeros.
std::vector<float> Zeros(int k, int h, int w) { return std::vector<float>(k * h * w, 0.0f); }
float& At(std::vector<float>& v, int h, int w, int c, int y, int x) {
  return v[(c * h + y) * w + x];
}

TEST(DecodeHeatmaps, ArgmaxAndQuarterOffsetTowardTheHigherNeighbour) {
  const int k = 4, h = 5, w = 6;
  std::vector<float> hm = Zeros(k, h, w);
  // Channel 0: peak 0.9 at (x=2, y=3); right neighbour higher than left, upper higher than
  // lower -> (2.25, 2.75).
  At(hm, h, w, 0, 3, 2) = 0.9f;
  At(hm, h, w, 0, 3, 3) = 0.5f;
  At(hm, h, w, 0, 3, 1) = 0.2f;
  At(hm, h, w, 0, 2, 2) = 0.4f;
  At(hm, h, w, 0, 4, 2) = 0.1f;
  // Channel 1: peak on the left border (x=0, y=2): no x refinement; equal vertical neighbours:
  // no y refinement.
  At(hm, h, w, 1, 2, 0) = 0.7f;
  At(hm, h, w, 1, 2, 1) = 0.6f;
  At(hm, h, w, 1, 1, 0) = 0.3f;
  At(hm, h, w, 1, 3, 0) = 0.3f;
  // Channel 2: two equal maxima: the first in row-major order wins (numpy.argmax); the left
  // neighbour is higher -> x - 0.25; bottom border -> no y refinement.
  At(hm, h, w, 2, 4, 3) = 0.8f;
  At(hm, h, w, 2, 4, 4) = 0.8f;
  At(hm, h, w, 2, 4, 2) = 0.1f;
  // Channel 3: all NaN.
  for (int i = 0; i < h * w; ++i) hm[3 * h * w + i] = kNaN;

  std::vector<Keypoint> kps = DecodeHeatmaps(hm.data(), k, h, w);
  ASSERT_EQ(kps.size(), 4u);
  EXPECT_FLOAT_EQ(kps[0].x, 2.25f);
  EXPECT_FLOAT_EQ(kps[0].y, 2.75f);
  EXPECT_FLOAT_EQ(kps[0].score, 0.9f);
  EXPECT_FLOAT_EQ(kps[1].x, 0.0f);
  EXPECT_FLOAT_EQ(kps[1].y, 2.0f);
  EXPECT_FLOAT_EQ(kps[1].score, 0.7f);
  // Neighbours of (3,4): left 0.1, right 0.8 -> toward the right.
  EXPECT_FLOAT_EQ(kps[2].x, 3.25f);
  EXPECT_FLOAT_EQ(kps[2].y, 4.0f);
  EXPECT_TRUE(std::isnan(kps[3].score));
}

TEST(DecodeHeatmaps, NegativeMapsAndNaNsAreHandled) {
  std::vector<float> hm = {-5, -1, kNaN, -3};  // 1 channel 2x2
  auto kps = DecodeHeatmaps(hm.data(), 1, 2, 2);
  EXPECT_FLOAT_EQ(kps[0].x, 1.0f);  // -1 at (1, 0), NaN skipped
  EXPECT_FLOAT_EQ(kps[0].y, 0.0f);
  EXPECT_FLOAT_EQ(kps[0].score, -1.0f);
}

TEST(DecodeHeatmaps, TensorShapesAndTypes) {
  std::vector<float> v = Zeros(2, 3, 4);
  v[1 * 12 + 2 * 4 + 1] = 1.0f;
  auto ok = DecodeHeatmaps(Tensor::FromVector<float>(DataType::kFloat, {1, 2, 3, 4}, v));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_FLOAT_EQ((*ok)[1].x, 1.0f);
  EXPECT_FLOAT_EQ((*ok)[1].y, 2.0f);
  EXPECT_TRUE(DecodeHeatmaps(Tensor::FromVector<float>(DataType::kFloat, {2, 3, 4}, v)).ok());
  EXPECT_FALSE(DecodeHeatmaps(Tensor::FromVector<float>(DataType::kFloat, {2, 1, 3, 4}, v)).ok());
  EXPECT_FALSE(DecodeHeatmaps(Tensor::FromVector<float>(DataType::kFloat, {24}, v)).ok());
  EXPECT_FALSE(DecodeHeatmaps(Tensor(DataType::kDouble, {1, 2, 3, 4})).ok());
}

TEST(MapToImage, HalfPixelCentresThroughTheResize) {
  // Heatmap 12 wide x 16 high over an image 96 x 128: 8 image pixels per heatmap pixel.
  Keypoint kp{0, 0, 1};
  Keypoint a = MapToImage(kp, 12, 16, 96, 128);
  EXPECT_FLOAT_EQ(a.x, 3.5f);  // (0 + 0.5) * 8 - 0.5
  EXPECT_FLOAT_EQ(a.y, 3.5f);
  Keypoint b = MapToImage(Keypoint{11, 15, 1}, 12, 16, 96, 128);
  EXPECT_FLOAT_EQ(b.x, 91.5f);
  EXPECT_FLOAT_EQ(b.y, 123.5f);
  EXPECT_FLOAT_EQ(b.score, 1.0f);
  // Same as going heatmap -> model input (48 x 64, stride 4) -> image (resize 48 -> 96), each
  // step with half-pixel centres.
  for (float x : {0.0f, 2.25f, 7.75f, 11.0f}) {
    float in = (x + 0.5f) * 48 / 12 - 0.5f;
    float img = (in + 0.5f) * 96 / 48 - 0.5f;
    EXPECT_FLOAT_EQ(MapToImage(Keypoint{x, 0, 0}, 12, 16, 96, 128).x, img);
  }
  // Non-uniform scale (a 640x480 photo squeezed into the model input).
  EXPECT_FLOAT_EQ(MapToImage(Keypoint{6, 8, 0}, 12, 16, 640, 480).x, 6.5f * 640 / 12 - 0.5f);
  EXPECT_FLOAT_EQ(MapToImage(Keypoint{6, 8, 0}, 12, 16, 640, 480).y, 8.5f * 30 - 0.5f);
}

TEST(Coco, SkeletonIsTheStandardNineteenLimbs) {
  const auto& limbs = CocoSkeleton();
  std::set<std::pair<int, int>> seen;
  for (auto [a, b] : limbs) {
    EXPECT_GE(a, 0);
    EXPECT_LT(a, kCocoKeypoints);
    EXPECT_GE(b, 0);
    EXPECT_LT(b, kCocoKeypoints);
    EXPECT_NE(a, b);
    EXPECT_TRUE(seen.insert({std::min(a, b), std::max(a, b)}).second) << a << "-" << b;
  }
  EXPECT_TRUE(seen.count({5, 7}));    // left shoulder - left elbow
  EXPECT_TRUE(seen.count({13, 15}));  // left knee - left ankle
  EXPECT_TRUE(seen.count({11, 12}));  // hips
  EXPECT_STREQ(CocoKeypointNames()[0], "nose");
  EXPECT_STREQ(CocoKeypointNames()[16], "right_ankle");
  // Left and right differ; mirrored keypoints share their side's colour.
  EXPECT_FALSE(KeypointColor(5, 17) == KeypointColor(6, 17));
  EXPECT_EQ(KeypointColor(5, 17), KeypointColor(15, 17));
  EXPECT_EQ(LimbColor(5, 7, 17), KeypointColor(5, 17));
  EXPECT_EQ(KeypointColor(3, 5), KeypointColor(4, 5));  // non-COCO: one colour
}

std::vector<Keypoint> SeventeenAt(float y) {
  std::vector<Keypoint> kps;
  for (int i = 0; i < kCocoKeypoints; ++i) kps.push_back({10.0f + 10 * i, y, 0.9f});
  return kps;
}

TEST(DrawKeypoints, CentresHaveTheKeypointColour) {
  Image img(200, 60, Rgb{30, 30, 30});
  std::vector<Keypoint> kps = SeventeenAt(20);
  KeypointStyle style;
  style.radius = 3;
  DrawKeypoints(&img, kps, style);
  for (int i = 0; i < kCocoKeypoints; ++i)
    EXPECT_EQ(img.At(static_cast<int>(kps[i].x), static_cast<int>(kps[i].y)), KeypointColor(i, 17))
        << i;
  EXPECT_EQ(img.At(100, 50), (Rgb{30, 30, 30}));  // nothing far from the row
}

TEST(DrawKeypoints, LimbsNeedBothEndsAboveTheThreshold) {
  const Rgb bg{30, 30, 30};
  std::vector<Keypoint> kps = SeventeenAt(50);
  for (Keypoint& kp : kps) kp.score = 0.1f;  // hidden
  kps[5] = {20, 20, 0.9f};                   // left shoulder
  kps[7] = {80, 20, 0.9f};                   // left elbow
  KeypointStyle style;
  style.radius = 3;
  Image both(200, 60, bg);
  DrawKeypoints(&both, kps, style);
  EXPECT_EQ(both.At(50, 20), LimbColor(5, 7, 17));
  EXPECT_EQ(both.At(20, 20), KeypointColor(5, 17));
  EXPECT_EQ(both.At(100, 50), bg);  // hidden keypoints are not drawn

  kps[7].score = std::numeric_limits<float>::quiet_NaN();
  Image one(200, 60, bg);
  DrawKeypoints(&one, kps, style);
  EXPECT_EQ(one.At(50, 20), bg);
  EXPECT_EQ(one.At(80, 20), bg);
  EXPECT_EQ(one.At(20, 20), KeypointColor(5, 17));
}

TEST(DrawKeypoints, OtherKeypointCountsGetNoSkeleton) {
  Image img(100, 40);
  std::vector<Keypoint> kps = {{10, 20, 1}, {90, 20, 1}};
  KeypointStyle style;
  style.radius = 2;
  DrawKeypoints(&img, kps, style);
  EXPECT_EQ(img.At(10, 20), KeypointColor(0, 2));
  EXPECT_EQ(img.At(50, 20), (Rgb{}));  // no line between them
}

TEST(Heatmap, MaxOverChannelsAndOverlay) {
  // 2 channels of 1x2: max is {3, 5}.
  Tensor t = Tensor::FromVector<float>(DataType::kFloat, {1, 2, 1, 2}, {1, 5, 3, kNaN});
  auto plane = MaxOverChannels(t);
  ASSERT_TRUE(plane.ok());
  EXPECT_EQ(plane->width, 2);
  EXPECT_EQ(plane->height, 1);
  EXPECT_FLOAT_EQ(plane->values[0], 3);
  EXPECT_FLOAT_EQ(plane->values[1], 5);
  auto [lo, hi] = FiniteRange(*plane);
  EXPECT_FLOAT_EQ(lo, 3);
  EXPECT_FLOAT_EQ(hi, 5);
  // Stretched over a 4x2 picture, alpha 1: the left pixels are viridis(0), the right ones
  // viridis(1) (clamped half-pixel sampling at the borders).
  Image img(4, 2, Rgb{255, 255, 255});
  OverlayHeatmap(&img, *plane, lo, hi, 1.0f);
  EXPECT_EQ(img.At(0, 0), Viridis(0));
  EXPECT_EQ(img.At(3, 1), Viridis(1));
  EXPECT_EQ(img.At(1, 0), Viridis(0.25f));  // source x = 0.25
  // Alpha 0 leaves the picture unchanged.
  Image same(4, 2, Rgb{1, 2, 3});
  OverlayHeatmap(&same, *plane, lo, hi, 0.0f);
  EXPECT_EQ(same.At(2, 1), (Rgb{1, 2, 3}));
  EXPECT_FALSE(MaxOverChannels(Tensor(DataType::kFloat, {2, 2, 2, 2})).ok());
}

}  // namespace
}  // namespace edgefit::draw
