#pragma once
// HttpFetcher: one request with retries, shared by the S3 and HTTP sources.
// Leases a pooled connection per attempt, rebuilds the request each attempt
// (so signatures carry a fresh date), retries transport failures (resets,
// timeouts, truncated bodies) and 408/429/5xx with backoff and jitter, and
// counts requests, bytes and errors. Thread-safe.

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "sidecar/source/curl_pool.h"
#include "sidecar/source/data_source.h"
#include "sidecar/source/retry.h"

namespace ferry::sidecar {

struct AtomicSourceStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> errors{0};
  SourceStats Snapshot() const { return {requests.load(), bytes_read.load(), errors.load()}; }
};

class HttpFetcher {
 public:
  HttpFetcher(HttpClientOptions http, size_t connections, RetryPolicy retry, Clock& clock);

  // Fills a request for one attempt; an error aborts without sending.
  using Builder = std::function<Status(HttpRequest*)>;

  // Runs the request until it gets a final answer and returns it, whatever
  // its status (the caller maps 4xx). kUnavailable, naming the host, the last
  // status or transport error and the attempt count, when retries are
  // exhausted; transport errors a retry cannot fix (TLS verification) and
  // builder errors return at once. kInternal for a malformed 206.
  StatusOr<HttpResponse> Fetch(const Builder& build, std::string_view host);

  SourceStats Stats() const { return stats_.Snapshot(); }
  AtomicSourceStats& stats() { return stats_; }

 private:
  CurlPool pool_;
  const RetryPolicy retry_;
  Clock& clock_;
  std::atomic<uint64_t> seed_{0x9e3779b97f4a7c15ULL};
  AtomicSourceStats stats_;
};

}  // namespace ferry::sidecar
