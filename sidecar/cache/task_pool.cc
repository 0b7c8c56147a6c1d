#include "sidecar/cache/task_pool.h"

namespace ferry::sidecar {

TaskPool::TaskPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

TaskPool::~TaskPool() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  work_cv_.NotifyAll();
  threads_.clear();  // joins
}

bool TaskPool::Submit(std::function<void()> task) {
  {
    MutexLock lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_ || threads_.empty()) return false;
    queue_.push_back(std::move(task));
  }
  work_cv_.NotifyOne();
  return true;
}

size_t TaskPool::Pending() const {
  MutexLock lock(mu_);
  return queue_.size() + running_;
}

void TaskPool::WaitIdle() {
  MutexLock lock(mu_);
  while (!queue_.empty() || running_ > 0) idle_cv_.Wait(mu_);
}

void TaskPool::Work() {
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) work_cv_.Wait(mu_);
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      running_++;
    }
    task();
    {
      MutexLock lock(mu_);
      running_--;
      if (queue_.empty() && running_ == 0) idle_cv_.NotifyAll();
    }
  }
}

}  // namespace ferry::sidecar
