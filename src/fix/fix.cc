#include "fix/fix.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "onnx/model_io.h"
#include "shape/concrete_shapes.h"
#include "shape/shape_inference.h"

namespace edgefit {
namespace {

bool IsImplemented(const std::string& id) {
  for (const PassInfo& p : AllPasses())
    if (id == p.id) return true;
  return false;
}

// Writes the executor's actual shapes into every main-graph value and records them as
// value_info, so vendor parsers see a static shape on every tensor.
std::string ReasonFor(const Finding& f, const std::set<std::string>& ran,
                      const std::vector<SkippedPass>& skipped,
                      const std::vector<std::string>& unresolved) {
  if (!f.fixed_by) return "no edgefit pass can fix this (the target lacks what the model needs)";
  const std::string& pass = *f.fixed_by;
  for (const SkippedPass& s : skipped)
    if (s.id == pass) return "needs pass " + pass + ", which " + s.reason;
  if (!ran.count(pass)) return "needs pass " + pass + ", which is not in the pipeline (--passes)";
  std::string why = "pass " + pass + " ran but could not rewrite this";
  for (const std::string& u : unresolved) {
    if (!f.node.empty() && u.find(f.node) != std::string::npos) return why + ": " + u;
    for (const FindingValue& v : f.values)
      if (!v.name.empty() && u.find("'" + v.name + "'") != std::string::npos) return why + ": " + u;
  }
  return why;
}

// The type of every value in `g` and its subgraphs that shape inference can refine: it merges
// what ONNX reports by name, i.e. node outputs, graph outputs and value_info records (inputs too,
// for safety). Not Graph::AllValues, which sorts every value's name (~3 ms on 10k nodes).
void SaveTypes(const Graph& g, std::vector<std::pair<Value*, TypeInfo>>* saved) {
  for (Value* v : g.inputs()) saved->push_back({v, v->type()});
  for (Value* v : g.outputs()) saved->push_back({v, v->type()});
  for (Value* v : g.value_info_order()) saved->push_back({v, v->type()});
  for (const auto& n : g.nodes()) {
    for (Value* v : n->outputs())
      if (v) saved->push_back({v, v->type()});
    for (const Attribute& a : n->attributes())
      for (const auto& sg : a.graphs) SaveTypes(*sg, saved);
  }
}

// `inspect`'s statistics of the model with ONNX-inferred shapes, leaving `model` as it was:
// inference changes value types only, so they are put back afterwards (no copy of the model).
InspectReport InspectUnchanged(Model& model, const std::string& file) {
  if (ShapesComplete(*model.graph)) return InspectModelAsIs(model, file);
  std::vector<std::pair<Value*, TypeInfo>> saved;
  SaveTypes(*model.graph, &saved);
  InspectReport report = InspectModel(model, file);
  for (auto& [v, type] : saved) v->type() = std::move(type);
  return report;
}

}  // namespace

StatusOr<FixReport> FixModel(Model& model, const Model& original, const TargetProfile& profile,
                             const FixOptions& options) {
  FixReport report;
  report.target = profile.id;
  ASSIGN_OR_RETURN(report.before, CheckModel(model, profile));
  report.stats_before = InspectUnchanged(model, model.source_path);

  std::vector<std::string> ids = options.passes.empty() ? profile.pipeline : options.passes;
  PipelineOptions po;
  for (const std::string& id : ids) {
    if (IsImplemented(id)) {
      po.passes.push_back(id);
    } else if (options.passes.empty()) {
      report.skipped_passes.push_back({id, "edgefit does not implement yet"});
    } else {
      RETURN_IF_ERROR(CreatePass(id).status());  // names the known ids
    }
  }
  po.max_rounds = options.max_rounds;
  po.verify_each = options.verify_each;
  po.verify = options.verification;
  po.after_pass = options.after_pass;
  po.done = [&profile](const Model& m) {
    auto check = CheckModel(m, profile);
    return check.ok() && check->Count(Severity::kViolation) == 0;
  };
  PassContext ctx{model, &profile, options.pass_options};
  ASSIGN_OR_RETURN(report.pipeline, RunPipeline(ctx, po, &original));
  std::set<std::string> ran;
  for (const PassRecord& r : report.pipeline.records) {
    ran.insert(r.pass);
    for (const std::string& u : r.result.unresolved)
      if (std::find(report.unresolved.begin(), report.unresolved.end(), u) ==
          report.unresolved.end())
        report.unresolved.push_back(u);
  }
  RecordStaticShapes(model, &report.pipeline.warnings);
  RETURN_IF_ERROR(
      model.graph->Verify().WithContext("the fixed model is invalid (a bug in edgefit)"));

  if (options.verify) {
    ASSIGN_OR_RETURN(report.equivalence, CheckEquivalence(original, model, options.verification));
    report.verified = true;
    if (!report.equivalence.equivalent)
      return FailedPrecondition(
          "verification failed: the fixed model's outputs differ from the original's beyond "
          "the tolerance (" +
          std::to_string(options.verification.tolerance) +
          " relative); nothing was written. Rerun with --verify-each to find the pass.\n" +
          report.equivalence.Summary());
  }

  ASSIGN_OR_RETURN(report.after, CheckModel(model, profile));
  report.stats_after = InspectUnchanged(model, "(fixed)");
  for (const Finding& f : report.after.findings)
    if (f.severity != Severity::kInfo)
      report.remaining.push_back({f, ReasonFor(f, ran, report.skipped_passes, report.unresolved)});
  return report;
}

namespace {

int64_t CountNonStatic(const InspectReport& r) { return static_cast<int64_t>(r.non_static_count); }

}  // namespace

std::string FormatFixText(const FixReport& r) {
  std::ostringstream os;
  os << "edgefit fix --target " << r.target << "\n\n";
  os << "Passes (" << r.pipeline.rounds << " round" << (r.pipeline.rounds == 1 ? "" : "s")
     << "):\n";
  std::map<std::string, int> rewrites;
  std::vector<std::string> order;
  for (const PassRecord& p : r.pipeline.records) {
    if (!rewrites.count(p.pass)) order.push_back(p.pass);
    rewrites[p.pass] += p.result.rewrites;
  }
  for (const std::string& id : order) {
    os << "  " << id << ": " << rewrites[id] << " rewrite" << (rewrites[id] == 1 ? "" : "s")
       << "\n";
    for (const PassRecord& p : r.pipeline.records)
      if (p.pass == id)
        for (const std::string& note : p.result.notes) os << "      " << note << "\n";
  }
  for (const SkippedPass& s : r.skipped_passes)
    os << "  " << s.id << ": skipped (" << s.reason << ")\n";
  for (const std::string& w : r.pipeline.warnings) os << "  warning: " << w << "\n";

  const InspectReport& a = r.stats_before;
  const InspectReport& b = r.stats_after;
  os << "\nBefore -> after:\n";
  os << "  nodes:              " << a.node_count << " -> " << b.node_count << "\n";
  os << "  max rank:           " << a.max_rank << " -> " << b.max_rank << "\n";
  os << "  non-static values:  " << CountNonStatic(a) << " -> " << CountNonStatic(b) << "\n";
  os << "  parameter bytes:    " << a.parameter_bytes << " -> " << b.parameter_bytes << "\n";
  std::map<std::string, std::pair<int, int>> ops;
  for (const auto& [op, n] : a.op_histogram) ops[op].first = n;
  for (const auto& [op, n] : b.op_histogram) ops[op].second = n;
  std::string changes;
  for (const auto& [op, n] : ops)
    if (n.first != n.second)
      changes += " " + op + " " + std::to_string(n.first) + "->" + std::to_string(n.second);
  if (!changes.empty()) os << "  ops:               " << changes << "\n";

  if (r.verified) {
    os << "\nVerified: same outputs as the original on " << r.equivalence.samples
       << " input sets (error relative to each output's largest value):\n"
       << r.equivalence.Summary();
  } else {
    os << "\nNOT verified (--no-verify).\n";
  }
  for (const std::string& u : r.unresolved) os << "\nunresolved: " << u;
  if (!r.unresolved.empty()) os << "\n";
  if (!r.remaining.empty()) {
    os << "\nStill reported by check:\n";
    for (const RemainingFinding& f : r.remaining)
      os << "  [" << SeverityName(f.finding.severity) << "] " << f.finding.rule << ": "
         << f.finding.message << "\n      why: " << f.reason << "\n";
  }
  os << "\n" << r.before.VerdictLine() << "  ->  " << r.after.VerdictLine() << "\n";
  return os.str();
}

nlohmann::json FixToJson(const FixReport& r) {
  using nlohmann::json;
  json j;
  j["schema"] = "edgefit-fix/1";
  j["target"] = r.target;
  j["verdict_before"] = r.before.Verdict();
  j["verdict_after"] = r.after.Verdict();
  j["violations_before"] = r.before.Count(Severity::kViolation);
  j["violations_after"] = r.after.Count(Severity::kViolation);
  j["warnings_after"] = r.after.Count(Severity::kWarning);
  j["rounds"] = r.pipeline.rounds;
  j["passes"] = json::array();
  for (const PassRecord& p : r.pipeline.records)
    j["passes"].push_back({{"pass", p.pass},
                           {"round", p.round},
                           {"rewrites", p.result.rewrites},
                           {"notes", p.result.notes},
                           {"unresolved", p.result.unresolved},
                           {"ms", p.milliseconds}});
  j["skipped_passes"] = json::array();
  for (const SkippedPass& s : r.skipped_passes)
    j["skipped_passes"].push_back({{"pass", s.id}, {"reason", s.reason}});
  auto stats = [](const InspectReport& s) {
    return json{{"nodes", s.node_count},
                {"max_rank", s.max_rank},
                {"non_static_values", s.non_static_count},
                {"parameter_bytes", s.parameter_bytes}};
  };
  j["before"] = stats(r.stats_before);
  j["after"] = stats(r.stats_after);
  j["verified"] = r.verified;
  j["verification"] = json::array();
  for (const OutputDifference& o : r.equivalence.outputs)
    j["verification"].push_back({{"output", o.name},
                                 {"max_abs", o.max_abs},
                                 {"max_rel", o.max_rel},
                                 {"within_tolerance", o.within_tolerance}});
  j["verification_samples"] = r.equivalence.samples;
  j["remaining"] = json::array();
  for (const RemainingFinding& f : r.remaining)
    j["remaining"].push_back({{"rule", f.finding.rule},
                              {"severity", SeverityName(f.finding.severity)},
                              {"node", f.finding.node},
                              {"message", f.finding.message},
                              {"reason", f.reason}});
  j["warnings"] = r.pipeline.warnings;
  return j;
}

}  // namespace edgefit
