#pragma once
// Parsers for S3 XML responses (ListObjectsV2 pages and error documents), on
// tinyxml2. Text in, values out; no I/O (STYLE R9). Fuzzed by
// tests/fuzz/s3_list_xml_fuzz.cc. Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::sidecar {

struct S3Object {
  std::string key;       // full key, XML entities decoded
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // LastModified
  std::string etag;      // as sent, quotes included ("\"abc\"")
};

struct S3ListPage {
  std::vector<S3Object> objects;
  std::vector<std::string> common_prefixes;  // full prefixes, ending in the delimiter
  bool truncated = false;
  std::string next_continuation_token;  // set when truncated
};

// One ListObjectsV2 result page. kInvalidArgument when `xml` is not a
// ListBucketResult or a Contents entry lacks Key/Size/LastModified, naming the
// element; kInternal if the page says truncated but gives no token.
StatusOr<S3ListPage> ParseListObjectsV2(std::string_view xml);

struct S3Error {
  std::string code;     // "AccessDenied", "NoSuchKey", ... empty when not an S3 error body
  std::string message;
};

// The <Error><Code/><Message/></Error> document of a failed request; empty
// fields when `xml` is not one (e.g. HEAD responses have no body).
S3Error ParseS3Error(std::string_view xml);

}  // namespace ferry::sidecar
