// Median latency of edgefit's executor on ONNX models (Google Benchmark).
//   executor_bench --model FILE [--model FILE ...] [--threads 1,2] [--input NAME=FILE.npy]
//                  [benchmark flags, e.g. --benchmark_format=json]
// Dynamic dims are set to 1; inputs are seeded uniform [-1,1) floats unless a .npy is given for
// an input of a model with that input name.
#include <benchmark/benchmark.h>

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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> models;
  std::vector<int> threads = {1};
  std::map<std::string, std::string> npy;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) {
      models.push_back(argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      threads.clear();
      std::stringstream ss(argv[++i]);
      for (std::string t; std::getline(ss, t, ',');) threads.push_back(std::stoi(t));
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
  for (const Loaded& l : loaded) {
    for (int t : threads) {
      std::string name = l.path + "/threads:" + std::to_string(t);
      benchmark::RegisterBenchmark(name.c_str(), [&l, t](benchmark::State& state) {
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
      })->Unit(benchmark::kMillisecond)->UseRealTime();
    }
  }
  int rc = static_cast<int>(rest.size());
  benchmark::Initialize(&rc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
