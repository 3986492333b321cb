// `edgefit report`: one page a person wants to read about a model and a target — the graph as a
// picture (laid out by Graphviz's `dot`, layers coloured by where they run), the check findings,
// the analyze numbers and per-layer table, the activation memory timeline and, given the JSON of
// `edgefit compare`, the FP32-vs-INT8 metrics and a per-layer SQNR chart. HTML (one
// self-contained file: inline CSS and SVG, no script, no network), Markdown and JSON.
// docs/report.md describes the sections.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "check/check.h"
#include "edgefit/status.h"
#include "ir/graph.h"
#include "report/analysis.h"
#include "targets/profile.h"

namespace edgefit {

struct ReportOptions {
  const TargetProfile* target = nullptr;
  // Parsed output of `edgefit compare --json` (schema edgefit-compare/1); any field may be
  // missing.
  std::optional<nlohmann::json> compare;
  // The Graphviz program; "" = $EDGEFIT_DOT if set, else `dot` on PATH. When it cannot run, the
  // report shows a ranked list of layers instead of the picture, with a note.
  std::string dot_program;
  bool draw_graph = true;
};

// A picture shown after the summary (deploy --draw-image). The HTML inlines the PNG as a data URI
// so the page stays one self-contained file; the Markdown links `file`, the PNG next to it.
struct ReportPicture {
  std::string title;    // e.g. "FP32 vs INT8 on person.png"
  std::string caption;  // one line under the picture
  std::string png;      // the PNG file's bytes
  std::string file;     // its name relative to the report, e.g. "draw.png"
  int width = 0, height = 0;
};

struct ReportData {
  AnalyzeReport analysis;
  std::optional<CheckReport> check;
  std::string target_name;
  // Per layer (same index as analysis.cost.layers): "npu", "cpu", "unsupported", "float"
  // (left in float in a QDQ model), "int8" (no target given), "" for fused Q/DQ.
  std::vector<std::string> placement;
  std::optional<nlohmann::json> compare;
  std::string graph_dot;                // the DOT text given to Graphviz
  std::string graph_svg;                // inline SVG ("" when Graphviz could not draw it)
  std::string graph_note;               // why there is no picture
  std::vector<ReportPicture> pictures;  // set by the caller; none: no section
};

// Checks (when a target is given), analyses and draws `model`. The model's value types and node
// order are refined in place (as by AnalyzeModel).
StatusOr<ReportData> BuildReport(Model& model, const std::string& path,
                                 const ReportOptions& options);

std::string RenderHtml(const ReportData& data);
std::string RenderMarkdown(const ReportData& data);
// Schema "edgefit-report/1": {"analyze": edgefit-analyze/1, "check": edgefit-check/1 | null,
// "placement": [...], "compare": as given | null, "graph": {...}}.
std::string RenderJson(const ReportData& data, int indent = 2);

// The Graphviz program that would be used ("" when none is found).
std::string FindDotProgram(const std::string& requested = "");
// Runs `program -Tsvg` on `dot_text`; the SVG made fit for inlining into HTML (no XML prolog,
// no namespace URLs; its natural size, shrunk by CSS to the page width).
StatusOr<std::string> RenderDotSvg(const std::string& dot_text, const std::string& program);

}  // namespace edgefit
