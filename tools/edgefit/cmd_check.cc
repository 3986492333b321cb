// edgefit check MODEL --target T [--json] [--fail-on violation|warning]
//
// Exit codes (docs/rules.md): 0 no finding reaches --fail-on; 1 (kExitFindings) some does;
// 2 usage; 3 the model cannot be read; 5 the target profile is unknown or malformed.
#include <iostream>

#include "check/check.h"
#include "cli.h"
#include "onnx/model_io.h"
#include "targets/profile.h"

namespace edgefit::cli {

void AddCheckCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string model;
    std::string target;
    bool json = false;
    std::string fail_on = "violation";
    bool no_executor = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "check",
      "Check a model against a target NPU's rules: opset, static shapes, batch, rank, axes, op "
      "support and conditions, dtypes, QDQ. Each finding names the node and the pass that fixes "
      "it (docs/rules.md)");
  cmd->add_option("model", opts->model, "ONNX model file")->required();
  cmd->add_option("--target,-t", opts->target,
                  "Built-in target id (see `edgefit targets`) or a profile file (my_npu.json)")
      ->required();
  cmd->add_flag("--json", opts->json, "Print JSON (schema edgefit-check/1, see docs/rules.md)");
  cmd->add_option("--fail-on", opts->fail_on,
                  "Exit with code 1 when a finding of this severity or worse is reported")
      ->check(CLI::IsMember({"violation", "warning"}))
      ->capture_default_str();
  cmd->add_flag("--no-executor", opts->no_executor,
                "Use ONNX shape inference only (do not run the model once to complete shapes)");
  cmd->callback([opts, exit_code] {
    auto profile = LoadTargetProfile(opts->target);
    if (!profile.ok()) {
      ReportError("check", profile.status());
      *exit_code = kExitInvalidProfile;
      return;
    }
    auto model = LoadModel(opts->model);
    if (!model.ok()) {
      ReportError("check", model.status());
      *exit_code = kExitInvalidModel;
      return;
    }
    CheckOptions options;
    options.use_executor = !opts->no_executor;
    auto report = CheckModel(*model, *profile, options);
    if (!report.ok()) {
      *exit_code = ReportError("check", report.status());
      return;
    }
    report->model = opts->model;
    if (opts->json) {
      std::cout << FormatCheckJson(*report) << "\n";
    } else {
      std::cout << FormatCheckText(*report);
    }
    bool fail = report->Count(Severity::kViolation) > 0 ||
                (opts->fail_on == "warning" && report->Count(Severity::kWarning) > 0);
    *exit_code = fail ? kExitFindings : kExitOk;
  });
}

}  // namespace edgefit::cli
