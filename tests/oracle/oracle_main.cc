// The ONNX Runtime oracle: runs models on edgefit and on ONNX Runtime (tools/ort) with the same
// inputs and compares every output (tests/oracle/compare.h for the tolerances).
//
//   edgefit_oracle --edgefit PATH/edgefit [--source DIR] [--data DIR] [--folders a,b,...]
//                  [--filter SUBSTR] [--node NODE] [--threads N] [--work DIR] [--keep]
//                  [--verbose]
//
// Cases:
//  * every tests/fixtures/*.onnx on its <stem>.input.npy, run through the `edgefit run` CLI;
//  * the ONNX conformance models in DATA/{node,pytorch-converted,pytorch-operator,simple}/*/
//    on their test_data_set_0 inputs (TensorProto files, converted to .npy here), run through
//    the library (Session).
// A case is skipped when edgefit reports it Unsupported, when its data has no .npy form, or
// when ONNX Runtime itself rejects it; every skip is listed with its reason. Everything else is
// compared; any difference, or an edgefit error on a case ORT runs, is a failure.
// All ORT runs happen in one node process (tools/ort/ort_batch.js) that works in parallel
// with edgefit. A self-check first proves that the pipeline (ORT, .npy files, comparison)
// detects a wrong value.
//
// Prints "N compared, N skipped" (and the failures) and exits 1 on any failure.
#include <fcntl.h>
#include <spawn.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "io/npy.h"
#include "onnx/model_io.h"
#include "oracle/compare.h"
#include "runtime/session.h"

extern char** environ;

namespace fs = std::filesystem;
using namespace edgefit;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string edgefit;
  std::string source = EDGEFIT_SOURCE_DIR;
  std::string data = "/usr/share/libonnx-testdata/data";
  std::vector<std::string> folders = {"node", "pytorch-converted", "pytorch-operator", "simple"};
  std::string filter;
  std::string node = "node";
  int threads = 1;
  std::string work;
  bool keep = false;
  bool verbose = false;
};

enum class State {
  kReady,        // inputs written, waiting for edgefit and ORT
  kSkipped,      // see reason
  kEdgefitError  // edgefit failed (not Unsupported): a failure unless ORT rejects the case too
};

struct Case {
  std::string id;  // "fixtures/mobilenet_like_op13", "node/test_abs"
  std::string model;
  fs::path dir;  // work folder of the case
  bool via_cli = false;
  std::vector<std::pair<std::string, std::string>> inputs;  // graph input name -> .npy
  std::vector<std::string> outputs;                         // graph output names, in order
  State state = State::kReady;
  std::string reason;
  std::string skip_kind;  // "unsupported", "no-npy", "ort-rejects", "no-data"
  // Filled by ORT.
  bool ort_done = false, ort_ok = false;
  std::string ort_error;
  std::map<std::string, std::string> ort_files;  // output name -> file
};

std::string SafeFileName(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  return s.empty() ? "_" : s;
}

void Skip(Case& c, const std::string& kind, const std::string& reason) {
  c.state = State::kSkipped;
  c.skip_kind = kind;
  c.reason = reason;
}

std::string OneLine(std::string s) {
  for (char& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  if (s.size() > 400) s = s.substr(0, 400) + "...";
  return s;
}

// ------------------------------------------------------------------ processes

struct Child {
  pid_t pid = -1;
};

Child Spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Child c;
  int rc = posix_spawnp(&c.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) c.pid = -1;
  return c;
}

