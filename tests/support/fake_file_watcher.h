#pragma once
// FakeFileWatcher: a FileWatcher whose events are pushed by the test. Wait()
// never blocks: it returns the queued events (or none) at once, so a test
// steps the consumer deterministically. Watch() succeeds for every directory
// unless FailWatch() says otherwise. Thread-safe.

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/file_watcher.h"
#include "common/mutex.h"

namespace ferry::testing {

class FakeFileWatcher final : public FileWatcher {
 public:
  // Queues an event for the next Wait().
  void Push(WatchEvent event);
  // Watch(dir) fails with `s` until cleared with an OK status.
  void FailWatch(const std::string& dir, Status s);
  bool IsWatching(const std::string& dir) const;
  int WaitCalls() const;
  int Interrupts() const;

  Status Watch(std::string_view dir) override;
  void Unwatch(std::string_view dir) override;
  StatusOr<std::vector<WatchEvent>> Wait(std::chrono::milliseconds timeout) override;
  void Interrupt() override;

 private:
  mutable Mutex mu_;  // guards everything below; leaf lock
  std::deque<WatchEvent> queue_ FERRY_GUARDED_BY(mu_);
  std::set<std::string, std::less<>> watching_ FERRY_GUARDED_BY(mu_);
  std::map<std::string, Status, std::less<>> failures_ FERRY_GUARDED_BY(mu_);
  int wait_calls_ FERRY_GUARDED_BY(mu_) = 0;
  int interrupts_ FERRY_GUARDED_BY(mu_) = 0;
};

}  // namespace ferry::testing
