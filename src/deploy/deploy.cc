// `edgefit deploy` (see deploy.h and docs/deploy.md).
#include "deploy/deploy.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "check/check.h"
#include "compare/compare.h"
#include "draw/image_io.h"
#include "fix/fix.h"
#include "io/npy.h"
#include "onnx/model_io.h"
#include "passes/equivalence.h"
#include "passes/pass.h"
#include "quant/budget.h"
#include "report/analysis.h"
#include "report/report.h"
#include "targets/profile.h"

namespace edgefit {
namespace fs = std::filesystem;
using json = nlohmann::json;

StatusOr<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot read");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return Internal("SHA-256 unavailable");
  }
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return hex;
}

namespace {

using Clock = std::chrono::steady_clock;

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return IoError(path.string() + ": writing failed");
  return Status::Ok();
}

// Files a data source names (a folder: its files), for hashes in the manifest.
std::vector<std::string> SourceFiles(const DatasetOptions& data) {
  std::vector<std::string> files;
  for (std::string s : data.sources) {
    if (auto eq = s.find('='); eq != std::string::npos && !fs::exists(s)) s = s.substr(eq + 1);
    std::error_code ec;
    if (fs::is_directory(s, ec)) {
      std::vector<std::string> inside;
      for (const auto& e : fs::directory_iterator(s, ec))
        if (e.is_regular_file()) inside.push_back(e.path().string());
      std::sort(inside.begin(), inside.end());
      files.insert(files.end(), inside.begin(), inside.end());
    } else {
      files.push_back(s);
    }
  }
  return files;
}

json DataManifest(const DatasetOptions& data, int64_t samples) {
  json j;
  j["samples"] = samples;
  j["random"] = data.random;
  if (data.random) j["seed"] = data.seed;
  json files = json::array();
  for (const std::string& f : SourceFiles(data)) {
    auto h = Sha256File(f);
    files.push_back({{"path", f}, {"sha256", h.ok() ? *h : "unreadable"}});
  }
  j["files"] = files;
  return j;
}

class Run {
 public:
  Run(const DeployOptions& options, DeployResult* result) : options_(options), result_(result) {}

  // Runs one stage: fn returns the one-line summary or an error that stops the run.
  Status Stage(const std::string& name, const std::function<StatusOr<std::string>()>& fn) {
    if (options_.progress) options_.progress(name, "start", "");
    const Clock::time_point start = Clock::now();
    StatusOr<std::string> r = fn();
    DeployStage s;
    s.name = name;
    s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    s.ok = r.ok();
    s.summary = r.ok() ? *r : r.status().message();
    result_->stages.push_back(s);
    if (options_.progress) options_.progress(name, s.ok ? "ok" : "failed", s.summary);
    if (!r.ok()) return r.status().WithContext("deploy stopped at stage '" + name + "'");
    return Status::Ok();
  }

 private:
  const DeployOptions& options_;
  DeployResult* result_;
};

std::string NextStepsStm32(const TargetProfile& p, const std::string& model, bool int8_io,
                           const std::string& input_quantization) {
  std::ostringstream md;
  md << "# Next steps: " << p.toolchain.name << "\n\n"
     << "`" << model << "` is the INT8 QDQ model edgefit made and checked for `" << p.id
     << "`. Run the vendor toolchain on it:\n\n```sh\n";
  for (const HandoffStep& s : p.toolchain.steps) {
    if (s.kind != StepKind::kShell) continue;
    std::string cmd = Replace(s.command, "{model}", model);
    cmd = Replace(cmd, "{out}", "stedgeai_output");
    cmd = Replace(cmd, "{platform}", p.toolchain.platform);
    if (int8_io) cmd = Replace(cmd, "--input-data-type uint8", "--input-data-type int8");
    md << cmd << "\n";
  }
  md << "```\n\n";
  if (!input_quantization.empty())
    md << "The model quantizes its input itself (a QuantizeLinear after the float input): "
       << input_quantization
       << ". An application that feeds the network integer data (`--input-data-type`) must "
          "quantize with exactly these parameters: q = round(x / scale) + zero_point.\n\n";
  md << "Where these command lines come from (target profile `" << p.origin << "`, version "
     << p.version << "):\n\n";
  for (const HandoffStep& s : p.toolchain.steps)
    md << "* `" << s.id << "`: " << s.provenance.source << " ("
       << FactStatusName(s.provenance.status) << ")"
       << (s.provenance.note.empty() ? "" : " — " + s.provenance.note) << "\n";
  md << "\nOnly the vendor toolchain can produce the firmware artefacts (the network C files and "
        "the NPU blob); edgefit cannot check its code generation.\n";
  return md.str();
}

