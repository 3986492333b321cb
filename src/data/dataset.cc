// Sample data for calibration, verification and comparison (docs/data.md).
//
// Open() turns the sources into, per model input, a list of chunks: one per file (or .npz
// member) with the number of samples it holds and whether they are rows along axis 0. Only
// headers are read there. Get(i) maps i through the max_samples selection to a source sample,
// finds its chunk per input by binary search and reads just that sample (one row at its offset
// for N-sample arrays, one decoded image), so memory does not grow with the number of samples.
#include "data/dataset.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <system_error>

#include "io/image.h"
#include "io/npy.h"

namespace edgefit {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

// Preprocess JSON files are tiny; refuse anything that is clearly something else.
constexpr uintmax_t kMaxPreprocessBytes = 1 << 20;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string SpecString(const InputSpec& spec) {
  return "'" + spec.name + "' (" + DataTypeName(spec.dtype) + " " + ShapeToString(spec.shape) + ")";
}

std::string JoinNames(const std::vector<InputSpec>& inputs) {
  std::string s;
  for (const InputSpec& in : inputs) s += (s.empty() ? "" : ", ") + in.name;
  return s;
}

// ------------------------------------------------------------------------------ preprocess

std::string JsonErrorReason(const std::string& what) {
  size_t column = what.find("column ");
  if (column != std::string::npos) {
    size_t colon = what.find(": ", column);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

// A number or a non-empty list of numbers, each finite (and > 0 when `positive`).
Status ReadFloats(const Json& j, const std::string& key, bool positive, const std::string& origin,
                  std::vector<float>* out) {
  std::string expected =
      std::string("a number or a list of 1 or 3 ") + (positive ? "positive numbers" : "numbers");
  std::vector<const Json*> items;
  if (j.is_number()) {
    items.push_back(&j);
  } else if (j.is_array()) {
    for (const Json& item : j) items.push_back(&item);
  } else {
    return InvalidArgument(origin + ": '" + key + "' must be " + expected + ", got " +
                           j.type_name());
  }
  if (items.size() != 1 && items.size() != 3)
    return InvalidArgument(origin + ": '" + key + "' has " + std::to_string(items.size()) +
                           " values; it must be " + expected);
  out->clear();
  for (const Json* item : items) {
    double v = item->is_number() ? item->get<double>() : NAN;
    if (!std::isfinite(v) || (positive && v <= 0) || std::fabs(v) > 3.0e38)
      return InvalidArgument(origin + ": '" + key + "' must be " + expected + ", got " +
                             item->dump());
    out->push_back(static_cast<float>(v));
  }
  return Status::Ok();
}

// mean/std values for `channels` channels: one value for all, one per channel, or a list whose
// values are all equal (so the defaults {0,0,0} / {1,1,1} also fit a grey input).
bool FitsChannels(const std::vector<float>& v, int64_t channels) {
  if (v.size() == 1 || static_cast<int64_t>(v.size()) == channels) return true;
  return !v.empty() && std::all_of(v.begin(), v.end(), [&](float x) { return x == v[0]; });
}
float ChannelValue(const std::vector<float>& v, int64_t c) {
  return v.size() == 1 || c >= static_cast<int64_t>(v.size()) ? v[0] : v[c];
}

// ------------------------------------------------------------------------------ sources

enum class FileKind { kNpy, kNpz, kImage };

// The kind of file `path` names by its extension, or nullopt.
std::optional<FileKind> KindOf(const fs::path& path) {
  std::string ext = Lower(path.extension().string());
  if (ext == ".npy") return FileKind::kNpy;
  if (ext == ".npz") return FileKind::kNpz;
  if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") return FileKind::kImage;
  return std::nullopt;
}

constexpr const char* kUsableFiles = ".npy, .npz, .jpg, .jpeg or .png";

struct SourceFile {
  std::string path;
  FileKind kind;
};

// A file, or the usable files of a directory sorted by name (not recursive).
StatusOr<std::vector<SourceFile>> ExpandSource(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    if (ec && ec != std::errc::no_such_file_or_directory)
      return IoError(path + ": cannot access: " + ec.message());
    return NotFound(path + ": no such file or directory");
  }
  if (fs::is_directory(st)) {
    std::vector<std::string> names;
    fs::directory_iterator it(path, ec);
    if (ec) return IoError(path + ": cannot list the directory: " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return IoError(path + ": cannot list the directory: " + ec.message());
      std::error_code fec;
      if (!it->is_regular_file(fec) || !KindOf(it->path())) continue;
      names.push_back(it->path().filename().string());
    }
    if (ec) return IoError(path + ": cannot list the directory: " + ec.message());
    if (names.empty())
      return InvalidArgument(path + ": the directory holds no usable files (expected " +
                             kUsableFiles + ")");
    std::sort(names.begin(), names.end());
    std::vector<SourceFile> files;
    for (const std::string& name : names) {
      fs::path p = fs::path(path) / name;
      files.push_back({p.string(), *KindOf(p)});
    }
    return files;
  }
  if (!fs::is_regular_file(st)) return InvalidArgument(path + ": not a file or directory");
  std::optional<FileKind> kind = KindOf(path);
  if (!kind)
    return InvalidArgument(path + ": unsupported file type (expected " + kUsableFiles + ")");
  return std::vector<SourceFile>{{path, *kind}};
}

// One file (or .npz member) feeding one input.
struct Chunk {
  std::string path;
  FileKind kind = FileKind::kNpy;
  std::string member;  // kNpz: the member holding this input
  Shape array_shape;   // as stored (arrays only)
  int64_t count = 1;   // samples
  bool rows = false;   // samples are rows along axis 0 (else the whole array is one sample)
  int64_t first = 0;   // index of its first sample in the input's sample stream
};

struct InputData {
  std::vector<Chunk> chunks;
  int64_t total = 0;
  void Add(Chunk c) {
    c.first = total;
    total += c.count;
    chunks.push_back(std::move(c));
  }
  // The chunk holding sample k (0 <= k < total) and the sample's index inside it.
  std::pair<const Chunk*, int64_t> Find(int64_t k) const {
    auto it = std::upper_bound(chunks.begin(), chunks.end(), k,
                               [](int64_t v, const Chunk& c) { return v < c.first; });
    const Chunk& c = *(it - 1);
    return {&c, k - c.first};
  }
};

// How an array of `h` feeds `spec`: {samples, rows?}. See docs/data.md "Arrays".
StatusOr<std::pair<int64_t, bool>> MatchArray(const NpyHeader& h, const InputSpec& spec,
                                              const std::string& origin) {
  if (h.dtype != spec.dtype)
    return InvalidArgument(origin + ": dtype " + DataTypeName(h.dtype) + " (shape " +
                           ShapeToString(h.shape) + ") does not match input " + SpecString(spec) +
                           "; edgefit does not convert data, save the array as " +
                           DataTypeName(spec.dtype));
  const Shape& a = h.shape;
  const Shape& s = spec.shape;
  std::optional<std::pair<int64_t, bool>> match;
  if (a == s) {
    match = {1, false};
  } else if (a.size() == s.size() + 1 && std::equal(s.begin(), s.end(), a.begin() + 1)) {
    match = {a[0], true};  // [N, *shape]
  } else if (!s.empty() && s[0] == 1 && a.size() == s.size() &&
             std::equal(s.begin() + 1, s.end(), a.begin() + 1)) {
    match = {a[0], true};  // batch 1: [N, *shape[1:]]
  }
  if (!match) {
    Shape tail(s.begin() + (s.empty() || s[0] != 1 ? 0 : 1), s.end());
    std::string n_tail = ShapeToString(tail);
    n_tail =
        "[N" + (tail.empty() ? std::string() : "," + n_tail.substr(1, n_tail.size() - 2)) + "]";
    std::string n_full = ShapeToString(s);
    n_full = "[N" + (s.empty() ? std::string() : "," + n_full.substr(1, n_full.size() - 2)) + "]";
    std::string expected = ShapeToString(s) + " (one sample) or " + n_tail;
    if (n_full != n_tail) expected += " or " + n_full;
    return InvalidArgument(origin + ": shape " + ShapeToString(a) + " (" + DataTypeName(h.dtype) +
                           ") does not fit input " + SpecString(spec) + ": expected " + expected +
                           " (N samples)");
  }
  if (match->first == 0)
    return InvalidArgument(origin + ": shape " + ShapeToString(a) + " holds no samples for input " +
                           SpecString(spec));
  return *match;
}

// Channels, height and width of an image input; fails unless it is float32 [1,C,H,W] (NCHW) or
// [1,H,W,C] (NHWC) with C 1 or 3.
struct ImageDims {
  int64_t c = 0, h = 0, w = 0;
};
StatusOr<ImageDims> ImageInputDims(const InputSpec& spec, const ImagePreprocess& pre,
                                   const std::string& origin) {
  bool nchw = pre.layout == ImageLayout::kNchw;
  const char* layout = nchw ? "NCHW" : "NHWC";
  std::string fail = origin + ": images can only feed a float32 input of shape " +
                     (nchw ? "[1,C,H,W]" : "[1,H,W,C]") + " (layout " + layout +
                     ") with C = 3 or 1; input " + SpecString(spec);
  if (spec.dtype != DataType::kFloat) return InvalidArgument(fail + " is not float32");
  if (spec.shape.size() != 4) return InvalidArgument(fail + " is not 4-D");
  if (spec.shape[0] != 1) return InvalidArgument(fail + " does not have batch 1");
  ImageDims d;
  d.c = nchw ? spec.shape[1] : spec.shape[3];
  d.h = nchw ? spec.shape[2] : spec.shape[1];
  d.w = nchw ? spec.shape[3] : spec.shape[2];
  if (d.c != 1 && d.c != 3) {
    int64_t other = nchw ? spec.shape[3] : spec.shape[1];  // channels in the other layout
    return InvalidArgument(fail + " has " + std::to_string(d.c) + " channels" +
                           (other == 1 || other == 3
                                ? std::string(" (is it ") + (nchw ? "NHWC" : "NCHW") +
                                      "? set \"layout\" in the preprocessing spec)"
                                : ""));
  }
  if (d.h <= 0 || d.w <= 0) return InvalidArgument(fail + " has an empty height or width");
  for (auto [values, key] : {std::pair{&pre.mean, "mean"}, std::pair{&pre.std, "std"}}) {
    if (!FitsChannels(*values, d.c))
      return InvalidArgument(origin + ": the preprocessing '" + key + "' has " +
                             std::to_string(values->size()) + " values, input " + SpecString(spec) +
                             " has " + std::to_string(d.c) + " channel" + (d.c == 1 ? "" : "s"));
  }
  return d;
}

// Reads only the image header.
Status CheckImageHeader(const std::string& path) {
  int w = 0, h = 0;
  return ReadImageSize(path, &w, &h);
}

// Bilinear sampling positions along one axis, half-pixel centres (OpenCV INTER_LINEAR, PyTorch
// interpolate(align_corners=False) without antialiasing): source coordinate
// (dst + 0.5) * in / out - 0.5, clamped to [0, in - 1].
struct Tap {
  int64_t i0, i1;
  float f;  // weight of i1
};
std::vector<Tap> BilinearTaps(int64_t in, int64_t out) {
  std::vector<Tap> taps(static_cast<size_t>(out));
  double ratio = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t o = 0; o < out; ++o) {
    double src = (static_cast<double>(o) + 0.5) * ratio - 0.5;
    src = std::clamp(src, 0.0, static_cast<double>(in - 1));
    int64_t i0 = static_cast<int64_t>(std::floor(src));
    int64_t i1 = std::min(i0 + 1, in - 1);
    taps[static_cast<size_t>(o)] = {i0, i1, static_cast<float>(src - static_cast<double>(i0))};
  }
  return taps;
}

StatusOr<Tensor> LoadImage(const std::string& path, const InputSpec& spec,
                           const ImagePreprocess& pre) {
  ASSIGN_OR_RETURN(ImageDims d, ImageInputDims(spec, pre, path));
  ASSIGN_OR_RETURN(RgbPixels image, ReadImageFile(path));
  const int64_t w = image.width, h = image.height;
  std::vector<Tap> ys = BilinearTaps(h, d.h), xs = BilinearTaps(w, d.w);
  Tensor t(DataType::kFloat, spec.shape);
  float* out = t.data<float>();
  const unsigned char* px = image.rgb.data();
  bool nchw = pre.layout == ImageLayout::kNchw;
  bool bgr = pre.color == ColorOrder::kBgr;
  float rgb[3];
  for (int64_t y = 0; y < d.h; ++y) {
    const Tap& ty = ys[static_cast<size_t>(y)];
    for (int64_t x = 0; x < d.w; ++x) {
      const Tap& tx = xs[static_cast<size_t>(x)];
      for (int k = 0; k < 3; ++k) {
        auto at = [&](int64_t yy, int64_t xx) {
          return static_cast<float>(px[(yy * w + xx) * 3 + k]);
        };
        float top = at(ty.i0, tx.i0) + (at(ty.i0, tx.i1) - at(ty.i0, tx.i0)) * tx.f;
        float bottom = at(ty.i1, tx.i0) + (at(ty.i1, tx.i1) - at(ty.i1, tx.i0)) * tx.f;
        rgb[k] = top + (bottom - top) * ty.f;
      }
      for (int64_t c = 0; c < d.c; ++c) {
        // Grey: ITU-R BT.601 luma of the resized RGB.
        float v = d.c == 1 ? 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2]
                  : bgr    ? rgb[2 - c]
                           : rgb[c];
        v = (v * pre.scale - ChannelValue(pre.mean, c)) / ChannelValue(pre.std, c);
        int64_t index = nchw ? (c * d.h + y) * d.w + x : (y * d.w + x) * d.c + c;
        out[index] = v;
      }
    }
  }
  return t;
}