// Exit code, or 128 + signal, or -1 if the process could not start.
int Wait(const Child& c) {
  if (c.pid < 0) return -1;
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string ReadText(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// ------------------------------------------------------------------ case preparation

std::vector<fs::path> SortedFiles(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<int, fs::path>> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || e.path().extension() != ".pb") continue;
    std::string num = e.path().stem().string().substr(prefix.size());
    if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) continue;
    files.emplace_back(std::stoi(num), e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<fs::path> out;
  for (auto& f : files) out.push_back(f.second);
  return out;
}

// Loads the model and builds a session: Unsupported -> skipped; other errors -> edgefit error.
std::unique_ptr<Session> BuildSession(Case& c, const Model& model, const Options& opt) {
  SessionOptions so;
  so.num_threads = opt.threads;
  auto session = Session::Create(model, so);
  if (session.ok()) return std::move(session).value();
  if (session.status().code() == StatusCode::kUnsupported)
    Skip(c, "unsupported", session.status().message());
  else {
    c.state = State::kEdgefitError;
    c.reason = "session: " + session.status().message();
  }
  return nullptr;
}

void PrepareFixture(Case& c, const Options& opt) {
  auto model = LoadModel(c.model);
  if (!model.ok()) {
    c.state = State::kEdgefitError;
    c.reason = "load: " + model.status().message();
    return;
  }
  auto session = BuildSession(c, *model, opt);
  for (const Value* v : model->graph->outputs()) c.outputs.push_back(v->name());
  std::string stem = c.model.substr(0, c.model.size() - 5);
  std::vector<std::string> names;
  for (const Value* v : model->graph->inputs())
    if (!v->has_initializer()) names.push_back(v->name());
  if (names.size() != 1) {
    Skip(c, "no-data", "fixture has " + std::to_string(names.size()) + " inputs, expected 1");
    return;
  }
  c.inputs.emplace_back(names[0], stem + ".input.npy");
}

void PrepareConformance(Case& c, const Options& opt) {
  fs::path set = fs::path(c.model).parent_path() / "test_data_set_0";
  if (!fs::is_directory(set)) {
    Skip(c, "no-data", "no test_data_set_0");
    return;
  }
  auto model = LoadModel(c.model);
  if (!model.ok()) {
    if (model.status().code() == StatusCode::kUnsupported)
      Skip(c, "unsupported", model.status().message());
    else {
      c.state = State::kEdgefitError;
      c.reason = "load: " + model.status().message();
    }
    return;
  }
  auto session = BuildSession(c, *model, opt);
  if (c.state == State::kSkipped) return;
  for (const Value* v : model->graph->outputs()) c.outputs.push_back(v->name());
  std::vector<const Value*> graph_inputs;
  for (const Value* v : model->graph->inputs())
    if (!v->has_initializer()) graph_inputs.push_back(v);
  auto files = SortedFiles(set, "input_");
  if (files.size() > graph_inputs.size()) {
    Skip(c, "no-data", "more input files than graph inputs");
    return;
  }
  if (files.size() < graph_inputs.size()) {
    Skip(c, "no-data", "fewer input files than graph inputs (omitted optional inputs)");
    return;
  }
  fs::create_directories(c.dir / "inputs");
  for (size_t i = 0; i < files.size(); ++i) {
    auto t = LoadTensorProto(files[i].string());
    if (!t.ok()) {
      Skip(c, "no-npy", "input " + files[i].filename().string() + " is not a tensor");
      return;
    }
    if (!NpyDescr(t->dtype())) {
      Skip(c, "no-npy",
           std::string("input dtype ") + DataTypeName(t->dtype()) + " has no .npy form");
      return;
    }
    std::string file = (c.dir / "inputs" / (std::to_string(i) + ".npy")).string();
    Status st = WriteNpy(file, *t);
    if (!st.ok()) {
      c.state = State::kEdgefitError;
      c.reason = "writing input: " + st.message();
      return;
    }
    c.inputs.emplace_back(graph_inputs[i]->name(), file);
  }
  // Outputs whose type .npy cannot hold are skipped up front (ORT would fail to write them).
  for (const Value* v : model->graph->outputs()) {
    const TypeInfo& t = v->type();
    if (t.kind == TypeInfo::Kind::kOpaque) {
      Skip(c, "no-npy", "output '" + v->name() + "' is not a tensor");
      return;
    }
    if (t.is_tensor() && t.elem_type != DataType::kUndefined && !NpyDescr(t.elem_type)) {
      Skip(c, "no-npy",
           "output '" + v->name() + "' is " + DataTypeName(t.elem_type) +
               ", which has no .npy form");
      return;
    }
  }
}

// ------------------------------------------------------------------ running edgefit

void RunFixture(Case& c, const Options& opt) {
  fs::path out = c.dir / "edgefit";
  std::vector<std::string> argv = {
      opt.edgefit,    "run",       c.model, "--threads", std::to_string(opt.threads),
      "--output-dir", out.string()};
  for (const auto& [name, file] : c.inputs) {
    argv.push_back("--input");
    argv.push_back(name + "=" + file);
  }
  fs::create_directories(c.dir);
  int rc = Wait(Spawn(argv, (c.dir / "edgefit.out").string(), (c.dir / "edgefit.err").string()));
  std::string err = OneLine(ReadText(c.dir / "edgefit.err"));
  if (rc == 0) return;
  if (rc == 6 && err.find("nsupported") != std::string::npos) {
    Skip(c, "unsupported", err);
    return;
  }
  c.state = State::kEdgefitError;
  c.reason = "edgefit run exit code " + std::to_string(rc) + ": " + err;
}

void RunLibrary(Case& c, const Options& opt) {
  auto model = LoadModel(c.model);
  if (!model.ok()) {
    c.state = State::kEdgefitError;
    c.reason = "load: " + model.status().message();
    return;
  }
  auto session = BuildSession(c, *model, opt);
  if (!session) return;
  std::vector<NamedTensor> feeds;
  for (const auto& [name, file] : c.inputs) {
    auto t = ReadNpy(file);
    if (!t.ok()) {
      c.state = State::kEdgefitError;
      c.reason = "reading input: " + t.status().message();
      return;
    }
    feeds.push_back({name, std::move(t).value()});
  }
  auto outputs = session->Run(feeds);
  if (!outputs.ok()) {
    if (outputs.status().code() == StatusCode::kUnsupported) {
      Skip(c, "unsupported", outputs.status().message());
      return;
    }
    c.state = State::kEdgefitError;
    c.reason = "run: " + outputs.status().message();
    return;
  }
  fs::create_directories(c.dir / "edgefit");
  for (size_t i = 0; i < outputs->size(); ++i) {
    const Tensor& t = (*outputs)[i];
    if (!NpyDescr(t.dtype())) {
      Skip(c, "no-npy",
           "output '" + c.outputs[i] + "' is " + DataTypeName(t.dtype()) +
               ", which has no .npy form");
      return;
    }
    Status st = WriteNpy((c.dir / "edgefit" / (SafeFileName(c.outputs[i]) + ".npy")).string(), t);
    if (!st.ok()) {
      c.state = State::kEdgefitError;
      c.reason = "writing output: " + st.message();
      return;
    }
  }
}

// ------------------------------------------------------------------ ORT

struct OrtBatch {
  Child child;
  fs::path jobs, results, out, err;
};

OrtBatch StartOrt(const std::vector<Case*>& cases, const Options& opt, const fs::path& work,
                  int round) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const Case* c : cases) {
    nlohmann::json inputs = nlohmann::json::object();
    for (const auto& [name, file] : c->inputs) inputs[name] = file;
    jobs.push_back({{"id", c->id},
                    {"model", c->model},
                    {"inputs", inputs},
                    {"output_dir", (c->dir / "ort").string()}});
  }
  OrtBatch b;
  std::string tag = std::to_string(round);
  b.jobs = work / ("ort_jobs_" + tag + ".json");
  b.results = work / ("ort_results_" + tag + ".jsonl");
  b.out = work / ("ort_" + tag + ".out");
  b.err = work / ("ort_" + tag + ".err");
  std::ofstream(b.jobs) << nlohmann::json{{"jobs", jobs}}.dump();
  fs::remove(b.results);
  b.child = Spawn({opt.node, (fs::path(opt.source) / "tools/ort/ort_batch.js").string(),
                   b.jobs.string(), b.results.string(), "--threads", "1"},
                  b.out.string(), b.err.string());
  return b;
}

