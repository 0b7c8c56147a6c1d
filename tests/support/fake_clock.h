#pragma once
// FakeClock: time moves only when a test calls Advance(). Thread-safe.

#include <atomic>
#include <chrono>

#include "common/clock.h"

namespace ferry::testing {

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(mono_ns_.load()));
  }
  std::chrono::system_clock::time_point WallNow() override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(wall_ns_.load())));
  }
  void Advance(std::chrono::nanoseconds d) {
    mono_ns_ += d.count();
    wall_ns_ += d.count();
  }
  void SetWall(std::chrono::system_clock::time_point t) {
    wall_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

 private:
  std::atomic<int64_t> mono_ns_{1'000'000'000};
  std::atomic<int64_t> wall_ns_{1'767'225'600'000'000'000};  // 2026-01-01T00:00:00Z
};

}  // namespace ferry::testing
