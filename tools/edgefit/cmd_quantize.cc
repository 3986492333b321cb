// edgefit quantize MODEL -o OUT --calib DATA [--target T] [--calibrate M] [--per-tensor]
//   [--int8-io] [--exclude ...] [--cle|--no-cle] [--bias-correction|--no-bias-correction] [--json]
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli.h"
#include "data/dataset.h"
#include "io/npy.h"
#include "onnx/model_io.h"
#include "quant/budget.h"
#include "quant/quantize.h"

namespace edgefit::cli {
namespace {

constexpr const char* kDataPrefix = "calibration data: ";

std::vector<std::string> SplitList(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    std::stringstream ss(item);
    for (std::string s; std::getline(ss, s, ',');)
      if (!s.empty()) out.push_back(s);
  }
  return out;
}

}  // namespace

void AddQuantizeCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string model, output, target, method = "minmax", preprocess, activations;
    std::vector<std::string> calib, exclude;
    int64_t calib_count = 0;
    uint64_t seed = 0;
    double percentile = 99.999;
    bool per_tensor = false, int8_io = false, symmetric_activations = false, json = false;
    bool cle = false, no_cle = false, bias_correction = false, no_bias_correction = false;
    bool force = false;
    int threads = 0;
    // Accuracy budget.
    std::vector<std::string> eval;
    int64_t eval_count = 0;
    std::string labels, task;
    double max_drop = -1, min_sqnr = -1e300;
    int max_steps = 8;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "quantize", "INT8 post-training quantization to a QDQ ONNX model, calibrated on your data");
  cmd->add_option("model", o->model, "Float ONNX model file (static input shapes)")->required();
  cmd->add_option("-o,--output", o->output, "Output QDQ model file")->required();
  cmd->add_option("--calib", o->calib,
                  "Calibration data: .npy/.npz files, image files or folders, NAME=PATH to bind "
                  "an input, or 'random' (repeatable; docs/data.md)")
      ->required();
  cmd->add_option("--calib-count", o->calib_count,
                  "Use N samples, evenly spread over the data (random: N samples; default 16)");
  cmd->add_option("--preprocess", o->preprocess,
                  "Image preprocessing: a JSON file or inline JSON, e.g. "
                  "'{\"layout\":\"NCHW\",\"color\":\"RGB\",\"scale\":0.00392}'");
  cmd->add_option("--seed", o->seed, "Seed for --calib random")->default_val(0);
  cmd->add_option("-t,--target", o->target,
                  "Target id (edgefit targets) or profile JSON: scheme defaults, placement, check");
  cmd->add_option("--calibrate", o->method, "Range method: minmax, percentile, entropy or mse")
      ->default_val("minmax");
  cmd->add_option("--percentile", o->percentile, "Percentile for --calibrate percentile")
      ->default_val(99.999);
  cmd->add_flag("--per-tensor", o->per_tensor,
                "One weight scale per tensor (default: per channel)");
  cmd->add_option("--activations", o->activations, "Activation type: int8 or uint8");
  cmd->add_flag("--symmetric-activations", o->symmetric_activations,
                "Symmetric activation ranges (zero point 0)");
  cmd->add_flag("--int8-io", o->int8_io, "Make graph inputs and outputs int8 (no float edges)");
  cmd->add_option("--exclude", o->exclude, "Keep these node names or op types float (comma list)");
  cmd->add_flag("--cle", o->cle, "Cross-layer equalization (default: on for per-tensor weights)");
  cmd->add_flag("--no-cle", o->no_cle, "No cross-layer equalization");
  cmd->add_flag("--bias-correction", o->bias_correction,
                "Empirical bias correction (default: on for per-tensor weights)");
  cmd->add_flag("--no-bias-correction", o->no_bias_correction, "No bias correction");
  cmd->add_option("--threads", o->threads,
                  "Threads (0: all cores); calibration runs this many samples at a time")
      ->default_val(0);
  cmd->add_flag("--force", o->force, "Write the output even when the target check has violations");
  cmd->add_flag("--json", o->json, "Print the report as JSON (schema edgefit-quantize/1)");
  cmd->add_option("--eval", o->eval,
                  "Accuracy budget: evaluation data (as --calib); needs --max-drop or --min-sqnr");
  cmd->add_option("--eval-count", o->eval_count, "Use N evaluation samples, evenly spread");
  cmd->add_option(
      "--labels", o->labels,
      "Labels .npy for --eval (int: classes; float: targets, or keypoints [N,K,2|3] for a "
      "heatmap model)");
  cmd->add_option("--task", o->task,
                  "regression, classification or keypoints (default: from the labels)");
  cmd->add_option(
      "--max-drop", o->max_drop,
      "Largest allowed worsening: top-1 accuracy drop in points, MAE increase, or keypoint "
      "error increase in pixels");
  cmd->add_option("--min-sqnr", o->min_sqnr, "Smallest allowed output SQNR in dB");
  cmd->add_option("--max-steps", o->max_steps, "Layers returned to float at most")->default_val(8);
  cmd->callback([o, exit_code] {
    auto fail = [&](const Status& st) { *exit_code = ReportError("quantize", st); };
    auto fail_data = [&](const Status& st) {
      ReportError("quantize", Status(st.code(), kDataPrefix + st.message()));
      *exit_code = kExitInvalidData;
    };
    QuantizeOptions qo;
    auto method = ParseCalibrationMethod(o->method);
    if (!method.ok()) return fail(method.status());
    qo.calibration.method = *method;
    qo.calibration.percentile = o->percentile;
    if (o->per_tensor) qo.per_channel = false;
    if (!o->activations.empty()) {
      if (o->activations == "int8")
        qo.activation_dtype = DataType::kInt8;
      else if (o->activations == "uint8")
        qo.activation_dtype = DataType::kUint8;
      else
        return fail(
            InvalidArgument("--activations must be int8 or uint8, got '" + o->activations + "'"));
    }
    if (o->symmetric_activations) qo.activation_symmetric = true;
    if (o->cle && o->no_cle) return fail(InvalidArgument("--cle and --no-cle contradict"));
    if (o->bias_correction && o->no_bias_correction)
      return fail(InvalidArgument("--bias-correction and --no-bias-correction contradict"));
    if (o->cle) qo.cle = true;
    if (o->no_cle) qo.cle = false;
    if (o->bias_correction) qo.bias_correction = true;
    if (o->no_bias_correction) qo.bias_correction = false;
    qo.int8_io = o->int8_io;
    qo.exclude = SplitList(o->exclude);
    qo.num_threads = o->threads;

    std::optional<TargetProfile> profile;
    if (!o->target.empty()) {
      auto p = LoadTargetProfile(o->target);
      if (!p.ok()) return fail(p.status());
      profile = std::move(p).value();
    }
    auto loaded = LoadModel(o->model);
    if (!loaded.ok()) return fail(loaded.status());
    Model& model = *loaded;
    {  // Refuse up front rather than after calibrating (SaveModel refuses again at the end).
      std::error_code ec;
      if (std::filesystem::weakly_canonical(o->output, ec).string() == model.source_path)
        return fail(FailedPrecondition(o->output + ": refusing to overwrite the input model"));
    }

    auto data_options = DataOptionsFromFlags(o->calib, o->calib_count, o->seed, o->preprocess);
    if (!data_options.ok()) return fail_data(data_options.status());
    DatasetOptions& data = *data_options;
    auto specs = InputSpecsOf(model);
    // A dynamic input: the model must be fixed first (exit 6, like other models quantize
    // cannot take).
    if (!specs.ok()) return fail(Status(StatusCode::kUnsupported, specs.status().message()));
    auto dataset = Dataset::Open(data, *specs);
    if (!dataset.ok()) return fail_data(dataset.status());

    ProgressBar bar(!o->json && isatty(fileno(stderr)));
    qo.progress = [&bar](const std::string& stage, int64_t done, int64_t total) {
      bar.Update(stage, done, total);
    };
    // Accuracy budget: evaluation data, labels, thresholds.
    const bool budgeted = !o->eval.empty();
    if (!budgeted && (o->max_drop >= 0 || o->min_sqnr > -1e299 || !o->labels.empty()))
      return fail(InvalidArgument("--max-drop, --min-sqnr and --labels need --eval"));
    if (budgeted && o->max_drop < 0 && o->min_sqnr <= -1e299)
      return fail(InvalidArgument("--eval needs --max-drop (with --labels) or --min-sqnr"));
    std::optional<Dataset> eval;
    AccuracyBudget budget;
    if (budgeted) {
      DatasetOptions eo;
      eo.sources = o->eval;
      eo.max_samples = o->eval_count;
      eo.image = data.image;
      auto e = Dataset::Open(eo, *specs);
      if (!e.ok()) return fail_data(e.status());
      eval = std::move(e).value();
      budget.eval = &*eval;
      if (!o->labels.empty()) {
        auto l = ReadNpy(o->labels);
        if (!l.ok()) return fail_data(l.status());
        budget.labels = std::move(l).value();
        if (budget.labels->rank() == 0 || budget.labels->dim(0) != eval->total_size())
          return fail_data(InvalidArgument(
              o->labels + ": " + std::to_string(budget.labels->rank() ? budget.labels->dim(0) : 0) +
              " labels for " + std::to_string(eval->total_size()) + " evaluation samples"));
        const bool is_int = budget.labels->dtype() == DataType::kInt64 ||
                            budget.labels->dtype() == DataType::kInt32;
        budget.task = o->task == "regression"       ? CompareTask::kRegression
                      : o->task == "classification" ? CompareTask::kClassification
                      : o->task == "keypoints"      ? CompareTask::kKeypoints
                      : is_int                      ? CompareTask::kClassification
                                                    : TaskForLabels(*budget.labels, &model);
      }
      if (o->max_drop >= 0) budget.max_drop = o->max_drop;
      if (o->min_sqnr > -1e299) budget.min_sqnr_db = o->min_sqnr;
      budget.max_steps = o->max_steps;
    }
    StatusOr<QuantizeReport> report = Internal("quantization did not run");
    std::optional<BudgetReport> budget_report;
    if (budgeted) {
      QuantizeReport qr;
      auto br =
          QuantizeWithinBudget(model, profile ? &*profile : nullptr, *dataset, qo, budget, &qr);
      if (br.ok()) {
        budget_report = std::move(br).value();
        report = std::move(qr);
      } else {
        report = br.status();
      }
    } else {
      report = QuantizeModel(model, profile ? &*profile : nullptr, *dataset, qo);
    }
    bar.Finish();
    if (!report.ok()) {
      if (report.status().message().rfind(kDataPrefix, 0) == 0) {
        ReportError("quantize", report.status());
        *exit_code = kExitInvalidData;
        return;
      }
      return fail(report.status());
    }
    if (o->json) {
      nlohmann::json j = nlohmann::json::parse(FormatQuantizeJson(*report));
      if (budget_report) {
        j["budget"] = {{"measure", budget_report->measure},
                       {"float", budget_report->float_metric},
                       {"first", budget_report->first_metric},
                       {"final", budget_report->final_metric},
                       {"within_budget", budget_report->within_budget},
                       {"returned_to_float", budget_report->returned_to_float}};
      }
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << FormatQuantizeText(*report);
      if (budget_report) std::cout << FormatBudgetText(*budget_report);
    }
    const int violations = report->check ? report->check->Count(Severity::kViolation) : 0;
    if (violations > 0 && !o->force) {
      std::cerr << "edgefit quantize: the quantized model has " << violations
                << " violation(s) for target '" << report->check->target
                << "' (run edgefit check on the fixed float model first); no output written "
                   "(use --force to write anyway)\n";
      *exit_code = kExitFindings;
      return;
    }
    Status st = SaveModel(model, o->output);
    if (!st.ok()) return fail(st);
    if (!o->json) std::cout << "wrote " << o->output << "\n";
    *exit_code = violations > 0 ? kExitFindings : kExitOk;
  });
}

}  // namespace edgefit::cli
