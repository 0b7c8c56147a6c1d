#include "common/dataset_spec_validate.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

#include "common/yaml_util.h"

namespace ferry::spec_internal {
namespace {

using yaml::Quote;

constexpr std::string_view kSchemeList = "s3://, oss://, http://, https://, local:// or exec://";
constexpr std::array<std::string_view, 6> kSchemes = {"s3", "oss", "http", "https", "local",
                                                      "exec"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool HasDotDot(std::string_view path) {
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(pos, end - pos) == "..") return true;
    pos = end + 1;
  }
  return false;
}

// S3 and OSS bucket naming rules (lowercase letters, digits, '.', '-'; 3..63;
// starts and ends with a letter or digit).
bool ValidBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back())) return false;
  return std::all_of(b.begin(), b.end(), [&](char c) { return alnum(c) || c == '.' || c == '-'; });
}

Status CheckObjectStoreSource(const MountSpec& m, std::string_view rest) {
  std::string_view bucket = rest.substr(0, rest.find('/'));
  if (bucket.empty()) {
    return InvalidArgument("source " + Quote(m.source) + ": no bucket; write " + m.scheme +
                           "://BUCKET/PREFIX/");
  }
  if (!ValidBucket(bucket)) {
    return InvalidArgument("source " + Quote(m.source) + ": bucket " + Quote(bucket) +
                           " is not a valid bucket name (3-63 lowercase letters, digits, '.' or "
                           "'-'); write " + m.scheme + "://BUCKET/PREFIX/");
  }
  return Status::Ok();
}

Status CheckHttpSource(const MountSpec& m, std::string_view rest) {
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("source " + Quote(m.source) +
                           ": user:password in a URL would put credentials in a ConfigMap; remove "
                           "it and use credentials (Secret ferry-credentials)");
  }
  if (authority.empty() || authority.front() == ':') {
    return InvalidArgument("source " + Quote(m.source) + ": no host; write " + m.scheme +
                           "://HOST[:PORT]/PATH/");
  }
  return Status::Ok();
}

Status CheckLocalSource(const MountSpec& m, std::string_view rest) {
  if (rest.empty() || rest.front() != '/') {
    return InvalidArgument("source " + Quote(m.source) +
                           ": local:// needs an absolute path (three slashes), e.g. "
                           "local:///mnt/data");
  }
  if (HasDotDot(rest)) {
    return InvalidArgument("source " + Quote(m.source) +
                           ": the path may not contain \"..\"; write the resolved path");
  }
  return Status::Ok();
}

Status CheckExecSource(const MountSpec& m, std::string_view rest) {
  if (rest.empty()) {
    return InvalidArgument("source " + Quote(m.source) +
                           ": exec:// needs a command, e.g. exec://s3fs or exec:///usr/bin/s3fs "
                           "(arguments go in options.args)");
  }
  if (rest.find_first_of(" \t") != std::string_view::npos) {
    return InvalidArgument("source " + Quote(m.source) +
                           ": the command may not contain spaces; put arguments in options.args");
  }
  if (rest.front() != '/' && rest.find('/') != std::string_view::npos) {
    return InvalidArgument("source " + Quote(m.source) +
                           ": the command is a program name (exec://s3fs) or an absolute path "
                           "(exec:///usr/bin/s3fs), not a relative path");
  }
  return Status::Ok();
}

Status CheckEndpoint(std::string_view value) {
  std::string v = Lower(value);
  size_t skip = v.starts_with("https://") ? 8 : v.starts_with("http://") ? 7 : 0;
  if (skip == 0 || v.size() == skip || v[skip] == '/' || v[skip] == ':') {
    return InvalidArgument("options.endpoint " + Quote(value) +
                           ": write a URL with scheme and host, e.g. "
                           "https://oss-cn-shanghai.aliyuncs.com or http://minio.data:9000");
  }
  if (v.find('@') != std::string::npos) {
    return InvalidArgument("options.endpoint " + Quote(value) +
                           ": user:password in a URL would put credentials in a ConfigMap; use "
                           "credentials (Secret ferry-credentials)");
  }
  return Status::Ok();
}

}  // namespace

