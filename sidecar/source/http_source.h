#pragma once
// HttpSource: a DataSource over a plain web server directory tree
// (http(s)://host/path/), e.g. nginx or Apache with autoindex.
//
// List() fetches the directory's index page (nginx/Apache autoindex HTML or
// nginx JSON) and takes sizes and mtimes from it; a file whose size the page
// does not give exactly gets one HEAD. Listing entries carry no ETag (pages
// have none); their mtime has the page's precision (minutes for HTML).
// Stat() is one HEAD (301 to "name/" = directory) and fills the ETag, exact
// size and Last-Modified.
// Read() is one Range GET into the caller's buffer with If-Match (strong
// ETags); the answer must match the Entry: total size (Content-Range /
// Content-Length), ETag when both have one, Last-Modified at the Entry's
// precision. Any difference is kFailedPrecondition, never bytes of another
// version. A server that answers ranges with 200 is handled (bytes before the
// offset are skipped, the transfer stops when the buffer is full) and logged
// once. Thread-safe.

#include <atomic>
#include <memory>
#include <string>

#include "common/clock.h"
#include "sidecar/source/data_source.h"
#include "sidecar/source/http_fetch.h"
#include "sidecar/source/url.h"

namespace ferry::sidecar {

struct HttpSourceOptions {
  std::string base_url;  // "https://host/path/"; a missing trailing '/' is added
  HttpClientOptions http;
  size_t connections = 16;
  RetryPolicy retry;
};

class HttpSource final : public DataSource {
 public:
  // kInvalidArgument for a bad URL.
  static StatusOr<std::unique_ptr<HttpSource>> Create(HttpSourceOptions options, Clock& clock);

  std::string Describe() const override { return base_; }
  StatusOr<Entry> Stat(std::string_view path) override;
  StatusOr<std::vector<Entry>> List(std::string_view dir) override;
  StatusOr<size_t> Read(std::string_view path, const Entry& version, uint64_t offset,
                        std::span<std::byte> out) override;
  StatusOr<size_t> ReadScatter(std::string_view path, const Entry& version, uint64_t offset,
                               std::span<const std::span<std::byte>> outs) override;
  SourceStats Stats() const override { return fetcher_.Stats(); }

  bool ranges_ignored_for_test() const { return ranges_ignored_.load(); }

 private:
  HttpSource(HttpSourceOptions options, ParsedUrl url, Clock& clock);

  std::string UrlFor(std::string_view path, bool dir) const;
  StatusOr<HttpResponse> Send(std::string method, std::string url,
                              std::vector<std::string> headers = {},
                              std::optional<std::pair<uint64_t, uint64_t>> range = std::nullopt,
                              std::span<const std::span<std::byte>> sinks = {});
  Status ErrorFor(const HttpResponse& r, std::string_view url) const;
  // Entry from a HEAD answer (file).
  StatusOr<Entry> FileFromHead(const HttpResponse& r, std::string name, std::string_view url) const;
  // Checks that answer `r` to a read belongs to `version`.
  Status CheckVersion(const HttpResponse& r, const Entry& version, std::string_view url) const;

  const HttpSourceOptions options_;
  const ParsedUrl url_;
  const std::string base_;  // normalized base URL, ends in '/'
  HttpFetcher fetcher_;
  std::atomic<bool> ranges_ignored_{false};
};

}  // namespace ferry::sidecar
