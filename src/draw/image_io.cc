#include "draw/image_io.h"

#include <utility>

#include "io/image.h"
#include "io/npy.h"  // WriteFileAtomic

namespace edgefit::draw {

namespace {

Image FromPixels(RgbPixels&& p) {
  Image img;
  img.width = p.width;
  img.height = p.height;
  img.rgb = std::move(p.rgb);
  return img;
}

}  // namespace

StatusOr<Image> DecodeImage(const std::string& bytes, const std::string& origin) {
  ASSIGN_OR_RETURN(RgbPixels pixels, edgefit::DecodeImage(bytes, origin));
  return FromPixels(std::move(pixels));
}

StatusOr<Image> ReadImage(const std::string& path) {
  ASSIGN_OR_RETURN(RgbPixels pixels, ReadImageFile(path));
  return FromPixels(std::move(pixels));
}

StatusOr<std::string> EncodePng(const Image& img) {
  return edgefit::EncodePng(img.width, img.height, img.rgb);
}

Status WritePng(const Image& img, const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, EncodePng(img));
  return WriteFileAtomic(path, bytes);
}

}  // namespace edgefit::draw
