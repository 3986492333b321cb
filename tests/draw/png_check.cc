#include "png_check.h"

#include <gtest/gtest.h>

#include "io/image.h"

namespace edgefit::testing {

draw::Image DecodePngForTest(const std::string& bytes, int* channels) {
  EXPECT_EQ(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n"), 0) << "no PNG signature";
  auto decoded = DecodeImage(bytes, "PNG under test");
  EXPECT_TRUE(decoded.ok()) << "not a valid PNG: " << decoded.status().ToString();
  if (!decoded.ok()) return {};
  if (channels != nullptr) *channels = decoded->source_channels;
  draw::Image img;
  img.width = decoded->width;
  img.height = decoded->height;
  img.rgb = std::move(decoded->rgb);
  return img;
}

}  // namespace edgefit::testing
