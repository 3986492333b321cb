// edgefit analyze MODEL [--target T] [--json] [--layers]
//
// MACs, params, weights ROM and activation RAM of the model as deployed (int8 where the model is
// QDQ), with a liveness-based memory plan and, with --target, the budget against the target's
// memory regions (docs/analyze.md).
//
// Exit codes (docs/cli.md): 0 ok (and, with --target, the model fits, possibly with external
// RAM); 1 (kExitFindings) it does not fit the target's memory; 2 usage; 3 the model cannot be
// read; 5 the target profile is unknown or malformed.
#include <iostream>

#include "cli.h"
#include "onnx/model_io.h"
#include "report/analysis.h"
#include "targets/profile.h"

namespace edgefit::cli {

void AddAnalyzeCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string model;
    std::string target;
    bool json = false;
    bool layers = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "analyze",
      "MACs, params, weights ROM and activation RAM as deployed (INT8-aware), a liveness-based "
      "memory plan, and the fit against a target's memory (docs/analyze.md)");
  cmd->add_option("model", opts->model, "ONNX model file")->required();
  cmd->add_option("--target,-t", opts->target,
                  "Built-in target id (see `edgefit targets`) or a profile file: check the "
                  "memory budget");
  cmd->add_flag("--json", opts->json, "Print JSON (schema edgefit-analyze/1, docs/analyze.md)");
  cmd->add_flag("--layers", opts->layers, "Print one line per layer (text output)");
  cmd->callback([opts, exit_code] {
    std::optional<TargetProfile> profile;
    if (!opts->target.empty()) {
      auto p = LoadTargetProfile(opts->target);
      if (!p.ok()) {
        ReportError("analyze", p.status());
        *exit_code = kExitInvalidProfile;
        return;
      }
      profile = std::move(*p);
    }
    auto model = LoadModel(opts->model);
    if (!model.ok()) {
      ReportError("analyze", model.status());
      *exit_code = kExitInvalidModel;
      return;
    }
    AnalyzeOptions options;
    if (profile) options.target = &*profile;
    auto report = AnalyzeModel(*model, opts->model, options);
    if (!report.ok()) {
      *exit_code = ReportError("analyze", report.status());
      return;
    }
    if (opts->json) {
      std::cout << AnalyzeToJson(*report).dump(2) << "\n";
    } else {
      std::cout << FormatAnalyzeText(*report, opts->layers);
    }
    *exit_code = report->budget && report->budget->verdict == BudgetVerdict::kDoesNotFit
                     ? kExitFindings
                     : kExitOk;
  });
}

}  // namespace edgefit::cli
