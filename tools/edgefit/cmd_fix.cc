// edgefit fix MODEL -o OUT --target T [--input-shape NAME=1,72,36,36 ...] [--passes a,b,c]
//   [--data NAME=FILE.npy ...] [--verify-samples N] [--tolerance X] [--dump-after PASS]
//   [--verify-each] [--no-verify] [--force] [--json]
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "fix/fix.h"
#include "io/npy.h"
#include "onnx/model_io.h"

namespace edgefit::cli {
void AddFixCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string model, output, target, passes, dump_after;
    std::vector<std::string> input_shapes, data;
    int samples = 8;
    double tolerance = 1e-4;
    bool verify_each = false, no_verify = false, force = false, json = false;
    std::string unbatch = "auto";
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "fix",
      "Rewrite the graph until it passes the target's rules, and prove the outputs are "
      "unchanged by running both models");
  cmd->add_option("model", o->model, "ONNX model file")->required();
  cmd->add_option("-o,--output", o->output, "Output model file")->required();
  cmd->add_option("-t,--target", o->target, "Target id (edgefit targets) or profile JSON file")
      ->required();
  cmd->add_option("--input-shape", o->input_shapes,
                  "Freeze an input's shape, e.g. input=1,72,36,36 (repeatable)");
  cmd->add_option("--passes", o->passes,
                  "Comma-separated pass ids to run instead of the target's pipeline");
  cmd->add_option("--data", o->data,
                  "Verify also on this input data: NAME=FILE.npy (repeatable, one sample)");
  cmd->add_option("--verify-samples", o->samples, "Seeded random input sets for verification")
      ->default_val(8);
  cmd->add_option("--tolerance", o->tolerance,
                  "Largest allowed output error, relative to the output's largest value")
      ->default_val(1e-4);
  cmd->add_option("--dump-after", o->dump_after,
                  "Write the model after this pass to OUT.after-PASS.onnx (each time it runs)");
  cmd->add_option("--unbatch", o->unbatch, "unbatch mode: auto, group or split")
      ->default_val("auto");
  cmd->add_flag("--verify-each", o->verify_each,
                "Verify after every pass; names the pass that broke");
  cmd->add_flag("--no-verify", o->no_verify, "Skip the final verification (not recommended)");
  cmd->add_flag("--force", o->force, "Write the output even when violations remain");
  cmd->add_flag("--json", o->json, "Print the report as JSON (schema edgefit-fix/1)");
  cmd->callback([o, exit_code] {
    auto fail = [&](const Status& st) { *exit_code = ReportError("fix", st); };
    auto profile = LoadTargetProfile(o->target);
    if (!profile.ok()) return fail(profile.status());
    auto loaded = LoadModel(o->model);
    if (!loaded.ok()) return fail(loaded.status());
    Model& model = *loaded;
    auto original = CloneModel(model);
    if (!original.ok()) return fail(original.status());

    FixOptions fo;
    for (const std::string& s : o->input_shapes) {
      auto shape = ParseInputShape(s);
      if (!shape.ok()) return fail(shape.status());
      fo.pass_options.input_shapes[shape->first] = shape->second;
    }
    if (!o->passes.empty()) {
      std::stringstream ss(o->passes);
      for (std::string id; std::getline(ss, id, ',');)
        if (!id.empty()) fo.passes.push_back(id);
    }
    fo.pass_options.unbatch_mode = o->unbatch;
    fo.verify = !o->no_verify;
    fo.verify_each = o->verify_each;
    fo.verification.random_samples = o->samples;
    fo.verification.tolerance = o->tolerance;
    if (!o->data.empty()) {
      std::vector<NamedTensor> sample;
      for (const std::string& d : o->data) {
        auto kv = SplitAssignment(d, "--data");
        if (!kv.ok()) return fail(kv.status());
        auto t = ReadNpy(kv->second);
        if (!t.ok()) {
          *exit_code = ReportError("fix", t.status());
          if (*exit_code == kExitInvalidModel) *exit_code = kExitInvalidData;
          return;
        }
        sample.push_back({kv->first, std::move(t).value()});
      }
      fo.verification.samples.push_back(std::move(sample));
    }
    if (!o->dump_after.empty()) {
      std::string stem = o->output;
      if (stem.size() > 5 && stem.substr(stem.size() - 5) == ".onnx")
        stem = stem.substr(0, stem.size() - 5);
      std::string want = o->dump_after;
      fo.after_pass = [stem, want](const std::string& id, const Model& m) -> Status {
        if (id != want) return Status::Ok();
        return SaveModel(m, stem + ".after-" + id + ".onnx");
      };
    }
    auto report = FixModel(model, *original, *profile, fo);
    if (!report.ok()) {
      *exit_code = ReportError("fix", report.status());
      if (report.status().code() == StatusCode::kFailedPrecondition &&
          report.status().message().rfind("verification failed", 0) == 0)
        *exit_code = kExitVerifyFailed;
      return;
    }
    if (o->json)
      std::cout << FixToJson(*report).dump(2) << "\n";
    else
      std::cout << FormatFixText(*report);
    if (report->violations_left() > 0 && !o->force) {
      std::cerr << "edgefit fix: " << report->violations_left()
                << " violation(s) remain; no output written (use --force to write anyway)\n";
      *exit_code = kExitFindings;
      return;
    }
    Status st = SaveModel(model, o->output);
    if (!st.ok()) return fail(st);
    if (!o->json) std::cout << "wrote " << o->output << "\n";
    *exit_code = report->violations_left() > 0 ? kExitFindings : kExitOk;
  });
}

}  // namespace edgefit::cli
