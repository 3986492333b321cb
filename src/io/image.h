// JPEG/PNG files <-> 8-bit RGB pixels (stb_image / stb_image_write from Debian's libstb-dev,
// compiled into image.cc alone). Used by calibration images (edgefit_data) and the pictures of
// `edgefit draw`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgefit/status.h"

namespace edgefit {

// Larger images are refused before decoding (a header can claim any size).
constexpr int64_t kMaxImagePixels = int64_t{1} << 28;

// Row-major, 3 bytes per pixel (R, G, B), no padding.
struct RgbPixels {
  int width = 0;
  int height = 0;
  int source_channels = 0;  // channels in the file: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  std::vector<uint8_t> rgb;
};

// Width and height from the header alone; errors name the file.
Status ReadImageSize(const std::string& path, int* width, int* height);

// Decodes a JPEG or PNG as 8-bit RGB: alpha dropped, 16-bit reduced to 8 bits, grey expanded.
// `origin` names the bytes in error messages.
StatusOr<RgbPixels> DecodeImage(const std::string& bytes, const std::string& origin);
StatusOr<RgbPixels> ReadImageFile(const std::string& path);

// 8-bit RGB pixels (width * height * 3 bytes) as PNG bytes, no interlacing.
StatusOr<std::string> EncodePng(int width, int height, const std::vector<uint8_t>& rgb);

}  // namespace edgefit
