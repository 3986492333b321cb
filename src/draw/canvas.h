// An 8-bit RGB picture and the few drawing primitives `edgefit draw` needs: filled circles,
// thick lines, rectangles, alpha blending, side-by-side panels and a tiny 5x7 bitmap font for
// panel labels. Plain code, no framework types; coordinates are pixel centres (pixel (x, y)
// covers [x - 0.5, x + 0.5] x [y - 0.5, y + 0.5]).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgefit::draw {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

// Row-major, 3 bytes per pixel (R, G, B), no padding.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;

  Image() = default;
  Image(int w, int h, Rgb fill = {});
  bool empty() const { return width == 0 || height == 0; }
  bool Contains(int x, int y) const { return x >= 0 && y >= 0 && x < width && y < height; }
  Rgb At(int x, int y) const;
  void Set(int x, int y, Rgb c);  // ignored outside the picture
  // out = (1 - alpha) * current + alpha * c, rounded; ignored outside the picture.
  void Blend(int x, int y, Rgb c, float alpha);
};

// Every pixel whose centre lies within `radius` of (cx, cy).
void FillCircle(Image* img, float cx, float cy, float radius, Rgb color);
// Every pixel whose centre lies within thickness/2 of the segment (a "capsule": round caps).
// A thickness below 1 is drawn as 1.
void DrawLine(Image* img, float x0, float y0, float x1, float y1, float thickness, Rgb color);
// Pixels [x, x + w) x [y, y + h), clipped.
void FillRect(Image* img, int x, int y, int w, int h, Rgb color);

// `text` in a 5x7 bitmap font scaled by `scale` (each font pixel becomes scale x scale), with
// its top-left corner at (x, y) and one font pixel between characters. The font holds the
// digits, the letters A-Z and space; other characters are drawn as a hollow box. Returns the
// width drawn in pixels.
int DrawText(Image* img, int x, int y, const std::string& text, int scale, Rgb color);
int TextWidth(const std::string& text, int scale);

// A label tag: `text` in `color` on a filled dark box at the top-left corner of the picture.
void DrawLabel(Image* img, const std::string& text, Rgb color);

// Pictures next to each other, left to right, top-aligned, separated by `gap` pixels of
// `gap_color`. The result's height is the largest height (shorter panels are padded with
// `gap_color`).
Image SideBySide(const std::vector<Image>& panels, int gap = 0, Rgb gap_color = {});

}  // namespace edgefit::draw
