#pragma once
// Metrics: request counters by path and result and a latency histogram per path,
// rendered as Prometheus text (version 0.0.4). Lock-free: relaxed atomics only, so
// recording costs a few nanoseconds on the request path. Thread-safe.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::webhook {

class Metrics {
 public:
  // Paths with their own series; anything else counts as "other".
  static constexpr std::array<std::string_view, 6> kPaths = {
      "/mutate", "/validate", "/healthz", "/readyz", "/metrics", "other"};
  // Results: allowed (no patch), patched, denied, invalid (4xx), error (5xx).
  static constexpr std::array<std::string_view, 5> kResults = {"allowed", "patched", "denied",
                                                               "invalid", "error"};
  // Histogram bucket upper bounds, seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                      0.005,  0.01,    0.025,  0.05,  0.1,
                                                      0.5,    1.0};

  void Record(std::string_view path, std::string_view result, std::chrono::nanoseconds latency);
  void RecordTlsReload(bool ok);
  // Prometheus exposition text.
  std::string Render() const;

 private:
  static size_t PathIndex(std::string_view path);
  static size_t ResultIndex(std::string_view result);

  struct PathSeries {
    std::array<std::atomic<uint64_t>, kResults.size()> requests{};
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};  // last: +Inf
    std::atomic<uint64_t> sum_ns{0};
  };
  std::array<PathSeries, kPaths.size()> series_{};
  std::atomic<uint64_t> tls_reloads_ok_{0};
  std::atomic<uint64_t> tls_reloads_failed_{0};
};

}  // namespace ferry::webhook
