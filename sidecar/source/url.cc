#include "sidecar/source/url.h"

#include <charconv>

namespace ferry::sidecar {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

StatusOr<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) {
      return InvalidArgument("bad percent escape in \"" + std::string(s) + "\"");
    }
    int hi = HexValue(s[i + 1]);
    int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return InvalidArgument("bad percent escape in \"" + std::string(s) + "\"");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string ParsedUrl::Authority() const {
  if (!explicit_port) return host;
  return host + ":" + std::to_string(port);
}

std::string ParsedUrl::Origin() const { return scheme + "://" + Authority(); }

StatusOr<ParsedUrl> ParseHttpUrl(std::string_view url) {
  ParsedUrl u;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return InvalidArgument("URL \"" + std::string(url) + "\" has no scheme; write http://host/...");
  }
  for (char c : url.substr(0, sep)) u.scheme += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (u.scheme != "http" && u.scheme != "https") {
    return InvalidArgument("URL \"" + std::string(url) + "\": scheme must be http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  size_t path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view tail = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  if (authority.empty()) return InvalidArgument("URL \"" + std::string(url) + "\" has no host");
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("URL of host \"" + std::string(authority.substr(authority.find('@') + 1)) +
                           "\" carries user:password (not shown); put credentials in Secret "
                           "ferry-credentials instead");
  }
  u.port = u.scheme == "https" ? 443 : 80;
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return InvalidArgument("URL \"" + std::string(url) + "\": bad port \"" + std::string(port) +
                             "\"");
    }
    u.port = static_cast<uint16_t>(value);
    u.explicit_port = true;
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return InvalidArgument("URL \"" + std::string(url) + "\" has no host");
  u.host = std::string(authority);
  size_t hash = tail.find('#');
  if (hash != std::string_view::npos) tail = tail.substr(0, hash);
  size_t q = tail.find('?');
  u.path = std::string(tail.substr(0, q));
  if (q != std::string_view::npos) u.query = std::string(tail.substr(q + 1));
  if (u.path.empty()) u.path = "/";
  return u;
}

StatusOr<BucketUrl> ParseBucketUrl(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return InvalidArgument("source \"" + std::string(url) + "\" has no scheme; write s3://bucket/prefix/");
  }
  std::string_view rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  BucketUrl b;
  b.bucket = std::string(rest.substr(0, slash));
  if (b.bucket.empty()) {
    return InvalidArgument("source \"" + std::string(url) +
                           "\" names no bucket; write s3://bucket/prefix/");
  }
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash + 1);
    while (!prefix.empty() && prefix.front() == '/') prefix.remove_prefix(1);
    b.prefix = std::string(prefix);
    if (!b.prefix.empty() && b.prefix.back() != '/') b.prefix += '/';
  }
  return b;
}

std::string JoinKey(std::string_view base, std::string_view path) {
  std::string key(base);
  key += path;
  return key;
}

}  // namespace ferry::sidecar