// Index of the first NaN or Inf, or -1.
int64_t FirstNonFinite(const Tensor& t) {
  int64_t n = t.numel();
  switch (t.dtype()) {
    case DataType::kFloat: {
      const float* p = t.data<float>();
      for (int64_t i = 0; i < n; ++i)
        if (!std::isfinite(p[i])) return i;
      return -1;
    }
    case DataType::kDouble: {
      const double* p = t.data<double>();
      for (int64_t i = 0; i < n; ++i)
        if (!std::isfinite(p[i])) return i;
      return -1;
    }
    case DataType::kFloat16: {
      const uint16_t* p = t.data<uint16_t>();
      for (int64_t i = 0; i < n; ++i)
        if ((p[i] & 0x7c00) == 0x7c00) return i;
      return -1;
    }
    case DataType::kBfloat16: {
      const uint16_t* p = t.data<uint16_t>();
      for (int64_t i = 0; i < n; ++i)
        if ((p[i] & 0x7f80) == 0x7f80) return i;
      return -1;
    }
    default: return -1;
  }
}

std::string ChunkSampleName(const Chunk& c, int64_t row) {
  return c.rows ? c.path + "[" + std::to_string(row) + "]" : c.path;
}

// Random values: floats uniform in [0, 1), integers 0..9, bools 0/1. The bits are taken from
// mt19937_64 directly (not through std::uniform_*_distribution, whose output differs between
// standard libraries) so the same seed gives the same data everywhere.
void FillRandom(Tensor* t, std::mt19937_64* rng) {
  int64_t n = t->numel();
  auto unit = [&] { return static_cast<float>((*rng)() >> 40) * 0x1.0p-24f; };
  switch (t->dtype()) {
    case DataType::kFloat:
      for (int64_t i = 0; i < n; ++i) t->data<float>()[i] = unit();
      break;
    case DataType::kDouble:
      for (int64_t i = 0; i < n; ++i)
        t->data<double>()[i] = static_cast<double>((*rng)() >> 11) * 0x1.0p-53;
      break;
    case DataType::kFloat16:
      for (int64_t i = 0; i < n; ++i) t->data<uint16_t>()[i] = FloatToHalf(unit());
      break;
    case DataType::kBfloat16:
      for (int64_t i = 0; i < n; ++i) t->data<uint16_t>()[i] = FloatToBfloat16(unit());
      break;
    case DataType::kBool:
      for (int64_t i = 0; i < n; ++i) t->data<uint8_t>()[i] = static_cast<uint8_t>((*rng)() & 1);
      break;
    default: {
      // Integers: 0..9 fit every integer type; write them through their own width.
      size_t size = DataTypeSize(t->dtype());
      auto* bytes = static_cast<uint8_t*>(t->raw());
      for (int64_t i = 0; i < n; ++i) {
        uint64_t v = (*rng)() % 10;
        std::memcpy(bytes + static_cast<size_t>(i) * size, &v, size);  // little-endian
      }
    }
  }
}

