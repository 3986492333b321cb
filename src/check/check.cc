#include "check/check.h"

#include <algorithm>
#include <exception>
#include <unordered_map>

#include "check/context.h"
#include "check/rule.h"

namespace edgefit {

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kViolation: return "violation";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "info";
  }
  return "info";
}

std::string FindingValue::ShapeString() const {
  if (!has_shape) return "?";
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i) out += (i ? "," : "") + dims[i].ToString();
  return out + "]";
}

int CheckReport::Count(Severity severity) const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(),
                                        [&](const Finding& f) { return f.severity == severity; }));
}

const char* CheckReport::Verdict() const {
  if (Count(Severity::kViolation) > 0) return "incompatible";
  if (Count(Severity::kWarning) > 0) return "warnings";
  return "compatible";
}

std::string CheckReport::VerdictLine() const {
  int v = Count(Severity::kViolation), w = Count(Severity::kWarning);
  if (v == 0 && w == 0) return "COMPATIBLE";
  return std::to_string(v) + (v == 1 ? " violation, " : " violations, ") + std::to_string(w) +
         (w == 1 ? " warning" : " warnings");
}

std::vector<std::string> CheckRuleIds() {
  std::vector<std::string> ids;
  for (const Rule* r : RuleRegistry()) ids.push_back(r->id);
  return ids;
}

StatusOr<CheckReport> CheckModel(const Model& model, const TargetProfile& profile,
                                 const CheckOptions& options) {
  CheckReport report;
  report.model = model.source_path;
  report.model_opset = model.OpsetVersion("");
  report.target = profile.id;
  report.target_name = profile.name;
  report.target_origin = profile.origin;
  try {
    CheckContext ctx(model, profile, options);
    std::unordered_map<std::string, size_t> rank;
    for (const Rule* rule : RuleRegistry()) {
      rank.emplace(rule->id, rank.size());
      rule->run(ctx, &report.findings);
    }
    std::stable_sort(report.findings.begin(), report.findings.end(),
                     [&](const Finding& a, const Finding& b) {
                       if (a.severity != b.severity) return a.severity < b.severity;
                       size_t ra = rank.count(a.rule) ? rank[a.rule] : rank.size();
                       size_t rb = rank.count(b.rule) ? rank[b.rule] : rank.size();
                       if (ra != rb) return ra < rb;
                       return a.order < b.order;
                     });
  } catch (const std::exception& e) {
    return Internal(std::string("check failed: ") + e.what());
  }
  return report;
}

}  // namespace edgefit
