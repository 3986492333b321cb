// Drawing primitives, the bitmap font, side-by-side panels, the viridis map and PNG encoding.
#include "draw/canvas.h"

#include <gtest/gtest.h>

#include "draw/heatmap.h"
#include "draw/image_io.h"
#include "png_check.h"

namespace edgefit::draw {
namespace {

constexpr Rgb kBlack{0, 0, 0};
constexpr Rgb kRed{255, 0, 0};

int CountColor(const Image& img, Rgb c) {
  int n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) n += img.At(x, y) == c;
  return n;
}

TEST(Canvas, FillCircleCoversPixelCentresWithinRadius) {
  Image img(20, 20);
  FillCircle(&img, 10, 10, 2, kRed);
  EXPECT_EQ(img.At(10, 10), kRed);
  EXPECT_EQ(img.At(12, 10), kRed);    // distance 2: inside (<=)
  EXPECT_EQ(img.At(11, 11), kRed);    // sqrt 2
  EXPECT_EQ(img.At(12, 12), kBlack);  // sqrt 8 > 2
  EXPECT_EQ(img.At(13, 10), kBlack);
  EXPECT_EQ(CountColor(img, kRed), 13);  // the 13 lattice points of a radius-2 disc
}

TEST(Canvas, FillCircleClipsAtTheBorder) {
  Image img(5, 5);
  FillCircle(&img, 0, 0, 3, kRed);
  FillCircle(&img, -10, -10, 3, kRed);  // entirely outside: nothing, no crash
  EXPECT_EQ(img.At(0, 0), kRed);
  EXPECT_EQ(img.At(4, 4), kBlack);
}

TEST(Canvas, LineCoversTheSegmentWithoutGaps) {
  Image img(30, 30);
  DrawLine(&img, 2, 3, 25, 20, 1, kRed);
  EXPECT_EQ(img.At(2, 3), kRed);
  EXPECT_EQ(img.At(25, 20), kRed);
  // Every column between the ends has a red pixel (a 1-pixel line without gaps).
  for (int x = 2; x <= 25; ++x) {
    bool any = false;
    for (int y = 0; y < 30; ++y) any |= img.At(x, y) == kRed;
    EXPECT_TRUE(any) << "column " << x;
  }
  EXPECT_EQ(img.At(25, 3), kBlack);
}

TEST(Canvas, ThickLineIsWider) {
  Image thin(40, 40), thick(40, 40);
  DrawLine(&thin, 5, 20, 35, 20, 1, kRed);
  DrawLine(&thick, 5, 20, 35, 20, 5, kRed);
  EXPECT_EQ(thick.At(20, 22), kRed);
  EXPECT_EQ(thin.At(20, 22), kBlack);
  EXPECT_GT(CountColor(thick, kRed), 4 * CountColor(thin, kRed));
}

TEST(Canvas, BlendMixesColours) {
  Image img(1, 1, Rgb{100, 0, 200});
  img.Blend(0, 0, Rgb{200, 100, 0}, 0.5f);
  EXPECT_EQ(img.At(0, 0), (Rgb{150, 50, 100}));
}

TEST(Canvas, TextUsesTheFontAndItsWidth) {
  Image img(40, 10);
  int w = DrawText(&img, 1, 1, "FP32", 1, kRed);
  EXPECT_EQ(w, 4 * 6 - 1);
  EXPECT_EQ(TextWidth("INT8", 2), 2 * (4 * 6 - 1));
  // 'F': the whole top row of its glyph is set, its bottom-right corner is not.
  for (int x = 1; x <= 5; ++x) EXPECT_EQ(img.At(x, 1), kRed) << x;
  EXPECT_EQ(img.At(5, 7), kBlack);
  // Nothing is drawn right of the text.
  for (int y = 0; y < 10; ++y) EXPECT_EQ(img.At(1 + w, y), kBlack);
  // Lower case is drawn as upper case.
  Image a(10, 10), b(10, 10);
  DrawText(&a, 0, 0, "n", 1, kRed);
  DrawText(&b, 0, 0, "N", 1, kRed);
  EXPECT_EQ(a.rgb, b.rgb);
}

TEST(Canvas, SideBySidePlacesPanelsLeftToRight) {
  Image left(3, 2, kRed), right(4, 3, Rgb{0, 0, 255});
  Image out = SideBySide({left, right});
  EXPECT_EQ(out.width, 7);
  EXPECT_EQ(out.height, 3);
  EXPECT_EQ(out.At(2, 1), kRed);
  EXPECT_EQ(out.At(3, 0), (Rgb{0, 0, 255}));
  EXPECT_EQ(out.At(0, 2), kBlack);  // padding under the shorter panel
  Image gap = SideBySide({left, left}, 2, Rgb{9, 9, 9});
  EXPECT_EQ(gap.width, 8);
  EXPECT_EQ(gap.At(3, 0), (Rgb{9, 9, 9}));
}

TEST(Viridis, EndsAndMiddleAreMatplotlibs) {
  EXPECT_EQ(Viridis(0), (Rgb{0x44, 0x01, 0x54}));
  EXPECT_EQ(Viridis(0.5f), (Rgb{0x21, 0x91, 0x8c}));
  EXPECT_EQ(Viridis(1), (Rgb{0xfd, 0xe7, 0x25}));
  EXPECT_EQ(Viridis(-3), Viridis(0));
  EXPECT_EQ(Viridis(7), Viridis(1));
  // Half way between two stops is their mean.
  EXPECT_EQ(Viridis(0.05f), (Rgb{0x46, 0x13, 0x65}));
}

TEST(Png, EncodedPictureDecodesToTheSamePixels) {
  Image img(17, 5);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      img.Set(x, y, Rgb{static_cast<uint8_t>(x * 15), static_cast<uint8_t>(y * 50), 7});
  auto png = EncodePng(img);
  ASSERT_TRUE(png.ok()) << png.status().message();
  int channels = 0;
  Image back = testing::DecodePngForTest(*png, &channels);
  EXPECT_EQ(channels, 3);
  EXPECT_EQ(back.width, 17);
  EXPECT_EQ(back.height, 5);
  EXPECT_EQ(back.rgb, img.rgb);
  // Our own decoder agrees.
  auto again = DecodeImage(*png, "mem.png");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->rgb, img.rgb);
}

TEST(Png, EmptyPictureAndBadBytesAreErrors) {
  EXPECT_FALSE(EncodePng(Image()).ok());
  auto bad = DecodeImage("not an image", "x.png");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("x.png"), std::string::npos);
  EXPECT_EQ(ReadImage("/nonexistent/x.png").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace edgefit::draw
