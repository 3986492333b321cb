// Shared pieces of the edgefit command line: exit codes and error printing.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "edgefit/status.h"

namespace edgefit::cli {

// Documented in docs/cli.md; stable across releases.
enum ExitCode : int {
  kExitOk = 0,
  kExitFindings = 1,        // check/compare: findings at or above --fail-on, or DEGRADED
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
