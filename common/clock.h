#pragma once
// Clock: the time seam (STYLE R3). RealClock reads CLOCK_MONOTONIC /
// CLOCK_REALTIME; tests use FakeClock from tests/support.

#include <chrono>

namespace ferry {

class Clock {
 public:
  virtual ~Clock() = default;
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  // Monotonic time for deadlines and TTLs. Thread-safe.
  virtual std::chrono::steady_clock::time_point Now() = 0;
  // Wall-clock time for timestamps shown to users and for request signing. Thread-safe.
  virtual std::chrono::system_clock::time_point WallNow() = 0;
};

class RealClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point WallNow() override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace ferry
