// Keypoints from pose heatmaps (HRNet style: one heatmap per keypoint, [1,K,h,w]), their
// position in the original image, and the COCO skeleton. docs/draw.md describes the decoding
// and the mapping with worked numbers.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "draw/canvas.h"
#include "edgefit/status.h"
#include "ir/tensor.h"

namespace edgefit::draw {

struct Keypoint {
  float x = 0;      // column, in pixels of the heatmap (or of the image after MapToImage)
  float y = 0;      // row
  float score = 0;  // the heatmap's maximum (NaN when the channel holds no finite value)
};

// Decodes K heatmaps of h x w floats (channel-major, row-major), the HRNet way:
//   1. (px, py) = the position of the channel's largest finite value (the first one in row-major
//      order on ties, like numpy.argmax); score = that value.
//   2. Quarter-pixel refinement toward the higher neighbour, on each axis separately: if
//      0 < px < w - 1, x = px + 0.25 * sign(H[py][px+1] - H[py][px-1]), else x = px; likewise y
//      with H[py+1][px] - H[py-1][px]. (HRNet's get_final_preds refines only when both
//      1 < px < w-1 and 1 < py < h-1; here every interior axis is refined.)
// The reference function: no framework types.
std::vector<Keypoint> DecodeHeatmaps(const float* data, int64_t k, int64_t h, int64_t w);
// The same for a float32 tensor [1,K,h,w] (or [K,h,w]); other shapes and dtypes are errors.
StatusOr<std::vector<Keypoint>> DecodeHeatmaps(const Tensor& heatmaps);

// Heatmap pixel (x, y) -> original image pixel, through the preprocessing resize. Pixel centres
// are integers and both the model's resize (docs/data.md: half-pixel centres) and the heatmap's
// stride map pixel areas linearly, so heatmap -> model input -> image composes to
//   image_x = (x + 0.5) * image_w / heatmap_w - 0.5      (same for y with heights)
// whatever the model input size is.
Keypoint MapToImage(const Keypoint& kp, int64_t heatmap_w, int64_t heatmap_h, int image_w,
                    int image_h);

// The 17 COCO keypoints in order (nose, left_eye, right_eye, ...) and the standard 19 limbs
// of the COCO person category's "skeleton" (its 1-based pairs made 0-based).
constexpr int kCocoKeypoints = 17;
const std::array<const char*, kCocoKeypoints>& CocoKeypointNames();
const std::array<std::pair<int, int>, 19>& CocoSkeleton();

// Colours: COCO keypoints by side of the body (left: odd indices, right: even indices > 0,
// nose: 0); other keypoint counts use one colour. Limbs take their side's colour, or the
// centre colour when they cross the body.
Rgb KeypointColor(int index, int num_keypoints);
Rgb LimbColor(int a, int b, int num_keypoints);

struct KeypointStyle {
  float threshold = 0.3f;  // keypoints with score below (or NaN) are not drawn
  float radius = 0;        // 0: from the picture size, max(2, min(w, h) / 80)
  float thickness = 0;     // 0: from the picture size, max(1, min(w, h) / 160)
};

// Draws the skeleton (when there are 17 keypoints; only limbs whose both ends pass the
// threshold) and then the keypoints as filled circles, so a keypoint's centre pixel has its
// keypoint colour (unless a later keypoint covers it). Coordinates are image pixels (after
// MapToImage).
void DrawKeypoints(Image* img, const std::vector<Keypoint>& kps, const KeypointStyle& style);

}  // namespace edgefit::draw
