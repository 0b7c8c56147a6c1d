#include "tests/support/fake_file_watcher.h"

namespace ferry::testing {

void FakeFileWatcher::Push(WatchEvent event) {
  MutexLock lock(mu_);
  queue_.push_back(std::move(event));
}

void FakeFileWatcher::FailWatch(const std::string& dir, Status s) {
  MutexLock lock(mu_);
  if (s.ok()) {
    failures_.erase(dir);
  } else {
    failures_[dir] = std::move(s);
  }
}

bool FakeFileWatcher::IsWatching(const std::string& dir) const {
  MutexLock lock(mu_);
  return watching_.count(dir) > 0;
}

int FakeFileWatcher::WaitCalls() const {
  MutexLock lock(mu_);
  return wait_calls_;
}

int FakeFileWatcher::Interrupts() const {
  MutexLock lock(mu_);
  return interrupts_;
}

Status FakeFileWatcher::Watch(std::string_view dir) {
  MutexLock lock(mu_);
  if (auto it = failures_.find(dir); it != failures_.end()) return it->second;
  watching_.emplace(dir);
  return Status::Ok();
}

void FakeFileWatcher::Unwatch(std::string_view dir) {
  MutexLock lock(mu_);
  if (auto it = watching_.find(dir); it != watching_.end()) watching_.erase(it);
}

StatusOr<std::vector<WatchEvent>> FakeFileWatcher::Wait(std::chrono::milliseconds timeout) {
  (void)timeout;
  MutexLock lock(mu_);
  ++wait_calls_;
  std::vector<WatchEvent> out(queue_.begin(), queue_.end());
  queue_.clear();
  return out;
}

void FakeFileWatcher::Interrupt() {
  MutexLock lock(mu_);
  ++interrupts_;
}

}  // namespace ferry::testing
