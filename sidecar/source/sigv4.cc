#include "sidecar/source/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <map>

#include "sidecar/source/http_date.h"
#include "sidecar/source/url.h"

namespace ferry::sidecar {
namespace {

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 15];
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// Trims and collapses runs of spaces/tabs to one space (SigV4 "Trimall").
std::string TrimAll(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

bool HasHeader(const HeaderList& headers, std::string_view lower_name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return Lower(h.first) == lower_name; });
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return Hex(md, sizeof(md));
}

SigV4Signature SignV4(const SigV4Request& request, const SigV4Key& key) {
  SigV4Signature sig;
  const std::string amz_date = FormatAmzDate(request.time);
  const std::string day = FormatAmzDay(request.time);

  HeaderList headers = request.headers;
  if (!HasHeader(headers, "x-amz-date")) {
    sig.added_headers.emplace_back("x-amz-date", amz_date);
    headers.emplace_back("x-amz-date", amz_date);
  }
  if (!key.session_token.empty() && !HasHeader(headers, "x-amz-security-token")) {
    sig.added_headers.emplace_back("x-amz-security-token", key.session_token);
    headers.emplace_back("x-amz-security-token", key.session_token);
  }

  // Canonical headers: lower-case names, sorted; repeated names joined by ','.
  std::map<std::string, std::string> canonical;
  for (const auto& [name, value] : headers) {
    std::string& slot = canonical[Lower(name)];
    if (!slot.empty()) slot += ',';
    slot += TrimAll(value);
  }
  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : canonical) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }

  std::vector<std::pair<std::string, std::string>> query;
  query.reserve(request.query.size());
  for (const auto& [name, value] : request.query) {
    query.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [name, value] : query) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += name + "=" + value;
  }

  sig.canonical_request = request.method + "\n" + request.canonical_uri + "\n" + canonical_query +
                          "\n" + canonical_headers + "\n" + signed_headers + "\n" +
                          request.payload_sha256;
  const std::string scope = day + "/" + request.region + "/" + request.service + "/aws4_request";
  sig.string_to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(sig.canonical_request);

  std::string k = Hmac("AWS4" + key.secret_access_key, day);
  k = Hmac(k, request.region);
  k = Hmac(k, request.service);
  k = Hmac(k, "aws4_request");
  const std::string raw = Hmac(k, sig.string_to_sign);
  sig.authorization = "AWS4-HMAC-SHA256 Credential=" + key.access_key_id + "/" + scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" +
                      Hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  return sig;
}

}  // namespace ferry::sidecar