std::string MountLabel(std::string_view prefix, size_t index, std::string_view name) {
  std::string out(prefix);
  // Appended piece by piece: gcc 12 reports a false -Wrestrict on "lit" + string.
  out += "mounts[";
  out += std::to_string(index);
  out += ']';
  if (!name.empty()) {
    out += ' ';
    out += Quote(name);
  }
  return out;
}

Status CheckMountName(std::string_view name) {
  if (name.empty()) return InvalidArgument("name: missing; every mount needs a name");
  if (name == ".ferry") {
    return InvalidArgument("name \".ferry\" is reserved for ferry's status directory; pick another");
  }
  if (name.size() > 63) {
    return InvalidArgument("name " + Quote(name) + " is " + std::to_string(name.size()) +
                           " characters; use at most 63");
  }
  bool ok = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!ok) {
    return InvalidArgument("name " + Quote(name) +
                           ": use only lowercase letters, digits and '-' (it becomes the "
                           "directory /datasets/<name>)");
  }
  if (name.front() == '-') {
    return InvalidArgument("name " + Quote(name) + ": must not start with '-'");
  }
  return Status::Ok();
}

Status CheckSource(MountSpec& m) {
  if (m.source.empty()) {
    return InvalidArgument("source: missing; write e.g. s3://bucket/prefix/ or local:///mnt/data");
  }
  if (HasControl(m.source)) {
    return InvalidArgument("source " + Quote(m.source) + ": contains control characters");
  }
  size_t sep = m.source.find("://");
  if (sep == std::string::npos || sep == 0) {
    return InvalidArgument("source " + Quote(m.source) + ": no scheme; start it with " +
                           std::string(kSchemeList));
  }
  std::string scheme = Lower(std::string_view(m.source).substr(0, sep));
  if (std::find(kSchemes.begin(), kSchemes.end(), scheme) == kSchemes.end()) {
    return InvalidArgument("source " + Quote(m.source) + ": unsupported scheme " + Quote(scheme) +
                           "; use " + std::string(kSchemeList));
  }
  m.scheme = scheme;
  std::string_view rest = std::string_view(m.source).substr(sep + 3);
  if (scheme == "s3" || scheme == "oss") return CheckObjectStoreSource(m, rest);
  if (scheme == "http" || scheme == "https") return CheckHttpSource(m, rest);
  if (scheme == "local") return CheckLocalSource(m, rest);
  return CheckExecSource(m, rest);
}

bool IsCredentialOptionKey(std::string_view key) {
  static constexpr std::array<std::string_view, 13> kSecretSuffixes = {
      "accesskeyid",  "accesskeysecret", "secretaccesskey", "secretkey",     "sessiontoken",
      "securitytoken", "access.key",     "secret.key",      "session.token", "access-key",
      "secret-key",    "password",       "access_key"};
  std::string k = Lower(key);
  for (std::string_view suffix : kSecretSuffixes) {
    if (!k.ends_with(suffix)) continue;
    if (k.size() == suffix.size()) return true;
    char before = k[k.size() - suffix.size() - 1];
    if (before == '.' || before == '-' || before == '_') return true;
  }
  return false;
}

Status CheckOptions(const MountSpec& m) {
  for (const auto& [key, value] : m.options) {
    if (key.empty()) return InvalidArgument("options: a key is empty; remove it or name it");
    if (HasControl(key)) {
      return InvalidArgument("options key " + Quote(key) + ": contains control characters");
    }
    if (IsCredentialOptionKey(key)) {
      return InvalidArgument(
          "options." + key +
          ": credentials do not belong in a ConfigMap; put the value in Secret ferry-credentials "
          "under key <prefix>.accessKeyId / <prefix>.secretAccessKey and set credentials: "
          "<prefix>");
    }
    if (value.find('\0') != std::string::npos) {
      return InvalidArgument("options." + key + ": the value contains a NUL byte");
    }
    if (key == "endpoint") {
      FERRY_RETURN_IF_ERROR(CheckEndpoint(value));
    } else if (key == "region") {
      bool ok = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
      if (!ok) {
        return InvalidArgument("options.region " + Quote(value) +
                               ": write a region name such as us-east-1 or oss-cn-shanghai");
      }
    } else if (key == "style") {
      if (value != "path" && value != "virtual") {
        return InvalidArgument("options.style " + Quote(value) +
                               ": use \"path\" (https://host/bucket/key, MinIO/s3rver) or "
                               "\"virtual\" (https://bucket.host/key)");
      }
    }
  }
  return Status::Ok();
}

