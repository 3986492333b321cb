// edgefit report: the HTML page has the expected sections, is self-contained (no network
// reference, no script), falls back to a ranked list without Graphviz, reads compare JSON with
// missing fields; Markdown and JSON forms; the CLI; and the page in headless Chromium.
#include "report/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "onnx/model_io.h"
#include "targets/profile.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

using testing::FixturePath;

// A compare result as `edgefit compare --json` writes it (edgefit-compare/1), with some fields
// left out on purpose.
nlohmann::json CompareJson() {
  return nlohmann::json::parse(R"({
    "schema": "edgefit-compare/1", "samples": 64,
    "outputs": [{"name": "output", "mae": 0.012, "rmse": 0.02, "max_abs": 0.08,
                 "sqnr_db": 31.5, "cosine": 0.9996}],
    "task": {"task": "regression", "ref_mae": 1.5, "test_mae": 1.52},
    "layers": [{"tensor": "/conv1/Conv_output_0", "op": "Conv", "order": 3, "sqnr_db": 38.0,
                "drop_db": 0.1},
               {"tensor": "/conv2/Conv_output_0", "op": "Conv", "order": 7, "sqnr_db": 29.0,
                "drop_db": 6.5},
               {"tensor": "/fc1/Gemm_output_0", "order": 12, "sqnr_db": "inf"}],
    "acceptable": true, "verdict": "ACCEPTABLE: output SQNR 31.5 dB >= 20 dB"})");
}

ReportData Build(const std::string& model_path, const ReportOptions& options) {
  auto model = LoadModel(model_path);
  EXPECT_TRUE(model.ok());
  auto d = BuildReport(*model, model_path, options);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? std::move(*d) : ReportData{};
}

void ExpectSelfContained(const std::string& html) {
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
}

TEST(ReportTest, HtmlHasSectionsAndIsSelfContained) {
  auto profile = LoadTargetProfile("stm32n6");
  ASSERT_TRUE(profile.ok());
  ReportOptions o;
  o.target = &*profile;
  o.compare = CompareJson();
  ReportData d = Build(FixturePath("rppg_clean_op14.onnx"), o);
  std::string html = RenderHtml(d);
  for (const char* id : {"id=\"summary\"", "id=\"graph\"", "id=\"check\"", "id=\"memory\"",
                         "id=\"layers\"", "id=\"compare\""}) {
    EXPECT_NE(html.find(id), std::string::npos) << id;
  }
  ExpectSelfContained(html);
  EXPECT_NE(html.find("/conv1/Conv"), std::string::npos);
  EXPECT_NE(html.find("FITS"), std::string::npos);
  EXPECT_NE(html.find("Per-layer SQNR"), std::string::npos);
  EXPECT_NE(html.find("ACCEPTABLE"), std::string::npos);
  EXPECT_NE(html.find("aria-label=\"activation memory per layer\""), std::string::npos);
  // Every layer that is not a fused Q/DQ is placed on the float model: NPU for stm32n6.
  int npu = 0;
  for (const std::string& p : d.placement) npu += p == "npu";
  EXPECT_GT(npu, 5);
  if (!FindDotProgram().empty()) {
    EXPECT_TRUE(d.graph_note.empty()) << d.graph_note;
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("class=\"graph\""), std::string::npos);
  } else {
    std::cout << "Graphviz dot not installed: only the fallback is tested\n";
  }
}

TEST(ReportTest, WithoutGraphvizFallsBackToRankedList) {
  ReportOptions o;
  o.dot_program = "/nonexistent/dot";
  ReportData d = Build(FixturePath("rppg_clean_op14.onnx"), o);
  EXPECT_TRUE(d.graph_svg.empty());
  EXPECT_NE(d.graph_note.find("not installed"), std::string::npos);
  std::string html = RenderHtml(d);
  EXPECT_NE(html.find("<ol>"), std::string::npos);
  EXPECT_NE(html.find("not installed"), std::string::npos);
  ExpectSelfContained(html);
  // No target: colours by precision, no check section content.
  EXPECT_NE(html.find("No target given"), std::string::npos);
}

TEST(ReportTest, CompareWithMissingFields) {
  ReportOptions o;
  o.draw_graph = false;
  o.compare = nlohmann::json::parse(R"({"layers": [{"tensor": "x"}], "outputs": [{}]})");
  ReportData d = Build(FixturePath("rppg_clean_op14.onnx"), o);
  std::string html = RenderHtml(d);
  EXPECT_NE(html.find("id=\"compare\""), std::string::npos);
  std::string md = RenderMarkdown(d);
  EXPECT_NE(md.find("## FP32 vs INT8"), std::string::npos);
}

