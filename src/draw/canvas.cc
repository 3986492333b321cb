#include "draw/canvas.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace edgefit::draw {

Image::Image(int w, int h, Rgb fill) : width(w), height(h) {
  rgb.resize(static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
  for (size_t i = 0; i < rgb.size(); i += 3) {
    rgb[i] = fill.r;
    rgb[i + 1] = fill.g;
    rgb[i + 2] = fill.b;
  }
}

Rgb Image::At(int x, int y) const {
  const uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
  return {p[0], p[1], p[2]};
}

void Image::Set(int x, int y, Rgb c) {
  if (!Contains(x, y)) return;
  uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

void Image::Blend(int x, int y, Rgb c, float alpha) {
  if (!Contains(x, y)) return;
  uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
  const uint8_t src[3] = {c.r, c.g, c.b};
  for (int k = 0; k < 3; ++k) {
    float v = (1.0f - alpha) * p[k] + alpha * src[k];
    p[k] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
  }
}

void FillCircle(Image* img, float cx, float cy, float radius, Rgb color) {
  if (!(radius >= 0) || !std::isfinite(cx) || !std::isfinite(cy)) return;
  int x0 = std::max(0, static_cast<int>(std::floor(cx - radius)));
  int x1 = std::min(img->width - 1, static_cast<int>(std::ceil(cx + radius)));
  int y0 = std::max(0, static_cast<int>(std::floor(cy - radius)));
  int y1 = std::min(img->height - 1, static_cast<int>(std::ceil(cy + radius)));
  float r2 = radius * radius;
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      float dx = x - cx, dy = y - cy;
      if (dx * dx + dy * dy <= r2) img->Set(x, y, color);
    }
}

void DrawLine(Image* img, float x0, float y0, float x1, float y1, float thickness, Rgb color) {
  if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1)) return;
  // A 1-pixel line needs a half width of ~0.5 (plus rounding slack) to have no gaps on
  // diagonals; wider lines use thickness / 2.
  float half = std::max(thickness, 1.0f) * 0.5f + 0.21f;
  int bx0 = std::max(0, static_cast<int>(std::floor(std::min(x0, x1) - half)));
  int bx1 = std::min(img->width - 1, static_cast<int>(std::ceil(std::max(x0, x1) + half)));
  int by0 = std::max(0, static_cast<int>(std::floor(std::min(y0, y1) - half)));
  int by1 = std::min(img->height - 1, static_cast<int>(std::ceil(std::max(y0, y1) + half)));
  float dx = x1 - x0, dy = y1 - y0;
  float len2 = dx * dx + dy * dy;
  for (int y = by0; y <= by1; ++y)
    for (int x = bx0; x <= bx1; ++x) {
      // Distance from the pixel centre to the closest point of the segment.
      float t = len2 > 0 ? std::clamp(((x - x0) * dx + (y - y0) * dy) / len2, 0.0f, 1.0f) : 0.0f;
      float ex = x0 + t * dx - x, ey = y0 + t * dy - y;
      if (ex * ex + ey * ey <= half * half) img->Set(x, y, color);
    }
}

void FillRect(Image* img, int x, int y, int w, int h, Rgb color) {
  for (int yy = std::max(0, y); yy < std::min(img->height, y + h); ++yy)
    for (int xx = std::max(0, x); xx < std::min(img->width, x + w); ++xx) img->Set(xx, yy, color);
}

namespace {

// 5x7 glyphs, one byte per row from the top, bit 4 = leftmost column (the HD44780 shapes).
struct Glyph {
  char c;
  uint8_t rows[7];
};
constexpr Glyph kFont[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
};
constexpr Glyph kUnknownGlyph = {'?', {0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F}};

const Glyph& GlyphFor(char c) {
  char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const Glyph& g : kFont)
    if (g.c == u) return g;
  return kUnknownGlyph;
}

}  // namespace

int TextWidth(const std::string& text, int scale) {
  if (text.empty()) return 0;
  return static_cast<int>(text.size()) * 6 * scale - scale;
}

int DrawText(Image* img, int x, int y, const std::string& text, int scale, Rgb color) {
  int cx = x;
  for (char c : text) {
    const Glyph& g = GlyphFor(c);
    for (int row = 0; row < 7; ++row)
      for (int col = 0; col < 5; ++col)
        if (g.rows[row] & (0x10 >> col))
          FillRect(img, cx + col * scale, y + row * scale, scale, scale, color);
    cx += 6 * scale;
  }
  return TextWidth(text, scale);
}

void DrawLabel(Image* img, const std::string& text, Rgb color) {
  if (text.empty()) return;
  // Font pixels of 1 up to 100-pixel-high pictures, then growing with the picture.
  int scale = std::max(1, std::min(img->width, img->height) / 100);
  int pad = scale;
  FillRect(img, 0, 0, TextWidth(text, scale) + 2 * pad, 7 * scale + 2 * pad, Rgb{24, 24, 24});
  DrawText(img, pad, pad, text, scale, color);
}

Image SideBySide(const std::vector<Image>& panels, int gap, Rgb gap_color) {
  int w = 0, h = 0;
  for (size_t i = 0; i < panels.size(); ++i) {
    w += panels[i].width + (i > 0 ? gap : 0);
    h = std::max(h, panels[i].height);
  }
  Image out(w, h, gap_color);
  int x0 = 0;
  for (const Image& p : panels) {
    for (int y = 0; y < p.height; ++y)
      std::copy_n(&p.rgb[static_cast<size_t>(y) * p.width * 3], static_cast<size_t>(p.width) * 3,
                  &out.rgb[(static_cast<size_t>(y) * w + x0) * 3]);
    x0 += p.width + gap;
  }
  return out;
}

}  // namespace edgefit::draw
