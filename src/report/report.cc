#include "report/report.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "check/context.h"

extern char** environ;

namespace edgefit {
namespace {

using nlohmann::json;

// Layers drawn at most; a bigger graph gets the ranked list (dot gets slow and the picture
// unreadable).
constexpr size_t kMaxDrawnLayers = 1500;

std::string Html(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

// Markdown table cell: pipes and line breaks escaped.
std::string Md(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|') {
      o += "\\|";
    } else if (c == '\n') {
      o += ' ';
    } else {
      o += c;
    }
  }
  return o;
}

std::string DotEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o;
}

std::string Fixed(double v, int digits = 2) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// A compare JSON number (may be missing, null, or a string such as "inf").
std::optional<double> Num(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return std::nullopt;
  const json& v = j[key];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "inf" || s == "+inf" || s == "Infinity") return INFINITY;
    if (s == "-inf" || s == "-Infinity") return -INFINITY;
  }
  return std::nullopt;
}

std::string NumText(const json& j, const char* key, int digits = 4) {
  auto v = Num(j, key);
  if (!v) {
    if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
    return "-";
  }
  if (std::isinf(*v) || std::isnan(*v)) return Fixed(*v);
  char buf[64];
  if (std::fabs(*v) != 0 && (std::fabs(*v) < 1e-3 || std::fabs(*v) >= 1e6)) {
    std::snprintf(buf, sizeof buf, "%.3e", *v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*f", digits, *v);
  }
  return buf;
}

std::string Str(const json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return "";
}

const char* PlacementColor(const std::string& p) {
  if (p == "npu" || p == "int8") return "#9be3a8";
  if (p == "cpu") return "#ffc56b";
  if (p == "unsupported") return "#ff8a80";
  if (p == "float") return "#9ec5fe";
  return "#e0e0e0";
}

const char* PlacementText(const std::string& p) {
  if (p == "npu") return "NPU";
  if (p == "cpu") return "CPU fallback";
  if (p == "unsupported") return "unsupported";
  if (p == "float") return "float (CPU)";
  if (p == "int8") return "int8";
  return "-";
}

// The layer whose output `tensor` really is, skipping fused Q/DQ; -1 for a graph input.
int SourceLayer(const CostReport& c, int tensor) {
  for (int guard = 0; guard < 64; ++guard) {
    int p = c.tensors[tensor].producer;
    if (p < 0) return -1;
    const LayerCost& l = c.layers[p];
    if (l.kind != LayerKind::kFusedQdq || l.inputs.empty()) return p;
    tensor = l.inputs[0];
  }
  return c.tensors[tensor].producer;
}

int SourceTensor(const CostReport& c, int tensor) {
  for (int guard = 0; guard < 64; ++guard) {
    int p = c.tensors[tensor].producer;
    if (p < 0) return tensor;
    const LayerCost& l = c.layers[p];
    if (l.kind != LayerKind::kFusedQdq || l.inputs.empty()) return tensor;
    tensor = l.inputs[0];
  }
  return tensor;
}

std::string BuildDot(const ReportData& d) {
  const CostReport& c = d.analysis.cost;
  std::ostringstream o;
  o << "digraph model {\n"
       "  rankdir=TB; nodesep=0.25; ranksep=0.3;\n"
       "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, "
       "penwidth=0.8];\n"
       "  edge [color=\"#666666\", arrowsize=0.6, fontname=\"Helvetica\", fontsize=8];\n";
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const TensorCost& t = c.tensors[c.inputs[i]];
    o << "  in" << c.inputs[i] << " [shape=ellipse, fillcolor=\"#ffffff\", label=\""
      << DotEscape(t.name + "\n" + TensorShapeString(t) + " " + DataTypeName(t.dtype)) << "\"];\n";
  }
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const LayerCost& l = c.layers[i];
    if (l.kind == LayerKind::kFusedQdq) continue;
    std::string label = l.op;
    if (!l.name.empty()) {
      std::string name = l.name.size() > 40 ? "..." + l.name.substr(l.name.size() - 37) : l.name;
      label += "\n" + name;
    }
    if (!l.outputs.empty()) {
      const TensorCost& t = c.tensors[l.outputs[0]];
      label += "\n" + TensorShapeString(t) + " " + DataTypeName(t.dtype);
    }
    if (l.macs > 0) label += "\n" + FormatCount(l.macs) + " MACs";
    std::string p = i < d.placement.size() ? d.placement[i] : "";
    o << "  L" << i << " [label=\"" << DotEscape(label) << "\", fillcolor=\"" << PlacementColor(p)
      << "\"";
    if (l.kind == LayerKind::kView) o << ", style=\"rounded,filled,dashed\"";
    if (static_cast<int>(i) == d.analysis.memory.peak_layer)
      o << ", penwidth=2.5, color=\"#c62828\"";
    o << ", tooltip=\"" << DotEscape(l.op + " " + l.name + " (" + PlacementText(p) + ")")
      << "\"];\n";
    for (int in : l.inputs) {
      int src = SourceLayer(c, in);
      if (src < 0) {
        o << "  in" << SourceTensor(c, in) << " -> L" << i << ";\n";
      } else {
        o << "  L" << src << " -> L" << i << ";\n";
      }
    }
  }
  for (int out : c.outputs) {
    const TensorCost& t = c.tensors[out];
    o << "  out" << out << " [shape=ellipse, fillcolor=\"#ffffff\", label=\""
      << DotEscape(t.name + "\n" + TensorShapeString(t) + " " + DataTypeName(t.dtype)) << "\"];\n";
    int src = SourceLayer(c, out);
    if (src >= 0) {
      o << "  L" << src << " -> out" << out << ";\n";
    } else {
      o << "  in" << SourceTensor(c, out) << " -> out" << out << ";\n";
    }
  }
  o << "}\n";
  return o.str();
}

