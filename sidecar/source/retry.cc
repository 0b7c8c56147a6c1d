#include "sidecar/source/retry.h"

#include <algorithm>
#include <charconv>
#include <thread>

namespace ferry::sidecar {

bool IsRetryableHttpStatus(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

Backoff::Backoff(const RetryPolicy& policy, Clock& clock, uint64_t seed)
    : policy_(policy), clock_(clock), start_(clock.Now()), rng_(seed) {}

std::chrono::milliseconds Backoff::Delay(int attempts_done) {
  int64_t base = policy_.initial_backoff.count();
  for (int i = 1; i < attempts_done && base < policy_.max_backoff.count(); ++i) base *= 2;
  base = std::min<int64_t>(base, policy_.max_backoff.count());
  // "Equal jitter": half fixed, half random, so retries of many readers spread out.
  std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(base / 2, 0));
  return std::chrono::milliseconds(base - base / 2 + dist(rng_));
}

std::chrono::milliseconds Backoff::DelayForTest(int attempts_done) { return Delay(attempts_done); }

bool Backoff::Wait(int attempts_done, std::optional<std::chrono::milliseconds> retry_after) {
  if (attempts_done >= policy_.max_attempts) return false;
  std::chrono::milliseconds delay = Delay(attempts_done);
  if (retry_after) delay = std::max(delay, std::min(*retry_after, policy_.max_backoff));
  auto elapsed = clock_.Now() - start_;
  if (elapsed + delay > policy_.max_elapsed) return false;
  if (policy_.sleep) {
    policy_.sleep(delay);
  } else {
    std::this_thread::sleep_for(delay);
  }
  return true;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value) {
  int64_t secs = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
  if (ec != std::errc() || end != value.data() + value.size() || secs < 0) return std::nullopt;
  return std::chrono::milliseconds(std::min<int64_t>(secs, 3600) * 1000);
}

}  // namespace ferry::sidecar
