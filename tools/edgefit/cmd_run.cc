// edgefit run MODEL [--input NAME=FILE.npy ...] [--inputs FILE.npz] [--random [--seed N]]
//                   [--input-shape NAME=D0,D1,... ...] [--output-dir DIR] [--threads N]
//                   [--max-memory BYTES] [--json]
//
// Runs a model once on edgefit's executor and prints each output's dtype, shape and summary
// statistics; see docs/run.md.
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "cli.h"
#include "io/npy.h"
#include "onnx/model_io.h"
#include "runtime/session.h"

namespace edgefit::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A failure, the exit code it maps to, and the file it is about (printed first unless the
// message already starts with it; "" for command-line mistakes).
struct RunError {
  int exit_code;
  std::string message;
  std::string file;
};

RunError DataError(const std::string& file, const std::string& m) {
  return {kExitInvalidData, m, file};
}
RunError UsageError(const std::string& m) { return {kExitUsage, m, ""}; }
RunError FromStatus(const std::string& file, const Status& st) {
  return {ExitCodeFor(st), st.message(), file};
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// "NAME=VALUE", split at the first '='.
bool SplitAssign(const std::string& s, std::string* name, std::string* value) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) return false;
  *name = s.substr(0, eq);
  *value = s.substr(eq + 1);
  return true;
}

// "1,3,224,224" -> {1,3,224,224}; "" -> {} (a scalar).
bool ParseShape(const std::string& text, Shape* shape) {
  shape->clear();
  if (text.empty()) return true;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, ',');) {
    if (part.empty() || part.size() > 18 ||
        part.find_first_not_of("0123456789") != std::string::npos)
      return false;
    shape->push_back(std::stoll(part));
  }
  return text.back() != ',';
}

// "536870912", "512M", "512MiB", "2G", "64k" -> bytes (K/M/G/T are powers of 1024).
bool ParseBytes(const std::string& text, size_t* bytes) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 19) return false;
  std::string digits = text.substr(0, i);
  std::string unit = text.substr(i);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (unit.empty() || unit == "B")
    shift = 0;
  else if (unit == "K" || unit == "KB" || unit == "KIB")
    shift = 10;
  else if (unit == "M" || unit == "MB" || unit == "MIB")
    shift = 20;
  else if (unit == "G" || unit == "GB" || unit == "GIB")
    shift = 30;
  else if (unit == "T" || unit == "TB" || unit == "TIB")
    shift = 40;
  else
    return false;
  unsigned long long v = std::stoull(digits);
  if (v == 0 || v > (std::numeric_limits<size_t>::max() >> shift)) return false;
  *bytes = static_cast<size_t>(v) << shift;
  return true;
}

// Characters outside [A-Za-z0-9._-] become '_' (as tools/ort/ort_run.js does).
std::string SafeFileName(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  return s.empty() ? "_" : s;
}

// mulberry32, the generator of tools/ort/ort_bench.js: same seed, same values.
class Mulberry32 {
 public:
  explicit Mulberry32(uint32_t seed) : a_(seed) {}
  uint32_t Next() {
    a_ += 0x6d2b79f5u;
    uint32_t t = a_;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return t ^ (t >> 14);
  }

 private:
  uint32_t a_;
};

