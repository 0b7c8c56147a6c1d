#pragma once
// TaskPool: a few std::jthreads running queued tasks (the cache's prefetch
// and disk write-behind workers). Submit never blocks: it refuses work past
// `max_queued`. The destructor drops queued tasks and joins the workers
// after the running ones finish.

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/mutex.h"

namespace ferry::sidecar {

class TaskPool {
 public:
  TaskPool(size_t threads, size_t max_queued);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Queues `task`; false (task dropped) if the queue is full or stopping.
  // Thread-safe.
  bool Submit(std::function<void()> task) FERRY_EXCLUDES(mu_);

  // Tasks queued or running. Thread-safe.
  size_t Pending() const FERRY_EXCLUDES(mu_);

  // Blocks until no task is queued or running (tests, benchmarks).
  void WaitIdle() FERRY_EXCLUDES(mu_);

 private:
  void Work() FERRY_EXCLUDES(mu_);

  const size_t max_queued_;
  mutable Mutex mu_;  // guards queue_, running_, stopping_; leaf lock
  CondVar work_cv_;
  CondVar idle_cv_;
  std::deque<std::function<void()>> queue_ FERRY_GUARDED_BY(mu_);
  size_t running_ FERRY_GUARDED_BY(mu_) = 0;
  bool stopping_ FERRY_GUARDED_BY(mu_) = false;
  std::vector<std::jthread> threads_;  // last: joined before the rest is destroyed
};

}  // namespace ferry::sidecar
