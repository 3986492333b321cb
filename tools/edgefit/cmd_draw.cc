// edgefit draw MODEL --image IMG --task keypoints|heatmap [--preprocess JSON]
//                    [--compare OTHER.onnx] [--output-name NAME] [--threshold T] [--alpha A]
//                    [--labels A,B] -o out.png
//
// Runs the model (and the --compare model) on one image, preprocessed as calibration data is,
// and draws keypoints + COCO skeleton or a heatmap overlay; two models side by side. See
// docs/draw.md.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "draw/draw.h"
#include "draw/image_io.h"
#include "onnx/model_io.h"

namespace edgefit::cli {
namespace {

namespace fs = std::filesystem;

bool SamePath(const std::string& a, const std::string& b) {
  std::error_code ea, eb;
  fs::path pa = fs::weakly_canonical(a, ea), pb = fs::weakly_canonical(b, eb);
  return !ea && !eb && pa == pb;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

}  // namespace

void AddDrawCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string model, image, preprocess, task, compare, output_name, output;
    std::vector<std::string> labels;
    float threshold = 0.3f, alpha = 0.5f;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "draw", "Draw a model's keypoints or heatmaps on an image (two models side by side)");
  cmd->add_option("model", o->model, "ONNX model with one image input")->required();
  cmd->add_option("--image", o->image, "JPEG or PNG image")->required();
  cmd->add_option("--task", o->task, "keypoints (pose heatmaps [1,K,h,w]) or heatmap (overlay)")
      ->required()
      ->check(CLI::IsMember({"keypoints", "heatmap"}));
  cmd->add_option("--preprocess", o->preprocess,
                  "Image preprocessing as for calibration: a JSON file or inline JSON "
                  "(docs/data.md; default: RGB NCHW, scale 1/255, no mean/std)");
  cmd->add_option("--compare", o->compare,
                  "A second model (e.g. the INT8 one) drawn to the right of the first");
  cmd->add_option("--output-name", o->output_name,
                  "Output to draw (default: the first float32 [1,C,h,w] output)");
  cmd->add_option("--threshold", o->threshold, "keypoints: smallest score drawn")
      ->default_val(0.3f);
  cmd->add_option("--alpha", o->alpha, "heatmap: weight of the colour map, 0..1")
      ->default_val(0.5f)
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--labels", o->labels,
                  "Panel labels, comma-separated (default: FP32,INT8 with --compare; none alone)")
      ->delimiter(',');
  cmd->add_option("-o,--output", o->output, "Output PNG file")->required();
  cmd->callback([o, exit_code] {
    auto fail = [&](const Status& st) { *exit_code = ReportError("draw", st); };
    auto fail_data = [&](const Status& st) {
      ReportError("draw", st);
      *exit_code = kExitInvalidData;
    };
    std::string ext = fs::path(o->output).extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext != ".png")
      return fail(InvalidArgument("-o " + o->output +
                                  ": the picture is written as PNG; name it "
                                  "*.png"));
    for (const std::string& in : {o->model, o->image, o->compare})
      if (!in.empty() && SamePath(in, o->output))
        return fail(FailedPrecondition(o->output + ": refusing to overwrite an input file"));

    draw::DrawOptions opt;
    opt.task = o->task == "heatmap" ? draw::DrawTask::kHeatmap : draw::DrawTask::kKeypoints;
    opt.output_name = o->output_name;
    opt.threshold = o->threshold;
    opt.alpha = o->alpha;
    opt.labels = o->labels;
    if (!o->preprocess.empty()) {
      auto pre = o->preprocess.front() == '{' ? ParseImagePreprocess(o->preprocess, "--preprocess")
                                              : LoadImagePreprocess(o->preprocess);
      if (!pre.ok()) return fail_data(pre.status());
      opt.preprocess = *pre;
    }

    std::vector<Model> models;
    for (const std::string& path : {o->model, o->compare}) {
      if (path.empty()) continue;
      auto loaded = LoadModel(path);
      if (!loaded.ok()) return fail(loaded.status());
      // A dynamic batch is set to 1: draw runs one image (docs/draw.md).
      for (const std::string& name : draw::FreezeBatchToOne(&*loaded))
        std::cerr << "edgefit draw: note: " << path << ": input '" << name
                  << "' has a dynamic batch; running it with batch 1\n";
      models.push_back(std::move(*loaded));
    }
    std::vector<const Model*> ptrs;
    for (const Model& m : models) ptrs.push_back(&m);

    draw::DrawFailure failure = draw::DrawFailure::kNone;
    auto result = draw::Draw(ptrs, o->image, opt, &failure);
    if (!result.ok()) {
      if (failure == draw::DrawFailure::kData) return fail_data(result.status());
      // A dynamic input other than the batch: the model must be fixed first (exit 6).
      if (result.status().code() == StatusCode::kFailedPrecondition)
        return fail(Status(StatusCode::kUnsupported, result.status().message()));
      return fail(result.status());
    }
    Status written = draw::WritePng(result->picture, o->output);
    if (!written.ok()) return fail(written);

    const std::vector<std::string> paths = {o->model, o->compare};
    std::cout << "image " << o->image << " (" << result->image_width << "x" << result->image_height
              << ")\n";
    for (size_t i = 0; i < result->panels.size(); ++i) {
      const draw::Panel& p = result->panels[i];
      std::cout << "model " << paths[i] << ": output '" << p.output_name << "' "
                << ShapeToString(p.output_shape);
      if (opt.task == draw::DrawTask::kHeatmap) {
        std::cout << ", max over channels in [" << p.heat_min << ", " << p.heat_max << "]\n";
        continue;
      }
      int shown = 0;
      for (const draw::Keypoint& kp : p.keypoints) shown += kp.score >= opt.threshold;
      std::cout << ", " << shown << " of " << p.keypoints.size()
                << " keypoints at score >= " << opt.threshold << "\n";
    }
    if (opt.task == draw::DrawTask::kKeypoints) {
      const auto& names = draw::CocoKeypointNames();
      const bool two = result->panels.size() == 2 &&
                       result->panels[0].keypoints.size() == result->panels[1].keypoints.size();
      std::cout << "  keypoint              x        y     score" << (two ? "  shift(px)" : "")
                << "\n";
      const auto& a = result->panels[0].keypoints;
      double max_shift = 0, sum_shift = 0;
      for (size_t k = 0; k < a.size(); ++k) {
        std::string name = a.size() == draw::kCocoKeypoints ? names[k] : std::to_string(k);
        char line[160];
        std::snprintf(line, sizeof(line), "  %-15s %8.2f %8.2f %9.3f", name.c_str(), a[k].x, a[k].y,
                      a[k].score);
        std::cout << line;
        if (two) {
          const draw::Keypoint& b = result->panels[1].keypoints[k];
          double d = std::hypot(a[k].x - b.x, a[k].y - b.y);
          max_shift = std::max(max_shift, d);
          sum_shift += d;
          std::snprintf(line, sizeof(line), " %10.2f", d);
          std::cout << line;
        }
        std::cout << "\n";
      }
      if (two && !a.empty())
        std::cout << "keypoint shift between the models: mean " << Fixed(sum_shift / a.size(), 2)
                  << " px, max " << Fixed(max_shift, 2) << " px (image pixels)\n";
    }
    std::cout << "wrote " << o->output << " (" << result->picture.width << "x"
              << result->picture.height << ")\n";
  });
}

}  // namespace edgefit::cli