// Fills `t` for --random: floats uniform in [-1, 1) (exact multiples of 2^-23; 2^-10 for
// float16, 2^-7 for bfloat16), everything else zeros. Returns how the data was made.
std::string FillRandom(Tensor* t, Mulberry32* rng) {
  int64_t n = t->numel();
  switch (t->dtype()) {
    case DataType::kFloat: {
      float* p = t->data<float>();
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>((rng->Next() >> 8) / 8388608.0 - 1);
      return "uniform[-1,1)";
    }
    case DataType::kDouble: {
      double* p = t->data<double>();
      for (int64_t i = 0; i < n; ++i) p[i] = (rng->Next() >> 8) / 8388608.0 - 1;
      return "uniform[-1,1)";
    }
    case DataType::kFloat16: {
      uint16_t* p = t->data<uint16_t>();
      for (int64_t i = 0; i < n; ++i)
        p[i] = FloatToHalf(static_cast<float>((rng->Next() >> 21) / 1024.0 - 1));
      return "uniform[-1,1)";
    }
    case DataType::kBfloat16: {
      uint16_t* p = t->data<uint16_t>();
      for (int64_t i = 0; i < n; ++i)
        p[i] = FloatToBfloat16(static_cast<float>((rng->Next() >> 24) / 128.0 - 1));
      return "uniform[-1,1)";
    }
    default:
      if (t->nbytes()) std::memset(t->raw(), 0, t->nbytes());
      return "zeros";
  }
}

struct Stats {
  int64_t finite = 0, nan = 0, inf = 0;
  double min = 0, max = 0, mean = 0, std = 0;
};

Stats ComputeStats(const Tensor& t) {
  Stats s;
  if (t.dtype() == DataType::kString) return s;
  std::vector<double> v = t.ToDoubleVector();
  double sum = 0;
  for (double x : v) {
    if (std::isnan(x)) {
      ++s.nan;
    } else if (std::isinf(x)) {
      ++s.inf;
    } else {
      if (s.finite == 0 || x < s.min) s.min = x;
      if (s.finite == 0 || x > s.max) s.max = x;
      ++s.finite;
      sum += x;
    }
  }
  if (s.finite == 0) return s;
  s.mean = sum / static_cast<double>(s.finite);
  double sq = 0;
  for (double x : v)
    if (std::isfinite(x)) sq += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(sq / static_cast<double>(s.finite));
  return s;
}

std::string Num(double x) {
  std::ostringstream os;
  os << std::setprecision(6) << x;
  return os.str();
}

nlohmann::ordered_json ShapeJson(const Shape& s) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (int64_t d : s) j.push_back(d);
  return j;
}

struct Options {
  std::string model;
  std::vector<std::string> inputs;
  std::string npz;
  bool random = false;
  uint32_t seed = 42;
  std::vector<std::string> input_shapes;
  std::string output_dir;
  int threads = 0;
  std::string max_memory;
  bool json = false;
};

struct Feed {
  std::string name;
  Tensor tensor;
  std::string source;  // "file", "npz", "random"
  std::string file;    // file the data came from
  std::string data;    // "file" or what --random made ("uniform[-1,1)", "zeros")
};

struct OutputInfo {
  std::string name;
  Tensor tensor;
  Stats stats;
  std::string file;
};

// Declared type of an input, as text for messages.
std::string Declared(const Value& v) {
  const TypeInfo& t = v.type();
  return std::string(t.elem_type == DataType::kUndefined ? "?" : DataTypeName(t.elem_type)) + " " +
         t.ShapeString();
}

std::string InputList(const Session& s) {
  std::string names;
  for (const Value* v : s.inputs()) names += (names.empty() ? "'" : ", '") + v->name() + "'";
  return names.empty() ? "none" : names;
}

// Checks a given shape against a model input's declared one (rank and fixed dims).
std::optional<RunError> CheckShape(const std::string& model, const Value& v, const Shape& shape,
                                   const std::string& file) {
  const TypeInfo& t = v.type();
  if (!t.is_tensor() || !t.has_shape) return std::nullopt;
  bool ok = t.dims.size() == shape.size();
  for (size_t d = 0; ok && d < shape.size(); ++d)
    if (t.dims[d].is_fixed() && t.dims[d].value != shape[d]) ok = false;
  if (ok) return std::nullopt;
  if (file.empty())
    return DataError(model, "input '" + v.name() + "' is " + Declared(v) +
                                ", --input-shape gives " + ShapeToString(shape));
  return DataError(file, "input '" + v.name() + "' of the model must be " + Declared(v) +
                             ", the file has shape " + ShapeToString(shape));
}

