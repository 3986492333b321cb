// Text and JSON forms of a CheckReport (docs/rules.md, "Output").
#include <nlohmann/json.hpp>
#include <sstream>

#include "check/check.h"

namespace edgefit {
namespace {

constexpr size_t kLineWidth = 100;

const char* SeverityHeading(Severity s) {
  switch (s) {
    case Severity::kViolation: return "violation";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "info";
  }
  return "info";
}

std::string Plural(int n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

nlohmann::ordered_json ValueJson(const FindingValue& v) {
  nlohmann::ordered_json j;
  j["name"] = v.name;
  if (!v.role.empty()) j["role"] = v.role;
  j["dtype"] = v.dtype == DataType::kUndefined ? nlohmann::ordered_json(nullptr)
                                               : nlohmann::ordered_json(DataTypeName(v.dtype));
  if (v.has_shape) {
    nlohmann::ordered_json dims = nlohmann::ordered_json::array();
    for (const Dim& d : v.dims) {
      if (d.is_fixed()) {
        dims.push_back(d.value);
      } else if (d.kind == Dim::Kind::kParam) {
        dims.push_back(d.param);
      } else {
        dims.push_back(nullptr);
      }
    }
    j["shape"] = dims;
  } else {
    j["shape"] = nullptr;
  }
  if (v.has_data) j["data"] = v.data;
  return j;
}

nlohmann::ordered_json FindingJson(const Finding& f) {
  nlohmann::ordered_json j;
  j["rule"] = f.rule;
  j["severity"] = SeverityName(f.severity);
  j["node"] = f.node.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.node);
  j["op"] = f.op.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.op);
  j["opset"] = f.opset < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.opset);
  j["values"] = nlohmann::ordered_json::array();
  for (const FindingValue& v : f.values) j["values"].push_back(ValueJson(v));
  j["message"] = f.message;
  j["fixed_by"] =
      f.fixed_by ? nlohmann::ordered_json(*f.fixed_by) : nlohmann::ordered_json(nullptr);
  j["source_status"] = f.source_status ? nlohmann::ordered_json(FactStatusName(*f.source_status))
                                       : nlohmann::ordered_json(nullptr);
  j["source"] = f.source;
  return j;
}

}  // namespace

std::string FormatCheckText(const CheckReport& r) {
  std::ostringstream os;
  os << (r.model.empty() ? std::string("model") : r.model);
  if (r.model_opset >= 0) os << " (opset " << r.model_opset << ")";
  os << " on " << r.target << " (" << r.target_name << ")\n";
  size_t i = 0;
  while (i < r.findings.size()) {
    // One group: consecutive findings of one severity and rule (the report is sorted).
    size_t end = i;
    while (end < r.findings.size() && r.findings[end].severity == r.findings[i].severity &&
           r.findings[end].rule == r.findings[i].rule)
      ++end;
    int count = static_cast<int>(end - i);
    os << "\n"
       << r.findings[i].rule << ": " << Plural(count, SeverityHeading(r.findings[i].severity))
       << "\n";
    for (; i < end; ++i) {
      const Finding& f = r.findings[i];
      std::string line = "  " + f.message;
      std::string fix = "-> fixed by: " + (f.fixed_by ? *f.fixed_by : std::string("none"));
      if (!f.fixed_by && f.severity == Severity::kInfo) {
        os << line << "\n";
      } else if (line.size() + 1 + fix.size() <= kLineWidth) {
        os << line << " " << fix << "\n";
      } else {
        os << line << "\n    " << fix << "\n";
      }
    }
  }
  int infos = r.Count(Severity::kInfo);
  os << "\n" << r.target << ": " << r.VerdictLine();
  if (infos > 0) os << " (" << Plural(infos, "info") << ")";
  os << "\n";
  return os.str();
}

std::string FormatCheckJson(const CheckReport& r, int indent) {
  nlohmann::ordered_json j;
  j["schema"] = "edgefit-check/1";
  j["model"] = r.model;
  j["model_opset"] =
      r.model_opset < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.model_opset);
  j["target"] = r.target;
  j["target_name"] = r.target_name;
  j["target_origin"] = r.target_origin;
  j["verdict"] = r.Verdict();
  j["summary"] = r.VerdictLine();
  j["violations"] = nlohmann::ordered_json::array();
  j["warnings"] = nlohmann::ordered_json::array();
  j["infos"] = nlohmann::ordered_json::array();
  for (const Finding& f : r.findings) {
    const char* key = f.severity == Severity::kViolation ? "violations"
                      : f.severity == Severity::kWarning ? "warnings"
                                                         : "infos";
    j[key].push_back(FindingJson(f));
  }
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace edgefit
