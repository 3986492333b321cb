// Runs ONNX's own per-operator test data (Debian's libonnx-testdata) on edgefit's executor.
//
//   edgefit_conformance [--data DIR] [--filter SUBSTR] [--skipped FILE] [--threads N] [--verbose]
//                       [--convert-to OPSET]
//
// --convert-to OPSET: each model at another opset first goes through convert-opset to it (up
// or down), and runs converted; a case convert-opset leaves where it is (a node that needs its
// own opset, no adapter) is skipped with the reason. This checks that every node convert-opset
// converts keeps its meaning: the converted model must still give ONNX's expected outputs.
//
// A case passes when every output matches with ONNX's tolerances (rtol 1e-3, atol 1e-7; exact
// for integers and bools). A case whose op edgefit does not implement is skipped, with the
// reason written to --skipped. Prints "N passed, N failed, N skipped" and exits 1 on any failure.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "onnx/model_io.h"
#include "passes/pass.h"
#include "runtime/session.h"

namespace fs = std::filesystem;
using namespace edgefit;

namespace {

struct Options {
  std::string data = "/usr/share/libonnx-testdata/data";
  std::vector<std::string> folders = {"node", "pytorch-converted", "pytorch-operator", "simple"};
  std::string filter;
  std::string skipped_file;
  std::string ops_markdown;  // write docs/ops.md-style table of kernels and passing cases
  int threads = 1;
  int convert_to = 0;  // convert-opset to this opset first (0: no)
  bool verbose = false;
};

// Empty string = equal; otherwise what differs.
std::string Compare(const Tensor& expected, const Tensor& actual) {
  if (expected.dtype() != actual.dtype())
    return std::string("dtype ") + DataTypeName(actual.dtype()) + ", expected " +
           DataTypeName(expected.dtype());
  if (expected.shape() != actual.shape())
    return "shape " + ShapeToString(actual.shape()) + ", expected " +
           ShapeToString(expected.shape());
  if (expected.dtype() == DataType::kString) {
    return expected.strings() == actual.strings() ? "" : "string values differ";
  }
  bool floating = expected.dtype() == DataType::kFloat || expected.dtype() == DataType::kDouble ||
                  expected.dtype() == DataType::kFloat16 || expected.dtype() == DataType::kBfloat16;
  if (!floating) {
    if (expected.nbytes() && std::memcmp(expected.raw(), actual.raw(), expected.nbytes()) != 0) {
      auto e = expected.ToDoubleVector(), a = actual.ToDoubleVector();
      for (size_t i = 0; i < e.size(); ++i)
        if (e[i] != a[i])
          return "element " + std::to_string(i) + " is " + std::to_string(a[i]) + ", expected " +
                 std::to_string(e[i]);
    }
    return "";
  }
  auto e = expected.ToDoubleVector(), a = actual.ToDoubleVector();
  for (size_t i = 0; i < e.size(); ++i) {
    if (std::isnan(e[i]) && std::isnan(a[i])) continue;
    if (std::isinf(e[i]) && e[i] == a[i]) continue;
    if (std::fabs(a[i] - e[i]) > 1e-7 + 1e-3 * std::fabs(e[i]) ||
        std::isnan(a[i]) != std::isnan(e[i])) {
      std::ostringstream os;
      os << "element " << i << " is " << a[i] << ", expected " << e[i];
      return os.str();
    }
  }
  return "";
}

std::vector<fs::path> SortedFiles(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind(prefix, 0) == 0) files.push_back(entry.path());
  std::sort(files.begin(), files.end(), [&](const fs::path& a, const fs::path& b) {
    auto num = [&](const fs::path& p) {
      std::string s = p.stem().string().substr(prefix.size());
      return std::stoi(s);
    };
    return num(a) < num(b);
  });
  return files;
}

// ONNX 1.12's test data stores bfloat16 tensors with data_type UINT16 (same bits). Reinterpret
// them as the type the model declares.
Tensor AsDeclared(Tensor t, DataType declared) {
  if (t.dtype() != DataType::kUint16 || declared != DataType::kBfloat16) return t;
  Tensor out(DataType::kBfloat16, t.shape());
  if (t.nbytes()) std::memcpy(out.raw(), t.raw(), t.nbytes());
  return out;
}

enum class Outcome { kPass, kFail, kSkip };