struct RunResult {
  std::vector<Feed> feeds;
  std::vector<OutputInfo> outputs;
  double load_ms = 0, build_ms = 0, run_ms = 0;
  size_t arena_bytes = 0;
  int threads = 0;
};

std::optional<RunError> RunModel(const Options& o, RunResult* r) {
  // ---- options that need no model
  size_t max_memory = 0;
  if (!o.max_memory.empty() && !ParseBytes(o.max_memory, &max_memory))
    return UsageError(
        "--max-memory: expected a positive number of bytes with an optional K, M, "
        "G or T suffix (e.g. 536870912 or 512M), got '" +
        o.max_memory + "'");
  std::map<std::string, Shape> shapes;
  for (const std::string& arg : o.input_shapes) {
    std::string name, text;
    Shape shape;
    if (!SplitAssign(arg, &name, &text) || !ParseShape(text, &shape))
      return UsageError("--input-shape expects NAME=D0,D1,... (non-negative integers), got '" +
                        arg + "'");
    if (!shapes.emplace(name, shape).second)
      return UsageError("--input-shape for '" + name + "' is given twice");
  }
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& arg : o.inputs) {
    std::string name, file;
    if (!SplitAssign(arg, &name, &file))
      return UsageError("--input expects NAME=FILE.npy, got '" + arg + "'");
    for (const auto& f : files)
      if (f.first == name) return UsageError("--input for '" + name + "' is given twice");
    files.emplace_back(name, file);
  }

  // ---- model and session
  auto t0 = Clock::now();
  auto model = LoadModel(o.model);
  if (!model.ok()) return FromStatus(o.model, model.status());
  auto t1 = Clock::now();
  SessionOptions so;
  so.num_threads = o.threads;
  so.max_memory_bytes = max_memory;
  auto session = Session::Create(*model, so);
  if (!session.ok()) return FromStatus(o.model, session.status());
  auto t2 = Clock::now();
  r->load_ms = Ms(t1 - t0);
  r->build_ms = Ms(t2 - t1);
  r->threads = (*session)->num_threads();
  const Session& s = **session;
  auto find_input = [&](const std::string& name) -> const Value* {
    for (const Value* v : s.inputs())
      if (v->name() == name) return v;
    return nullptr;
  };

  // ---- inputs
  NpyReadOptions ro;
  if (max_memory) ro.max_bytes = max_memory;
  std::map<std::string, Feed> given;
  for (const auto& [name, file] : files) {
    if (!find_input(name))
      return DataError(o.model, "the model has no input '" + name + "' (inputs: " + InputList(s) +
                                    "), given by --input " + name + "=" + file);
    auto t = ReadNpy(file, ro);
    if (!t.ok()) return DataError(file, t.status().message());
    given[name] = {name, std::move(t).value(), "file", file, "file"};
  }
  if (!o.npz.empty()) {
    auto entries = ReadNpz(o.npz, ro);
    if (!entries.ok()) return DataError(o.npz, entries.status().message());
    for (NpzEntry& e : *entries) {
      if (!find_input(e.name))
        return DataError(o.npz, "member '" + e.name +
                                    ".npy' is not an input of the model (inputs: " + InputList(s) +
                                    ")");
      if (given.count(e.name))
        return UsageError("input '" + e.name + "' is given both by --input and in " + o.npz);
      given[e.name] = {e.name, std::move(e.tensor), "npz", o.npz, "file"};
    }
  }
  for (const auto& [name, shape] : shapes)
    if (!find_input(name))
      return DataError(o.model, "the model has no input '" + name + "' (inputs: " + InputList(s) +
                                    "), given by --input-shape " + name);

  Mulberry32 rng(o.seed);
  for (const Value* v : s.inputs()) {
    const TypeInfo& type = v->type();
    auto it = given.find(v->name());
    auto shape_it = shapes.find(v->name());
    if (it != given.end()) {
      Feed& f = it->second;
      if (type.is_tensor() && type.elem_type != DataType::kUndefined &&
          type.elem_type != f.tensor.dtype())
        return DataError(f.file, "input '" + v->name() + "' of the model must be " + Declared(*v) +
                                     ", the file holds " + DataTypeName(f.tensor.dtype()));
      if (auto e = CheckShape(o.model, *v, f.tensor.shape(), f.file)) return e;
      if (shape_it != shapes.end() && shape_it->second != f.tensor.shape())
        return DataError(f.file, "input '" + v->name() + "': --input-shape " +
                                     ShapeToString(shape_it->second) + " disagrees with " + f.file +
                                     ", shape " + ShapeToString(f.tensor.shape()));
      r->feeds.push_back(std::move(f));
      continue;
    }
    if (!o.random)
      return DataError(o.model, "input '" + v->name() + "' (" + Declared(*v) +
                                    ") is not given: use --input " + v->name() +
                                    "=FILE.npy, --inputs FILE.npz or --random");
    if (!type.is_tensor() || type.elem_type == DataType::kUndefined ||
        type.elem_type == DataType::kString || DataTypeSize(type.elem_type) == 0)
      return RunError{kExitUnsupported,
                      "input '" + v->name() + "' (" + Declared(*v) +
                          "): --random makes numeric tensors only; give it as a file",
                      o.model};
    Shape shape;
    if (shape_it != shapes.end()) {
      shape = shape_it->second;
      if (auto e = CheckShape(o.model, *v, shape, "")) return e;
    } else {
      auto fixed = type.StaticShape();
      if (!fixed)
        return DataError(o.model, "input '" + v->name() + "' has dynamic or unknown dims " +
                                      Declared(*v) + ": give its shape with --input-shape " +
                                      v->name() + "=D0,D1,...");
      shape = *fixed;
    }
    auto t = Tensor::Create(type.elem_type, shape, max_memory ? max_memory : SIZE_MAX);
    if (!t.ok()) return FromStatus(o.model, t.status().WithContext("input '" + v->name() + "'"));
    Feed f{v->name(), std::move(t).value(), "random", "", ""};
    f.data = FillRandom(&f.tensor, &rng);
    r->feeds.push_back(std::move(f));
  }

  // ---- output files: names are settled before running, so a collision fails early.
  std::vector<std::string> out_files(s.outputs().size());
  if (!o.output_dir.empty()) {
    std::map<std::string, std::string> taken;
    for (size_t i = 0; i < s.outputs().size(); ++i) {
      const std::string& name = s.outputs()[i]->name();
      std::string f = SafeFileName(name) + ".npy";
      auto [it, fresh] = taken.emplace(f, name);
      if (!fresh)
        return RunError{kExitOutputRefused,
                        "outputs '" + it->second + "' and '" + name +
                            "' would both be written to " + (fs::path(o.output_dir) / f).string(),
                        o.model};
      out_files[i] = (fs::path(o.output_dir) / f).string();
      std::error_code ec;
      for (const Feed& feed : r->feeds)
        if (!feed.file.empty() && fs::equivalent(feed.file, out_files[i], ec))
          return RunError{kExitOutputRefused,
                          "output '" + name + "' would be written over this input file",
                          out_files[i]};
      if (fs::equivalent(o.model, out_files[i], ec))
        return RunError{kExitOutputRefused, "output '" + name + "' would be written over the model",
                        out_files[i]};
    }
  }

  // ---- run
  std::vector<NamedTensor> named;
  for (const Feed& f : r->feeds) named.push_back({f.name, f.tensor});
  auto t3 = Clock::now();
  auto outputs = (*session)->Run(named);
  auto t4 = Clock::now();
  if (!outputs.ok()) {
    const Status& st = outputs.status();
    // Invalid arguments at run time are about the data: its shapes, dtypes or values.
    if (st.code() == StatusCode::kInvalidArgument) return DataError(o.model, st.message());
    return FromStatus(o.model, st);
  }
  r->run_ms = Ms(t4 - t3);
  (*session)->PlanMemory();
  r->arena_bytes = (*session)->arena_bytes();
  for (size_t i = 0; i < outputs->size(); ++i) {
    OutputInfo info;
    info.name = s.outputs()[i]->name();
    info.tensor = (*outputs)[i];
    info.stats = ComputeStats(info.tensor);
    r->outputs.push_back(std::move(info));
  }

  // ---- write
  if (!o.output_dir.empty()) {
    std::error_code ec;
    fs::create_directories(o.output_dir, ec);
    if (ec)
      return RunError{kExitOutputRefused, "cannot create the output directory: " + ec.message(),
                      o.output_dir};
    for (size_t i = 0; i < r->outputs.size(); ++i) {
      OutputInfo& out = r->outputs[i];
      if (!NpyDescr(out.tensor.dtype()))
        return RunError{kExitUnsupported,
                        "output '" + out.name + "' is " + DataTypeName(out.tensor.dtype()) +
                            ", which .npy files cannot hold",
                        o.model};
      Status st = WriteNpy(out_files[i], out.tensor);
      if (!st.ok()) return RunError{kExitOutputRefused, st.message(), out_files[i]};
      out.file = out_files[i];
    }
  }
  return std::nullopt;
}

