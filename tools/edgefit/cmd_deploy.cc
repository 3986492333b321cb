// edgefit deploy MODEL --target T --calib DATA [--eval DATA --labels L] [--input-shape ...]
//   [--max-drop X] [--min-sqnr DB] [--draw-image IMG [--draw-task keypoints|heatmap]]
//   -o OUTDIR [--overwrite] [--json]
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli.h"
#include "deploy/deploy.h"

namespace edgefit::cli {
void AddDeployCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string model, out, target, preprocess, labels, method = "minmax", draw_image,
                                                        draw_task = "keypoints";
    std::vector<std::string> calib, eval, input_shapes, exclude;
    int64_t calib_count = 0, eval_count = 0;
    double max_drop = -1, min_sqnr = -1e300;
    bool per_tensor = false, int8_io = false, overwrite = false, json = false;
    int threads = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "deploy",
      "The whole flow: check -> fix -> check -> quantize -> compare -> vendor hand-off, into "
      "one folder with a manifest");
  cmd->add_option("model", o->model, "ONNX model file (e.g. a PyTorch export)")->required();
  cmd->add_option("-o,--output", o->out, "Output folder (must not exist or be empty)")->required();
  cmd->add_option("-t,--target", o->target, "Target id (edgefit targets) or profile JSON")
      ->required();
  cmd->add_option("--calib", o->calib, "Calibration data (as for quantize; 'random' to try)")
      ->required();
  cmd->add_option("--calib-count", o->calib_count, "Use N calibration samples, evenly spread");
  cmd->add_option("--preprocess", o->preprocess, "Image preprocessing JSON (file or inline)");
  cmd->add_option("--eval", o->eval, "Evaluation data: compare FP32 and INT8 on it");
  cmd->add_option("--eval-count", o->eval_count, "Use N evaluation samples, evenly spread");
  cmd->add_option(
      "--labels", o->labels,
      "Labels .npy for the evaluation data (task metric; keypoints [N,K,2|3] for a heatmap "
      "model)");
  cmd->add_option("--input-shape", o->input_shapes,
                  "Freeze an input's shape, e.g. input=1,72,36,36 (repeatable)");
  cmd->add_option("--max-drop", o->max_drop,
                  "Accuracy budget: largest metric worsening (accuracy fraction or MAE units)");
  cmd->add_option("--min-sqnr", o->min_sqnr, "Accuracy budget: smallest output SQNR in dB");
  cmd->add_option("--calibrate", o->method, "Range method: minmax, percentile, entropy or mse")
      ->default_val("minmax");
  cmd->add_flag("--per-tensor", o->per_tensor, "One weight scale per tensor");
  cmd->add_flag("--int8-io", o->int8_io, "int8 graph inputs and outputs");
  cmd->add_option("--exclude", o->exclude, "Keep these node names or op types float");
  cmd->add_option("--threads", o->threads, "Executor threads (0: all cores)")->default_val(0);
  cmd->add_option("--draw-image", o->draw_image,
                  "JPEG/PNG picture: draw the FP32 and INT8 models' output on it side by side "
                  "(draw.png, shown in the report), preprocessed as the calibration images");
  cmd->add_option("--draw-task", o->draw_task,
                  "With --draw-image: keypoints (pose heatmaps [1,K,h,w]) or heatmap (overlay)")
      ->default_val("keypoints")
      ->check(CLI::IsMember({"keypoints", "heatmap"}));
  cmd->add_flag("--overwrite", o->overwrite, "Replace a non-empty output folder");
  cmd->add_flag("--json", o->json, "Print the summary as JSON");
  cmd->callback([o, exit_code] {
    auto fail = [&](const Status& st) { *exit_code = ReportError("deploy", st); };
    DeployOptions d;
    d.target = o->target;
    d.out_dir = o->out;
    d.overwrite = o->overwrite;
    d.tool_version = EDGEFIT_VERSION;
    for (const std::string& s : o->input_shapes) {
      auto kv = ParseInputShape(s);
      if (!kv.ok()) return fail(kv.status());
      d.input_shapes[kv->first] = kv->second;
    }
    auto calib = DataOptionsFromFlags(o->calib, o->calib_count, 0, o->preprocess);
    if (!calib.ok()) {
      fail(calib.status());
      *exit_code = kExitInvalidData;
      return;
    }
    d.calib = *calib;
    if (!o->eval.empty()) {
      auto eval = DataOptionsFromFlags(o->eval, o->eval_count, 1, o->preprocess);
      if (!eval.ok()) return fail(eval.status());
      d.eval = *eval;
    }
    d.labels = o->labels;
    d.draw_image = o->draw_image;
    d.draw_task = o->draw_task == "heatmap" ? draw::DrawTask::kHeatmap : draw::DrawTask::kKeypoints;
    if (o->max_drop >= 0) d.max_drop = o->max_drop;
    if (o->min_sqnr > -1e299) d.min_sqnr_db = o->min_sqnr;
    auto method = ParseCalibrationMethod(o->method);
    if (!method.ok()) return fail(method.status());
    d.quantize.calibration.method = *method;
    if (o->per_tensor) d.quantize.per_channel = false;
    d.quantize.int8_io = o->int8_io;
    d.quantize.exclude = o->exclude;
    d.quantize.num_threads = o->threads;
    // Every option as given (the manifest records them).
    d.command_line = {"edgefit", "deploy", o->model, "-o", o->out, "--target", o->target};
    auto add = [&](const char* flag, const std::vector<std::string>& values) {
      for (const std::string& v : values) d.command_line.insert(d.command_line.end(), {flag, v});
    };
    add("--calib", o->calib);
    add("--eval", o->eval);
    add("--input-shape", o->input_shapes);
    add("--exclude", o->exclude);
    if (o->calib_count) add("--calib-count", {std::to_string(o->calib_count)});
    if (o->eval_count) add("--eval-count", {std::to_string(o->eval_count)});
    if (!o->labels.empty()) add("--labels", {o->labels});
    if (!o->preprocess.empty()) add("--preprocess", {o->preprocess});
    if (!o->draw_image.empty()) {
      add("--draw-image", {o->draw_image});
      add("--draw-task", {o->draw_task});
    }
    if (d.max_drop) add("--max-drop", {std::to_string(*d.max_drop)});
    if (d.min_sqnr_db) add("--min-sqnr", {std::to_string(*d.min_sqnr_db)});
    add("--calibrate", {o->method});
    if (o->per_tensor) d.command_line.push_back("--per-tensor");
    if (o->int8_io) d.command_line.push_back("--int8-io");
    if (o->overwrite) d.command_line.push_back("--overwrite");
    const bool tty = !o->json && isatty(fileno(stderr));
    d.progress = [tty](const std::string& stage, const std::string& state,
                       const std::string& text) {
      if (state == "start") {
        if (tty) std::fprintf(stderr, "[%s] ...\r", stage.c_str());
        return;
      }
      std::fprintf(stderr, "[%s] %s%s%s\n", stage.c_str(),
                   state == "ok" ? "" : "FAILED: ", text.c_str(), tty ? "\033[K" : "");
    };
    auto result = Deploy(o->model, d);
    if (!result.ok()) {
      *exit_code = ReportError("deploy", result.status());
      const std::string& m = result.status().message();
      if (m.find("violation(s) remain") != std::string::npos ||
          m.find("violation(s) for") != std::string::npos)
        *exit_code = kExitFindings;
      if (m.find("stage 'data'") != std::string::npos) *exit_code = kExitInvalidData;
      // The picture does not fit the model input (as `edgefit draw`: exit 8).
      if (m.find("stage 'draw'") != std::string::npos &&
          result.status().code() != StatusCode::kUnsupported)
        *exit_code = kExitInvalidData;
      return;
    }
    if (o->json) {
      nlohmann::json j;
      j["out_dir"] = result->out_dir;
      j["files"] = result->files;
      for (const DeployStage& s : result->stages)
        j["stages"].push_back({{"stage", s.name}, {"summary", s.summary}, {"seconds", s.seconds}});
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << "wrote " << result->out_dir << ":";
      for (const std::string& f : result->files) std::cout << " " << f;
      std::cout << "\nnext: " << result->out_dir << "/NEXT_STEPS.md\n";
    }
    *exit_code = kExitOk;
  });
}

}  // namespace edgefit::cli