// Reads the results of a finished batch into the cases. Returns how many got a result.
size_t CollectOrt(const OrtBatch& b, std::map<std::string, Case*>& by_id) {
  std::ifstream in(b.results);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("id") || !j["id"].is_string()) continue;
    auto it = by_id.find(j["id"].get<std::string>());
    if (it == by_id.end()) continue;
    Case& c = *it->second;
    c.ort_done = true;
    ++n;
    c.ort_ok = j.value("ok", false);
    if (!c.ort_ok) {
      c.ort_error = j.value("error", std::string("unknown error"));
      continue;
    }
    for (const auto& o : j["outputs"]) c.ort_files[o["name"].get<std::string>()] = o["file"];
  }
  return n;
}

// ------------------------------------------------------------------ ORT vs ONNX's reference

// For a conformance case where edgefit and ORT disagree on output `name`: true when edgefit
// matches ONNX's own expected output (test_data_set_0/output_<i>.pb) within the oracle's
// tolerance while ORT misses it even by the conformance tolerance (rtol 1e-3, atol 1e-7). Such a
// case is an ONNX Runtime deviation, listed but not counted as an edgefit failure.
bool OrtDeviates(const Case& c, const std::string& name, const Tensor& got, const Tensor& ort) {
  auto it = std::find(c.outputs.begin(), c.outputs.end(), name);
  if (it == c.outputs.end()) return false;
  fs::path file = fs::path(c.model).parent_path() / "test_data_set_0" /
                  ("output_" + std::to_string(it - c.outputs.begin()) + ".pb");
  auto expected = LoadTensorProto(file.string());
  if (!expected.ok()) return false;
  if (!oracle::Compare(got, *expected).empty()) return false;
  if (ort.dtype() != expected->dtype() || ort.shape() != expected->shape()) return true;
  std::vector<double> o = ort.ToDoubleVector(), e = expected->ToDoubleVector();
  for (size_t i = 0; i < e.size(); ++i) {
    if (std::isnan(e[i]) && std::isnan(o[i])) continue;
    if (std::fabs(o[i] - e[i]) > 1e-7 + 1e-3 * std::fabs(e[i]) || std::isnan(o[i])) return true;
  }
  return false;
}