void PrintText(const Options& o, const RunResult& r) {
  std::cout << "model: " << o.model << "\n";
  auto row = [](std::vector<std::string> cells, const std::vector<size_t>& width) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      line += cells[i];
      if (i + 1 < cells.size() && cells[i].size() < width[i])
        line.append(width[i] - cells[i].size(), ' ');
      if (i + 1 < cells.size()) line += "  ";
    }
    std::cout << line << "\n";
  };
  std::vector<size_t> width(3, 0);
  for (const Feed& f : r.feeds) {
    width[0] = std::max(width[0], f.name.size());
    width[1] = std::max(width[1], std::string(DataTypeName(f.tensor.dtype())).size());
    width[2] = std::max(width[2], ShapeToString(f.tensor.shape()).size());
  }
  for (const OutputInfo& out : r.outputs) {
    width[0] = std::max(width[0], out.name.size());
    width[1] = std::max(width[1], std::string(DataTypeName(out.tensor.dtype())).size());
    width[2] = std::max(width[2], ShapeToString(out.tensor.shape()).size());
  }
  std::cout << "inputs:\n";
  for (const Feed& f : r.feeds) {
    std::string from = f.source == "random"
                           ? "random: " + f.data + " (seed " + std::to_string(o.seed) + ")"
                           : "from " + f.file;
    row({"  " + f.name, DataTypeName(f.tensor.dtype()), ShapeToString(f.tensor.shape()), from},
        {width[0] + 2, width[1], width[2]});
  }
  std::cout << "outputs:\n";
  for (const OutputInfo& out : r.outputs) {
    const Stats& st = out.stats;
    std::string stats = st.finite ? "min " + Num(st.min) + "  max " + Num(st.max) + "  mean " +
                                        Num(st.mean) + "  std " + Num(st.std)
                                  : "no finite values";
    stats += "  nan " + std::to_string(st.nan) + "  inf " + std::to_string(st.inf);
    if (!out.file.empty()) stats += "  -> " + out.file;
    row({"  " + out.name, DataTypeName(out.tensor.dtype()), ShapeToString(out.tensor.shape()),
         stats},
        {width[0] + 2, width[1], width[2]});
  }
  std::ostringstream time;
  time << std::fixed << std::setprecision(3) << r.run_ms;
  std::cout << "run time: " << time.str() << " ms (" << r.threads
            << (r.threads == 1 ? " thread" : " threads") << ")\n";
}

