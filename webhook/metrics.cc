#include "webhook/metrics.h"

#include <cstdio>

namespace ferry::webhook {

size_t Metrics::PathIndex(std::string_view path) {
  for (size_t i = 0; i + 1 < kPaths.size(); ++i) {
    if (kPaths[i] == path) return i;
  }
  return kPaths.size() - 1;
}

size_t Metrics::ResultIndex(std::string_view result) {
  for (size_t i = 0; i < kResults.size(); ++i) {
    if (kResults[i] == result) return i;
  }
  return kResults.size() - 1;
}

void Metrics::Record(std::string_view path, std::string_view result,
                     std::chrono::nanoseconds latency) {
  PathSeries& s = series_[PathIndex(path)];
  s.requests[ResultIndex(result)].fetch_add(1, std::memory_order_relaxed);
  double secs = std::chrono::duration<double>(latency).count();
  size_t b = 0;
  while (b < kBuckets.size() && secs > kBuckets[b]) ++b;
  s.buckets[b].fetch_add(1, std::memory_order_relaxed);
  s.sum_ns.fetch_add(static_cast<uint64_t>(latency.count()), std::memory_order_relaxed);
}

void Metrics::RecordTlsReload(bool ok) {
  (ok ? tls_reloads_ok_ : tls_reloads_failed_).fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::Render() const {
  std::string out;
  char line[256];
  out += "# HELP ferry_webhook_requests_total HTTP requests by path and result.\n";
  out += "# TYPE ferry_webhook_requests_total counter\n";
  for (size_t p = 0; p < kPaths.size(); ++p) {
    for (size_t r = 0; r < kResults.size(); ++r) {
      std::snprintf(line, sizeof(line),
                    "ferry_webhook_requests_total{path=\"%.*s\",result=\"%.*s\"} %llu\n",
                    static_cast<int>(kPaths[p].size()), kPaths[p].data(),
                    static_cast<int>(kResults[r].size()), kResults[r].data(),
                    static_cast<unsigned long long>(
                        series_[p].requests[r].load(std::memory_order_relaxed)));
      out += line;
    }
  }
  out += "# HELP ferry_webhook_request_duration_seconds Time from request read to reply.\n";
  out += "# TYPE ferry_webhook_request_duration_seconds histogram\n";
  for (size_t p = 0; p < kPaths.size(); ++p) {
    const PathSeries& s = series_[p];
    uint64_t cumulative = 0;
    const int plen = static_cast<int>(kPaths[p].size());
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += s.buckets[b].load(std::memory_order_relaxed);
      if (b < kBuckets.size()) {
        std::snprintf(line, sizeof(line),
                      "ferry_webhook_request_duration_seconds_bucket{path=\"%.*s\",le=\"%g\"} "
                      "%llu\n",
                      plen, kPaths[p].data(), kBuckets[b],
                      static_cast<unsigned long long>(cumulative));
      } else {
        std::snprintf(line, sizeof(line),
                      "ferry_webhook_request_duration_seconds_bucket{path=\"%.*s\",le=\"+Inf\"} "
                      "%llu\n",
                      plen, kPaths[p].data(), static_cast<unsigned long long>(cumulative));
      }
      out += line;
    }
    std::snprintf(line, sizeof(line),
                  "ferry_webhook_request_duration_seconds_sum{path=\"%.*s\"} %.9f\n"
                  "ferry_webhook_request_duration_seconds_count{path=\"%.*s\"} %llu\n",
                  plen, kPaths[p].data(),
                  static_cast<double>(s.sum_ns.load(std::memory_order_relaxed)) / 1e9, plen,
                  kPaths[p].data(), static_cast<unsigned long long>(cumulative));
    out += line;
  }
  out += "# HELP ferry_webhook_tls_reloads_total Certificate reloads by outcome.\n";
  out += "# TYPE ferry_webhook_tls_reloads_total counter\n";
  out += "ferry_webhook_tls_reloads_total{result=\"ok\"} " +
         std::to_string(tls_reloads_ok_.load(std::memory_order_relaxed)) + "\n";
  out += "ferry_webhook_tls_reloads_total{result=\"failed\"} " +
         std::to_string(tls_reloads_failed_.load(std::memory_order_relaxed)) + "\n";
  return out;
}

}  // namespace ferry::webhook