std::string KneronScript(const TargetProfile& p, const std::string& model,
                         const std::string& input) {
  std::ostringstream py;
  py << "#!/usr/bin/env python3\n"
     << "# Generated by edgefit deploy for " << p.id << " (" << p.toolchain.name << ").\n"
     << "# Run inside Kneron's toolchain Docker image, from this folder.\n";
  for (const HandoffStep& s : p.toolchain.steps) {
    if (s.kind != StepKind::kPython) continue;
    std::string line = Replace(s.command, "{model}", model);
    line = Replace(line, "{platform}", p.toolchain.platform);
    line = Replace(line, "{calib}", "calib");
    line = Replace(line, "{input}", input);
    py << "# " << s.id << ": " << s.provenance.source << "\n" << line << "\n";
  }
  return py.str();
}

// "The toolchain accepts opsets 8..18 (source)." for NEXT_STEPS.md.
std::string OpsetWindowText(const TargetProfile& p) {
  return p.toolchain.name + " accepts opsets " + std::to_string(p.opset.min.value) + ".." +
         std::to_string(p.opset.max.value) + " (" + p.opset.max.source + ", " +
         FactStatusName(p.opset.max.status) + ")";
}

std::string NextStepsKneron(const TargetProfile& p, const std::string& model, int opset,
                            const std::string& opset_note) {
  std::ostringstream md;
  md << "# Next steps: " << p.toolchain.name << "\n\n"
     << "Kneron's toolchain quantizes the model itself from a float model. edgefit hands over:\n\n"
     << "* `" << model << "`: the fixed float model at opset " << opset
     << (opset_note.empty() ? " (the opset the toolchain wants, from the target profile)" : "")
     << ";\n"
     << "* `calib/`: the calibration inputs, preprocessed, one `.npy` per sample in the model's "
        "input shape;\n"
     << "* `kneron_compile.py`: optimize -> ModelConfig -> evaluate -> analysis (quantization) "
        "-> compile, with these paths filled in.\n\n"
     << (opset_note.empty() ? "" : "**Opset**: " + opset_note + ".\n\n")
     << "Quick check first:\n\n```sh\n";
  for (const HandoffStep& s : p.toolchain.steps)
    if (s.kind == StepKind::kShell)
      md << Replace(Replace(s.command, "{model}", model), "{platform}", p.toolchain.platform)
         << "\n";
  md << "```\n\nThen `python3 kneron_compile.py` inside Kneron's toolchain. Only the vendor "
        "toolchain can produce the `.nef` for the chip; edgefit's INT8 figures for this target "
        "come from a QDQ simulation of the profile's scheme (`model.int8-sim.onnx`), not from "
        "Kneron's own quantizer.\n";
  return md.str();
}

// The keypoints or heatmap range of each panel of deploy's draw.png (summary.json "draw").
json DrawToJson(const draw::DrawResult& r, const std::vector<std::string>& models,
                const std::vector<std::string>& labels, draw::DrawTask task, float threshold) {
  json panels = json::array();
  for (size_t i = 0; i < r.panels.size(); ++i) {
    const draw::Panel& p = r.panels[i];
    json panel = {{"model", models[i]},
                  {"label", labels[i]},
                  {"output", p.output_name},
                  {"output_shape", p.output_shape}};
    if (task == draw::DrawTask::kKeypoints) {
      const bool coco = p.keypoints.size() == draw::kCocoKeypoints;
      json kps = json::array();
      int shown = 0;
      for (size_t k = 0; k < p.keypoints.size(); ++k) {
        const draw::Keypoint& kp = p.keypoints[k];
        shown += kp.score >= threshold;
        kps.push_back({{"name", coco ? draw::CocoKeypointNames()[k] : std::to_string(k)},
                       {"x", kp.x},
                       {"y", kp.y},
                       {"score", kp.score}});  // NaN is written as null
      }
      panel["keypoints"] = kps;
      panel["keypoints_drawn"] = shown;
    } else {
      panel["heat_min"] = p.heat_min;
      panel["heat_max"] = p.heat_max;
    }
    panels.push_back(panel);
  }
  json j = {{"file", "draw.png"},
            {"task", task == draw::DrawTask::kKeypoints ? "keypoints" : "heatmap"},
            {"width", r.picture.width},
            {"height", r.picture.height},
            {"image_width", r.image_width},
            {"image_height", r.image_height},
            {"panels", panels}};
  if (task == draw::DrawTask::kKeypoints) j["threshold"] = threshold;
  return j;
}