bool RandomFillable(DataType type) {
  switch (type) {
    case DataType::kString:
    case DataType::kComplex64:
    case DataType::kComplex128:
    case DataType::kUndefined: return false;
    default: return true;
  }
}

}  // namespace

// ------------------------------------------------------------------------------ InputSpecsOf

StatusOr<std::vector<InputSpec>> InputSpecsOf(const Model& model) {
  std::vector<InputSpec> specs;
  for (const Value* v : model.graph->inputs()) {
    if (v->has_initializer()) continue;
    const TypeInfo& t = v->type();
    if (!t.is_tensor())
      return Unsupported("input '" + v->name() +
                         "' is not a tensor; only tensor inputs can be fed");
    if (t.elem_type == DataType::kUndefined)
      return InvalidModel("input '" + v->name() + "' has no element type");
    std::optional<Shape> shape = t.StaticShape();
    if (!shape) {
      std::string example;
      for (const Dim& d : t.dims)
        example += (example.empty() ? "" : ",") + (d.is_fixed() ? std::to_string(d.value) : "1");
      std::string hint = "fix the input shapes first, e.g. `edgefit fix MODEL --input-shape " +
                         v->name() + "=" + (t.has_shape ? example : "D0,D1,...") + " ...`";
      return FailedPrecondition("input '" + v->name() + "' " + t.ShapeString() + " has " +
                                (t.has_shape ? "a dynamic dimension" : "an unknown rank") +
                                "; sample data needs static shapes: " + hint);
    }
    specs.push_back({v->name(), t.elem_type, std::move(*shape)});
  }
  return specs;
}