bool Executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// Layer indices ranked by MACs + ops, largest first.
std::vector<size_t> RankedLayers(const CostReport& c) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < c.layers.size(); ++i) {
    if (c.layers[i].kind == LayerKind::kCompute || c.layers[i].kind == LayerKind::kConversion) {
      idx.push_back(i);
    }
  }
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    return c.layers[a].macs + c.layers[a].ops > c.layers[b].macs + c.layers[b].ops;
  });
  return idx;
}

std::string BudgetText(const MemoryBudgetCheck& b) {
  switch (b.verdict) {
    case BudgetVerdict::kFits: return "FITS";
    case BudgetVerdict::kFitsExternal: return "FITS WITH EXTERNAL RAM";
    case BudgetVerdict::kDoesNotFit: return "DOES NOT FIT";
    case BudgetVerdict::kUnknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

std::string Margin(int64_t m) { return (m < 0 ? "-" : "") + FormatBytes(m < 0 ? -m : m); }

// Summary rows shared by HTML and Markdown: (label, value).
std::vector<std::pair<std::string, std::string>> SummaryRows(const ReportData& d) {
  const AnalyzeReport& a = d.analysis;
  const CostReport& c = a.cost;
  const MemoryPlan& m = a.memory;
  std::vector<std::pair<std::string, std::string>> rows;
  rows.push_back({"model", a.model});
  if (!d.target_name.empty()) rows.push_back({"target", d.target_name});
  for (const IoTensor& t : a.inputs) {
    rows.push_back({"input", t.name + ": " + t.dtype + " " + t.shape +
                                 (t.deployed_dtype.empty() || t.deployed_dtype == t.dtype
                                      ? ""
                                      : " (deployed " + t.deployed_dtype + ")")});
  }
  for (const IoTensor& t : a.outputs) {
    rows.push_back({"output", t.name + ": " + t.dtype + " " + t.shape +
                                  (t.deployed_dtype.empty() || t.deployed_dtype == t.dtype
                                       ? ""
                                       : " (deployed " + t.deployed_dtype + ")")});
  }
  rows.push_back(
      {"layers", std::to_string(c.LayerCount()) +
                     (c.quantized ? " (QDQ model, int8 as deployed)" : " (float model)")});
  rows.push_back({"MACs", FormatCount(c.macs) + " (" + std::to_string(c.macs) + ")"});
  rows.push_back({"other ops", FormatCount(c.ops) + " (pooling, activations, elementwise)"});
  rows.push_back({"params", FormatCount(c.params) + " (" + std::to_string(c.params) + ")"});
  std::string rom = FormatBytes(c.weight_bytes);
  if (c.weight_bytes != c.weight_bytes_float32) {
    rom += " (float32: " + FormatBytes(c.weight_bytes_float32) + ")";
  }
  if (c.qparam_bytes > 0) rom += " + " + FormatBytes(c.qparam_bytes) + " scales/zero points";
  rows.push_back({"weights (ROM)", rom});
  std::string ram =
      FormatBytes(m.arena_bytes) + " planned, peak live " + FormatBytes(m.peak_live_bytes);
  if (m.peak_layer >= 0 && m.peak_layer < static_cast<int>(c.layers.size())) {
    ram += " at " + c.layers[m.peak_layer].op + " '" + c.layers[m.peak_layer].name + "'";
  }
  ram += "; without reuse " + FormatBytes(m.naive_bytes);
  rows.push_back({"activations (RAM)", ram});
  if (a.budget) {
    const MemoryBudgetCheck& b = *a.budget;
    std::string v = BudgetText(b);
    if (b.verdict != BudgetVerdict::kUnknown) {
      v += ": activations " + FormatBytes(b.activation_need) + " of " +
           FormatBytes(b.activation_capacity) + " on chip (margin " + Margin(b.activation_margin) +
           "), weights " + FormatBytes(b.weight_need) + " of " + FormatBytes(b.weight_capacity) +
           " flash (margin " + Margin(b.weight_margin) + ")";
    }
    rows.push_back({"fits?", v});
  }
  if (d.check) rows.push_back({"check", d.check->VerdictLine()});
  if (d.compare) {
    std::string v = Str(*d.compare, "verdict");
    if (!v.empty()) rows.push_back({"compare", v});
  }
  return rows;
}

// --- SVG plots ---------------------------------------------------------------------------

std::string TimelineSvg(const ReportData& d) {
  const MemoryPlan& m = d.analysis.memory;
  const CostReport& c = d.analysis.cost;
  const size_t n = m.live_bytes.size();
  if (n == 0) return "<p>No layers.</p>";
  const double w = 860, h = 240, left = 70, right = 10, top = 14, bottom = 34;
  int64_t ymax = std::max<int64_t>(1, m.arena_bytes);
  for (int64_t v : m.live_bytes) ymax = std::max(ymax, v);
  std::optional<int64_t> cap;
  if (d.analysis.budget && d.analysis.budget->activation_capacity > 0) {
    cap = d.analysis.budget->activation_capacity;
    if (*cap <= 2 * ymax) ymax = std::max(ymax, *cap);
  }
  ymax = ymax + ymax / 10;
  const double pw = w - left - right, ph = h - top - bottom;
  const double bw = pw / n;
  std::ostringstream o;
  o << "<svg class=\"plot\" viewBox=\"0 0 " << w << " " << h << "\" role=\"img\" "
    << "aria-label=\"activation memory per layer\">\n";
  for (int k = 0; k <= 4; ++k) {
    double v = ymax * k / 4.0;
    double y = top + ph - ph * k / 4.0;
    o << "<line x1=\"" << left << "\" x2=\"" << w - right << "\" y1=\"" << y << "\" y2=\"" << y
      << "\" stroke=\"#e5e5e5\"/>";
    o << "<text x=\"" << left - 6 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\" "
      << "font-size=\"10\">" << Html(FormatBytes(static_cast<int64_t>(v))) << "</text>\n";
  }
  for (size_t i = 0; i < n; ++i) {
    double bh = ph * static_cast<double>(m.live_bytes[i]) / ymax;
    bool peak = static_cast<int>(i) == m.peak_layer;
    o << "<rect x=\"" << left + i * bw << "\" y=\"" << top + ph - bh << "\" width=\""
      << std::max(0.5, bw - (bw > 3 ? 1 : 0)) << "\" height=\"" << bh << "\" fill=\""
      << (peak ? "#c62828" : "#5c8dd6") << "\"><title>" << i << " " << Html(c.layers[i].op) << " '"
      << Html(c.layers[i].name) << "': " << Html(FormatBytes(m.live_bytes[i])) << " live"
      << "</title></rect>\n";
  }
  double ay = top + ph - ph * static_cast<double>(m.arena_bytes) / ymax;
  o << "<line x1=\"" << left << "\" x2=\"" << w - right << "\" y1=\"" << ay << "\" y2=\"" << ay
    << "\" stroke=\"#333\" stroke-dasharray=\"4 3\"/><text x=\"" << w - right - 4 << "\" y=\""
    << ay - 4 << "\" text-anchor=\"end\" font-size=\"10\">arena "
    << Html(FormatBytes(m.arena_bytes)) << "</text>\n";
  if (cap && *cap <= ymax) {
    double cy = top + ph - ph * static_cast<double>(*cap) / ymax;
    o << "<line x1=\"" << left << "\" x2=\"" << w - right << "\" y1=\"" << cy << "\" y2=\"" << cy
      << "\" stroke=\"#2e7d32\" stroke-width=\"1.5\"/><text x=\"" << left + 4 << "\" y=\"" << cy - 4
      << "\" font-size=\"10\" fill=\"#2e7d32\">on-chip activation budget "
      << Html(FormatBytes(*cap)) << "</text>\n";
  }
  o << "<text x=\"" << left + pw / 2 << "\" y=\"" << h - 8
    << "\" text-anchor=\"middle\" font-size=\"11\">layer (execution order); red: peak at "
    << Html(m.peak_layer >= 0 ? c.layers[m.peak_layer].op + " '" + c.layers[m.peak_layer].name + "'"
                              : std::string("-"))
    << "</text>\n</svg>\n";
  return o.str();
}

// Per-layer SQNR bars from compare JSON layers[] (in model order when "order" is given).
std::string SqnrSvg(const json& layers) {
  std::vector<const json*> rows;
  for (const json& l : layers) {
    if (l.is_object()) rows.push_back(&l);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const json* a, const json* b) {
    return Num(*a, "order").value_or(0) < Num(*b, "order").value_or(0);
  });
  if (rows.size() > 200) rows.resize(200);
  const double w = 860, row_h = 16, left = 300, right = 90;
  const double h = 24 + rows.size() * row_h;
  double xmax = 10;
  for (const json* l : rows) {
    auto v = Num(*l, "sqnr_db");
    if (v && std::isfinite(*v)) xmax = std::max(xmax, *v);
  }
  xmax = std::min(xmax, 80.0);
  std::ostringstream o;
  o << "<svg class=\"plot\" viewBox=\"0 0 " << w << " " << h
    << "\" role=\"img\" aria-label=\"per-layer SQNR\">\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& l = *rows[i];
    double y = 4 + i * row_h;
    auto v = Num(l, "sqnr_db");
    auto drop = Num(l, "drop_db");
    double shown = v ? (std::isfinite(*v) ? std::clamp(*v, 0.0, xmax) : xmax) : 0;
    double bw = (w - left - right) * shown / xmax;
    const char* color = "#2e9e5b";
    if (drop && *drop > 3) {
      color = "#c62828";
    } else if (v && *v < 20) {
      color = "#ef8c00";
    }
    std::string label = Str(l, "tensor");
    if (label.size() > 40) label = "..." + label.substr(label.size() - 37);
    std::string op = Str(l, "op");
    o << "<text x=\"" << left - 6 << "\" y=\"" << y + 11 << "\" text-anchor=\"end\" "
      << "font-size=\"10\">" << Html(label) << (op.empty() ? "" : " (" + Html(op) + ")")
      << "</text>";
    o << "<rect x=\"" << left << "\" y=\"" << y + 2 << "\" width=\"" << bw << "\" height=\""
      << row_h - 4 << "\" fill=\"" << color << "\"><title>SQNR " << Html(NumText(l, "sqnr_db", 2))
      << " dB, drop " << Html(NumText(l, "drop_db", 2)) << " dB</title></rect>";
    o << "<text x=\"" << left + bw + 4 << "\" y=\"" << y + 11 << "\" font-size=\"10\">"
      << Html(NumText(l, "sqnr_db", 1)) << " dB";
    if (drop && *drop > 0.05) o << " (-" << Html(Fixed(*drop, 1)) << ")";
    o << "</text>\n";
  }
  o << "<text x=\"" << left << "\" y=\"" << h - 4 << "\" font-size=\"10\">0 dB</text>"
    << "<text x=\"" << w - right << "\" y=\"" << h - 4 << "\" text-anchor=\"end\" "
    << "font-size=\"10\">" << Fixed(xmax, 0) << " dB</text>\n</svg>\n";
  return o.str();
}

