#pragma once
// Retry policy for remote sources: exponential backoff with jitter, bounded by
// an attempt count and a total time (STYLE: tests advance FakeClock and pass a
// recording sleeper instead of sleeping).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string_view>

#include "common/clock.h"

namespace ferry::sidecar {

struct RetryPolicy {
  int max_attempts = 6;  // including the first
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds max_elapsed{60000};  // no new attempt after this much time
  // How to wait; empty = std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep;
};

// HTTP statuses worth retrying: 408, 429, 500, 502, 503, 504.
bool IsRetryableHttpStatus(long status);

// One request's retry loop state. Not thread-safe (one per request).
class Backoff {
 public:
  Backoff(const RetryPolicy& policy, Clock& clock, uint64_t seed);

  // After failed attempt number `attempts_done` (1-based): false when the
  // budget (attempts or time) is spent; otherwise waits (jittered
  // initial*2^(n-1), capped; at least `retry_after` if the server asked,
  // capped by max_backoff) and returns true.
  bool Wait(int attempts_done, std::optional<std::chrono::milliseconds> retry_after = std::nullopt);

  // The delay Wait would use, without waiting (for tests).
  std::chrono::milliseconds DelayForTest(int attempts_done);

 private:
  std::chrono::milliseconds Delay(int attempts_done);

  const RetryPolicy& policy_;
  Clock& clock_;
  std::chrono::steady_clock::time_point start_;
  std::mt19937_64 rng_;
};

// Seconds from a Retry-After header ("120"); HTTP-date forms are ignored.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value);

}  // namespace ferry::sidecar