// ------------------------------------------------------------------ self-check

// One tiny model whose result is known exactly: y = x + x (Add, opset 13), hand-encoded.
std::string SelfCheckModel() {
  auto str = [](int field, const std::string& s) {
    std::string out;
    out.push_back(static_cast<char>(field << 3 | 2));
    size_t n = s.size();
    do {
      unsigned char b = n & 0x7f;
      n >>= 7;
      out.push_back(static_cast<char>(n ? b | 0x80 : b));
    } while (n);
    return out + s;
  };
  auto varint = [](int field, uint64_t v) {
    std::string out;
    out.push_back(static_cast<char>(field << 3));
    do {
      unsigned char b = v & 0x7f;
      v >>= 7;
      out.push_back(static_cast<char>(v ? b | 0x80 : b));
    } while (v);
    return out;
  };
  // TypeProto{tensor_type{elem_type=1, shape{dim{2} dim{3}}}}
  std::string shape = str(1, varint(1, 2)) + str(1, varint(1, 3));
  std::string type = str(1, varint(1, 1) + str(2, shape));
  std::string node = str(1, "x") + str(1, "x") + str(2, "y") + str(3, "add") + str(4, "Add");
  std::string graph = str(1, node) + str(2, "selfcheck") + str(11, str(1, "x") + str(2, type)) +
                      str(12, str(1, "y") + str(2, type));
  return varint(1, 8) + str(2, "edgefit-oracle") + str(7, graph) + str(8, varint(2, 13));
}

