// edgefit compare REF.onnx TEST.onnx --data DATA [--data-count N] [--labels L.npy]
//   [--task regression|classification|none] [--max-metric-increase X] [--min-sqnr DB]
//   [--layers] [--top K] [--json] [--threads N]
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli.h"
#include "compare/compare.h"
#include "data/dataset.h"
#include "io/npy.h"
#include "onnx/model_io.h"

namespace edgefit::cli {
void AddCompareCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string reference, test, labels, task, preprocess;
    std::vector<std::string> data;
    int64_t data_count = 0;
    uint64_t seed = 0;
    std::optional<double> max_increase, min_sqnr;
    bool layers = false, json = false, no_sources = false;
    int top = 10, threads = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Run a reference (FP32) and a test model (e.g. INT8) on the same data: output "
      "differences, task metrics, per-layer SQNR, verdict (docs/compare.md)");
  cmd->add_option("reference", o->reference, "Reference ONNX model (e.g. FP32)")->required();
  cmd->add_option("test", o->test, "Test ONNX model (e.g. the INT8 QDQ model)")->required();
  cmd->add_option("--data", o->data,
                  "Samples: .npy/.npz files, image files or folders, NAME=PATH to bind an "
                  "input, or 'random' (repeatable; docs/data.md)")
      ->required();
  cmd->add_option("--data-count", o->data_count,
                  "Use N samples, evenly spread over the data (random: N samples; default 16)");
  cmd->add_option("--preprocess", o->preprocess, "Image preprocessing: a JSON file or inline JSON");
  cmd->add_option("--seed", o->seed, "Seed for --data random")->default_val(0);
  cmd->add_option("--labels", o->labels,
                  ".npy labels, one row per source sample: int class ids, float targets, or "
                  "keypoints [N,K,2|3] (x, y[, visible]) in input-image pixels");
  cmd->add_option("--task", o->task,
                  "regression, classification, keypoints (heatmap output; labels optional) or "
                  "none (default: from the labels)")
      ->check(CLI::IsMember({"regression", "classification", "keypoints", "none"}));
  cmd->add_option("--max-metric-increase", o->max_increase,
                  "Budget: regression MAE increase (label units), classification top-1 drop "
                  "(percentage points), keypoint error increase (pixels)");
  cmd->add_option("--min-sqnr", o->min_sqnr,
                  "Minimum output SQNR in dB for ACCEPTABLE; also the layer threshold "
                  "(default 20)");
  cmd->add_flag("--layers", o->layers,
                "Layer-wise analysis: per-tensor SQNR, worst layers, weights, error sources");
  cmd->add_flag("--no-sources", o->no_sources,
                "With --layers: skip the weights-only / activations-only runs");
  cmd->add_option("--top", o->top, "Layers listed per table")->default_val(10);
  cmd->add_option("--threads", o->threads, "Executor threads (0: all cores)")->default_val(0);
  cmd->add_flag("--json", o->json, "Print the report as JSON (schema edgefit-compare/1)");
  cmd->callback([o, exit_code] {
    auto fail = [&](const Status& st) { *exit_code = ReportError("compare", st); };
    auto fail_data = [&](const Status& st) {
      ReportError("compare", st);
      *exit_code = kExitInvalidData;
    };
    auto ref = LoadModel(o->reference);
    if (!ref.ok()) return fail(ref.status());
    auto test = LoadModel(o->test);
    if (!test.ok()) return fail(test.status());
    // Different inputs/outputs: exit 3 (the pair of models is not valid for compare).
    Status st = CheckComparable(*ref, *test);
    // A dynamic input shape: exit 6, as in quantize.
    if (!st.ok() && st.code() != StatusCode::kInvalidModel)
      return fail(Status(StatusCode::kUnsupported, st.message()));
    if (!st.ok())
      return fail(Status(StatusCode::kInvalidModel,
                         o->test + ": " + st.message() + " (" + o->reference + ")"));

    CompareOptions co;
    if (!o->labels.empty()) {
      auto labels = ReadNpy(o->labels);
      if (!labels.ok()) return fail_data(labels.status());
      co.labels = std::move(labels).value();
    }
    if (o->task == "none") {
      co.labels.reset();
    } else if (o->task == "regression") {
      co.task = CompareTask::kRegression;
    } else if (o->task == "classification") {
      co.task = CompareTask::kClassification;
    } else if (o->task == "keypoints") {
      co.task = CompareTask::kKeypoints;
    } else if (co.labels) {
      co.task = TaskForLabels(*co.labels, &*ref);
    }
    if (co.task != CompareTask::kNone && co.task != CompareTask::kKeypoints && !co.labels)
      return fail(InvalidArgument("--task " + o->task + " needs --labels"));
    if (o->max_increase && !co.labels)
      return fail(InvalidArgument("--max-metric-increase needs --labels"));
    co.max_metric_increase = o->max_increase;
    co.min_sqnr_db = o->min_sqnr;
    co.layers = o->layers;
    co.sources = !o->no_sources;
    co.num_threads = o->threads;

    auto data = DataOptionsFromFlags(o->data, o->data_count, o->seed, o->preprocess);
    if (!data.ok()) return fail_data(data.status());
    auto specs = InputSpecsOf(*ref);
    if (!specs.ok()) return fail(Status(StatusCode::kUnsupported, specs.status().message()));
    auto dataset = Dataset::Open(*data, *specs);
    if (!dataset.ok()) return fail_data(dataset.status());
    if (co.labels) {
      const Tensor& l = *co.labels;
      const int64_t rows = l.rank() ? l.dim(0) : 0;
      if (rows != dataset->total_size())
        return fail_data(InvalidArgument(o->labels + ": " + std::to_string(rows) +
                                         " labels but the data holds " +
                                         std::to_string(dataset->total_size()) + " samples"));
    }
    if (dataset->is_random())
      std::cerr << "edgefit compare: warning: comparing on RANDOM data, not real samples\n";

    ProgressBar bar(!o->json && isatty(fileno(stderr)));
    co.progress = [&bar](const std::string&, int64_t done, int64_t total) {
      bar.Update("compare", done, total);
    };
    auto report = CompareModels(*ref, *test, *dataset, co);
    bar.Finish();
    if (!report.ok()) {
      const std::string& m = report.status().message();
      if (m.rfind(kCompareDataPrefix, 0) == 0) {
        std::string msg = m;
        if (!o->labels.empty() && m.find("label") != std::string::npos) msg = o->labels + ": " + m;
        return fail_data(Status(report.status().code(), msg));
      }
      return fail(report.status());
    }
    if (o->json) {
      std::cout << FormatCompareJson(*report) << "\n";
    } else {
      std::cout << "reference: " << o->reference << "\ntest:      " << o->test << "\n"
                << FormatCompareText(*report, o->top);
    }
    *exit_code = report->acceptable ? kExitOk : kExitFindings;
  });
}

}  // namespace edgefit::cli
