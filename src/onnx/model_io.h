// Reading and writing ONNX model files. This library is the only code that touches protobuf.
#pragma once

#include <cstddef>
#include <string>

#include "edgefit/status.h"
#include "ir/graph.h"

namespace onnx {
class ModelProto;
}

namespace edgefit {

struct LoadOptions {
  // Read tensors stored in external data files (relative `location` only, inside the model's
  // folder). When false, such tensors keep their dtype and shape but hold no data (raw() is
  // nullptr); their files are still checked to exist and to be long enough.
  bool load_external_data = true;
  // Refuse tensors (initializers, attribute tensors) declaring more elements than this.
  int64_t max_tensor_elements = int64_t{1} << 40;
};

StatusOr<Model> LoadModel(const std::string& path, const LoadOptions& options = {});
// Parses a serialized ModelProto. `origin` names the source in messages; `base_dir` is where
// external data is looked up ("" = external data not allowed).
StatusOr<Model> LoadModelFromBytes(const void* data, size_t size, const std::string& origin,
                                   const std::string& base_dir = "",
                                   const LoadOptions& options = {});

struct SaveOptions {
  // Store large tensors in a separate file next to the model (needed above 2 GB).
  bool external_data = false;
  // File name of the external data, relative to the model's folder. Default: "<model>.data".
  std::string external_data_name;
  // Tensors smaller than this stay inside the model file.
  size_t external_data_threshold = 1024;
  // Allow writing over the model's own source file (or its external data files).
  bool in_place = false;
};

// Writes atomically: a temporary file in the same folder, then rename. Refuses to overwrite
// the model's source file (or the external data it was read from) unless options.in_place.
Status SaveModel(const Model& model, const std::string& path, const SaveOptions& options = {});

// Reads a serialized onnx.TensorProto file (as in ONNX's test data: input_0.pb).
StatusOr<Tensor> LoadTensorProto(const std::string& path);
// Decodes a serialized onnx.TensorProto from memory; `origin` names it in messages.
StatusOr<Tensor> ParseTensorProto(const std::string& bytes, const std::string& origin);

struct ExportOptions {
  // Tensors larger than this many bytes are written with dtype and dims but no data (used for
  // shape inference and checks, which never read large weights). 0 = no limit.
  size_t omit_data_above_bytes = 0;
};

// A deep copy (through protobuf; keeps source_path and external_data_files).
StatusOr<Model> CloneModel(const Model& model);

// Runs ONNX's own checker (onnx::checker::check_model) on the model; its message on failure.
Status RunOnnxChecker(const Model& model);

// IR <-> protobuf. `origin` names the source in error messages.
Status ModelToProto(const Model& model, onnx::ModelProto* proto, const ExportOptions& options = {});
// Consumes `proto` (large data fields are released as they are copied, to bound peak memory).
StatusOr<Model> ModelFromProto(onnx::ModelProto* proto, const std::string& origin,
                               const std::string& base_dir, const LoadOptions& options = {});

}  // namespace edgefit
