// Sample data for calibration, verification and comparison: NumPy .npy/.npz files and images.
//
// A Dataset is an index of samples; each sample is one value per model input, with exactly the
// shape and dtype the model declares. Samples are read from disk when asked for, so memory does
// not grow with the number of samples. docs/data.md describes the accepted layouts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "runtime/session.h"  // NamedTensor

namespace edgefit {

// What the model expects at one graph input.
struct InputSpec {
  std::string name;
  DataType dtype = DataType::kFloat;
  Shape shape;  // static, batch included, e.g. {1, 3, 224, 224}
};

// The graph inputs that are not initializers, in order, with their declared dtype and static
// shape. A dynamic or unknown dim is an error (kFailedPrecondition) telling the user to fix the
// shapes first (`edgefit fix --input-shape`); a non-tensor input is kUnsupported.
StatusOr<std::vector<InputSpec>> InputSpecsOf(const Model& model);

enum class ImageLayout { kNchw, kNhwc };
enum class ColorOrder { kRgb, kBgr };

// How an image file becomes an input tensor: decode (stb_image), resize (bilinear) to the
// input's height and width, reorder colours, then value = (pixel * scale - mean[c]) / std[c].
// A 1-channel input gets the image converted to grey.
struct ImagePreprocess {
  ImageLayout layout = ImageLayout::kNchw;
  ColorOrder color = ColorOrder::kRgb;
  float scale = 1.0f / 255.0f;
  std::vector<float> mean = {0.0f, 0.0f, 0.0f};
  std::vector<float> std = {1.0f, 1.0f, 1.0f};
};

// Parses {"layout": "NCHW"|"NHWC", "color": "RGB"|"BGR", "scale": 0.0039, "mean": [..],
// "std": [..]} (every key optional). `origin` names the file or flag in error messages.
StatusOr<ImagePreprocess> ParseImagePreprocess(const std::string& json_text,
                                               const std::string& origin);
StatusOr<ImagePreprocess> LoadImagePreprocess(const std::string& path);

struct DatasetOptions {
  // Files or directories. "NAME=PATH" binds a source to the model input NAME (needed when the
  // model has several inputs, unless the source is an .npz whose keys are the input names).
  std::vector<std::string> sources;
  std::optional<ImagePreprocess> image;  // required for image files
  // 0: all samples. N > 0: a deterministic, evenly spread selection of N of the T samples the
  // sources hold: sample i is source sample floor(i * T / N); N >= T uses all.
  int64_t max_samples = 0;
  // Random data instead of files (sources must be empty): `random_count` samples drawn from a
  // seeded generator. Callers must report loudly that the data is random.
  bool random = false;
  int64_t random_count = 0;
  uint64_t seed = 0;
};

class Dataset {
 public:
  // Indexes the sources and validates every file's header (shape and dtype against `inputs`)
  // up front; errors name the file. Values are checked for NaN/Inf when a sample is read.
  static StatusOr<Dataset> Open(const DatasetOptions& options, std::vector<InputSpec> inputs);

  // Number of samples (after the max_samples selection).
  int64_t size() const;
  // Number of samples the sources hold before the max_samples selection.
  int64_t total_size() const;
  // Reads sample i (0 <= i < size()): one tensor per model input, in the order of `inputs`,
  // each with exactly the input's shape and dtype. Fails (naming the file, the sample and the
  // input) if a value is NaN or Inf or the file changed since Open. Safe to call from several
  // threads at once.
  StatusOr<std::vector<NamedTensor>> Get(int64_t i) const;
  // Where sample i comes from, for messages: "calib/003.npy", "batch.npy[17]", "random #4".
  std::string Describe(int64_t i) const;
  bool is_random() const;
  const std::vector<InputSpec>& inputs() const;

  struct Impl;
  Dataset(Dataset&&) noexcept;
  Dataset& operator=(Dataset&&) noexcept;
  ~Dataset();

 private:
  explicit Dataset(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgefit
