// ThreadTeam: the worker threads of one Session, for KernelContext::ParallelFor.
//
// A kernel splits its work into at most size() parts; the calling thread runs part 0 and the
// workers the others. Between parts workers wait briefly spinning (a kernel's next parallel
// loop usually comes within microseconds), then sleep on a condition variable. The short spin
// is the point: a team that spins for milliseconds (OpenMP's default) burns the time slice the
// thread it waits for needs when the machine is busy; measured on 2 cores with two other
// busy processes, a 2-thread `compare` took 10.6 s with OpenMP, 0.8 s with this team.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace edgefit {

class ThreadTeam {
 public:
  // `threads` >= 1 threads in all: the caller and threads - 1 workers.
  explicit ThreadTeam(int threads);
  ~ThreadTeam();
  ThreadTeam(const ThreadTeam&) = delete;
  ThreadTeam& operator=(const ThreadTeam&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(0), ..., fn(parts - 1), part 0 on the calling thread, and returns when all are
  // done. parts is capped at size(). Called from inside a part (nested parallelism) or while
  // another thread runs the team, the parts run one after another on the calling thread.
  void Run(int parts, const std::function<void(int)>& fn);

 private:
  void Work(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;  // workers: a new generation or stop
  std::condition_variable done_;  // caller: pending_ reached 0
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};  // parts of the current generation not finished by workers
  std::atomic<bool> busy_{false};
  const std::function<void(int)>* fn_ = nullptr;  // guarded by mu_
  int parts_ = 0;                                 // guarded by mu_
  bool stop_ = false;                             // guarded by mu_
};

}  // namespace edgefit
