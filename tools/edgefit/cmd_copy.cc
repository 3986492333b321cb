// edgefit copy MODEL -o OUT [--external-data] [--in-place]
#include <iostream>

#include "cli.h"
#include "onnx/model_io.h"

namespace edgefit::cli {

void AddCopyCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string model, output, external_name;
    bool external = false, in_place = false;
    size_t threshold = 1024;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "copy", "Load, validate and write a model again (e.g. to move weights into external data)");
  cmd->add_option("model", opts->model, "ONNX model file")->required();
  cmd->add_option("-o,--output", opts->output, "Output model file")->required();
  cmd->add_flag("--external-data", opts->external,
                "Store tensors of at least --external-threshold bytes in OUT.data (needed for "
                "models over 2 GB)");
  cmd->add_option("--external-data-name", opts->external_name,
                  "File name of the external data, in OUT's folder (default: OUT's name + .data)");
  cmd->add_option("--external-threshold", opts->threshold,
                  "Smallest tensor (bytes) moved to external data")
      ->default_val(1024);
  cmd->add_flag("--in-place", opts->in_place, "Allow OUT to be the input file itself");
  cmd->callback([opts, exit_code] {
    auto model = LoadModel(opts->model);
    if (!model.ok()) {
      *exit_code = ReportError("copy", model.status());
      return;
    }
    SaveOptions so;
    so.external_data = opts->external;
    so.external_data_name = opts->external_name;
    so.external_data_threshold = opts->threshold;
    so.in_place = opts->in_place;
    Status st = SaveModel(*model, opts->output, so);
    if (!st.ok()) {
      *exit_code = ReportError("copy", st);
      return;
    }
    std::cout << "wrote " << opts->output << "\n";
    *exit_code = kExitOk;
  });
}

}  // namespace edgefit::cli