Outcome RunCase(const fs::path& dir, const Options& opt, std::string* reason,
                std::set<std::string>* ops) {
  auto model = LoadModel((dir / "model.onnx").string());
  if (model.ok())
    for (const auto& n : model->graph->nodes())
      ops->insert(n->domain().empty() || n->domain() == "ai.onnx"
                      ? n->op_type()
                      : n->domain() + "." + n->op_type());
  if (!model.ok()) {
    *reason = "model does not load: " + model.status().message();
    return model.status().code() == StatusCode::kUnsupported ? Outcome::kSkip : Outcome::kFail;
  }
  if (opt.convert_to > 0) {
    const int64_t opset = model->OpsetVersion("");
    if (opset == opt.convert_to) {
      *reason = "already at opset " + std::to_string(opset);
      return Outcome::kSkip;
    }
    auto pass = CreatePass("convert-opset");
    PassContext ctx{*model, nullptr, {}};
    ctx.options.target_opset = opt.convert_to;
    auto converted = (*pass)->Run(ctx);
    if (!converted.ok()) {
      *reason = "convert-opset failed: " + converted.status().message();
      return Outcome::kFail;
    }
    if (!converted->changed) {
      *reason = "stays at opset " + std::to_string(opset) +
                (converted->unresolved.empty() ? "" : ": " + converted->unresolved[0]);
      return Outcome::kSkip;
    }
    if (model->OpsetVersion("") != opt.convert_to) {
      *reason = "convert-opset left opset " + std::to_string(model->OpsetVersion(""));
      return Outcome::kFail;
    }
  }
  SessionOptions so;
  so.num_threads = opt.threads;
  auto session = Session::Create(*model, so);
  if (!session.ok()) {
    *reason = session.status().message();
    return session.status().code() == StatusCode::kUnsupported ? Outcome::kSkip : Outcome::kFail;
  }
  bool any = false;
  for (const auto& set : fs::directory_iterator(dir)) {
    if (!set.is_directory() || set.path().filename().string().rfind("test_data_set_", 0) != 0)
      continue;
    any = true;
    std::vector<NamedTensor> feeds;
    auto inputs = SortedFiles(set.path(), "input_");
    const auto& graph_inputs = (*session)->inputs();
    // Inputs are listed in graph-input order (initializers excluded).
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto t = LoadTensorProto(inputs[i].string());
      if (!t.ok()) {
        *reason = "input is not a tensor (sequence/optional): " + inputs[i].filename().string();
        return Outcome::kSkip;
      }
      if (i >= graph_inputs.size()) {
        *reason = "more input files than graph inputs";
        return Outcome::kFail;
      }
      // A few ONNX 1.12 cases ship input files that contradict the model's own fixed input
      // shape (e.g. CastLike's 'like' stored as [1] for a declared [3,4]); edgefit rightly
      // rejects such inputs, so these cases cannot be run as given.
      if (auto declared = graph_inputs[i]->type().StaticShape();
          declared && *declared != t->shape()) {
        *reason = "test data input " + inputs[i].filename().string() + " has shape " +
                  ShapeToString(t->shape()) + " but the model declares " +
                  ShapeToString(*declared) + " (inconsistent test data)";
        return Outcome::kSkip;
      }
      feeds.push_back({graph_inputs[i]->name(),
                       AsDeclared(std::move(t).value(), graph_inputs[i]->type().elem_type)});
    }
    auto outputs = SortedFiles(set.path(), "output_");
    std::vector<Tensor> expected;
    for (const auto& f : outputs) {
      auto t = LoadTensorProto(f.string());
      if (!t.ok()) {
        *reason = "output is not a tensor (sequence/optional): " + f.filename().string();
        return Outcome::kSkip;
      }
      expected.push_back(std::move(t).value());
    }
    auto got = (*session)->Run(feeds);
    if (!got.ok()) {
      *reason = set.path().filename().string() + ": " + got.status().message();
      return got.status().code() == StatusCode::kUnsupported ? Outcome::kSkip : Outcome::kFail;
    }
    if (got->size() < expected.size()) {
      *reason = "fewer outputs than expected";
      return Outcome::kFail;
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      std::string diff = Compare(AsDeclared(expected[i], (*got)[i].dtype()), (*got)[i]);
      if (!diff.empty()) {
        *reason = set.path().filename().string() + " output " + std::to_string(i) + " '" +
                  (*session)->outputs()[i]->name() + "': " + diff;
        return Outcome::kFail;
      }
    }
  }
  if (!any) {
    *reason = "no test_data_set";
    return Outcome::kSkip;
  }
  return Outcome::kPass;
}

