// Reading and writing the pictures of `edgefit draw` (io/image.h on draw::Image).
#pragma once

#include <string>

#include "draw/canvas.h"
#include "edgefit/status.h"

namespace edgefit::draw {

// Decodes a JPEG or PNG file as 8-bit RGB, with the decoder the data library uses before
// resizing (alpha dropped, 16-bit reduced to 8 bits, grey expanded; images above 2^28 pixels
// refused).
StatusOr<Image> ReadImage(const std::string& path);
// Decodes JPEG/PNG bytes; `origin` names them in error messages.
StatusOr<Image> DecodeImage(const std::string& bytes, const std::string& origin);

// The picture as PNG bytes (8-bit RGB, no interlacing).
StatusOr<std::string> EncodePng(const Image& img);
// Writes the picture as a PNG file atomically (temporary file + rename).
Status WritePng(const Image& img, const std::string& path);

}  // namespace edgefit::draw
