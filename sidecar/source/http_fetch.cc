#include "sidecar/source/http_fetch.h"

namespace ferry::sidecar {

HttpFetcher::HttpFetcher(HttpClientOptions http, size_t connections, RetryPolicy retry,
                         Clock& clock)
    : pool_(std::move(http), connections), retry_(std::move(retry)), clock_(clock) {}

StatusOr<HttpResponse> HttpFetcher::Fetch(const Builder& build, std::string_view host) {
  Backoff backoff(retry_, clock_, seed_.fetch_add(0x9e3779b97f4a7c15ULL));
  std::string last;
  for (int attempt = 1;; ++attempt) {
    HttpRequest request;
    FERRY_RETURN_IF_ERROR(build(&request));
    HttpResponse response;
    Status s;
    {
      CurlPool::Lease easy = pool_.Acquire();
      s = easy->Perform(request, &response);
    }
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    std::optional<std::chrono::milliseconds> retry_after;
    if (s.ok()) {
      if (!IsRetryableHttpStatus(response.status)) {
        stats_.bytes_read.fetch_add(response.sink_bytes, std::memory_order_relaxed);
        return response;
      }
      last = std::to_string(response.status) + " from " + std::string(host);
      if (auto ra = response.Header("retry-after")) retry_after = ParseRetryAfter(*ra);
    } else if (response.retryable) {
      last = std::string(s.message());
    } else {
      stats_.errors.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
    if (!backoff.Wait(attempt, retry_after)) {
      stats_.errors.fetch_add(1, std::memory_order_relaxed);
      return Unavailable(last + " (gave up after " + std::to_string(attempt) +
                         (attempt == 1 ? " attempt" : " attempts") +
                         "; the server is failing or overloaded, ferry retries later reads)");
    }
  }
}

}  // namespace ferry::sidecar
