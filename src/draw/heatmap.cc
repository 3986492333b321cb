#include "draw/heatmap.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgefit::draw {

StatusOr<Plane> MaxOverChannels(const Tensor& t) {
  const Shape& s = t.shape();
  bool rank_ok = (s.size() == 4 && s[0] == 1) || s.size() == 3;
  if (t.dtype() != DataType::kFloat || !rank_ok)
    return InvalidArgument("a heatmap output must be float32 [1,C,h,w]; got " +
                           std::string(DataTypeName(t.dtype())) + " " + ShapeToString(s));
  size_t o = s.size() - 3;
  int64_t c = s[o], h = s[o + 1], w = s[o + 2];
  if (c <= 0 || h <= 0 || w <= 0)
    return InvalidArgument("heatmap output " + ShapeToString(s) + " is empty");
  Plane p;
  p.width = w;
  p.height = h;
  p.values.assign(static_cast<size_t>(h * w), std::numeric_limits<float>::quiet_NaN());
  const float* data = t.data<float>();
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < h * w; ++i) {
      float v = data[ch * h * w + i];
      float& m = p.values[static_cast<size_t>(i)];
      if (std::isfinite(v) && (std::isnan(m) || v > m)) m = v;
    }
  return p;
}

std::pair<float, float> FiniteRange(const Plane& p) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (float v : p.values)
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (lo > hi) return {0.0f, 0.0f};
  return {lo, hi};
}

Rgb Viridis(float t) {
  static constexpr uint8_t kStops[11][3] = {
      {0x44, 0x01, 0x54}, {0x48, 0x24, 0x75}, {0x41, 0x44, 0x87}, {0x35, 0x5f, 0x8d},
      {0x2a, 0x78, 0x8e}, {0x21, 0x91, 0x8c}, {0x22, 0xa8, 0x84}, {0x44, 0xbf, 0x70},
      {0x7a, 0xd1, 0x51}, {0xbd, 0xdf, 0x26}, {0xfd, 0xe7, 0x25}};
  if (!(t > 0)) t = 0;  // also NaN
  if (t > 1) t = 1;
  float pos = t * 10.0f;
  int i = std::min(9, static_cast<int>(pos));
  float f = pos - static_cast<float>(i);
  auto mix = [&](int k) {
    return static_cast<uint8_t>(std::lround((1 - f) * kStops[i][k] + f * kStops[i + 1][k]));
  };
  return {mix(0), mix(1), mix(2)};
}

void OverlayHeatmap(Image* img, const Plane& plane, float lo, float hi, float alpha) {
  if (plane.width <= 0 || plane.height <= 0) return;
  const float scale = hi > lo ? 1.0f / (hi - lo) : 0.0f;
  // Source coordinate of destination pixel o: (o + 0.5) * in / out - 0.5, clamped.
  auto src = [](int o, int64_t in, int out, int64_t* i0, int64_t* i1, float* f) {
    double s = (o + 0.5) * static_cast<double>(in) / out - 0.5;
    s = std::clamp(s, 0.0, static_cast<double>(in - 1));
    *i0 = static_cast<int64_t>(std::floor(s));
    *i1 = std::min(*i0 + 1, in - 1);
    *f = static_cast<float>(s - static_cast<double>(*i0));
  };
  for (int y = 0; y < img->height; ++y) {
    int64_t y0, y1;
    float fy;
    src(y, plane.height, img->height, &y0, &y1, &fy);
    for (int x = 0; x < img->width; ++x) {
      int64_t x0, x1;
      float fx;
      src(x, plane.width, img->width, &x0, &x1, &fx);
      auto at = [&](int64_t yy, int64_t xx) {
        return plane.values[static_cast<size_t>(yy * plane.width + xx)];
      };
      float v = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
                fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
      if (std::isnan(v)) continue;
      img->Blend(x, y, Viridis((v - lo) * scale), alpha);
    }
  }
}

}  // namespace edgefit::draw