// ------------------------------------------------------------------------------ preprocess

StatusOr<ImagePreprocess> ParseImagePreprocess(const std::string& json_text,
                                               const std::string& origin) {
  Json j;
  try {
    j = Json::parse(json_text);
  } catch (const std::exception& e) {
    return InvalidArgument(origin + ": invalid JSON: " + JsonErrorReason(e.what()));
  }
  if (!j.is_object())
    return InvalidArgument(origin +
                           ": expected a JSON object such as {\"layout\": \"NCHW\", "
                           "\"color\": \"RGB\", \"scale\": 0.00392, \"mean\": [..], "
                           "\"std\": [..]}, got " +
                           j.type_name());
  ImagePreprocess p;
  for (const auto& [key, value] : j.items()) {
    if (key == "layout" || key == "color") {
      std::string s = value.is_string() ? Lower(value.get<std::string>()) : "";
      if (key == "layout" && (s == "nchw" || s == "nhwc")) {
        p.layout = s == "nchw" ? ImageLayout::kNchw : ImageLayout::kNhwc;
      } else if (key == "color" && (s == "rgb" || s == "bgr")) {
        p.color = s == "rgb" ? ColorOrder::kRgb : ColorOrder::kBgr;
      } else {
        return InvalidArgument(origin + ": '" + key + "' must be " +
                               (key == "layout" ? "\"NCHW\" or \"NHWC\"" : "\"RGB\" or \"BGR\"") +
                               ", got " + value.dump());
      }
    } else if (key == "scale") {
      double v = value.is_number() ? value.get<double>() : NAN;
      if (!std::isfinite(v) || v <= 0 || v > 3.0e38)
        return InvalidArgument(origin + ": 'scale' must be a positive number, got " + value.dump());
      p.scale = static_cast<float>(v);
    } else if (key == "mean" || key == "std") {
      RETURN_IF_ERROR(
          ReadFloats(value, key, key == "std", origin, key == "mean" ? &p.mean : &p.std));
    } else {
      return InvalidArgument(origin + ": unknown key '" + key +
                             "' (known: layout, color, scale, mean, std)");
    }
  }
  return p;
}

StatusOr<ImagePreprocess> LoadImagePreprocess(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound(path + ": no such file");
  if (!fs::is_regular_file(path, ec)) return InvalidArgument(path + ": not a file");
  uintmax_t size = fs::file_size(path, ec);
  if (ec) return IoError(path + ": cannot read: " + ec.message());
  if (size > kMaxPreprocessBytes)
    return InvalidArgument(path + ": " + std::to_string(size) +
                           " bytes is too large for an image preprocessing spec");
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return IoError(path + ": cannot read");
  return ParseImagePreprocess(text.str(), path);
}

// ------------------------------------------------------------------------------ Dataset

struct Dataset::Impl {
  std::vector<InputSpec> inputs;
  std::vector<InputData> data;  // per input (empty when random)
  std::optional<ImagePreprocess> image;
  bool random = false;
  uint64_t seed = 0;
  int64_t total = 0;     // samples the sources hold
  int64_t selected = 0;  // size()

  // The source sample behind sample i: floor(i * total / selected).
  int64_t SourceIndex(int64_t i) const {
    if (selected >= total) return i;
    return static_cast<int64_t>(static_cast<unsigned __int128>(i) *
                                static_cast<unsigned __int128>(total) /
                                static_cast<unsigned __int128>(selected));
  }

  StatusOr<Tensor> ReadChunkSample(const Chunk& c, int64_t row, const InputSpec& spec) const;
};

