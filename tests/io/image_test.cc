// io/image.h: PNG round trip (lossless), header-only size, and errors that name the input.
#include "io/image.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace edgefit {
namespace {

TEST(ImageTest, PngRoundTripIsExact) {
  const int w = 5, h = 3;
  std::vector<uint8_t> rgb(w * h * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 37 % 256);
  auto png = EncodePng(w, h, rgb);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  EXPECT_EQ(png->compare(0, 8, "\x89PNG\r\n\x1a\n"), 0);
  auto back = DecodeImage(*png, "memory");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->width, w);
  EXPECT_EQ(back->height, h);
  EXPECT_EQ(back->source_channels, 3);
  EXPECT_EQ(back->rgb, rgb);

  testing::TempDir dir;
  testing::WriteFile(dir.File("a.png"), *png);
  int fw = 0, fh = 0;
  ASSERT_TRUE(ReadImageSize(dir.File("a.png"), &fw, &fh).ok());
  EXPECT_EQ(fw, w);
  EXPECT_EQ(fh, h);
  auto file = ReadImageFile(dir.File("a.png"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->rgb, rgb);
}

TEST(ImageTest, BadInputIsAnErrorNamingIt) {
  auto garbage = DecodeImage("not an image at all", "garbage.png");
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("garbage.png: not a readable JPEG or PNG image"),
            std::string::npos)
      << garbage.status().ToString();
  auto missing = ReadImageFile("/nonexistent/x.png");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/x.png"), std::string::npos);
  int w = 0, h = 0;
  EXPECT_FALSE(ReadImageSize("/nonexistent/x.png", &w, &h).ok());
  EXPECT_FALSE(EncodePng(2, 2, std::vector<uint8_t>(5)).ok());  // inconsistent size
  // A PNG header claiming 16400 x 16400 pixels (above 2^28; stb_image itself only refuses
  // above 2^30 bytes) is refused before decoding.
  auto png = EncodePng(1, 1, {1, 2, 3});
  ASSERT_TRUE(png.ok());
  std::string big = *png;
  // IHDR width/height are the big-endian words at offsets 16 and 20.
  big[16] = 0, big[17] = 0, big[18] = 0x40, big[19] = 0x10;
  big[20] = 0, big[21] = 0, big[22] = 0x40, big[23] = 0x10;
  auto refused = DecodeImage(big, "big.png");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("above the limit"), std::string::npos)
      << refused.status().ToString();
}

}  // namespace
}  // namespace edgefit
