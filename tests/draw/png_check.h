// Test helper: decodes PNG bytes with stb_image (io/image.h), so the encoder (stb_image_write)
// is checked by an independent decoder.
#pragma once

#include <string>

#include "draw/canvas.h"

namespace edgefit::testing {

// Decodes PNG bytes as 8-bit RGB; an empty picture (and a test failure) when they are not a
// valid PNG. `channels` receives the channel count stored in the file.
draw::Image DecodePngForTest(const std::string& bytes, int* channels = nullptr);

}  // namespace edgefit::testing