TEST(ReportTest, MarkdownAndJson) {
  auto profile = LoadTargetProfile("stm32n6");
  ASSERT_TRUE(profile.ok());
  ReportOptions o;
  o.target = &*profile;
  o.draw_graph = false;
  ReportData d = Build(FixturePath("rppg_dyn_op14.onnx"), o);
  std::string md = RenderMarkdown(d);
  for (const char* h : {"## Summary", "## Graph", "## Check findings", "## Activation memory",
                        "## Layers", "## FP32 vs INT8"}) {
    EXPECT_NE(md.find(h), std::string::npos) << h;
  }
  EXPECT_NE(md.find("batch.compute"), std::string::npos);  // the dyn model's findings
  auto j = nlohmann::json::parse(RenderJson(d));
  EXPECT_EQ(j["schema"], "edgefit-report/1");
  EXPECT_EQ(j["analyze"]["schema"], "edgefit-analyze/1");
  EXPECT_EQ(j["check"]["schema"], "edgefit-check/1");
  EXPECT_EQ(j["analyze"]["macs"], 16087056);
  EXPECT_TRUE(j["compare"].is_null());
}

TEST(ReportTest, Cli) {
  testing::TempDir dir;
  std::string html = dir.File("r.html");
  auto run = testing::RunCommand({EDGEFIT_BINARY, "report", FixturePath("rppg_clean_op14.onnx"),
                                  "--target", "stm32n6", "-o", html});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ExpectSelfContained(testing::ReadFile(html));
  auto md = testing::RunCommand(
      {EDGEFIT_BINARY, "report", FixturePath("rppg_clean_op14.onnx"), "-o", dir.File("r.md")});
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(testing::ReadFile(dir.File("r.md")).find("## Layers"), std::string::npos);
  // Bad compare file: exit 8.
  testing::WriteFile(dir.File("bad.json"), "not json");
  auto bad = testing::RunCommand({EDGEFIT_BINARY, "report", FixturePath("rppg_clean_op14.onnx"),
                                  "--compare", dir.File("bad.json"), "-o", html});
  EXPECT_EQ(bad.exit_code, 8);
  // Analyze: JSON with the hand-computed totals; text summary; exit 0 (fits).
  auto an = testing::RunCommand({EDGEFIT_BINARY, "analyze", FixturePath("rppg_clean_op14.onnx"),
                                 "--target", "stm32n6", "--json"});
  ASSERT_EQ(an.exit_code, 0) << an.err;
  auto j = nlohmann::json::parse(an.out);
  EXPECT_EQ(j["macs"], 16087056);
  EXPECT_EQ(j["params"], 40897);
  EXPECT_EQ(j["budget"]["verdict"], "fits");
  auto text = testing::RunCommand(
      {EDGEFIT_BINARY, "analyze", FixturePath("rppg_clean_op14.onnx"), "--layers"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("MACs:"), std::string::npos);
  EXPECT_NE(text.out.find("<- peak"), std::string::npos);
  auto missing = testing::RunCommand({EDGEFIT_BINARY, "analyze", dir.File("none.onnx")});
  EXPECT_EQ(missing.exit_code, 3);
}

std::string FindChromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

// The page loads in headless Chromium without console errors, and a screenshot is taken.
TEST(ReportTest, OpensInHeadlessChromium) {
  std::string chromium = FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (Debian package chromium; scripts/bootstrap.sh "
                    "installs it): the headless page check is skipped";
  }
  auto profile = LoadTargetProfile("stm32n6");
  ASSERT_TRUE(profile.ok());
  ReportOptions o;
  o.target = &*profile;
  o.compare = CompareJson();
  ReportData d = Build(FixturePath("rppg_clean_op14.onnx"), o);
  testing::TempDir dir;
  std::string page = dir.File("report.html");
  testing::WriteFile(page, RenderHtml(d));
  std::string shot = dir.File("shot.png");
  std::vector<std::string> common = {chromium,
                                     "--headless",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--disable-dev-shm-usage",
                                     "--no-first-run",
                                     "--user-data-dir=" + dir.File("profile"),
                                     "--enable-logging=stderr",
                                     "--v=0"};
  auto cmd = common;
  cmd.push_back("--window-size=1280,2400");
  cmd.push_back("--screenshot=" + shot);
  cmd.push_back("file://" + page);
  auto run = testing::RunCommand(cmd);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string png = testing::ReadFile(shot);
  ASSERT_GT(png.size(), 10000u) << "screenshot too small";
  EXPECT_EQ(png.substr(1, 3), "PNG");
  // Console messages are logged as "CONSOLE(...)" / "Console" lines on stderr.
  EXPECT_EQ(run.err.find("Uncaught"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find(":ERROR:CONSOLE"), std::string::npos) << run.err;
  // The DOM as loaded holds the graph and the tables.
  auto dump = common;
  dump.push_back("--dump-dom");
  dump.push_back("file://" + page);
  auto dom = testing::RunCommand(dump);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_NE(dom.out.find("id=\"layers\""), std::string::npos);
  EXPECT_NE(dom.out.find("<svg"), std::string::npos);
}

}  // namespace
}  // namespace edgefit
