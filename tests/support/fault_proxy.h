#pragma once
// FaultProxy: a small HTTP/1.1 proxy on 127.0.0.1 for fault-injection tests.
// Each request from the client is either forwarded to the upstream (as
// HTTP/1.0, re-framed with Content-Length, client keep-alive preserved) or
// answered with the next queued fault: a connection reset, a canned status
// (500/503/429 ..., optional Retry-After), a delay, or a truncated body (the
// head promises the full length, half the body is sent, then the connection
// closes). Plain HTTP only. Thread-safe; the destructor stops every thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"

namespace ferry::testing {

class FaultProxy {
 public:
  enum class Fault { kNone, kReset, kStatus, kDelay, kTruncate };
  struct Action {
    Fault fault = Fault::kNone;
    int status = 503;                    // kStatus
    std::string retry_after;             // kStatus: Retry-After value, empty = none
    std::chrono::milliseconds delay{0};  // kDelay: then forwarded
  };

  static StatusOr<std::unique_ptr<FaultProxy>> Start(uint16_t upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const { return port_; }
  // The next `times` requests get `action` (after those already queued).
  void Push(Action action, int times = 1);
  // Every request without a queued action gets `action` (kNone = forward).
  void SetDefault(Action action);
  void Clear();
  uint64_t requests() const { return requests_.load(); }
  uint64_t faults() const { return faults_.load(); }

 private:
  FaultProxy(int listen_fd, uint16_t port, uint16_t upstream_port);
  void AcceptLoop();
  void Serve(int fd);
  Action Next();
  void Forget(int fd);

  const int listen_fd_;
  const uint16_t port_;
  const uint16_t upstream_port_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> faults_{0};
  Mutex mu_;  // guards the members below; leaf lock
  std::deque<Action> queue_ FERRY_GUARDED_BY(mu_);
  Action default_ FERRY_GUARDED_BY(mu_);
  std::set<int> open_fds_ FERRY_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ FERRY_GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace ferry::testing
