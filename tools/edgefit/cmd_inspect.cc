// edgefit inspect MODEL [--json]
#include <iostream>

#include "analyze/inspect.h"
#include "cli.h"
#include "onnx/model_io.h"

namespace edgefit::cli {

void AddInspectCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string model;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Show a model's opsets, inputs/outputs (fixed or dynamic dims), ops, parameters, "
      "max tensor rank and non-static shapes");
  cmd->add_option("model", opts->model, "ONNX model file")->required();
  cmd->add_flag("--json", opts->json, "Print JSON (schema edgefit-inspect/1, see docs/inspect.md)");
  cmd->callback([opts, exit_code] {
    // Inspect needs no weight values: external data is validated but not read.
    LoadOptions lo;
    lo.load_external_data = false;
    auto model = LoadModel(opts->model, lo);
    if (!model.ok()) {
      *exit_code = ReportError("inspect", model.status());
      return;
    }
    InspectReport report = InspectModel(*model, opts->model);
    if (opts->json)  // names are bytes from the file: replace invalid UTF-8 instead of throwing
      std::cout << InspectToJson(report).dump(2, ' ', false,
                                              nlohmann::json::error_handler_t::replace)
                << "\n";
    else
      std::cout << FormatInspectText(report);
    *exit_code = kExitOk;
  });
}

}  // namespace edgefit::cli