// Runs the self-check model through ORT and compares with the exact answer, then checks that
// a one-ulp-scale error and a wrong shape are caught. Returns "" or what went wrong.
std::string SelfCheck(const Options& opt, const fs::path& work) {
  fs::path dir = work / "selfcheck";
  fs::create_directories(dir);
  std::ofstream(dir / "model.onnx", std::ios::binary) << SelfCheckModel();
  std::vector<float> x = {0.5f, -1.25f, 3.0f, 1e-3f, -7.5f, 100.0f};
  Tensor in = Tensor::FromVector<float>(DataType::kFloat, {2, 3}, x);
  Status st = WriteNpy((dir / "x.npy").string(), in);
  if (!st.ok()) return st.message();
  Case c;
  c.id = "selfcheck";
  c.model = (dir / "model.onnx").string();
  c.dir = dir;
  c.inputs = {{"x", (dir / "x.npy").string()}};
  std::map<std::string, Case*> by_id = {{c.id, &c}};
  OrtBatch b = StartOrt({&c}, opt, work, 0);
  int rc = Wait(b.child);
  CollectOrt(b, by_id);
  if (!c.ort_done)
    return "ort_batch.js did not run (exit " + std::to_string(rc) +
           "): " + OneLine(ReadText(b.err));
  if (!c.ort_ok) return "ORT failed on the self-check model: " + c.ort_error;
  auto got = ReadNpy(c.ort_files["y"]);
  if (!got.ok()) return got.status().message();
  std::vector<float> y;
  for (float v : x) y.push_back(v + v);
  Tensor want = Tensor::FromVector<float>(DataType::kFloat, {2, 3}, y);
  std::string diff = oracle::Compare(want, *got);
  if (!diff.empty()) return "ORT's x + x differs from the exact answer: " + diff;
  Tensor off = want.Clone();
  off.data<float>()[5] *= 1.0005f;  // 200 -> 200.1: above atol + rtol * 200 = 0.02
  if (oracle::Compare(off, *got).empty()) return "a wrong value was not detected";
  if (oracle::Compare(want.Reshaped({3, 2}), *got).empty()) return "a wrong shape was not detected";
  return "";
}

// ------------------------------------------------------------------ main

// Where the (thousands of small) work files go: /dev/shm when it is a writable tmpfs with room
// to spare, since creating and deleting them on a busy disk can take longer than the test
// itself; otherwise the temp folder.
fs::path WorkRoot() {
  struct statvfs st;
  if (::access("/dev/shm", W_OK) == 0 && ::statvfs("/dev/shm", &st) == 0 &&
      static_cast<uint64_t>(st.f_bavail) * st.f_frsize > (uint64_t{512} << 20))
    return "/dev/shm";
  return fs::temp_directory_path();
}

