// edgefit targets [--json]: the built-in target profiles, one line each.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "targets/profile.h"

namespace edgefit::cli {
namespace {

const char* HandoffText(HandoffModel m) {
  return m == HandoffModel::kQdqInt8 ? "INT8 QDQ" : "float";
}

}  // namespace

void AddTargetsCommand(CLI::App& app, int* exit_code) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "targets", "List the built-in target profiles (use an id with --target; docs/targets.md)");
  cmd->add_flag("--json", *json, "Print JSON");
  cmd->callback([json, exit_code] {
    nlohmann::json list = nlohmann::json::array();
    std::vector<std::string> lines;
    size_t width = 0;
    std::vector<TargetProfile> profiles;
    for (const std::string& id : BuiltinTargetIds()) {
      auto profile = LoadTargetProfile(id);
      if (!profile.ok()) {
        *exit_code = ReportError("targets", profile.status());
        return;
      }
      width = std::max(width, id.size());
      profiles.push_back(std::move(profile).value());
    }
    for (const TargetProfile& p : profiles) {
      if (*json) {
        list.push_back(
            {{"id", p.id},
             {"name", p.name},
             {"version", p.version},
             {"toolchain", p.toolchain.name},
             {"handoff",
              p.toolchain.input_model.value == HandoffModel::kQdqInt8 ? "qdq_int8" : "float"},
             {"handoff_opset", p.toolchain.handoff_opset.value},
             {"opset_min", p.opset.min.value},
             {"opset_max", p.opset.max.value},
             {"max_rank", p.shapes.max_rank.value},
             {"extends", p.extends.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.extends)}});
        continue;
      }
      std::cout << p.id << std::string(width + 2 - p.id.size(), ' ') << p.name << ": "
                << p.toolchain.name << ", " << HandoffText(p.toolchain.input_model.value)
                << " at opset " << p.toolchain.handoff_opset.value << " (opsets "
                << p.opset.min.value << "-" << p.opset.max.value
                << "), rank <= " << p.shapes.max_rank.value << "\n";
    }
    if (*json) std::cout << list.dump(2) << "\n";
    *exit_code = kExitOk;
  });
}

}  // namespace edgefit::cli
