// Calibration observer micro-benchmarks: histogram counting (ns per value) on activation-like
// tensors and the entropy (KL) threshold search on a histogram shaped like a real activation's.
//   build-*/bench/observer_bench --benchmark_filter=Observe
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "quant/observer.h"

namespace edgefit {
namespace {

constexpr int kValues = 1 << 20;  // ~ one mobilenet_v2 activation tensor at 224x224

// kind 0: Gaussian (signed); 1: ReLU(Gaussian), zeros at random; 2: ReLU6-like NCHW tensor
// whose channels (196 values each) are dead (all zero), sparse or dense.
std::vector<float> Activation(int kind) {
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> v(kValues);
  if (kind == 0) {
    for (float& x : v) x = gauss(rng);
  } else if (kind == 1) {
    for (float& x : v) x = std::max(gauss(rng), 0.0f);
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
  for (auto _ : state) observer->Observe(data.data(), static_cast<int64_t>(data.size()));
  benchmark::DoNotOptimize(observer->Range(true));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}
BENCHMARK(BM_Observe)
    ->ArgNames({"method", "data"})
    ->ArgsProduct({{static_cast<int>(CalibrationMethod::kMinMax),
                    static_cast<int>(CalibrationMethod::kPercentile),
                    static_cast<int>(CalibrationMethod::kEntropy)},
                   {0, 1, 2}});

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

}  // namespace
}  // namespace edgefit

BENCHMARK_MAIN();
