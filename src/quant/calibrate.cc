// Calibration runs, sequential or with samples in parallel and observers fed in sample order.
#include "quant/calibrate.h"

#include <algorithm>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/session.h"

namespace edgefit {
namespace {

constexpr int64_t kNone = std::numeric_limits<int64_t>::max();

// The shared state of one calibration pass: per observed tensor, the next sample it may see;
// the first sample that failed and its error.
class OrderedObservers {
 public:
  explicit OrderedObservers(
      const std::map<std::string, std::unique_ptr<RangeObserver>>& observers) {
    for (const auto& [name, observer] : observers) slots_.emplace(name, Slot{observer.get(), 0});
  }

  // Feeds tensor `name` of sample i to its observer once samples 0..i-1 have been observed
  // there (a tensor seen twice in one sample is observed once). Returns false, without
  // observing, when a sample before i failed: the pass is lost and sample i will never get its
  // turn.
  bool Observe(const std::string& name, int64_t i, const Tensor& t) {
    auto it = slots_.find(name);
    if (it == slots_.end() || t.dtype() != DataType::kFloat) return true;
    Slot& slot = it->second;
    {
      std::unique_lock<std::mutex> lock(mu_);
      turn_.wait(lock, [&] { return slot.next >= i || first_failed_ < i; });
      if (slot.next > i) return true;
      if (slot.next != i) return false;
    }
    slot.observer->Observe(t.data<float>(), t.numel());  // only sample i may be here now
    {
      std::lock_guard<std::mutex> lock(mu_);
      slot.next = i + 1;
    }
    turn_.notify_all();
    return true;
  }

  // Sample i failed: samples after it stop; the error of the smallest failed sample is kept.
  void Fail(int64_t i, Status status) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (i < first_failed_) {
        first_failed_ = i;
        error_ = std::move(status);
      }
    }
    turn_.notify_all();
  }

  // Whether sample i should still run (no sample before it failed).
  bool Wanted(int64_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return i < first_failed_;
  }

  Status result() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_failed_ == kNone ? Status::Ok() : error_;
  }

 private:
  struct Slot {
    RangeObserver* observer;
    int64_t next;  // guarded by mu_
  };
  std::map<std::string, Slot> slots_;  // fixed after construction
  std::mutex mu_;
  std::condition_variable turn_;
  int64_t first_failed_ = kNone;
  Status error_;
};

}  // namespace

Status RunCalibration(const Model& model, const Dataset& data,
                      const std::map<std::string, std::unique_ptr<RangeObserver>>& observers,
                      const CalibrationRunOptions& options) {
  const int64_t total = data.size();
  const int threads = options.num_threads > 0 ? options.num_threads : DefaultThreadCount();
  const int workers = static_cast<int>(std::clamp<int64_t>(total, 1, std::max(threads, 1)));
  SessionOptions so;
  so.num_threads = std::max(1, threads / workers);
  std::vector<std::unique_ptr<Session>> sessions;
  for (int w = 0; w < workers; ++w) {
    ASSIGN_OR_RETURN(auto session, Session::Create(model, so));
    sessions.push_back(std::move(session));
  }

  OrderedObservers ordered(observers);
  std::mutex progress_mu;
  int64_t done = 0;
  RunOptions ro;
  ro.fuse_with_observer = options.fuse_activations;
  auto work = [&](int w) {
    Session& session = *sessions[static_cast<size_t>(w)];
    for (int64_t i = w; i < total && ordered.Wanted(i); i += workers) {
      auto sample = data.Get(i);
      if (!sample.ok()) {
        ordered.Fail(
            i, Status(sample.status().code(), "calibration data: " + sample.status().message()));
        return;
      }
      std::vector<NamedTensor> feeds = std::move(sample).value();
      bool in_turn = true;
      for (const NamedTensor& f : feeds) in_turn = in_turn && ordered.Observe(f.name, i, f.tensor);
      if (!in_turn) return;
      auto run = session.Run(
          feeds,
          [&](const Node&, const Value& v, const Tensor& t) {
            // After a failure before i, the rest of this run is not observed.
            in_turn = in_turn && ordered.Observe(v.name(), i, t);
          },
          ro);
      if (!run.ok()) {
        ordered.Fail(i, Status(run.status().code(), "calibration sample " + data.Describe(i) +
                                                        ": " + run.status().message()));
        return;
      }
      if (!in_turn) return;
      std::lock_guard<std::mutex> lock(progress_mu);
      ++done;
      if (options.progress) options.progress(done, total);
    }
  };
  if (workers == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) pool.emplace_back(work, w);
    for (std::thread& t : pool) t.join();
  }
  return ordered.result();
}

}  // namespace edgefit