// RFC 4648 base64 (for PNG data URIs), by OpenSSL.
std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

const char* kCss = R"(
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:1180px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;background:#fff}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.summary th{width:170px}.verdict{font-weight:600}
.ok{color:#2e7d32}.bad{color:#c62828}.warn{color:#b26a00}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border:1px solid #bbb;border-radius:4px;font-size:12px}
.graph{background:#fff;border:1px solid #ddd;overflow:auto;max-height:1100px;padding:6px}
.graph svg{max-width:100%;height:auto}
svg.plot{width:100%;height:auto;background:#fff;border:1px solid #ddd}
.note{color:#555;font-size:13px}tr.peak td{background:#fde7e7}
figure{margin:8px 0}figure img{max-width:100%;height:auto;image-rendering:pixelated;border:1px solid #ddd}
details summary{cursor:pointer;margin:6px 0}
)";

}  // namespace

std::string FindDotProgram(const std::string& requested) {
  if (!requested.empty()) return Executable(requested) ? requested : "";
  if (const char* env = std::getenv("EDGEFIT_DOT")) {
    return Executable(env) ? std::string(env) : std::string();
  }
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (!dir.empty() && Executable(dir + "/dot")) return dir + "/dot";
    start = end + 1;
  }
  return "";
}

StatusOr<std::string> RenderDotSvg(const std::string& dot_text, const std::string& program) {
  if (program.empty()) return Status(StatusCode::kNotFound, "Graphviz `dot` not found");
  char in_name[] = "/tmp/edgefit_graph_XXXXXX";
  int fd = mkstemp(in_name);
  if (fd < 0) return Status(StatusCode::kIoError, "cannot create a temporary file");
  {
    size_t off = 0;
    while (off < dot_text.size()) {
      ssize_t w = write(fd, dot_text.data() + off, dot_text.size() - off);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
    close(fd);
  }
  std::string out_name = std::string(in_name) + ".svg";
  std::string err_name = std::string(in_name) + ".err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_name.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  std::vector<std::string> args = {program, "-Tsvg", in_name, "-o", out_name};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  if (rc == 0) waitpid(pid, &status, 0);
  std::string svg, err;
  {
    std::ifstream f(out_name, std::ios::binary);
    svg.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    std::ifstream e(err_name, std::ios::binary);
    err.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
  }
  unlink(in_name);
  unlink(out_name.c_str());
  unlink(err_name.c_str());
  if (rc != 0) return Status(StatusCode::kIoError, "cannot run " + program);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || svg.empty()) {
    if (err.size() > 300) err = err.substr(0, 300);
    return Status(StatusCode::kIoError, program + " failed: " + err);
  }
  size_t pos = svg.find("<svg");
  if (pos == std::string::npos) return Status(StatusCode::kIoError, program + ": no SVG output");
  svg = svg.substr(pos);
  // Comments and namespace declarations (URLs that are names, not links).
  svg = std::regex_replace(svg, std::regex("<!--[\\s\\S]*?-->"), "");
  svg = std::regex_replace(svg, std::regex(" xmlns(:xlink)?=\"[^\"]*\""), "");
  svg = std::regex_replace(svg, std::regex("xlink:"), "");
  return svg;
}

StatusOr<ReportData> BuildReport(Model& model, const std::string& path,
                                 const ReportOptions& options) {
  ReportData d;
  d.compare = options.compare;
  if (options.target) {
    d.target_name = options.target->name.empty() ? options.target->id : options.target->name;
    // Before AnalyzeModel: the check reports dynamic dims of the model as it is.
    auto check = CheckModel(model, *options.target);
    if (!check.ok()) return check.status();
    check->model = path;
    d.check = std::move(*check);
  }
  AnalyzeOptions ao;
  ao.target = options.target;
  auto analysis = AnalyzeModel(model, path, ao);
  if (!analysis.ok()) return analysis.status();
  d.analysis = std::move(*analysis);
  const CostReport& c = d.analysis.cost;

  // Where each layer runs.
  d.placement.assign(c.layers.size(), "");
  std::vector<const Node*> layer_nodes(c.layers.size(), nullptr);
  {
    size_t li = 0;
    for (const auto& up : model.graph->nodes()) {
      if (li < c.layers.size() && up->name() == c.layers[li].name &&
          up->op_type() == c.layers[li].op) {
        layer_nodes[li++] = up.get();
      }
    }
  }
  std::optional<CheckContext> ctx;
  if (options.target) ctx.emplace(model, *options.target, CheckOptions{});
  bool qdq_target =
      options.target && options.target->toolchain.input_model.value == HandoffModel::kQdqInt8;
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const LayerCost& l = c.layers[i];
    if (l.kind == LayerKind::kFusedQdq) continue;
    bool is_int = l.precision == DataType::kInt8 || l.precision == DataType::kUint8;
    if (!ctx) {
      d.placement[i] = is_int ? "int8" : "float";
      continue;
    }
    const NodePlacement* p = layer_nodes[i] ? ctx->Placement(*layer_nodes[i]) : nullptr;
    std::string where = p ? PlacementName(p->placement) : "npu";
    if (where == "npu" && qdq_target && c.quantized && !is_int && l.kind == LayerKind::kCompute) {
      where = "float";
    }
    d.placement[i] = where;
  }

  // The picture.
  size_t drawn = 0;
  for (const auto& l : c.layers) drawn += l.kind != LayerKind::kFusedQdq;
  d.graph_dot = BuildDot(d);
  if (!options.draw_graph) {
    d.graph_note = "graph drawing disabled";
  } else if (drawn > kMaxDrawnLayers) {
    d.graph_note = std::to_string(drawn) + " layers: too many to draw (limit " +
                   std::to_string(kMaxDrawnLayers) + "); layers ranked by cost instead";
  } else {
    std::string dot = FindDotProgram(options.dot_program);
    if (dot.empty()) {
      d.graph_note =
          "Graphviz `dot` is not installed (Debian package graphviz): layers ranked by cost "
          "instead of the picture";
    } else {
      auto svg = RenderDotSvg(d.graph_dot, dot);
      if (svg.ok()) {
        d.graph_svg = std::move(*svg);
      } else {
        d.graph_note = svg.status().message() + ": layers ranked by cost instead of the picture";
      }
    }
  }
  return d;
}

std::string RenderHtml(const ReportData& d) {
  const AnalyzeReport& a = d.analysis;
  const CostReport& c = a.cost;
  const MemoryPlan& m = a.memory;
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>edgefit report: " << Html(a.model) << "</title>\n<style>" << kCss
    << "</style>\n</head>\n<body>\n<main>\n";
  o << "<h1>edgefit report</h1>\n<p class=\"note\">" << Html(a.model)
    << (d.target_name.empty() ? "" : " for " + Html(d.target_name)) << "</p>\n";

  // Summary.
  o << "<section id=\"summary\">\n<h2>Summary</h2>\n<table class=\"summary\">\n";
  for (const auto& [k, v] : SummaryRows(d)) {
    std::string cls;
    if (k == "fits?")
      cls = v.rfind("FITS", 0) == 0 ? " class=\"verdict ok\"" : " class=\"verdict bad\"";
    if (k == "check") cls = v == "COMPATIBLE" ? " class=\"verdict ok\"" : " class=\"verdict warn\"";
    o << "<tr><th>" << Html(k) << "</th><td" << cls << ">" << Html(v) << "</td></tr>\n";
  }
  o << "</table>\n";
  for (const std::string& n : c.notes) o << "<p class=\"note\">note: " << Html(n) << "</p>\n";
  if (a.budget) {
    for (const std::string& n : a.budget->notes) {
      o << "<p class=\"note\">budget: " << Html(n) << "</p>\n";
    }
  }
  o << "</section>\n";

  // Pictures (deploy --draw-image), small ones scaled up by a whole factor.
  if (!d.pictures.empty()) {
    o << "<section id=\"pictures\">\n<h2>Pictures</h2>\n";
    for (const ReportPicture& p : d.pictures) {
      const int zoom = p.width > 0 ? std::max(1, 720 / p.width) : 1;
      o << "<figure><img src=\"data:image/png;base64," << Base64(p.png) << "\" alt=\""
        << Html(p.title) << "\"";
      if (p.width > 0 && p.height > 0)
        o << " width=\"" << p.width * zoom << "\" height=\"" << p.height * zoom << "\"";
      o << "><figcaption><b>" << Html(p.title) << "</b>"
        << (p.caption.empty() ? "" : ": " + Html(p.caption))
        << (p.file.empty() ? "" : " (<code>" + Html(p.file) + "</code>)")
        << "</figcaption></figure>\n";
    }
    o << "</section>\n";
  }

  // Graph.
  o << "<section id=\"graph\">\n<h2>Graph</h2>\n<p class=\"legend\">";
  if (d.check) {
    o << "<span style=\"background:" << PlacementColor("npu") << "\">NPU</span>"
      << "<span style=\"background:" << PlacementColor("cpu") << "\">CPU fallback</span>"
      << "<span style=\"background:" << PlacementColor("float") << "\">float (CPU)</span>"
      << "<span style=\"background:" << PlacementColor("unsupported") << "\">unsupported</span>";
  } else {
    o << "<span style=\"background:" << PlacementColor("int8") << "\">int8</span>"
      << "<span style=\"background:" << PlacementColor("float") << "\">float</span>";
  }
  o << "<span style=\"border-style:dashed\">view (no copy)</span>"
    << "<span style=\"border:2px solid #c62828\">memory peak</span></p>\n";
  std::map<std::string, int> counts;
  for (size_t i = 0; i < c.layers.size(); ++i) {
    if (!d.placement[i].empty() && c.layers[i].kind != LayerKind::kView) ++counts[d.placement[i]];
  }
  o << "<p class=\"note\">";
  for (const auto& [k, n] : counts) o << Html(PlacementText(k)) << ": " << n << " layer(s). ";
  o << "Q/DQ pairs fused into int8 layers are not drawn.</p>\n";
  if (!d.graph_svg.empty()) {
    o << "<div class=\"graph\">\n" << d.graph_svg << "\n</div>\n";
  } else {
    o << "<p class=\"note warn\">" << Html(d.graph_note) << ".</p>\n<ol>\n";
    for (size_t i : RankedLayers(c)) {
      const LayerCost& l = c.layers[i];
      o << "<li><span class=\"legend\"><span style=\"background:" << PlacementColor(d.placement[i])
        << "\">" << Html(PlacementText(d.placement[i])) << "</span></span>" << Html(l.op) << " '"
        << Html(l.name) << "': " << Html(FormatCount(l.macs)) << " MACs, "
        << Html(FormatCount(l.ops)) << " ops</li>\n";
    }
    o << "</ol>\n";
  }
  o << "</section>\n";

  // Check findings.
  o << "<section id=\"check\">\n<h2>Check findings</h2>\n";
  if (!d.check) {
    o << "<p class=\"note\">No target given (--target): no check.</p>\n";
  } else if (d.check->findings.empty()) {
    o << "<p class=\"verdict ok\">" << Html(d.check->VerdictLine()) << ": no findings.</p>\n";
  } else {
    o << "<p class=\"verdict\">" << Html(d.check->VerdictLine()) << "</p>\n"
      << "<table>\n<tr><th>severity</th><th>rule</th><th>node</th><th>message</th>"
      << "<th>fixed by</th></tr>\n";
    for (const Finding& f : d.check->findings) {
      const char* cls = f.severity == Severity::kViolation ? "bad"
                        : f.severity == Severity::kWarning ? "warn"
                                                           : "";
      o << "<tr><td class=\"" << cls << "\">" << SeverityName(f.severity) << "</td><td>"
        << Html(f.rule) << "</td><td>" << Html(f.node) << "</td><td>" << Html(f.message)
        << "</td><td>" << Html(f.fixed_by.value_or("-")) << "</td></tr>\n";
    }
    o << "</table>\n";
  }
  o << "</section>\n";

  // Memory.
  o << "<section id=\"memory\">\n<h2>Activation memory</h2>\n<p>Planned arena "
    << Html(FormatBytes(m.arena_bytes)) << " (peak of live tensors "
    << Html(FormatBytes(m.peak_live_bytes)) << ", largest buffer "
    << Html(FormatBytes(m.largest_buffer)) << ", " << m.buffers.size()
    << " buffers); every tensor in its own buffer would need " << Html(FormatBytes(m.naive_bytes))
    << ".</p>\n"
    << TimelineSvg(d);
  if (!m.inplace.empty()) {
    o << "<details><summary>" << m.inplace.size() << " in-place reuse(s)</summary><ul>\n";
    for (const std::string& s : m.inplace) o << "<li>" << Html(s) << "</li>\n";
    o << "</ul></details>\n";
  }
  o << "</section>\n";

  // Layers.
  o << "<section id=\"layers\">\n<h2>Layers</h2>\n<table>\n<tr><th>#</th><th>op</th>"
    << "<th>name</th><th>runs</th><th>output</th><th>dtype</th><th>MACs</th><th>ops</th>"
    << "<th>params</th><th>ROM</th><th>out bytes</th><th>live RAM</th></tr>\n";
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const LayerCost& l = c.layers[i];
    if (l.kind == LayerKind::kFusedQdq) continue;
    const TensorCost* t = l.outputs.empty() ? nullptr : &c.tensors[l.outputs[0]];
    o << "<tr" << (static_cast<int>(i) == m.peak_layer ? " class=\"peak\"" : "")
      << "><td class=\"n\">" << i << "</td><td>" << Html(l.op)
      << (l.kind == LayerKind::kView ? " (view)" : "") << "</td><td>" << Html(l.name)
      << "</td><td style=\"background:" << PlacementColor(d.placement[i]) << "\">"
      << Html(PlacementText(d.placement[i])) << "</td><td>" << Html(t ? TensorShapeString(*t) : "-")
      << "</td><td>" << Html(t ? DataTypeName(t->dtype) : "-") << "</td><td class=\"n\">" << l.macs
      << "</td><td class=\"n\">" << l.ops << "</td><td class=\"n\">" << l.params
      << "</td><td class=\"n\">" << (l.weight_bytes ? Html(FormatBytes(l.weight_bytes)) : "-")
      << "</td><td class=\"n\">" << Html(FormatBytes(l.output_bytes)) << "</td><td class=\"n\">"
      << Html(i < m.live_bytes.size() ? FormatBytes(m.live_bytes[i]) : "-") << "</td></tr>\n";
  }
  o << "</table>\n</section>\n";

  // Compare.
  o << "<section id=\"compare\">\n<h2>FP32 vs INT8</h2>\n";
  if (!d.compare) {
    o << "<p class=\"note\">No comparison given (--compare COMPARE.json from "
      << "<code>edgefit compare --json</code>).</p>\n";
  } else {
    const json& j = *d.compare;
    std::string schema = Str(j, "schema");
    if (!schema.empty() && schema != "edgefit-compare/1") {
      o << "<p class=\"note warn\">schema '" << Html(schema)
        << "', expected edgefit-compare/1: shown as far as the fields match.</p>\n";
    }
    std::string verdict = Str(j, "verdict");
    if (!verdict.empty()) {
      bool ok = j.contains("acceptable") && j["acceptable"].is_boolean()
                    ? j["acceptable"].get<bool>()
                    : verdict.rfind("ACCEPTABLE", 0) == 0;
      o << "<p class=\"verdict " << (ok ? "ok" : "bad") << "\">" << Html(verdict) << "</p>\n";
    }
    if (Num(j, "samples")) o << "<p>" << Html(NumText(j, "samples", 0)) << " samples.</p>\n";
    if (j.contains("outputs") && j["outputs"].is_array() && !j["outputs"].empty()) {
      o << "<table>\n<tr><th>output</th><th>MAE</th><th>RMSE</th><th>max |d|</th>"
        << "<th>SQNR dB</th><th>cosine</th></tr>\n";
      for (const json& out : j["outputs"]) {
        o << "<tr><td>" << Html(Str(out, "name")) << "</td><td class=\"n\">"
          << Html(NumText(out, "mae")) << "</td><td class=\"n\">" << Html(NumText(out, "rmse"))
          << "</td><td class=\"n\">" << Html(NumText(out, "max_abs")) << "</td><td class=\"n\">"
          << Html(NumText(out, "sqnr_db", 2)) << "</td><td class=\"n\">"
          << Html(NumText(out, "cosine", 6)) << "</td></tr>\n";
      }
      o << "</table>\n";
    }
    if (j.contains("task") && j["task"].is_object()) {
      o << "<h3>Task metrics</h3>\n<table>\n<tr><th>metric</th><th>value</th></tr>\n";
      for (const auto& [k, v] : j["task"].items()) {
        std::string text = v.is_number() ? NumText(j["task"], k.c_str()) : v.dump();
        o << "<tr><td>" << Html(k) << "</td><td class=\"n\">" << Html(text) << "</td></tr>\n";
      }
      o << "</table>\n";
    }
    for (const char* k : {"weights_only_sqnr_db", "activations_only_sqnr_db"}) {
      if (Num(j, k)) o << "<p>" << k << ": " << Html(NumText(j, k, 2)) << " dB</p>\n";
    }
    if (j.contains("layers") && j["layers"].is_array() && !j["layers"].empty()) {
      o << "<h3>Per-layer SQNR</h3>\n<p class=\"note\">Bars in model order; red: the layer "
        << "loses more than 3 dB itself, orange: SQNR under 20 dB.</p>\n"
        << SqnrSvg(j["layers"]);
    } else {
      o << "<p class=\"note\">No per-layer results in the comparison (run compare with "
        << "--layers).</p>\n";
    }
  }
  o << "</section>\n";
  o << "<p class=\"note\">Generated by edgefit. Conventions: docs/analyze.md; sections: "
    << "docs/report.md.</p>\n</main>\n</body>\n</html>\n";
  return o.str();
}

