// Heatmap overlays for image-like model outputs [1,C,h,w] (segmentation logits, saliency,
// density maps, ...): the per-pixel maximum over channels, coloured with viridis and blended
// onto the picture. docs/draw.md describes the normalisation and the colour map.
#pragma once

#include <cstdint>
#include <vector>

#include "draw/canvas.h"
#include "edgefit/status.h"
#include "ir/tensor.h"

namespace edgefit::draw {

// An h x w float map, row-major.
struct Plane {
  int64_t width = 0;
  int64_t height = 0;
  std::vector<float> values;
};

// The largest finite value over the channels at every pixel of a float32 [1,C,h,w] (or
// [C,h,w]) tensor; NaN where no channel is finite. Other shapes and dtypes are errors.
StatusOr<Plane> MaxOverChannels(const Tensor& t);

// Smallest and largest finite value of the plane; {0, 0} when it has none.
std::pair<float, float> FiniteRange(const Plane& p);

// matplotlib's viridis at t in [0, 1] (clamped): its 11 values at t = 0, 0.1, ..., 1 ("#440154"
// ... "#fde725"), linearly interpolated in sRGB. Perceptually uniform, readable in grey and by
// colour-blind readers.
Rgb Viridis(float t);

// Blends the plane onto the picture: the plane is stretched over the whole picture (bilinear
// with half-pixel centres, as the preprocessing resize), value v becomes
// t = (v - lo) / (hi - lo) (0 when hi <= lo), and each pixel becomes
// (1 - alpha) * pixel + alpha * Viridis(t). Pixels where the plane is NaN stay as they are.
void OverlayHeatmap(Image* img, const Plane& plane, float lo, float hi, float alpha);

}  // namespace edgefit::draw
