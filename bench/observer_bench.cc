// Calibration observer micro-benchmarks: histogram counting (ns per value) on activation-like
// tensors and the entropy (KL) threshold search on a histogram shaped like a real activation's.
//   build-*/bench/observer_bench --benchmark_filter=Observe
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "onnx/model_io.h"
#include "quant/calibrate.h"
#include "quant/observer.h"

namespace edgefit {
namespace {

constexpr int kValues = 1 << 20;  // ~ one mobilenet_v2 activation tensor at 224x224

// kind 0: Gaussian (signed); 1: ReLU(Gaussian), zeros at random; 2: ReLU6-like NCHW tensor
// whose channels (196 values each) are dead (all zero), sparse or dense; 3: ReLU(Gaussian) and
// one far outlier (all the other values in the first bins).
std::vector<float> Activation(int kind) {
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> v(kValues);
  if (kind == 0) {
    for (float& x : v) x = gauss(rng);
  } else if (kind == 1) {
    for (float& x : v) x = std::max(gauss(rng), 0.0f);
  } else if (kind == 3) {  // a far outlier: everything else in the first few bins
    for (float& x : v) x = std::max(gauss(rng), 0.0f);
    v[12345] = 1000.0f;
  } else {
    const int plane = 196;
    for (int c = 0; c * plane < kValues; ++c) {
      const float shift = (c % 3 == 0) ? -10.0f : (c % 3 == 1 ? -1.0f : 1.0f);
      for (int j = c * plane; j < std::min(kValues, (c + 1) * plane); ++j) {
        v[j] = std::clamp(gauss(rng) + shift, 0.0f, 6.0f);
      }
    }
  }
  return v;
}

void BM_Observe(benchmark::State& state) {
  const auto method = static_cast<CalibrationMethod>(state.range(0));
  const std::vector<float> data = Activation(static_cast<int>(state.range(1)));
  ObserverOptions o;
  o.method = method;
  auto observer = MakeRangeObserver(o);
  SetHistogramAvx512(state.range(2) != 0);
  for (auto _ : state) observer->Observe(data.data(), static_cast<int64_t>(data.size()));
  benchmark::DoNotOptimize(observer->Range(true));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}
BENCHMARK(BM_Observe)
    ->ArgNames({"method", "data", "avx512"})
    ->ArgsProduct({{static_cast<int>(CalibrationMethod::kMinMax),
                    static_cast<int>(CalibrationMethod::kPercentile),
                    static_cast<int>(CalibrationMethod::kEntropy)},
                   {0, 1, 2, 3},
                   {1, 0}});

// A 2048-bin histogram of |x| for a post-ReLU activation: a bulk near 0 and a long tail.
std::vector<int64_t> TailHistogram() {
  std::mt19937 rng(3);
  std::exponential_distribution<double> e(1.0);
  std::vector<int64_t> counts(2048, 0);
  for (int k = 0; k < 3000000; ++k) {
    const double x = e(rng) * 120.0;
    counts[static_cast<size_t>(std::min(x, 2047.0))] += 1;
  }
  return counts;
}

void BM_EntropyThreshold(benchmark::State& state) {
  const std::vector<int64_t> counts = TailHistogram();
  for (auto _ : state) benchmark::DoNotOptimize(EntropyThreshold(counts, 1.0, 128));
}
BENCHMARK(BM_EntropyThreshold)->Unit(benchmark::kMicrosecond);

// Real activations: EDGEFIT_OBS_MODEL=model.onnx EDGEFIT_OBS_CALIB=data.npy records the tensors
// calibration observes (every node output, activations fused) on the first 2 samples; the
// benchmark then feeds them all to one observer per tensor, as `quantize` does.
class Recorder final : public RangeObserver {
 public:
  void Observe(const float* data, int64_t count) override { seen.emplace_back(data, data + count); }
  FloatRange Range(bool, int) const override { return {}; }
  FloatRange observed() const override { return {}; }
  int64_t samples() const override { return 0; }
  int64_t non_finite() const override { return 0; }
  size_t memory_bytes() const override { return 0; }
  std::vector<std::vector<float>> seen;
};

std::vector<std::vector<float>>* RealTensors() {
  static std::vector<std::vector<float>>* tensors = [] {
    auto* out = new std::vector<std::vector<float>>;
    const char* model_path = std::getenv("EDGEFIT_OBS_MODEL");
    const char* calib_path = std::getenv("EDGEFIT_OBS_CALIB");
    if (model_path == nullptr || calib_path == nullptr) return out;
    auto model = LoadModel(model_path);
    if (!model.ok()) return out;
    auto specs = InputSpecsOf(*model);
    if (!specs.ok()) return out;
    DatasetOptions o;
    o.sources = {calib_path};
    o.max_samples = 2;
    auto data = Dataset::Open(o, *specs);
    if (!data.ok()) return out;
    std::map<std::string, std::unique_ptr<RangeObserver>> observers;
    for (const auto& node : model->graph->nodes()) {
      for (const Value* v : node->outputs()) observers[v->name()] = std::make_unique<Recorder>();
    }
    CalibrationRunOptions run;
    run.num_threads = 1;
    if (!RunCalibration(*model, *data, observers, run).ok()) return out;
    for (auto& [name, obs] : observers) {
      for (auto& t : static_cast<Recorder&>(*obs).seen) out->push_back(std::move(t));
    }
    return out;
  }();
  return tensors;
}

void BM_ObserveReal(benchmark::State& state) {
  const auto& tensors = *RealTensors();
  if (tensors.empty()) {
    state.SkipWithError("set EDGEFIT_OBS_MODEL and EDGEFIT_OBS_CALIB");
    return;
  }
  ObserverOptions o;
  o.method = static_cast<CalibrationMethod>(state.range(0));
  SetHistogramAvx512(state.range(1) != 0);
  std::vector<std::unique_ptr<RangeObserver>> observers;
  for (size_t k = 0; k < tensors.size(); ++k) observers.push_back(MakeRangeObserver(o));
  int64_t values = 0, zeros = 0;
  for (const auto& t : tensors) {
    values += static_cast<int64_t>(t.size());
    zeros += std::count(t.begin(), t.end(), 0.0f);
  }
  for (auto _ : state) {
    for (size_t k = 0; k < tensors.size(); ++k) {
      observers[k]->Observe(tensors[k].data(), static_cast<int64_t>(tensors[k].size()));
    }
  }
  state.SetItemsProcessed(state.iterations() * values);
  state.counters["values"] = static_cast<double>(values);
  state.counters["zeros"] = static_cast<double>(zeros) / static_cast<double>(values);
}
BENCHMARK(BM_ObserveReal)
    ->ArgNames({"method", "avx512"})
    ->ArgsProduct({{static_cast<int>(CalibrationMethod::kMinMax),
                    static_cast<int>(CalibrationMethod::kPercentile),
                    static_cast<int>(CalibrationMethod::kEntropy)},
                   {1, 0}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edgefit

BENCHMARK_MAIN();
