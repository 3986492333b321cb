#include "draw/image_io.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "io/npy.h"  // WriteFileAtomic

// stb_image and stb_image_write with static linkage: the implementation stays private to this
// file (edgefit_data compiles its own stb_image with external linkage).
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

namespace edgefit::draw {

namespace {
constexpr long long kMaxPixels = 1LL << 28;  // as src/data/dataset.cc
}

StatusOr<Image> DecodeImage(const std::string& bytes, const std::string& origin) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    return InvalidArgument(origin + ": file too large for an image");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &c))
    return InvalidArgument(origin + ": not a readable JPEG or PNG image (" +
                           std::string(stbi_failure_reason()) + ")");
  if (w <= 0 || h <= 0 || static_cast<long long>(w) * h > kMaxPixels)
    return InvalidArgument(origin + ": image of " + std::to_string(w) + "x" + std::to_string(h) +
                           " pixels; at most 2^28 pixels are supported");
  stbi_uc* pixels = stbi_load_from_memory(data, len, &w, &h, &c, 3);
  if (pixels == nullptr)
    return InvalidArgument(origin + ": cannot decode image (" + std::string(stbi_failure_reason()) +
                           ")");
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(pixels, pixels + static_cast<size_t>(w) * h * 3);
  stbi_image_free(pixels);
  return img;
}

StatusOr<Image> ReadImage(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot open image");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError(path + ": cannot read image");
  return DecodeImage(ss.str(), path);
}

StatusOr<std::string> EncodePng(const Image& img) {
  if (img.empty() || img.rgb.size() != static_cast<size_t>(img.width) * img.height * 3)
    return InvalidArgument("cannot encode an empty or inconsistent picture as PNG");
  std::string out;
  auto append = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size);
  };
  if (!stbi_write_png_to_func(append, &out, img.width, img.height, 3, img.rgb.data(),
                              img.width * 3))
    return Internal("PNG encoding failed");
  return out;
}

Status WritePng(const Image& img, const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, EncodePng(img));
  return WriteFileAtomic(path, bytes);
}

}  // namespace edgefit::draw
