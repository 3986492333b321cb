#include "png_check.h"

#include <gtest/gtest.h>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace edgefit::testing {

draw::Image DecodePngForTest(const std::string& bytes, int* channels) {
  int w = 0, h = 0, c = 0;
  stbi_uc* p = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                     static_cast<int>(bytes.size()), &w, &h, &c, 3);
  EXPECT_NE(p, nullptr) << "not a valid PNG: " << stbi_failure_reason();
  EXPECT_EQ(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n"), 0) << "no PNG signature";
  if (p == nullptr) return {};
  if (channels != nullptr) *channels = c;
  draw::Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(p, p + static_cast<size_t>(w) * h * 3);
  stbi_image_free(p);
  return img;
}

}  // namespace edgefit::testing
