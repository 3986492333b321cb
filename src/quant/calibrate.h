// The calibration runs of `edgefit quantize`: the model on every calibration sample, each
// observed tensor fed to its range observer.
//
// With several threads, samples run in parallel: one single-threaded session per worker,
// worker w taking samples w, w + T, w + 2T, ... Every observer still sees the samples in
// order — sample i waits at a tensor until sample i - 1 has been observed there — so the
// observers end exactly as after one sequential pass (the histogram methods depend on the
// order of the samples, their re-binning does). The smallest sample in flight never waits,
// so the workers cannot deadlock; memory is one session per worker, still independent of the
// number of samples.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "data/dataset.h"
#include "edgefit/status.h"
#include "ir/graph.h"
#include "quant/observer.h"

namespace edgefit {

struct CalibrationRunOptions {
  // Threads: 1 runs the samples one after another on one session; T >= 2 runs T samples at a
  // time (capped at the number of samples); 0: all cores.
  int num_threads = 1;
  // Keep the executor's Conv+Relu/Clip fusion (RunOptions::fuse_with_observer).
  bool fuse_activations = true;
  // Called after each sample (samples done so far, total), from the calling thread's lock:
  // keep it short.
  std::function<void(int64_t done, int64_t total)> progress;
};

// Runs `model` on every sample of `data`; graph inputs and node outputs named in `observers`
// (float32 tensors only) are observed. On failure returns the error of the first failing
// sample (as a sequential pass would), with the sample named.
Status RunCalibration(const Model& model, const Dataset& data,
                      const std::map<std::string, std::unique_ptr<RangeObserver>>& observers,
                      const CalibrationRunOptions& options);

}  // namespace edgefit