StatusOr<Tensor> Dataset::Impl::ReadChunkSample(const Chunk& c, int64_t row,
                                                const InputSpec& spec) const {
  if (c.kind == FileKind::kImage) return LoadImage(c.path, spec, *image);
  StatusOr<Tensor> t = Tensor();
  if (c.array_shape.empty()) {  // a 0-d array: only ever one whole sample
    if (c.kind == FileKind::kNpy) {
      t = ReadNpy(c.path);
    } else {
      auto entries = ReadNpz(c.path);
      if (!entries.ok()) return entries.status();
      for (NpzEntry& e : *entries)
        if (e.name == c.member) t = std::move(e.tensor);
    }
  } else {
    int64_t first = c.rows ? row : 0;
    int64_t count = c.rows ? 1 : c.array_shape[0];
    t = c.kind == FileKind::kNpy ? ReadNpyRows(c.path, first, count)
                                 : ReadNpzRows(c.path, c.member, first, count);
  }
  if (!t.ok()) return t.status();
  if (t->dtype() != spec.dtype || t->numel() != NumElements(spec.shape))
    return FailedPrecondition(c.path + ": the file changed since the data set was opened (now " +
                              DataTypeName(t->dtype()) + " " + ShapeToString(t->shape()) + ")");
  return t->Reshaped(spec.shape);
}

