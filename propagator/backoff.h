#pragma once
// RestartBackoff: how long to wait before restarting a data plane that died.
// Doubles from `initial` up to `max` with each quick death; a data plane that
// ran for at least `reset_after` counts as healthy and restarts after
// `initial` again. Pure arithmetic, no clock of its own. Not thread-safe.

#include <chrono>

namespace ferry::propagator {

struct BackoffOptions {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{10'000};
  std::chrono::milliseconds reset_after{60'000};
};

class RestartBackoff {
 public:
  explicit RestartBackoff(BackoffOptions options = {}) : options_(options) {}

  // Delay before the next restart, given how long the instance that just
  // died had been running.
  std::chrono::milliseconds NextDelay(std::chrono::steady_clock::duration uptime);

 private:
  BackoffOptions options_;
  std::chrono::milliseconds next_{0};  // 0: no death since the last reset
};

}  // namespace ferry::propagator
