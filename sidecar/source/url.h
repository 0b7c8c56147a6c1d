#pragma once
// URL helpers shared by the S3 and HTTP sources: RFC 3986 percent-encoding as
// AWS SigV4 wants it, decoding, and splitting absolute http(s) URLs. Pure
// functions on text; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ferry::sidecar {

// Percent-encodes every byte except A-Z a-z 0-9 - . _ ~ (and '/' when
// `keep_slash`), upper-case hex: the SigV4 "UriEncode".
std::string UriEncode(std::string_view s, bool keep_slash);

// Decodes %XX escapes ('+' stays '+'). kInvalidArgument on a bad escape.
StatusOr<std::string> PercentDecode(std::string_view s);

struct ParsedUrl {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // as written, e.g. "127.0.0.1", "[::1]", "s3.amazonaws.com"
  uint16_t port = 0;   // explicit or the scheme's default
  bool explicit_port = false;
  std::string path;    // starts with '/', still percent-encoded; "/" when absent
  std::string query;   // after '?', without it; may be empty

  // "host" or "host:port" when the port is explicit: the Host header value.
  std::string Authority() const;
  // scheme://authority (no path).
  std::string Origin() const;
};

// Splits an absolute http:// or https:// URL. kInvalidArgument (naming the URL
// and what is wrong) for anything else, userinfo included.
StatusOr<ParsedUrl> ParseHttpUrl(std::string_view url);

// "s3://bucket/some/prefix/" -> bucket "bucket", prefix "some/prefix/" (always
// empty or ending in '/'). kInvalidArgument when the bucket is missing.
struct BucketUrl {
  std::string bucket;
  std::string prefix;
};
StatusOr<BucketUrl> ParseBucketUrl(std::string_view url);

// Joins a dataset-relative path (no leading '/') under `base` (a path prefix
// ending in '/' or empty).
std::string JoinKey(std::string_view base, std::string_view path);

}  // namespace ferry::sidecar