// docs/ops.md: every kernel in the registry with its opset ranges and how many conformance
// cases that use the op pass.
void WriteOpsMarkdown(const std::string& path, const std::map<std::string, int>& passed_by_op,
                      const std::map<std::string, std::array<int, 3>>& per_folder) {
  std::map<std::string, std::vector<std::string>> ranges;
  for (const KernelDef& d : DefaultKernelRegistry().defs()) {
    std::string op = d.domain.empty() ? d.op_type : d.domain + "." + d.op_type;
    std::string r = std::to_string(d.since_version) + "-" +
                    (d.until_version >= 1000 ? std::string("") : std::to_string(d.until_version));
    ranges[op].push_back(r);
  }
  std::ofstream out(path);
  out << "# Supported operators\n\n"
      << "Generated by `edgefit_conformance --ops-markdown docs/ops.md` from the kernel registry\n"
      << "and a run of Debian's libonnx-testdata (ONNX 1.12). \"Opset ranges\" are the versions "
         "of\n"
      << "the op each kernel implements (\"13-\" = 13 and later); \"cases passed\" counts the\n"
      << "conformance cases that use the op and pass (ONNX tolerances: rtol 1e-3, atol 1e-7).\n\n";
  for (const auto& [folder, c] : per_folder)
    out << "* `" << folder << "`: " << c[0] << " passed, " << c[1] << " failed, " << c[2]
        << " skipped\n";
  out << "\n| op | opset ranges | conformance cases passed |\n|---|---|---:|\n";
  for (const auto& [op, rs] : ranges) {
    std::string joined;
    for (const auto& r : rs) joined += (joined.empty() ? "" : ", ") + r;
    auto it = passed_by_op.find(op);
    out << "| " << op << " | " << joined << " | " << (it == passed_by_op.end() ? 0 : it->second)
        << " |\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data")
      opt.data = next();
    else if (a == "--filter")
      opt.filter = next();
    else if (a == "--skipped")
      opt.skipped_file = next();
    else if (a == "--threads")
      opt.threads = std::stoi(next());
    else if (a == "--ops-markdown")
      opt.ops_markdown = next();
    else if (a == "--convert-to")
      opt.convert_to = std::stoi(next());
    else if (a == "--folders") {
      std::string list = next();
      opt.folders.clear();
      std::stringstream ss(list);
      for (std::string f; std::getline(ss, f, ',');) opt.folders.push_back(f);
    } else if (a == "--verbose")
      opt.verbose = true;
    else {
      std::cerr << "usage: edgefit_conformance [--data DIR] [--folders a,b] [--filter SUBSTR] "
                   "[--skipped FILE] [--threads N] [--verbose] [--convert-to OPSET]\n";
      return 2;
    }
  }
  std::map<std::string, std::array<int, 3>> per_folder;
  int passed = 0, failed = 0, skipped = 0;
  std::map<std::string, int> passed_by_op;
  std::ofstream skipped_out;
  if (!opt.skipped_file.empty()) skipped_out.open(opt.skipped_file);
  for (const std::string& folder : opt.folders) {
    fs::path root = fs::path(opt.data) / folder;
    if (!fs::is_directory(root)) {
      std::cerr << "missing test data folder " << root << "\n";
      return 2;
    }
    std::vector<fs::path> cases;
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory() && e.path().filename().string().find(opt.filter) != std::string::npos)
        cases.push_back(e.path());
    std::sort(cases.begin(), cases.end());
    for (const auto& c : cases) {
      std::string reason;
      std::set<std::string> ops;
      Outcome o = RunCase(c, opt, &reason, &ops);
      if (o == Outcome::kPass)
        for (const auto& op : ops) ++passed_by_op[op];
      std::string name = folder + "/" + c.filename().string();
      auto& counts = per_folder[folder];
      if (o == Outcome::kPass) {
        ++passed;
        ++counts[0];
        if (opt.verbose) std::cout << "PASS " << name << "\n";
      } else if (o == Outcome::kFail) {
        ++failed;
        ++counts[1];
        std::cout << "FAIL " << name << ": " << reason << "\n";
      } else {
        ++skipped;
        ++counts[2];
        if (opt.verbose) std::cout << "SKIP " << name << ": " << reason << "\n";
        if (skipped_out) skipped_out << name << "\t" << reason << "\n";
      }
    }
  }
  for (const auto& [folder, c] : per_folder)
    std::cout << "conformance " << folder << ": " << c[0] << " passed, " << c[1] << " failed, "
              << c[2] << " skipped\n";
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  if (!opt.ops_markdown.empty()) WriteOpsMarkdown(opt.ops_markdown, passed_by_op, per_folder);
  return failed ? 1 : 0;
}