int Usage() {
  std::cerr << "usage: edgefit_oracle --edgefit PATH [--source DIR] [--data DIR] [--folders a,b] "
               "[--filter SUBSTR] [--node NODE] [--threads N] [--work DIR] [--keep] [--verbose]\n";
  return 2;
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
    if (a == "--edgefit")
      opt.edgefit = next();
    else if (a == "--source")
      opt.source = next();
    else if (a == "--data")
      opt.data = next();
    else if (a == "--filter")
      opt.filter = next();
    else if (a == "--node")
      opt.node = next();
    else if (a == "--threads")
      opt.threads = std::stoi(next());
    else if (a == "--work")
      opt.work = next();
    else if (a == "--keep")
      opt.keep = true;
    else if (a == "--verbose")
      opt.verbose = true;
    else if (a == "--folders") {
      opt.folders.clear();
      std::stringstream ss(next());
      for (std::string f; std::getline(ss, f, ',');)
        if (!f.empty()) opt.folders.push_back(f);
    } else
      return Usage();
  }
  if (opt.edgefit.empty()) return Usage();
  auto start = Clock::now();

  fs::path work;
  bool own_work = opt.work.empty();
  if (own_work) {
    std::string pattern = (WorkRoot() / "edgefit-oracle-XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) {
      std::cerr << "oracle: cannot create a work folder in " << WorkRoot() << "\n";
      return 2;
    }
    work = buf.data();
  } else {
    work = opt.work;
    fs::create_directories(work);
  }
  auto cleanup = [&] {
    if (own_work && !opt.keep) {
      std::error_code ec;
      fs::remove_all(work, ec);
    } else {
      std::cout << "oracle: files kept in " << work.string() << "\n";
    }
  };

  std::string self = SelfCheck(opt, work);
  if (!self.empty()) {
    std::cout << "oracle: SELF-CHECK FAILED: " << self << "\n";
    cleanup();
    return 1;
  }
  std::cout << "oracle: self-check passed (ORT reachable; wrong values and shapes are caught)\n";

  // ---- collect cases
  std::vector<std::unique_ptr<Case>> cases;
  auto add = [&](const std::string& id, const std::string& model, bool cli) {
    if (id.find(opt.filter) == std::string::npos) return;
    auto c = std::make_unique<Case>();
    c->id = id;
    c->model = model;
    c->via_cli = cli;
    c->dir = work / id;
    cases.push_back(std::move(c));
  };
  {
    std::vector<fs::path> fixtures;
    for (const auto& e : fs::directory_iterator(fs::path(opt.source) / "tests/fixtures"))
      if (e.path().extension() == ".onnx") fixtures.push_back(e.path());
    std::sort(fixtures.begin(), fixtures.end());
    for (const auto& f : fixtures) add("fixtures/" + f.stem().string(), f.string(), true);
  }
  for (const std::string& folder : opt.folders) {
    fs::path root = fs::path(opt.data) / folder;
    if (!fs::is_directory(root)) {
      std::cout << "oracle: missing test data folder " << root.string()
                << " (Debian package libonnx-testdata)\n";
      cleanup();
      return 2;
    }
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory() && fs::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs)
      add(folder + "/" + d.filename().string(), (d / "model.onnx").string(), false);
  }

  // ---- prepare inputs, then start ORT on everything edgefit can attempt
  for (auto& c : cases) {
    if (c->via_cli)
      PrepareFixture(*c, opt);
    else
      PrepareConformance(*c, opt);
  }
  std::vector<Case*> to_ort;
  std::map<std::string, Case*> by_id;
  for (auto& c : cases)
    if (c->state != State::kSkipped) {
      to_ort.push_back(c.get());
      by_id[c->id] = c.get();
    }
  auto prepared = Clock::now();
  OrtBatch batch = StartOrt(to_ort, opt, work, 1);

  // ---- edgefit, while ORT works
  for (auto& c : cases) {
    if (c->state != State::kReady) continue;
    if (c->via_cli)
      RunFixture(*c, opt);
    else
      RunLibrary(*c, opt);
  }
  auto edgefit_done = Clock::now();

  // ---- wait for ORT; if it died on a job, mark that job and go on with the rest
  int round = 1;
  for (;;) {
    int rc = Wait(batch.child);
    CollectOrt(batch, by_id);
    std::vector<Case*> rest;
    for (Case* c : to_ort)
      if (!c->ort_done) rest.push_back(c);
    if (rest.empty()) break;
    if (rc == -1) {
      std::cout << "oracle: cannot start " << opt.node << "\n";
      cleanup();
      return 2;
    }
    // The first job without a result is the one ORT died on.
    rest.front()->ort_done = true;
    rest.front()->ort_ok = false;
    rest.front()->ort_error =
        "ONNX Runtime crashed (exit " + std::to_string(rc) + "): " + OneLine(ReadText(batch.err));
    rest.erase(rest.begin());
    if (rest.empty()) break;
    to_ort = rest;
    batch = StartOrt(rest, opt, work, ++round);
  }
  auto ort_done = Clock::now();

  // ---- compare
  std::vector<std::string> failures, skips, ort_rejects, ort_deviations;
  std::map<std::string, int> skip_counts;
  int compared = 0, outputs_compared = 0;
  for (auto& c : cases) {
    if (c->state == State::kSkipped) {
      skips.push_back(c->id + " [" + c->skip_kind + "]: " + OneLine(c->reason));
      ++skip_counts[c->skip_kind];
      continue;
    }
    if (!c->ort_ok) {
      ort_rejects.push_back(c->id + ": " + OneLine(c->ort_error));
      ++skip_counts["ort-rejects"];
      continue;
    }
    if (c->state == State::kEdgefitError) {
      failures.push_back(c->id + ": edgefit fails where ONNX Runtime runs: " + OneLine(c->reason));
      continue;
    }
    std::string problem;
    bool deviates = false;
    for (const std::string& name : c->outputs) {
      auto ort_file = c->ort_files.find(name);
      if (ort_file == c->ort_files.end()) {
        problem = "output '" + name + "': ONNX Runtime gave no such output";
        break;
      }
      auto want = ReadNpy(ort_file->second);
      auto got = ReadNpy((c->dir / "edgefit" / (SafeFileName(name) + ".npy")).string());
      if (!want.ok() || !got.ok()) {
        problem = "output '" + name + "': " + (!want.ok() ? want : got).status().message();
        break;
      }
      std::string diff = oracle::Compare(*got, *want);
      if (!diff.empty()) {
        problem = "output '" + name + "': " + diff;
        if (!c->via_cli && OrtDeviates(*c, name, *got, *want)) deviates = true;
        break;
      }
      ++outputs_compared;
    }
    if (!problem.empty() && deviates) {
      ort_deviations.push_back(c->id + ": " + problem);
      ++skip_counts["ort-deviates"];
    } else if (!problem.empty()) {
      failures.push_back(c->id + ": " + problem);
    } else {
      ++compared;
      if (opt.verbose) std::cout << "MATCH " << c->id << "\n";
    }
  }

  for (const auto& s : skips) std::cout << "SKIP " << s << "\n";
  for (const auto& s : ort_rejects)
    std::cout << "SKIP " << s.substr(0, s.find(':')) << " [ort-rejects]" << s.substr(s.find(':'))
              << "\n";
  for (const auto& s : ort_deviations)
    std::cout << "SKIP " << s.substr(0, s.find(':')) << " [ort-deviates]" << s.substr(s.find(':'))
              << " -- edgefit matches ONNX's expected output, ONNX Runtime does not\n";
  for (const auto& f : failures) std::cout << "FAIL " << f << "\n";
  auto secs = [](Clock::duration d) {
    std::ostringstream os;
    os.precision(1);
    os << std::fixed << std::chrono::duration<double>(d).count() << "s";
    return os.str();
  };
  std::cout << "oracle: skipped by reason:";
  for (const auto& [kind, n] : skip_counts) std::cout << " " << kind << " " << n;
  std::cout << "\noracle: time: prepare " << secs(prepared - start) << ", edgefit "
            << secs(edgefit_done - prepared) << ", ORT (parallel) " << secs(ort_done - prepared)
            << ", total " << secs(Clock::now() - start) << "\n";
  int skipped = static_cast<int>(skips.size() + ort_rejects.size() + ort_deviations.size());
  std::cout << "oracle: " << outputs_compared << " outputs of " << compared
            << " cases match ONNX Runtime\n";
  std::cout << compared << " compared, " << skipped << " skipped, " << failures.size()
            << " failed\n";
  cleanup();
  return failures.empty() ? 0 : 1;
}
