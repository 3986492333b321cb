#include "draw/draw.h"

#include <algorithm>
#include <memory>
#include <tuple>

#include "draw/image_io.h"
#include "runtime/session.h"

namespace edgefit::draw {

namespace {

Status Fail(DrawFailure* failure, DrawFailure kind, Status st) {
  if (failure != nullptr) *failure = kind;
  return st;
}

bool IsImageLike(const Tensor& t) {
  return t.dtype() == DataType::kFloat && t.rank() == 4 && t.dim(0) == 1;
}

}  // namespace

std::vector<std::string> FreezeBatchToOne(Model* model) {
  std::vector<std::string> changed;
  for (Value* v : model->graph->inputs()) {
    if (v->has_initializer()) continue;
    TypeInfo& type = v->type();
    if (!type.is_tensor() || !type.has_shape || type.dims.empty() || type.dims[0].is_fixed())
      continue;
    Dim one = Dim::Fixed(1);
    one.denotation = type.dims[0].denotation;
    type.dims[0] = one;
    changed.push_back(v->name());
  }
  return changed;
}

StatusOr<NamedTensor> RunOnImage(const Model& model, const std::string& image_path,
                                 const ImagePreprocess& preprocess, const std::string& output_name,
                                 DrawFailure* failure) {
  auto specs = InputSpecsOf(model);
  if (!specs.ok()) return Fail(failure, DrawFailure::kModel, specs.status());
  if (specs->size() != 1)
    return Fail(failure, DrawFailure::kModel,
                Unsupported("draw needs a model with exactly one (image) input; this one has " +
                            std::to_string(specs->size())));
  DatasetOptions data;
  data.sources = {image_path};
  data.image = preprocess;
  auto dataset = Dataset::Open(data, *specs);
  if (!dataset.ok()) return Fail(failure, DrawFailure::kData, dataset.status());
  auto sample = dataset->Get(0);
  if (!sample.ok()) return Fail(failure, DrawFailure::kData, sample.status());

  auto session = Session::Create(model);
  if (!session.ok()) return Fail(failure, DrawFailure::kModel, session.status());
  const std::vector<const Value*>& outs = (*session)->outputs();
  int index = -1;
  if (!output_name.empty()) {
    std::string names;
    for (size_t i = 0; i < outs.size(); ++i) {
      if (outs[i]->name() == output_name) index = static_cast<int>(i);
      names += (i ? ", '" : "'") + outs[i]->name() + "'";
    }
    if (index < 0)
      return Fail(
          failure, DrawFailure::kModel,
          InvalidArgument("the model has no output '" + output_name + "'; its outputs: " + names));
  }
  auto results = (*session)->Run(*sample);
  if (!results.ok()) return Fail(failure, DrawFailure::kModel, results.status());
  if (index < 0) {
    std::string found;
    for (size_t i = 0; i < results->size(); ++i) {
      const Tensor& t = (*results)[i];
      if (IsImageLike(t)) {
        index = static_cast<int>(i);
        break;
      }
      found += (i ? ", '" : "'") + outs[i]->name() + "' " + DataTypeName(t.dtype()) + " " +
               ShapeToString(t.shape());
    }
    if (index < 0)
      return Fail(failure, DrawFailure::kModel,
                  Unsupported("no output of the model is a float32 [1,C,h,w] map (" + found +
                              "); draw needs heatmaps or image-like outputs"));
  }
  return NamedTensor{outs[static_cast<size_t>(index)]->name(),
                     std::move((*results)[static_cast<size_t>(index)])};
}

StatusOr<DrawResult> Draw(const std::vector<const Model*>& models, const std::string& image_path,
                          const DrawOptions& options, DrawFailure* failure) {
  if (failure != nullptr) *failure = DrawFailure::kNone;
  if (models.empty()) return InvalidArgument("draw: no model given");
  auto original = ReadImage(image_path);
  if (!original.ok()) return Fail(failure, DrawFailure::kData, original.status());

  DrawResult result;
  result.image_width = original->width;
  result.image_height = original->height;
  std::vector<Plane> planes;
  for (const Model* model : models) {
    auto out = RunOnImage(*model, image_path, options.preprocess, options.output_name, failure);
    if (!out.ok()) return out.status();
    Panel panel;
    panel.output_name = out->name;
    panel.output_shape = out->tensor.shape();
    if (!IsImageLike(out->tensor))
      return Fail(
          failure, DrawFailure::kModel,
          Unsupported("output '" + out->name + "' is " + DataTypeName(out->tensor.dtype()) + " " +
                      ShapeToString(out->tensor.shape()) + "; draw needs a float32 [1,C,h,w] map"));
    const int64_t h = out->tensor.dim(2), w = out->tensor.dim(3);
    if (options.task == DrawTask::kKeypoints) {
      auto kps = DecodeHeatmaps(out->tensor);
      if (!kps.ok()) return Fail(failure, DrawFailure::kModel, kps.status());
      for (Keypoint& kp : *kps) kp = MapToImage(kp, w, h, original->width, original->height);
      panel.keypoints = std::move(*kps);
    } else {
      auto plane = MaxOverChannels(out->tensor);
      if (!plane.ok()) return Fail(failure, DrawFailure::kModel, plane.status());
      std::tie(panel.heat_min, panel.heat_max) = FiniteRange(*plane);
      planes.push_back(std::move(*plane));
    }
    result.panels.push_back(std::move(panel));
  }

  // One range for every heatmap panel, so equal colours mean equal values.
  float lo = 0, hi = 0;
  for (size_t i = 0; i < result.panels.size(); ++i) {
    lo = i == 0 ? result.panels[i].heat_min : std::min(lo, result.panels[i].heat_min);
    hi = i == 0 ? result.panels[i].heat_max : std::max(hi, result.panels[i].heat_max);
  }
  std::vector<std::string> labels = options.labels;
  if (labels.empty() && models.size() == 2) labels = {"FP32", "INT8"};
  std::vector<Image> pictures;
  for (size_t i = 0; i < result.panels.size(); ++i) {
    Image panel = *original;
    if (options.task == DrawTask::kKeypoints) {
      KeypointStyle style;
      style.threshold = options.threshold;
      DrawKeypoints(&panel, result.panels[i].keypoints, style);
    } else {
      OverlayHeatmap(&panel, planes[i], lo, hi, options.alpha);
    }
    if (i < labels.size()) DrawLabel(&panel, labels[i], Rgb{255, 255, 255});
    pictures.push_back(std::move(panel));
  }
  result.picture = SideBySide(pictures);
  return result;
}

}  // namespace edgefit::draw
