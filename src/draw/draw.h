// `edgefit draw`: run one or two models on an image (preprocessed exactly as calibration data,
// through edgefit_data) and draw what they see: keypoints and the COCO skeleton for pose
// heatmaps, or a heatmap overlay for other image-like outputs; two models side by side.
// docs/draw.md is the user's description.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"
#include "draw/canvas.h"
#include "draw/heatmap.h"
#include "draw/keypoints.h"
#include "edgefit/status.h"
#include "ir/graph.h"

namespace edgefit::draw {

enum class DrawTask { kKeypoints, kHeatmap };

// Which part a failure is about, so the CLI can tell bad data (the image, the preprocessing
// against the model input) from an unsuitable model or output.
enum class DrawFailure { kNone, kData, kModel };

struct DrawOptions {
  DrawTask task = DrawTask::kKeypoints;
  ImagePreprocess preprocess;
  // The output to draw; "" picks the first float32 output of shape [1,C,h,w].
  std::string output_name;
  float threshold = 0.3f;  // keypoints: smallest score drawn
  float alpha = 0.5f;      // heatmap: weight of the colour map in the blend
  // One label per panel, drawn in its top-left corner ("" for none). Empty: no label for one
  // model, "FP32" and "INT8" for two.
  std::vector<std::string> labels;
};

// What was drawn for one model.
struct Panel {
  std::string output_name;
  Shape output_shape;
  std::vector<Keypoint> keypoints;   // keypoints task: in original-image pixels
  float heat_min = 0, heat_max = 0;  // heatmap task: finite range of the per-pixel maximum
};

struct DrawResult {
  Image picture;  // the panels side by side, each of the original image's size
  int image_width = 0, image_height = 0;
  std::vector<Panel> panels;
};

// Sets a dynamic (symbolic or unknown) first dimension of every graph input to 1, so a model
// exported with a dynamic batch can run on one image. Returns the names of the inputs changed.
// Other dynamic dimensions are left alone (InputSpecsOf then asks to fix them first).
std::vector<std::string> FreezeBatchToOne(Model* model);

// Runs `model` (one image input, static shapes) on the image and returns the graph output
// `output_name` (or, for "", the first float32 output of shape [1,C,h,w]) and its name.
StatusOr<NamedTensor> RunOnImage(const Model& model, const std::string& image_path,
                                 const ImagePreprocess& preprocess, const std::string& output_name,
                                 DrawFailure* failure = nullptr);

// Runs every model on the image and draws one panel per model (left to right). Heatmap panels
// share one normalisation range (the union of their ranges) so their colours compare.
StatusOr<DrawResult> Draw(const std::vector<const Model*>& models, const std::string& image_path,
                          const DrawOptions& options, DrawFailure* failure = nullptr);

}  // namespace edgefit::draw
