// `edgefit deploy`: the whole flow in one command (docs/deploy.md).
//
//   check -> fix -> check -> quantize (targets that take an INT8 QDQ model; a simulation for
//   targets that quantize themselves) -> compare (with --eval) -> draw (with --draw-image) ->
//   hand-off files -> report
//
// Everything is written to a temporary folder next to OUTDIR and moved into place at the end,
// so a failed run never leaves a half-written OUTDIR. The first stage that cannot succeed stops
// the run with its reason.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "draw/draw.h"
#include "edgefit/status.h"
#include "quant/quantize.h"

namespace edgefit {

struct DeployOptions {
  std::string target;  // id or profile path
  std::map<std::string, Shape> input_shapes;
  DatasetOptions calib;
  std::optional<DatasetOptions> eval;
  std::string labels;  // .npy path or ""
  QuantizeOptions quantize;
  std::optional<double> max_drop;
  std::optional<double> min_sqnr_db;
  // With a picture: the fixed FP32 model and the INT8 model (the simulation for targets that
  // quantize themselves) drawn side by side on it into draw.png, preprocessed as the calibration
  // images (calib.image; the draw default when the calibration data is not images), and shown
  // in the report.
  std::string draw_image;
  draw::DrawTask draw_task = draw::DrawTask::kKeypoints;
  std::string out_dir;
  bool overwrite = false;
  std::vector<std::string> command_line;  // for the manifest
  std::string tool_version;               // for the manifest
  // Called when a stage starts and ends: stage, "start"/"ok"/"failed", one-line summary.
  std::function<void(const std::string& stage, const std::string& state, const std::string& text)>
      progress;
};

struct DeployStage {
  std::string name;
  bool ok = false;
  std::string summary;  // one line
  double seconds = 0;
};

struct DeployResult {
  std::vector<DeployStage> stages;
  std::vector<std::string> files;  // written into out_dir (relative names)
  std::string out_dir;
};

StatusOr<DeployResult> Deploy(const std::string& model_path, const DeployOptions& options);

// Lower-case hex SHA-256 of a file's bytes (for the manifest).
StatusOr<std::string> Sha256File(const std::string& path);

}  // namespace edgefit
