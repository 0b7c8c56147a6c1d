#pragma once
// CurlEasy: RAII owner of one libcurl easy handle, the only place ferry calls
// libcurl (STYLE §1). One handle = one keep-alive connection cache: reuse the
// handle (see CurlPool) so requests skip DNS, TCP and TLS set-up. Bodies of
// successful ranged GETs go straight into the caller's buffer.
// A CurlEasy is used by one thread at a time (thread-compatible).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ferry::sidecar {

// Call once from main() before threads start (STYLE R10). Idempotent.
void CurlGlobalInit();

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{0};  // whole request; 0 = none (low-speed limit still applies)
  uint32_t low_speed_bytes_per_sec = 1024;  // abort a transfer slower than this ...
  std::chrono::seconds low_speed_time{30};  // ... for this long
  bool tls_verify = true;
  std::string ca_file;  // PEM bundle; empty = system store
  size_t buffer_bytes = 512 * 1024;
  // "host:port:address" pins (CURLOPT_RESOLVE), e.g. virtual-hosted buckets in tests.
  std::vector<std::string> resolve;
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, DELETE
  std::string url;             // never carries credentials (SigV4 goes in headers)
  std::vector<std::string> headers;  // "Name: value"
  std::string_view upload;           // PUT body
  // Inclusive byte range to ask for (sent as "Range: bytes=first-last").
  std::optional<std::pair<uint64_t, uint64_t>> range;
  // When set, a 2xx body goes here: 206 bytes from sink[0]; a 200 answer to a
  // ranged request (server ignores ranges) is skipped up to range->first and
  // the transfer stops once the sink is full.
  std::span<std::byte> sink;
  // Instead of `sink`: the body fills these one after another (a cache
  // fetches a range of blocks in one GET straight into the blocks).
  std::span<const std::span<std::byte>> sinks;
  size_t max_body_bytes = 64 * 1024 * 1024;  // bodies kept in HttpResponse::body
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;       // non-sink bodies; for error statuses at most 64 KiB
  size_t sink_bytes = 0;  // bytes placed in HttpRequest::sink
  bool sink_full_early = false;  // stopped a 200 answer once the range was filled
  // Transport failures worth retrying (reset, timeout, truncated body, refused).
  bool retryable = false;

  // First header with this lower-case name.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
};

class CurlEasy {
 public:
  explicit CurlEasy(HttpClientOptions options);
  ~CurlEasy();
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;

  // Runs one request. OK when an HTTP status arrived (any status, see
  // response->status) and, for sink requests, the body fitted. kUnavailable for
  // transport errors (response->retryable says whether a retry can help, e.g.
  // not for TLS verification failures), with a message naming the host and
  // what to check. kInternal for a 206 whose Content-Range does not start at
  // the requested offset or a body larger than the sink.
  Status Perform(const HttpRequest& request, HttpResponse* response);

 private:
  struct Transfer;
  static size_t OnHeader(char* data, size_t size, size_t n, void* user);
  static size_t OnBody(char* data, size_t size, size_t n, void* user);
  static size_t OnUpload(char* data, size_t size, size_t n, void* user);

  HttpClientOptions options_;
  void* curl_ = nullptr;     // CURL*
  void* resolve_ = nullptr;  // curl_slist* for CURLOPT_RESOLVE
};

}  // namespace ferry::sidecar
