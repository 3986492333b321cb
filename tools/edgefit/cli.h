// Shared pieces of the edgefit command line: exit codes and error printing.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "data/dataset.h"
#include "edgefit/status.h"

namespace edgefit::cli {

// Documented in docs/cli.md; stable across releases.
enum ExitCode : int {
  kExitOk = 0,
  kExitFindings = 1,        // findings / DEGRADED / violations remain / does not fit (docs/cli.md)
  kExitUsage = 2,           // bad command line
  kExitInvalidModel = 3,    // model missing, unreadable, or not valid ONNX
  kExitOutputRefused = 4,   // output not written: would overwrite input, or write failed
  kExitInvalidProfile = 5,  // target profile malformed
  kExitUnsupported = 6,     // valid ONNX edgefit cannot handle (op, dtype, opset)
  kExitVerifyFailed = 7,    // a rewrite changed the model's outputs beyond tolerance
  kExitInvalidData = 8,     // input/calibration data unreadable or mismatched
  kExitInternal = 70,       // a bug in edgefit
};

int ExitCodeFor(const Status& status);
// Prints "edgefit <command>: error: <message>" to stderr and returns the exit code.
int ReportError(const std::string& command, const Status& status);

// "NAME=1,72,36,36" (--input-shape): the input's name and its dims (all positive).
StatusOr<std::pair<std::string, Shape>> ParseInputShape(const std::string& text);
// "NAME=VALUE" for `flag` (e.g. --data input=x.npy).
StatusOr<std::pair<std::string, std::string>> SplitAssignment(const std::string& text,
                                                              const char* flag);

// Sample data from the shared data flags (docs/data.md): `sources` as given (a single "random"
// means seeded random data, `count` samples, default 16), `count` evenly spread samples (0: all),
// `preprocess` a JSON file or inline JSON for images ("" = none).
StatusOr<DatasetOptions> DataOptionsFromFlags(const std::vector<std::string>& sources,
                                              int64_t count, uint64_t seed,
                                              const std::string& preprocess);

// "\r<stage> [#########.........] 120/200" on stderr when enabled (a terminal); nothing
// otherwise. A new stage starts a new line.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  ~ProgressBar() { Finish(); }
  void Update(const std::string& stage, int64_t done, int64_t total);
  void Finish();

 private:
  bool enabled_;
  bool open_ = false;
  std::string stage_;
};

// Every subcommand registers itself through one of these, listed in main.cc.
using CommandFactory = std::function<void(CLI::App& app, int* exit_code)>;

void AddAnalyzeCommand(CLI::App& app, int* exit_code);
void AddReportCommand(CLI::App& app, int* exit_code);
void AddInspectCommand(CLI::App& app, int* exit_code);
void AddCopyCommand(CLI::App& app, int* exit_code);
void AddCheckCommand(CLI::App& app, int* exit_code);
void AddTargetsCommand(CLI::App& app, int* exit_code);
void AddRunCommand(CLI::App& app, int* exit_code);
void AddFixCommand(CLI::App& app, int* exit_code);
void AddQuantizeCommand(CLI::App& app, int* exit_code);
void AddCompareCommand(CLI::App& app, int* exit_code);
void AddDrawCommand(CLI::App& app, int* exit_code);
void AddDeployCommand(CLI::App& app, int* exit_code);

}  // namespace edgefit::cli
