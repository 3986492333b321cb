// Median latency of edgefit's executor on ONNX models (Google Benchmark).
//   executor_bench --model FILE [--model FILE ...] [--threads 1,2] [--input NAME=FILE.npy]
//                  [--profile RUNS] [benchmark flags, e.g. --benchmark_format=json]
// --profile RUNS: instead of benchmarking, runs each model RUNS times and prints where the time
// goes (per op type and per node, slowest first, timed between the observer's calls).
// Dynamic dims are set to 1; inputs are seeded uniform [-1,1) floats unless a .npy is given for
// an input of a model with that input name.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

#include "io/npy.h"
#include "onnx/model_io.h"
#include "runtime/session.h"

using namespace edgefit;

namespace {

struct Loaded {
  std::string path;
  std::unique_ptr<Model> model;
  std::vector<NamedTensor> feeds;
};

StatusOr<std::vector<NamedTensor>> MakeFeeds(const Model& m,
                                             const std::map<std::string, std::string>& npy) {
  std::vector<NamedTensor> feeds;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (const Value* v : m.graph->inputs()) {
    if (v->has_initializer()) continue;
    auto it = npy.find(v->name());
    if (it != npy.end()) {
      ASSIGN_OR_RETURN(Tensor t, ReadNpy(it->second));
      feeds.push_back({v->name(), std::move(t)});
      continue;
    }
    Shape shape;
    for (const Dim& d : v->type().dims) shape.push_back(d.is_fixed() ? d.value : 1);
    Tensor t(v->type().elem_type, shape);
    if (t.dtype() == DataType::kFloat)
      for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
    feeds.push_back({v->name(), std::move(t)});
  }
  return feeds;
}

// The op type, and for Conv its kind: depthwise (group > 1), pointwise (1x1 kernel) or other.
// A Relu/Clip right after a Conv is timed as "Conv ... +Clip": it runs fused into the Conv.
std::string OpKind(const Node& node) {
  if ((node.op_type() == "Relu" || node.op_type() == "Clip") && node.input(0) &&
      node.input(0)->producer() && node.input(0)->producer()->op_type() == "Conv")
    return OpKind(*node.input(0)->producer()) + " +" + node.op_type();
  if (node.op_type() != "Conv") return node.op_type();
  if (const Attribute* group = node.FindAttribute("group"); group && group->i > 1)
    return "Conv (grouped)";
  if (const Attribute* k = node.FindAttribute("kernel_shape");
      k && !k->ints.empty() &&
      std::all_of(k->ints.begin(), k->ints.end(), [](int64_t d) { return d == 1; }))
    return "Conv (1x1)";
  return "Conv";
}

// Runs the model `runs` times (after two warm-ups) and prints time per op type and per node.
int Profile(const Loaded& l, int threads, int runs) {
  SessionOptions opt;
  opt.num_threads = threads;
  auto session = Session::Create(*l.model, opt);
  if (!session.ok()) {
    std::cerr << session.status().ToString() << "\n";
    return 1;
  }
  for (int i = 0; i < 2; ++i) (void)(*session)->Run(l.feeds);
  // As calibration runs: Conv+Relu/Clip stay fused (a fused pair is timed as the Conv).
  RunOptions run_options;
  run_options.fuse_with_observer = true;
  using Clock = std::chrono::steady_clock;
  std::map<const Node*, double> node_ms;
  std::map<const Node*, std::string> node_shape;
  Clock::time_point last;
  auto observer = [&](const Node& node, const Value&, const Tensor& t) {
    Clock::time_point now = Clock::now();
    node_ms[&node] += std::chrono::duration<double, std::milli>(now - last).count();
    if (node_shape[&node].empty()) node_shape[&node] = ShapeToString(t.shape());
    last = Clock::now();
  };
  double total = 0;
  for (int r = 0; r < runs; ++r) {
    Clock::time_point start = Clock::now();
    last = start;
    auto out = (*session)->Run(l.feeds, observer, run_options);
    if (!out.ok()) {
      std::cerr << out.status().ToString() << "\n";
      return 1;
    }
    total += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  }
  std::map<std::string, std::pair<double, int>> by_op;
  std::vector<std::pair<double, const Node*>> nodes;
  double in_nodes = 0;
  for (const auto& [node, ms] : node_ms) {
    const std::string kind = OpKind(*node);
    by_op[kind].first += ms / runs;
    by_op[kind].second += 1;
    nodes.push_back({ms / runs, node});
    in_nodes += ms / runs;
  }
  std::printf("%s threads=%d: %.3f ms per run, %.3f ms in %zu nodes\n", l.path.c_str(), threads,
              total / runs, in_nodes, nodes.size());
  std::vector<std::pair<double, std::string>> ops;
  for (const auto& [op, v] : by_op) ops.push_back({v.first, op + " x" + std::to_string(v.second)});
  std::sort(ops.rbegin(), ops.rend());
  for (const auto& [ms, op] : ops)
    std::printf("  %8.3f ms %5.1f%%  %s\n", ms, 100 * ms / in_nodes, op.c_str());
  std::sort(nodes.rbegin(), nodes.rend());
  std::printf("  nodes, slowest first:\n");
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node* n = nodes[i].second;
    std::printf("  %8.3f ms  %s %s\n", nodes[i].first, n->Describe().c_str(),
                node_shape[n].c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> models;
  std::vector<int> threads = {1};
  std::map<std::string, std::string> npy;
  int profile_runs = 0;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) {
      models.push_back(argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      threads.clear();
      std::stringstream ss(argv[++i]);
      for (std::string t; std::getline(ss, t, ',');) threads.push_back(std::stoi(t));
    } else if (a == "--profile" && i + 1 < argc) {
      profile_runs = std::stoi(argv[++i]);
    } else if (a == "--input" && i + 1 < argc) {
      std::string kv = argv[++i];
      auto eq = kv.find('=');
      npy[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else {
      rest.push_back(argv[i]);
    }
  }
  std::vector<Loaded> loaded;
  for (const std::string& path : models) {
    auto m = LoadModel(path);
    if (!m.ok()) {
      std::cerr << m.status().ToString() << "\n";
      return 1;
    }
    Loaded l{path, std::make_unique<Model>(std::move(m).value()), {}};
    auto feeds = MakeFeeds(*l.model, npy);
    if (!feeds.ok()) {
      std::cerr << feeds.status().ToString() << "\n";
      return 1;
    }
    l.feeds = std::move(feeds).value();
    loaded.push_back(std::move(l));
  }
  if (profile_runs > 0) {
    for (const Loaded& l : loaded)
      for (int t : threads)
        if (int rc = Profile(l, t, profile_runs)) return rc;
    return 0;
  }
  for (const Loaded& l : loaded) {
    for (int t : threads) {
      std::string name = l.path + "/threads:" + std::to_string(t);
      benchmark::RegisterBenchmark(name.c_str(),
                                   [&l, t](benchmark::State& state) {
                                     SessionOptions opt;
                                     opt.num_threads = t;
                                     auto session = Session::Create(*l.model, opt);
                                     if (!session.ok()) {
                                       state.SkipWithError(session.status().message().c_str());
                                       return;
                                     }
                                     // Two warm-up runs build the memory plan.
                                     for (int i = 0; i < 2; ++i) (void)(*session)->Run(l.feeds);
                                     for (auto _ : state) {
                                       auto out = (*session)->Run(l.feeds);
                                       if (!out.ok()) {
                                         state.SkipWithError(out.status().message().c_str());
                                         return;
                                       }
                                       benchmark::DoNotOptimize(out->data());
                                     }
                                   })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  int rc = static_cast<int>(rest.size());
  benchmark::Initialize(&rc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
