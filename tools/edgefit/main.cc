// The edgefit command line: a thin layer over the libraries. Each subcommand lives in its own
// cmd_*.cc file and is registered in the list below.
#include <malloc.h>

#include <iostream>

#include "cli.h"
#include "runtime/blas.h"

#ifndef EDGEFIT_VERSION
#define EDGEFIT_VERSION "dev"
#endif

int main(int argc, char** argv) {
  using namespace edgefit::cli;
  // First: OpenBLAS's idle worker threads spin until blas::Init stops them (blas.cc).
  edgefit::blas::Init();
  // Builds without mimalloc (sanitizers): large buffers (samples, tensors of MBs) are allocated
  // and freed once per calibration sample or verification run: keep them in glibc's heap
  // instead of mapping fresh zeroed pages each time (its defaults unmap and trim them, and the
  // page faults were ~2% of a calibration). With mimalloc these calls change nothing.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  CLI::App app{"edgefit: make ONNX models deployable on edge NPUs (STM32N6, Kneron KL730, ...)",
               "edgefit"};
  app.set_version_flag("--version", EDGEFIT_VERSION);
  app.require_subcommand(1);
  int exit_code = kExitOk;
  const CommandFactory commands[] = {
      AddInspectCommand,  AddAnalyzeCommand, AddReportCommand, AddCopyCommand,
      AddCheckCommand,    AddTargetsCommand, AddRunCommand,    AddFixCommand,
      AddQuantizeCommand, AddCompareCommand, AddDrawCommand,   AddDeployCommand,
  };
  for (const auto& add : commands) add(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "edgefit: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return exit_code;
}