Status CheckCredentials(std::string_view prefix) {
  if (prefix.size() > 200) {
    return InvalidArgument("credentials: prefix is longer than 200 characters");
  }
  bool ok = std::all_of(prefix.begin(), prefix.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (!ok) {
    return InvalidArgument("credentials " + Quote(prefix) +
                           ": a Secret key prefix may use only letters, digits, '-', '_' and '.'");
  }
  return Status::Ok();
}

Status CheckPreload(const std::vector<std::string>& globs) {
  for (size_t i = 0; i < globs.size(); ++i) {
    const std::string& g = globs[i];
    std::string where = "cache.preload[" + std::to_string(i) + "] " + Quote(g);
    if (g.empty()) return InvalidArgument(where + ": empty; remove it or write e.g. \"train/**\"");
    if (g.front() == '/') {
      return InvalidArgument(where + ": globs are relative to the dataset root; drop the leading "
                                     "'/'");
    }
    if (HasDotDot(g)) return InvalidArgument(where + ": \"..\" may not appear in a glob");
    if (HasControl(g)) return InvalidArgument(where + ": contains control characters");
  }
  return Status::Ok();
}

// Every string of the mount: valid UTF-8 (YAML escapes such as "\ud800" can
// produce invalid sequences) and no NUL byte (values end up in C strings).
Status CheckText(const MountSpec& m) {
  auto bad = [](std::string_view v) {
    return yaml::FindInvalidUtf8(v) != std::string_view::npos ||
           v.find('\0') != std::string_view::npos;
  };
  std::string field;
  if (bad(m.source)) field = "source";
  if (bad(m.credentials)) field = "credentials";
  for (const auto& [k, v] : m.options) {
    if (bad(k) || bad(v)) field = "options " + yaml::Quote(k);
  }
  for (const std::string& g : m.cache.preload) {
    if (bad(g)) field = "cache.preload";
  }
  if (field.empty()) return Status::Ok();
  return InvalidArgument(field + ": contains a NUL byte or invalid UTF-8 (from an escape "
                                 "sequence); write the text plainly");
}

Status ValidateMount(ParsedMount& pm) {
  MountSpec& m = pm.spec;
  Status s = CheckMountName(m.name);
  if (s.ok()) s = CheckText(m);
  if (s.ok()) s = CheckSource(m);
  if (s.ok()) s = CheckOptions(m);
  if (s.ok() && !m.credentials.empty()) s = CheckCredentials(m.credentials);
  if (s.ok()) s = CheckPreload(m.cache.preload);
  if (s.ok()) return s;
  std::string msg = pm.label + ": " + std::string(s.message());
  if (pm.line > 0) msg += " (line " + std::to_string(pm.line) + ")";
  return InvalidArgument(std::move(msg));
}

Status CheckUniqueNames(const std::vector<ParsedMount>& mounts) {
  std::map<std::string_view, size_t> seen;
  for (size_t i = 0; i < mounts.size(); ++i) {
    auto [it, inserted] = seen.emplace(mounts[i].spec.name, i);
    if (inserted) continue;
    const ParsedMount& first = mounts[it->second];
    const ParsedMount& second = mounts[i];
    std::string msg = second.label + ": name " + Quote(second.spec.name) + " is already used by " +
                      first.label;
    if (!first.original_name.empty() || !second.original_name.empty()) {
      msg += " (Fluid names are lower-cased and '_' becomes '-')";
    }
    msg += "; every mount needs its own name";
    return InvalidArgument(std::move(msg));
  }
  return Status::Ok();
}

}  // namespace ferry::spec_internal
