// edgefit report MODEL [--target T] [--compare COMPARE.json] -o OUT [--format html|md|json]
//
// One self-contained page about a model: graph picture (Graphviz), check findings, analyze
// numbers, memory timeline, FP32-vs-INT8 comparison (docs/report.md).
//
// Exit codes (docs/cli.md): 0 written; 2 usage; 3 the model cannot be read; 4 the output would
// overwrite the model or cannot be written; 5 bad target profile; 8 the compare JSON is
// unreadable.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "onnx/model_io.h"
#include "report/report.h"
#include "targets/profile.h"

namespace edgefit::cli {
namespace {

namespace fs = std::filesystem;

// Temporary file next to `path`, then rename.
Status WriteAtomically(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Status(StatusCode::kIoError, "cannot write '" + path + "'");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return Status(StatusCode::kIoError, "cannot write '" + path + "'");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Status(StatusCode::kIoError, "cannot write '" + path + "': " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

void AddReportCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string model;
    std::string target;
    std::string compare;
    std::string output;
    std::string format;
    bool no_graph = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write one self-contained HTML page (or Markdown / JSON) about a model: graph coloured by "
      "where layers run, check findings, MACs and memory, memory timeline, FP32-vs-INT8 "
      "comparison (docs/report.md)");
  cmd->add_option("model", opts->model, "ONNX model file")->required();
  cmd->add_option("--target,-t", opts->target,
                  "Built-in target id or a profile file: check findings, placement, budget");
  cmd->add_option("--compare", opts->compare,
                  "JSON written by `edgefit compare --json` (schema edgefit-compare/1)");
  cmd->add_option("-o,--output", opts->output, "Report file to write")->required();
  cmd->add_option("--format", opts->format,
                  "html, md or json (default: from the output's extension, else html)")
      ->check(CLI::IsMember({"html", "md", "json"}));
  cmd->add_flag("--no-graph", opts->no_graph, "Do not run Graphviz (ranked list of layers)");
  cmd->callback([opts, exit_code] {
    std::string format = opts->format;
    if (format.empty()) {
      std::string ext = fs::path(opts->output).extension().string();
      format = ext == ".md" ? "md" : ext == ".json" ? "json" : "html";
    }
    std::optional<TargetProfile> profile;
    if (!opts->target.empty()) {
      auto p = LoadTargetProfile(opts->target);
      if (!p.ok()) {
        ReportError("report", p.status());
        *exit_code = kExitInvalidProfile;
        return;
      }
      profile = std::move(*p);
    }
    std::error_code ec;
    if (fs::exists(opts->output, ec) && fs::equivalent(opts->model, opts->output, ec)) {
      ReportError("report", Status(StatusCode::kFailedPrecondition,
                                   "refusing to overwrite the model '" + opts->model + "'"));
      *exit_code = kExitOutputRefused;
      return;
    }
    ReportOptions options;
    if (profile) options.target = &*profile;
    options.draw_graph = !opts->no_graph;
    if (!opts->compare.empty()) {
      std::ifstream f(opts->compare, std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      auto j = nlohmann::json::parse(ss.str(), nullptr, false);
      if (!f || j.is_discarded() || !j.is_object()) {
        ReportError("report", Status(StatusCode::kInvalidArgument,
                                     "cannot read compare results '" + opts->compare +
                                         "': not a JSON object (edgefit compare --json)"));
        *exit_code = kExitInvalidData;
        return;
      }
      options.compare = std::move(j);
    }
    auto model = LoadModel(opts->model);
    if (!model.ok()) {
      ReportError("report", model.status());
      *exit_code = kExitInvalidModel;
      return;
    }
    auto data = BuildReport(*model, opts->model, options);
    if (!data.ok()) {
      *exit_code = ReportError("report", data.status());
      return;
    }
    std::string text = format == "md"     ? RenderMarkdown(*data)
                       : format == "json" ? RenderJson(*data) + "\n"
                                          : RenderHtml(*data);
    Status written = WriteAtomically(opts->output, text);
    if (!written.ok()) {
      ReportError("report", written);
      *exit_code = kExitOutputRefused;
      return;
    }
    if (!data->graph_note.empty() && format == "html") {
      std::cerr << "edgefit report: note: " << data->graph_note << "\n";
    }
    std::cout << "wrote " << opts->output << " (" << format << ")\n";
    *exit_code = kExitOk;
  });
}

}  // namespace edgefit::cli