// Mean and largest distance in image pixels between the keypoints of two panels.
std::pair<double, double> KeypointShift(const draw::Panel& a, const draw::Panel& b) {
  double sum = 0, max = 0;
  const size_t n = std::min(a.keypoints.size(), b.keypoints.size());
  for (size_t k = 0; k < n; ++k) {
    const double d =
        std::hypot(a.keypoints[k].x - b.keypoints[k].x, a.keypoints[k].y - b.keypoints[k].y);
    sum += d;
    max = std::max(max, d);
  }
  return {n ? sum / static_cast<double>(n) : 0.0, max};
}

}  // namespace

StatusOr<DeployResult> Deploy(const std::string& model_path, const DeployOptions& options) {
  DeployResult result;
  if (options.out_dir.empty()) return InvalidArgument("no output folder (-o OUTDIR)");
  const fs::path out = fs::absolute(options.out_dir).lexically_normal();
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) return FailedPrecondition(out.string() + ": not a folder");
    if (!fs::is_empty(out, ec) && !options.overwrite)
      return FailedPrecondition(out.string() +
                                ": folder exists and is not empty (use --overwrite)");
  }
  const fs::path tmp = out.parent_path() / (out.filename().string() + ".tmp-" +
                                            std::to_string(static_cast<long>(getpid())));
  fs::remove_all(tmp, ec);
  if (!fs::create_directories(tmp, ec))
    return IoError(tmp.string() + ": cannot create (" + ec.message() + ")");
  struct Cleanup {
    fs::path dir;
    bool keep = false;
    ~Cleanup() {
      std::error_code e;
      if (!keep) fs::remove_all(dir, e);
    }
  } cleanup{tmp};

  Run run(options, &result);
  json summary, manifest;
  manifest["schema"] = "edgefit-manifest/1";
  manifest["edgefit_version"] = options.tool_version;
  manifest["command_line"] = options.command_line;

  std::optional<TargetProfile> profile;
  Model model;
  RETURN_IF_ERROR(run.Stage("load", [&]() -> StatusOr<std::string> {
    ASSIGN_OR_RETURN(TargetProfile p, LoadTargetProfile(options.target));
    profile = std::move(p);
    ASSIGN_OR_RETURN(model, LoadModel(model_path));
    ASSIGN_OR_RETURN(std::string hash, Sha256File(model_path));
    manifest["model"] = {{"path", model_path}, {"sha256", hash}};
    manifest["target"] = {
        {"id", profile->id}, {"version", profile->version}, {"origin", profile->origin}};
    return model_path + " (sha256 " + hash.substr(0, 12) + "...), target " + profile->id + " v" +
           std::to_string(profile->version);
  }));

  RETURN_IF_ERROR(run.Stage("check", [&]() -> StatusOr<std::string> {
    ASSIGN_OR_RETURN(CheckReport r, CheckModel(model, *profile));
    summary["check_before"] = {{"verdict", r.Verdict()},
                               {"violations", r.Count(Severity::kViolation)},
                               {"warnings", r.Count(Severity::kWarning)}};
    RETURN_IF_ERROR(WriteText(tmp / "check_before.txt", FormatCheckText(r)));
    return r.VerdictLine();
  }));

  Model fixed;
  RETURN_IF_ERROR(run.Stage("fix", [&]() -> StatusOr<std::string> {
    ASSIGN_OR_RETURN(Model original, CloneModel(model));
    FixOptions fo;
    fo.pass_options.input_shapes = options.input_shapes;
    ASSIGN_OR_RETURN(FixReport r, FixModel(model, original, *profile, fo));
    RETURN_IF_ERROR(WriteText(tmp / "fix.txt", FormatFixText(r)));
    summary["fix"] = FixToJson(r);
    if (r.violations_left() > 0) {
      std::string why;
      for (const RemainingFinding& f : r.remaining)
        if (f.finding.severity == Severity::kViolation) {
          why = f.finding.message + " (" + f.reason + ")";
          break;
        }
      return FailedPrecondition(std::to_string(r.violations_left()) +
                                " violation(s) remain after fix: " + why);
    }
    ASSIGN_OR_RETURN(fixed, CloneModel(model));
    RETURN_IF_ERROR(SaveModel(fixed, (tmp / "model.fixed.onnx").string()));
    result.files.push_back("model.fixed.onnx");
    return r.after.VerdictLine() + "; verified on " + std::to_string(r.equivalence.samples) +
           " input sets";
  }));

  const bool wants_int8 = profile->toolchain.input_model.value == HandoffModel::kQdqInt8;
  std::optional<Dataset> calib, eval;
  std::optional<Tensor> labels;
  RETURN_IF_ERROR(run.Stage("data", [&]() -> StatusOr<std::string> {
    ASSIGN_OR_RETURN(auto specs, InputSpecsOf(fixed));
    ASSIGN_OR_RETURN(Dataset c, Dataset::Open(options.calib, specs));
    calib = std::move(c);
    manifest["calibration"] = DataManifest(options.calib, calib->size());
    std::string text = std::to_string(calib->size()) + " calibration sample(s)";
    if (calib->is_random()) text += " (RANDOM: figures are not representative)";
    if (options.eval) {
      ASSIGN_OR_RETURN(Dataset e, Dataset::Open(*options.eval, specs));
      eval = std::move(e);
      manifest["evaluation"] = DataManifest(*options.eval, eval->size());
      text += ", " + std::to_string(eval->size()) + " evaluation sample(s)";
    }
    if (!options.draw_image.empty()) {
      // Decoded now, so a bad picture stops the run before the long stages.
      ASSIGN_OR_RETURN(draw::Image img, draw::ReadImage(options.draw_image));
      auto h = Sha256File(options.draw_image);
      manifest["draw_image"] = {{"path", options.draw_image},
                                {"sha256", h.ok() ? *h : "unreadable"},
                                {"width", img.width},
                                {"height", img.height}};
      text += ", picture " + std::to_string(img.width) + "x" + std::to_string(img.height);
    }
    if (!options.labels.empty()) {
      ASSIGN_OR_RETURN(Tensor l, ReadNpy(options.labels));
      labels = std::move(l);
      auto h = Sha256File(options.labels);
      manifest["labels"] = {{"path", options.labels}, {"sha256", h.ok() ? *h : "unreadable"}};
    }
    return text;
  }));

  Model int8;
  std::string input_quantization;  // "input 'x': int8, scale 0.0033, zero point -4"
  const std::string int8_name = wants_int8 ? "model.int8.onnx" : "model.int8-sim.onnx";
  RETURN_IF_ERROR(
      run.Stage(wants_int8 ? "quantize" : "quantize (simulation)", [&]() -> StatusOr<std::string> {
        ASSIGN_OR_RETURN(int8, CloneModel(fixed));
        QuantizeReport qr;
        if (eval && (options.max_drop || options.min_sqnr_db)) {
          AccuracyBudget budget;
          budget.eval = &*eval;
          budget.labels = labels;
          budget.task = labels ? TaskForLabels(*labels, &fixed) : CompareTask::kNone;
          budget.max_drop = options.max_drop;
          budget.min_sqnr_db = options.min_sqnr_db;
          ASSIGN_OR_RETURN(BudgetReport br, QuantizeWithinBudget(int8, &*profile, *calib,
                                                                 options.quantize, budget, &qr));
          RETURN_IF_ERROR(WriteText(tmp / "budget.txt", FormatBudgetText(br)));
        } else {
          ASSIGN_OR_RETURN(qr, QuantizeModel(int8, &*profile, *calib, options.quantize));
        }
        RETURN_IF_ERROR(WriteText(tmp / "quantize.txt", FormatQuantizeText(qr)));
        for (const QuantizedTensorInfo& t : qr.tensors)
          for (const Value* in : int8.graph->inputs())
            if (t.kind == "activation" && t.name == in->name()) {
              char text[160];
              std::snprintf(text, sizeof(text), "input '%s': %s, scale %.9g, zero point %d",
                            t.name.c_str(), t.dtype.c_str(), t.scale, t.zero_point);
              input_quantization += (input_quantization.empty() ? "" : "; ") + std::string(text);
            }
        summary["quantize"] = json::parse(FormatQuantizeJson(qr));
        if (wants_int8 && qr.check && qr.check->Count(Severity::kViolation) > 0)
          return FailedPrecondition("the INT8 model has " +
                                    std::to_string(qr.check->Count(Severity::kViolation)) +
                                    " violation(s) for " + profile->id + " (see quantize.txt)");
        RETURN_IF_ERROR(SaveModel(int8, (tmp / int8_name).string()));
        result.files.push_back(int8_name);
        return std::to_string(qr.quantized_nodes) + " node(s) quantized, " +
               std::to_string(qr.kept_float.size()) + " kept float; " +
               (!wants_int8 ? std::string("a QDQ simulation of ") + profile->id +
                                  "'s INT8 scheme (the toolchain quantizes the float model itself)"
                : qr.check ? qr.check->VerdictLine()
                           : std::string("not checked"));
      }));

  if (eval) {
    RETURN_IF_ERROR(run.Stage("compare", [&]() -> StatusOr<std::string> {
      CompareOptions co;
      co.labels = labels;
      co.task = labels ? TaskForLabels(*labels, &fixed) : CompareTask::kNone;
      co.layers = true;
      co.min_sqnr_db = options.min_sqnr_db;
      if (options.max_drop) co.max_metric_increase = options.max_drop;
      ASSIGN_OR_RETURN(CompareReport cr, CompareModels(fixed, int8, *eval, co));
      RETURN_IF_ERROR(WriteText(tmp / "compare.txt", FormatCompareText(cr)));
      RETURN_IF_ERROR(WriteText(tmp / "compare.json", FormatCompareJson(cr)));
      result.files.push_back("compare.json");
      summary["compare"] = json::parse(FormatCompareJson(cr));
      return cr.verdict;
    }));
  }

  std::optional<ReportPicture> picture;
  if (!options.draw_image.empty()) {
    RETURN_IF_ERROR(run.Stage("draw", [&]() -> StatusOr<std::string> {
      draw::DrawOptions dopt;
      dopt.task = options.draw_task;
      // The calibration images' preprocessing: the model sees the picture as it was calibrated.
      dopt.preprocess = options.calib.image.value_or(ImagePreprocess{});
      dopt.labels = {"FP32", wants_int8 ? "INT8" : "INT8 SIM"};
      const std::vector<std::string> names = {"model.fixed.onnx", int8_name};
      draw::DrawFailure failure = draw::DrawFailure::kNone;
      StatusOr<draw::DrawResult> drawn =
          draw::Draw({&fixed, &int8}, options.draw_image, dopt, &failure);
      if (!drawn.ok()) {
        // As `edgefit draw`: a model that cannot be drawn is unsupported; a picture that does
        // not fit the model's input keeps its (data) error.
        const Status st = drawn.status().WithContext("--draw-image " + options.draw_image);
        if (failure == draw::DrawFailure::kModel) return Unsupported(st.message());
        return st;
      }
      ASSIGN_OR_RETURN(std::string png, draw::EncodePng(drawn->picture));
      RETURN_IF_ERROR(WriteText(tmp / "draw.png", png));
      json j = DrawToJson(*drawn, names, dopt.labels, dopt.task, dopt.threshold);
      j["image"] = options.draw_image;
      const std::string size =
          std::to_string(drawn->picture.width) + "x" + std::to_string(drawn->picture.height);
      std::string text = "draw.png (" + size + "): ";
      std::string caption;
      char buf[200];
      if (dopt.task == draw::DrawTask::kKeypoints) {
        const auto [mean, max] = KeypointShift(drawn->panels[0], drawn->panels[1]);
        j["keypoint_shift_px"] = {{"mean", mean}, {"max", max}};
        std::snprintf(buf, sizeof(buf),
                      "FP32 %d, %s %d of %zu keypoints at score >= %.2g; shift mean %.2f px, max "
                      "%.2f px",
                      j["panels"][0]["keypoints_drawn"].get<int>(), dopt.labels[1].c_str(),
                      j["panels"][1]["keypoints_drawn"].get<int>(),
                      drawn->panels[0].keypoints.size(), static_cast<double>(dopt.threshold), mean,
                      max);
      } else {
        std::snprintf(buf, sizeof(buf),
                      "heatmap overlay; channel maximum FP32 in [%.4g, %.4g], %s in [%.4g, %.4g]",
                      drawn->panels[0].heat_min, drawn->panels[0].heat_max, dopt.labels[1].c_str(),
                      drawn->panels[1].heat_min, drawn->panels[1].heat_max);
      }
      text += buf;
      summary["draw"] = j;
      picture = ReportPicture{
          "FP32 vs " + dopt.labels[1] + " on " + fs::path(options.draw_image).filename().string(),
          buf,
          std::move(png),
          "draw.png",
          drawn->picture.width,
          drawn->picture.height};
      return text;
    }));
  }

  RETURN_IF_ERROR(run.Stage("hand-off", [&]() -> StatusOr<std::string> {
    if (wants_int8) {
      RETURN_IF_ERROR(WriteText(
          tmp / "NEXT_STEPS.md",
          NextStepsStm32(*profile, int8_name, options.quantize.int8_io, input_quantization)));
      result.files.push_back("NEXT_STEPS.md");
      return "INT8 QDQ model + " + profile->toolchain.name + " command lines in NEXT_STEPS.md";
    }
    // A float model at the toolchain's opset, the calibration inputs, the vendor script.
    ASSIGN_OR_RETURN(Model handoff, CloneModel(fixed));
    const int wanted = profile->toolchain.handoff_opset.value;
    std::string opset_note;  // why the model is not at the wanted opset ("" when it is)
    if (wanted > 0 && handoff.OpsetVersion() != wanted) {
      ASSIGN_OR_RETURN(auto pass, CreatePass("convert-opset"));
      PassContext ctx{handoff, &*profile, {}};
      ctx.options.target_opset = wanted;
      ASSIGN_OR_RETURN(PassResult pr, pass->Run(ctx));
      const int64_t now = handoff.OpsetVersion();
      if (now == wanted) {
        EquivalenceOptions eq;
        ASSIGN_OR_RETURN(EquivalenceReport er, CheckEquivalence(fixed, handoff, eq));
        if (!er.equivalent)
          return Internal("opset conversion changed the outputs:\n" + er.Summary());
      } else {
        // The hand-off opset is a preference; the toolchain's window is what it accepts. A model
        // inside the window is handed over at its own opset, and NEXT_STEPS.md says why.
        const std::string why = pr.unresolved.empty() ? "no conversion" : pr.unresolved[0];
        if (now < profile->opset.min.value || now > profile->opset.max.value)
          return Unsupported("cannot convert the fixed model to opset " + std::to_string(wanted) +
                             " (" + why + ") and its opset " + std::to_string(now) +
                             " is outside " + profile->id + "'s window " +
                             std::to_string(profile->opset.min.value) + ".." +
                             std::to_string(profile->opset.max.value));
        opset_note = "the profile's hand-off opset is " + std::to_string(wanted) +
                     ", but the model stays at opset " + std::to_string(now) + " (" + why + "); " +
                     OpsetWindowText(*profile);
      }
    }
    const int opset = static_cast<int>(handoff.OpsetVersion());
    if (!opset_note.empty()) summary["handoff_opset_note"] = opset_note;
    RETURN_IF_ERROR(SaveModel(handoff, (tmp / "model.float.onnx").string()));
    result.files.push_back("model.float.onnx");
    fs::create_directories(tmp / "calib");
    for (int64_t i = 0; i < calib->size(); ++i) {
      ASSIGN_OR_RETURN(std::vector<NamedTensor> sample, calib->Get(i));
      char name[32];
      std::snprintf(name, sizeof(name), "%05lld.npy", static_cast<long long>(i));
      RETURN_IF_ERROR(WriteNpy((tmp / "calib" / name).string(), sample[0].tensor));
    }
    result.files.push_back("calib/");
    const std::string input = calib->inputs().empty() ? "input" : calib->inputs()[0].name;
    RETURN_IF_ERROR(
        WriteText(tmp / "kneron_compile.py", KneronScript(*profile, "model.float.onnx", input)));
    result.files.push_back("kneron_compile.py");
    RETURN_IF_ERROR(WriteText(tmp / "NEXT_STEPS.md",
                              NextStepsKneron(*profile, "model.float.onnx", opset, opset_note)));
    result.files.push_back("NEXT_STEPS.md");
    return "float model (opset " + std::to_string(opset) +
           (opset_note.empty() ? "" : "; not " + std::to_string(wanted) + ", see NEXT_STEPS.md") +
           "), " + std::to_string(calib->size()) + " calibration input(s), kneron_compile.py";
  }));

  RETURN_IF_ERROR(run.Stage("report", [&]() -> StatusOr<std::string> {
    // The deployed model: the INT8 model for targets that take one, else the hand-off float model.
    ASSIGN_OR_RETURN(Model deployed, CloneModel(wants_int8 ? int8 : fixed));
    ReportOptions ro;
    ro.target = &*profile;
    if (summary.contains("compare")) ro.compare = summary["compare"];
    ASSIGN_OR_RETURN(ReportData data,
                     BuildReport(deployed, wants_int8 ? int8_name : "model.fixed.onnx", ro));
    if (picture) data.pictures.push_back(*picture);
    RETURN_IF_ERROR(WriteText(tmp / "report.html", RenderHtml(data)));
    RETURN_IF_ERROR(WriteText(tmp / "analyze.txt", FormatAnalyzeText(data.analysis, true)));
    summary["analyze"] = AnalyzeToJson(data.analysis);
    result.files.push_back("report.html");
    return std::string("report.html, analyze.txt") +
           (data.graph_svg.empty() ? " (no graph picture: " + data.graph_note + ")" : "");
  }));

  // summary.json, manifest.json, report.md
  // Every file of the output folder, as the user will see it.
  result.files.clear();
  for (const auto& e : fs::directory_iterator(tmp))
    result.files.push_back(e.path().filename().string() + (e.is_directory() ? "/" : ""));
  for (const char* f : {"summary.json", "manifest.json", "report.md"}) result.files.push_back(f);
  std::sort(result.files.begin(), result.files.end());
  json stages = json::array();
  std::ostringstream md;
  md << "# edgefit deploy: " << fs::path(model_path).filename().string() << " -> " << profile->id
     << "\n\n| stage | result | time |\n|---|---|---:|\n";
  for (const DeployStage& s : result.stages) {
    stages.push_back(
        {{"stage", s.name}, {"ok", s.ok}, {"summary", s.summary}, {"seconds", s.seconds}});
    char t[32];
    std::snprintf(t, sizeof(t), "%.2f s", s.seconds);
    md << "| " << s.name << " | " << s.summary << " | " << t << " |\n";
  }
  if (picture)
    md << "\n## " << picture->title << "\n\n![" << picture->title << "](draw.png)\n\n"
       << picture->caption << "\n";
  md << "\nFiles: ";
  for (const std::string& f : result.files) md << "`" << f << "` ";
  md << "\n\nDetails: `report.html`, `analyze.txt`, `check_before.txt`, `fix.txt`, `quantize.txt`"
     << (eval ? ", `compare.txt`" : "") << ", `NEXT_STEPS.md`.\n";
  summary["schema"] = "edgefit-deploy-summary/1";
  summary["target"] = profile->id;
  summary["stages"] = stages;
  summary["files"] = result.files;
  manifest["stages"] = stages;
  RETURN_IF_ERROR(WriteText(tmp / "summary.json", summary.dump(2) + "\n"));
  RETURN_IF_ERROR(WriteText(tmp / "manifest.json", manifest.dump(2) + "\n"));
  RETURN_IF_ERROR(WriteText(tmp / "report.md", md.str()));

  // Move into place.
  if (fs::exists(out, ec)) fs::remove_all(out, ec);
  fs::rename(tmp, out, ec);
  if (ec)
    return IoError(out.string() + ": cannot move the results into place (" + ec.message() + ")");
  cleanup.keep = true;
  result.out_dir = out.string();
  return result;
}

}  // namespace edgefit