Dataset::Dataset(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dataset::Dataset(Dataset&&) noexcept = default;
Dataset& Dataset::operator=(Dataset&&) noexcept = default;
Dataset::~Dataset() = default;

int64_t Dataset::size() const { return impl_->selected; }
int64_t Dataset::total_size() const { return impl_->total; }
bool Dataset::is_random() const { return impl_->random; }
const std::vector<InputSpec>& Dataset::inputs() const { return impl_->inputs; }

StatusOr<Dataset> Dataset::Open(const DatasetOptions& options, std::vector<InputSpec> inputs) {
  auto impl = std::make_unique<Impl>();
  if (inputs.empty()) return InvalidArgument("the model has no inputs to feed");
  std::set<std::string> names;
  for (const InputSpec& in : inputs) {
    if (!names.insert(in.name).second)
      return InvalidArgument("the model lists input '" + in.name + "' twice");
    if (NumElements(in.shape) < 0)
      return InvalidArgument("input " + SpecString(in) + " has an invalid shape");
  }
  if (options.max_samples < 0)
    return InvalidArgument("the sample count must be positive (or 0 for all), got " +
                           std::to_string(options.max_samples));
  impl->inputs = std::move(inputs);
  impl->image = options.image;
  const std::vector<InputSpec>& specs = impl->inputs;

  if (options.random) {
    if (!options.sources.empty())
      return InvalidArgument("random data and data files are exclusive; give one or the other");
    if (options.random_count <= 0)
      return InvalidArgument("random data needs a positive sample count, got " +
                             std::to_string(options.random_count));
    for (const InputSpec& in : specs)
      if (!RandomFillable(in.dtype))
        return Unsupported("cannot make random data for input " + SpecString(in));
    impl->random = true;
    impl->seed = options.seed;
    impl->total = options.random_count;
  } else {
    if (options.sources.empty())
      return InvalidArgument("no sample data given: pass .npy/.npz files, images or directories");
    impl->data.resize(specs.size());
    auto index_of = [&](const std::string& name) -> int {
      for (size_t k = 0; k < specs.size(); ++k)
        if (specs[k].name == name) return static_cast<int>(k);
      return -1;
    };
    for (const std::string& source : options.sources) {
      // "NAME=PATH" when NAME is an input; otherwise the whole text is a path (which may hold
      // '=' itself).
      int bound = -1;
      std::string path = source;
      size_t eq = source.find('=');
      if (eq != std::string::npos && index_of(source.substr(0, eq)) >= 0) {
        bound = index_of(source.substr(0, eq));
        path = source.substr(eq + 1);
        if (path.empty()) return InvalidArgument("'" + source + "': no path after '='");
      } else if (eq != std::string::npos && source.find('/') > eq) {
        std::error_code ec;
        if (!fs::exists(source, ec))
          return InvalidArgument("'" + source + "': '" + source.substr(0, eq) +
                                 "' is not an input of the model (inputs: " + JoinNames(specs) +
                                 ")");
      }
      ASSIGN_OR_RETURN(std::vector<SourceFile> files, ExpandSource(path));
      int single = bound >= 0 ? bound : specs.size() == 1 ? 0 : -1;
      for (const SourceFile& f : files) {
        if (single < 0 && f.kind != FileKind::kNpz)
          return InvalidArgument(f.path + ": the model has " + std::to_string(specs.size()) +
                                 " inputs (" + JoinNames(specs) +
                                 "); bind each source to one with NAME=PATH, or use .npz files "
                                 "whose keys are the input names");
        switch (f.kind) {
          case FileKind::kNpy: {
            ASSIGN_OR_RETURN(NpyHeader h, ReadNpyHeader(f.path));
            ASSIGN_OR_RETURN(auto match, MatchArray(h, specs[single], f.path));
            impl->data[single].Add({f.path, f.kind, "", h.shape, match.first, match.second, 0});
            break;
          }
          case FileKind::kImage: {
            if (!impl->image)
              return InvalidArgument(
                  f.path +
                  ": image files need a preprocessing spec (layout, color order, scale, "
                  "mean/std; see docs/data.md); pass one");
            RETURN_IF_ERROR(ImageInputDims(specs[single], *impl->image, f.path).status());
            RETURN_IF_ERROR(CheckImageHeader(f.path));
            impl->data[single].Add({f.path, f.kind, "", {}, 1, false, 0});
            break;
          }
          case FileKind::kNpz: {
            ASSIGN_OR_RETURN(std::vector<NpzMemberHeader> members, ReadNpzHeaders(f.path));
            std::string member_names;
            for (const NpzMemberHeader& m : members)
              member_names += (member_names.empty() ? "" : ", ") + m.name;
            auto find = [&](const std::string& name) -> const NpzMemberHeader* {
              for (const NpzMemberHeader& m : members)
                if (m.name == name) return &m;
              return nullptr;
            };
            // Which member feeds which input: the member named after the input; a lone member
            // feeds a lone (or bound) input whatever its name (np.savez(f, a) calls it arr_0).
            std::vector<std::pair<int, const NpzMemberHeader*>> uses;
            if (single >= 0) {
              const NpzMemberHeader* m = find(specs[single].name);
              if (!m && members.size() == 1) m = &members[0];
              if (!m)
                return InvalidArgument(
                    f.path + ": no array named '" + specs[single].name +
                    "' (arrays: " + (member_names.empty() ? "none" : member_names) +
                    "); name it after the model input");
              uses.push_back({single, m});
            } else {
              std::string missing;
              for (size_t k = 0; k < specs.size(); ++k) {
                const NpzMemberHeader* m = find(specs[k].name);
                if (!m)
                  missing += (missing.empty() ? "'" : ", '") + specs[k].name + "'";
                else
                  uses.push_back({static_cast<int>(k), m});
              }
              if (!missing.empty())
                return InvalidArgument(f.path + ": no array for input " + missing + " (arrays: " +
                                       (member_names.empty() ? "none" : member_names) +
                                       "); its keys must be the model's input names");
            }
            int64_t count = -1;
            std::string first_name;
            for (const auto& [k, m] : uses) {
              std::string origin = f.path + " (array '" + m->name + "')";
              ASSIGN_OR_RETURN(auto match, MatchArray(m->header, specs[k], origin));
              if (count >= 0 && match.first != count)
                return InvalidArgument(f.path + ": array '" + m->name + "' holds " +
                                       std::to_string(match.first) + " samples, array '" +
                                       first_name + "' " + std::to_string(count) +
                                       "; every input needs the same number of samples");
              if (count < 0) first_name = m->name;
              count = match.first;
              impl->data[k].Add(
                  {f.path, f.kind, m->name, m->header.shape, match.first, match.second, 0});
            }
            break;
          }
        }
      }
    }
    // Every input needs data, the same number of samples each (samples pair up by position).
    std::string counts;
    bool equal = true;
    for (size_t k = 0; k < specs.size(); ++k) {
      if (impl->data[k].total == 0)
        return InvalidArgument("no data for input '" + specs[k].name +
                               "'; bind a source to it with " + specs[k].name + "=PATH");
      counts += (counts.empty() ? "" : ", ") + specs[k].name + ": " +
                std::to_string(impl->data[k].total) + " from " + impl->data[k].chunks[0].path +
                (impl->data[k].chunks.size() > 1 ? " ..." : "");
      equal = equal && impl->data[k].total == impl->data[0].total;
    }
    if (!equal)
      return InvalidArgument("the inputs have different numbers of samples (" + counts +
                             "); every input needs the same number");
    impl->total = impl->data[0].total;
  }
  impl->selected =
      options.max_samples > 0 ? std::min(options.max_samples, impl->total) : impl->total;
  return Dataset(std::move(impl));
}

StatusOr<std::vector<NamedTensor>> Dataset::Get(int64_t i) const {
  const Impl& m = *impl_;
  if (i < 0 || i >= m.selected)
    return InvalidArgument("sample " + std::to_string(i) + " is out of range (the data set has " +
                           std::to_string(m.selected) + ")");
  std::vector<NamedTensor> out;
  out.reserve(m.inputs.size());
  if (m.random) {
    // One generator per sample, seeded from (seed, i): sample i is the same whatever else is read.
    std::seed_seq seq{static_cast<uint32_t>(m.seed), static_cast<uint32_t>(m.seed >> 32),
                      static_cast<uint32_t>(i),
                      static_cast<uint32_t>(static_cast<uint64_t>(i) >> 32)};
    std::mt19937_64 rng(seq);
    for (const InputSpec& spec : m.inputs) {
      Tensor t(spec.dtype, spec.shape);
      FillRandom(&t, &rng);
      out.push_back({spec.name, std::move(t)});
    }
    return out;
  }
  int64_t k = m.SourceIndex(i);
  for (size_t in = 0; in < m.inputs.size(); ++in) {
    const InputSpec& spec = m.inputs[in];
    auto [chunk, row] = m.data[in].Find(k);
    std::string where = ChunkSampleName(*chunk, row) + " (sample " + std::to_string(i) +
                        ", input '" + spec.name + "')";
    auto t = m.ReadChunkSample(*chunk, row, spec);
    if (!t.ok()) return t.status().WithContext(where);
    int64_t bad = FirstNonFinite(*t);
    if (bad >= 0) {
      double v = t->dtype() == DataType::kFloat16    ? HalfToFloat(t->data<uint16_t>()[bad])
                 : t->dtype() == DataType::kBfloat16 ? Bfloat16ToFloat(t->data<uint16_t>()[bad])
                 : t->dtype() == DataType::kDouble   ? t->data<double>()[bad]
                                                     : t->data<float>()[bad];
      return InvalidArgument(where + ": element " + std::to_string(bad) + " is " +
                             (std::isnan(v) ? "NaN"
                              : v > 0       ? "+Inf"
                                            : "-Inf") +
                             "; sample data must be finite");
    }
    out.push_back({spec.name, std::move(t).value()});
  }
  return out;
}

std::string Dataset::Describe(int64_t i) const {
  const Impl& m = *impl_;
  if (i < 0 || i >= m.selected) return "sample " + std::to_string(i) + " (out of range)";
  if (m.random) return "random #" + std::to_string(i);
  int64_t k = m.SourceIndex(i);
  std::vector<std::string> parts;
  for (const InputData& d : m.data) {
    auto [chunk, row] = d.Find(k);
    parts.push_back(ChunkSampleName(*chunk, row));
  }
  if (std::all_of(parts.begin(), parts.end(), [&](const std::string& p) { return p == parts[0]; }))
    return parts[0];
  std::string s;
  for (size_t in = 0; in < parts.size(); ++in)
    s += (in ? ", " : "") + m.inputs[in].name + ": " + parts[in];
  return s;
}

}  // namespace edgefit