std::string RenderMarkdown(const ReportData& d) {
  const AnalyzeReport& a = d.analysis;
  const CostReport& c = a.cost;
  const MemoryPlan& m = a.memory;
  std::ostringstream o;
  o << "# edgefit report: " << Md(a.model) << "\n\n## Summary\n\n| | |\n|---|---|\n";
  for (const auto& [k, v] : SummaryRows(d)) o << "| " << Md(k) << " | " << Md(v) << " |\n";
  for (const std::string& n : c.notes) o << "\nnote: " << n << "\n";
  if (!d.pictures.empty()) {
    o << "\n## Pictures\n";
    for (const ReportPicture& p : d.pictures)
      o << "\n![" << Md(p.title) << "](" << p.file << ")\n\n"
        << Md(p.title) << (p.caption.empty() ? "" : ": " + Md(p.caption)) << "\n";
  }
  o << "\n## Graph\n\nLayers ranked by cost (the HTML report has the picture";
  if (!d.graph_note.empty()) o << "; " << d.graph_note;
  o << "):\n\n";
  int shown = 0;
  for (size_t i : RankedLayers(c)) {
    if (++shown > 20) break;
    const LayerCost& l = c.layers[i];
    o << shown << ". " << Md(l.op) << " `" << l.name << "` (" << PlacementText(d.placement[i])
      << "): " << FormatCount(l.macs) << " MACs, " << FormatCount(l.ops) << " ops\n";
  }
  o << "\n## Check findings\n\n";
  if (!d.check) {
    o << "No target given: no check.\n";
  } else {
    o << d.check->VerdictLine() << "\n\n";
    if (!d.check->findings.empty()) {
      o << "| severity | rule | node | message | fixed by |\n|---|---|---|---|---|\n";
      for (const Finding& f : d.check->findings) {
        o << "| " << SeverityName(f.severity) << " | " << f.rule << " | " << Md(f.node) << " | "
          << Md(f.message) << " | " << f.fixed_by.value_or("-") << " |\n";
      }
    }
  }
  o << "\n## Activation memory\n\nPlanned arena " << FormatBytes(m.arena_bytes) << ", peak live "
    << FormatBytes(m.peak_live_bytes) << ", without reuse " << FormatBytes(m.naive_bytes) << ".\n";
  o << "\n## Layers\n\n| # | op | name | runs | output | dtype | MACs | ops | params | ROM | live "
       "RAM |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const LayerCost& l = c.layers[i];
    if (l.kind == LayerKind::kFusedQdq) continue;
    const TensorCost* t = l.outputs.empty() ? nullptr : &c.tensors[l.outputs[0]];
    o << "| " << i << (static_cast<int>(i) == m.peak_layer ? " (peak)" : "") << " | " << l.op
      << " | " << Md(l.name) << " | " << PlacementText(d.placement[i]) << " | "
      << (t ? TensorShapeString(*t) : "-") << " | " << (t ? DataTypeName(t->dtype) : "-") << " | "
      << l.macs << " | " << l.ops << " | " << l.params << " | "
      << (l.weight_bytes ? FormatBytes(l.weight_bytes) : "-") << " | "
      << (i < m.live_bytes.size() ? FormatBytes(m.live_bytes[i]) : "-") << " |\n";
  }
  o << "\n## FP32 vs INT8\n\n";
  if (!d.compare) {
    o << "No comparison given.\n";
  } else {
    const json& j = *d.compare;
    if (!Str(j, "verdict").empty()) o << "**" << Str(j, "verdict") << "**\n\n";
    if (j.contains("outputs") && j["outputs"].is_array()) {
      o << "| output | MAE | RMSE | max abs | SQNR dB | cosine |\n|---|---|---|---|---|---|\n";
      for (const json& out : j["outputs"]) {
        o << "| " << Md(Str(out, "name")) << " | " << NumText(out, "mae") << " | "
          << NumText(out, "rmse") << " | " << NumText(out, "max_abs") << " | "
          << NumText(out, "sqnr_db", 2) << " | " << NumText(out, "cosine", 6) << " |\n";
      }
    }
    if (j.contains("layers") && j["layers"].is_array() && !j["layers"].empty()) {
      o << "\n| tensor | op | SQNR dB | drop dB |\n|---|---|---|---|\n";
      for (const json& l : j["layers"]) {
        o << "| " << Md(Str(l, "tensor")) << " | " << Str(l, "op") << " | "
          << NumText(l, "sqnr_db", 2) << " | " << NumText(l, "drop_db", 2) << " |\n";
      }
    }
  }
  return o.str();
}

std::string RenderJson(const ReportData& d, int indent) {
  json j;
  j["schema"] = "edgefit-report/1";
  j["analyze"] = AnalyzeToJson(d.analysis);
  if (d.check) {
    j["check"] = json::parse(FormatCheckJson(*d.check, -1), nullptr, false);
  } else {
    j["check"] = nullptr;
  }
  json placement = json::array();
  for (size_t i = 0; i < d.placement.size(); ++i) {
    if (d.placement[i].empty()) continue;
    placement.push_back({{"layer", i},
                         {"name", d.analysis.cost.layers[i].name},
                         {"op", d.analysis.cost.layers[i].op},
                         {"runs", d.placement[i]}});
  }
  j["placement"] = placement;
  j["compare"] = d.compare ? *d.compare : json(nullptr);
  j["graph"] = {{"drawn", !d.graph_svg.empty()}, {"note", d.graph_note}};
  json pictures = json::array();
  for (const ReportPicture& p : d.pictures)
    pictures.push_back({{"title", p.title},
                        {"caption", p.caption},
                        {"file", p.file},
                        {"width", p.width},
                        {"height", p.height}});
  j["pictures"] = pictures;
  return j.dump(indent);
}

}  // namespace edgefit
