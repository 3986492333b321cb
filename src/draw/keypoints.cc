#include "draw/keypoints.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgefit::draw {

namespace {

float Sign(float v) { return v > 0 ? 1.0f : (v < 0 ? -1.0f : 0.0f); }

}  // namespace

std::vector<Keypoint> DecodeHeatmaps(const float* data, int64_t k, int64_t h, int64_t w) {
  std::vector<Keypoint> out(static_cast<size_t>(k));
  for (int64_t c = 0; c < k; ++c) {
    const float* hm = data + c * h * w;
    int64_t best = -1;
    float best_v = 0;
    for (int64_t i = 0; i < h * w; ++i) {
      if (!std::isfinite(hm[i])) continue;
      if (best < 0 || hm[i] > best_v) {
        best = i;
        best_v = hm[i];
      }
    }
    Keypoint& kp = out[static_cast<size_t>(c)];
    if (best < 0) {
      kp.score = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    int64_t px = best % w, py = best / w;
    kp.x = static_cast<float>(px);
    kp.y = static_cast<float>(py);
    kp.score = best_v;
    // Quarter-pixel step toward the higher neighbour: the true peak of a smooth blob sampled
    // on a grid lies between the maximum and its larger neighbour.
    if (px > 0 && px < w - 1) kp.x += 0.25f * Sign(hm[py * w + px + 1] - hm[py * w + px - 1]);
    if (py > 0 && py < h - 1) kp.y += 0.25f * Sign(hm[(py + 1) * w + px] - hm[(py - 1) * w + px]);
  }
  return out;
}

StatusOr<std::vector<Keypoint>> DecodeHeatmaps(const Tensor& heatmaps) {
  const Shape& s = heatmaps.shape();
  bool rank_ok = (s.size() == 4 && s[0] == 1) || s.size() == 3;
  if (heatmaps.dtype() != DataType::kFloat || !rank_ok)
    return InvalidArgument("keypoint heatmaps must be float32 [1,K,h,w]; got " +
                           std::string(DataTypeName(heatmaps.dtype())) + " " + ShapeToString(s));
  size_t o = s.size() - 3;
  if (s[o] <= 0 || s[o + 1] <= 0 || s[o + 2] <= 0)
    return InvalidArgument("keypoint heatmaps " + ShapeToString(s) + " are empty");
  return DecodeHeatmaps(heatmaps.data<float>(), s[o], s[o + 1], s[o + 2]);
}

Keypoint MapToImage(const Keypoint& kp, int64_t heatmap_w, int64_t heatmap_h, int image_w,
                    int image_h) {
  Keypoint out = kp;
  out.x = static_cast<float>((kp.x + 0.5) * image_w / static_cast<double>(heatmap_w) - 0.5);
  out.y = static_cast<float>((kp.y + 0.5) * image_h / static_cast<double>(heatmap_h) - 0.5);
  return out;
}

const std::array<const char*, kCocoKeypoints>& CocoKeypointNames() {
  static const std::array<const char*, kCocoKeypoints> kNames = {
      "nose",           "left_eye",   "right_eye",   "left_ear",   "right_ear",   "left_shoulder",
      "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
      "right_hip",      "left_knee",  "right_knee",  "left_ankle", "right_ankle"};
  return kNames;
}

const std::array<std::pair<int, int>, 19>& CocoSkeleton() {
  // pycocotools' person skeleton (1-based) minus one.
  static const std::array<std::pair<int, int>, 19> kLimbs = {{
      {15, 13}, {13, 11}, {16, 14}, {14, 12}, {11, 12},  // legs and hips
      {5, 11},  {6, 12},  {5, 6},                        // torso
      {5, 7},   {6, 8},   {7, 9},   {8, 10},             // arms
      {1, 2},   {0, 1},   {0, 2},   {1, 3},   {2, 4},    // face
      {3, 5},   {4, 6},                                  // ears to shoulders
  }};
  return kLimbs;
}

namespace {
constexpr Rgb kLeft{0, 160, 255};     // blue
constexpr Rgb kRight{255, 96, 0};     // orange
constexpr Rgb kNose{255, 0, 255};     // magenta
constexpr Rgb kCentre{0, 220, 0};     // green: limbs crossing the body
constexpr Rgb kGeneric{255, 40, 40};  // red: keypoints of non-COCO models

// -1 left, +1 right, 0 centre (COCO indices).
int Side(int i) { return i == 0 ? 0 : (i % 2 == 1 ? -1 : 1); }
}  // namespace

Rgb KeypointColor(int index, int num_keypoints) {
  if (num_keypoints != kCocoKeypoints) return kGeneric;
  int side = Side(index);
  return side < 0 ? kLeft : (side > 0 ? kRight : kNose);
}

Rgb LimbColor(int a, int b, int num_keypoints) {
  if (num_keypoints != kCocoKeypoints) return kGeneric;
  int sa = Side(a), sb = Side(b);
  if (sa == sb && sa != 0) return sa < 0 ? kLeft : kRight;
  return kCentre;
}

void DrawKeypoints(Image* img, const std::vector<Keypoint>& kps, const KeypointStyle& style) {
  float size = static_cast<float>(std::min(img->width, img->height));
  float radius = style.radius > 0 ? style.radius : std::max(2.0f, size / 80.0f);
  float thickness = style.thickness > 0 ? style.thickness : std::max(1.0f, size / 160.0f);
  int n = static_cast<int>(kps.size());
  auto visible = [&](int i) { return kps[i].score >= style.threshold; };  // false for NaN
  if (n == kCocoKeypoints) {
    for (const auto& [a, b] : CocoSkeleton())
      if (visible(a) && visible(b))
        DrawLine(img, kps[a].x, kps[a].y, kps[b].x, kps[b].y, thickness, LimbColor(a, b, n));
  }
  for (int i = 0; i < n; ++i)
    if (visible(i)) FillCircle(img, kps[i].x, kps[i].y, radius, KeypointColor(i, n));
}

}  // namespace edgefit::draw