void PrintJson(const Options& o, const RunResult& r) {
  nlohmann::ordered_json j;
  j["schema"] = "edgefit-run/1";
  j["model"] = o.model;
  j["threads"] = r.threads;
  j["seed"] = o.random ? nlohmann::ordered_json(o.seed) : nlohmann::ordered_json(nullptr);
  j["inputs"] = nlohmann::ordered_json::array();
  for (const Feed& f : r.feeds) {
    nlohmann::ordered_json in;
    in["name"] = f.name;
    in["dtype"] = DataTypeName(f.tensor.dtype());
    in["shape"] = ShapeJson(f.tensor.shape());
    in["source"] = f.source;
    in["file"] = f.file.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.file);
    in["data"] = f.data;
    j["inputs"].push_back(in);
  }
  j["outputs"] = nlohmann::ordered_json::array();
  for (const OutputInfo& out : r.outputs) {
    nlohmann::ordered_json x;
    const Stats& st = out.stats;
    auto num = [&](double v) {
      return st.finite ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
    };
    x["name"] = out.name;
    x["dtype"] = DataTypeName(out.tensor.dtype());
    x["shape"] = ShapeJson(out.tensor.shape());
    x["min"] = num(st.min);
    x["max"] = num(st.max);
    x["mean"] = num(st.mean);
    x["std"] = num(st.std);
    x["nan"] = st.nan;
    x["inf"] = st.inf;
    x["file"] =
        out.file.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(out.file);
    j["outputs"].push_back(x);
  }
  j["load_ms"] = r.load_ms;
  j["build_ms"] = r.build_ms;
  j["run_ms"] = r.run_ms;
  j["arena_bytes"] = r.arena_bytes;
  std::cout << j.dump(2) << "\n";
}

}  // namespace

void AddRunCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run a model once on edgefit's executor; print each output's dtype, shape and statistics "
      "(see docs/run.md)");
  cmd->add_option("model", opts->model, "ONNX model file")->required();
  cmd->add_option("--input", opts->inputs, "An input from a .npy file (repeatable)")
      ->type_name("NAME=FILE.npy")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--inputs", opts->npz, "Inputs from an .npz whose members are named after them")
      ->type_name("FILE.npz");
  CLI::Option* random =
      cmd->add_flag("--random", opts->random,
                    "Make the inputs not given: floats uniform in [-1,1), integers and bools zero");
  cmd->add_option("--seed", opts->seed, "Seed of --random's generator (mulberry32; default 42)")
      ->needs(random);
  cmd->add_option("--input-shape", opts->input_shapes,
                  "Shape of an input made by --random (needed for dynamic dims; repeatable)")
      ->type_name("NAME=D0,D1,...")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--output-dir", opts->output_dir,
                  "Write each output to DIR/<name>.npy (characters outside [A-Za-z0-9._-] "
                  "become '_')")
      ->type_name("DIR");
  cmd->add_option("--threads", opts->threads, "Threads (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-memory", opts->max_memory,
                  "Refuse intermediate tensors and inputs above this many bytes (e.g. 512M)")
      ->type_name("BYTES");
  cmd->add_flag("--json", opts->json, "Print JSON (schema edgefit-run/1, see docs/run.md)");
  cmd->callback([opts, exit_code] {
    RunResult result;
    auto err = RunModel(*opts, &result);
    if (err) {
      std::string msg = err->message;
      if (!err->file.empty() && msg.rfind(err->file + ": ", 0) != 0) msg = err->file + ": " + msg;
      for (char& c : msg)
        if (c == '\n' || c == '\r') c = ' ';
      std::cerr << "edgefit run: error: " << msg << "\n";
      *exit_code = err->exit_code;
      return;
    }
    if (opts->json)
      PrintJson(*opts, result);
    else
      PrintText(*opts, result);
    *exit_code = kExitOk;
  });
}

}  // namespace edgefit::cli
