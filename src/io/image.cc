#include "io/image.h"

#include <climits>
#include <fstream>
#include <sstream>

// stb_image and stb_image_write: JPEG and PNG only, messages for users, static linkage.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_FAILURE_USERMSG
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
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
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace edgefit {
namespace {

std::string Reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown";
}

Status CheckSize(int w, int h, const std::string& origin) {
  if (w <= 0 || h <= 0 || int64_t{w} * h > kMaxImagePixels)
    return InvalidArgument(origin + ": image of " + std::to_string(w) + "x" + std::to_string(h) +
                           " pixels is above the limit of " + std::to_string(kMaxImagePixels) +
                           " pixels");
  return Status::Ok();
}

}  // namespace

Status ReadImageSize(const std::string& path, int* width, int* height) {
  int channels = 0;
  if (!stbi_info(path.c_str(), width, height, &channels))
    return InvalidArgument(path + ": not a readable JPEG or PNG image (" + Reason() + ")");
  return CheckSize(*width, *height, path);
}

StatusOr<RgbPixels> DecodeImage(const std::string& bytes, const std::string& origin) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return InvalidArgument(origin + ": file too large for an image");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  RgbPixels img;
  if (!stbi_info_from_memory(data, len, &img.width, &img.height, &img.source_channels))
    return InvalidArgument(origin + ": not a readable JPEG or PNG image (" + Reason() + ")");
  RETURN_IF_ERROR(CheckSize(img.width, img.height, origin));
  stbi_uc* pixels =
      stbi_load_from_memory(data, len, &img.width, &img.height, &img.source_channels, 3);
  if (pixels == nullptr)
    return InvalidArgument(origin + ": cannot decode the image (" + Reason() + ")");
  img.rgb.assign(pixels, pixels + static_cast<size_t>(img.width) * img.height * 3);
  stbi_image_free(pixels);
  return img;
}

StatusOr<RgbPixels> ReadImageFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot open image");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError(path + ": cannot read image");
  return DecodeImage(ss.str(), path);
}

StatusOr<std::string> EncodePng(int width, int height, const std::vector<uint8_t>& rgb) {
  if (width <= 0 || height <= 0 || rgb.size() != static_cast<size_t>(width) * height * 3)
    return InvalidArgument("cannot encode an empty or inconsistent picture as PNG");
  std::string out;
  auto append = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size);
  };
  if (!stbi_write_png_to_func(append, &out, width, height, 3, rgb.data(), width * 3))
    return Internal("PNG encoding failed");
  return out;
}

}  // namespace edgefit
