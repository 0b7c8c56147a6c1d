#pragma once
// S3Source: a DataSource over an S3-compatible bucket prefix (AWS S3, Aliyun
// OSS, MinIO, Ceph RGW, GCS interop, s3rver), signed with SigV4.
//
// Names: objects under `prefix` are files; common prefixes (and "dir/" marker
// objects) are directories. List() is one ListObjectsV2 per 1000 children
// (delimiter "/", continuation tokens) and fills size, mtime (LastModified)
// and ETag from the listing: no HEAD per file. Stat() is a listing of the name
// as prefix (so its Entry equals List()'s). Read() is one ranged GET straight
// into the caller's buffer; the answer's ETag must equal the Entry's (If-Match
// is sent too), otherwise kFailedPrecondition: bytes of another version are
// never returned.
//
// Listing modes: `delimiter` trusts the server's CommonPrefixes; `flat` lists
// the whole subtree and derives children (for servers whose delimiter support
// is broken); `auto` (default) uses delimiter listings but cross-checks the
// first one against one flat page and switches to `flat` when the server
// dropped a directory (s3rver 3.7.1 omits prefixes that hold only
// subdirectories).

#include <atomic>
#include <memory>
#include <string>

#include "common/clock.h"
#include "sidecar/source/credentials.h"
#include "sidecar/source/data_source.h"
#include "sidecar/source/http_fetch.h"
#include "sidecar/source/s3_xml.h"
#include "sidecar/source/sigv4.h"
#include "sidecar/source/url.h"

namespace ferry::sidecar {

enum class S3ListMode { kAuto, kDelimiter, kFlat };

struct S3Options {
  std::string scheme = "s3";  // "s3" or "oss": Describe() only
  std::string bucket;
  std::string prefix;         // "" or ending in '/'
  std::string endpoint;       // "https://s3.us-east-1.amazonaws.com", "http://127.0.0.1:4568"
  std::string region = "us-east-1";
  bool path_style = false;    // https://host/bucket/key instead of https://bucket.host/key
  HttpClientOptions http;
  size_t connections = 16;
  RetryPolicy retry;
  S3ListMode list_mode = S3ListMode::kAuto;
  uint32_t max_keys = 1000;   // per listing page
};

class S3Source final : public DataSource {
 public:
  // kInvalidArgument for a bad endpoint or bucket.
  static StatusOr<std::unique_ptr<S3Source>> Create(S3Options options,
                                                    std::unique_ptr<CredentialSource> credentials,
                                                    Clock& clock);

  std::string Describe() const override;
  StatusOr<Entry> Stat(std::string_view path) override;
  StatusOr<std::vector<Entry>> List(std::string_view dir) override;
  StatusOr<size_t> Read(std::string_view path, const Entry& version, uint64_t offset,
                        std::span<std::byte> out) override;
  StatusOr<size_t> ReadScatter(std::string_view path, const Entry& version, uint64_t offset,
                               std::span<const std::span<std::byte>> outs) override;
  SourceStats Stats() const override { return fetcher_.Stats(); }

  S3ListMode list_mode_for_test() const { return list_mode_.load(); }

 private:
  S3Source(S3Options options, ParsedUrl endpoint, std::unique_ptr<CredentialSource> credentials,
           Clock& clock);

  struct Call {
    std::string method = "GET";
    std::string key;  // object key; empty for bucket-level calls (listing)
    HeaderList query;
    std::vector<std::string> headers;
    std::optional<std::pair<uint64_t, uint64_t>> range;
    std::span<std::byte> sink;
    std::span<const std::span<std::byte>> sinks;
  };
  // Signs and sends `call` with retries; after a 403 re-reads rotated
  // credentials once and retries if they changed.
  StatusOr<HttpResponse> Execute(const Call& call);
  Status BuildRequest(const Call& call, HttpRequest* request);
  // The Status for a non-2xx answer to `call` about `what` (a key or prefix).
  Status ErrorFor(const HttpResponse& response, std::string_view what) const;
  StatusOr<S3ListPage> ListPage(const std::string& prefix, bool delimiter,
                                const std::string& token, uint32_t max_keys);
  // Every child of key prefix `dirkey` ("" or ending in '/'); found = the
  // prefix holds anything at all (a marker object counts).
  StatusOr<std::vector<Entry>> ListChildren(const std::string& dirkey, bool flat, bool* found);
  // Whether `dirkey` ("x/") has anything below it.
  StatusOr<bool> PrefixExists(const std::string& dirkey);
  std::string KeyFor(std::string_view path) const { return options_.prefix + std::string(path); }
  std::string Url(std::string_view what) const;

  const S3Options options_;
  const ParsedUrl endpoint_;
  const std::string host_;  // Host header: bucket.endpoint or endpoint
  std::unique_ptr<CredentialSource> credentials_;
  Clock& clock_;
  HttpFetcher fetcher_;
  std::atomic<S3ListMode> list_mode_;
  std::atomic<bool> auto_checked_{false};
};

}  // namespace ferry::sidecar
