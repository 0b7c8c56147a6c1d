#pragma once
// AWS Signature Version 4 (header form), on OpenSSL. Signs one request from its
// parts; knows nothing about HTTP transport (STYLE R9: sigv4.cc signs,
// s3_source.cc talks HTTP). Checked against the published AWS test vectors in
// tests/testdata/sigv4/. Pure functions; thread-safe. Results contain secrets
// (the signature): never log them.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::sidecar {

struct SigV4Key {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct SigV4Request {
  std::string method;         // "GET", "HEAD", ...
  std::string canonical_uri;  // the path exactly as sent, already URI-encoded ("/bucket/a%20b")
  HeaderList query;           // decoded names and values; encoded and sorted by the signer
  HeaderList headers;         // every header to sign, Host included; names any case
  std::string payload_sha256; // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
  std::string region;         // "us-east-1"
  std::string service;        // "s3"
  std::chrono::system_clock::time_point time;
};

struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string authorization;  // value of the Authorization header
  // Headers the signer added and signed (x-amz-date when absent,
  // x-amz-security-token when a session token is set and the header absent):
  // send them with the request.
  HeaderList added_headers;
};

SigV4Signature SignV4(const SigV4Request& request, const SigV4Key& key);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// The SHA-256 of an empty body, as S3 wants in x-amz-content-sha256 for GET/HEAD.
inline constexpr char kEmptyPayloadSha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace ferry::sidecar
