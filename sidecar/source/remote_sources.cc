#include "sidecar/source/remote_sources.h"

#include <charconv>

#include "common/logging.h"
#include "sidecar/source/credentials.h"
#include "sidecar/source/http_source.h"
#include "sidecar/source/s3_source.h"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX

namespace ferry::sidecar {
namespace {

constexpr const char* kKnownOptions[] = {"endpoint", "region",  "style",   "anonymous", "tls_verify",
                                         "ca_file",  "connections", "timeout", "list"};

std::string OptionOr(const MountSpec& spec, const std::string& key, std::string fallback) {
  auto it = spec.options.find(key);
  return it == spec.options.end() ? std::move(fallback) : it->second;
}

StatusOr<bool> BoolOption(const MountSpec& spec, const std::string& key, bool fallback) {
  auto it = spec.options.find(key);
  if (it == spec.options.end()) return fallback;
  const std::string& v = it->second;
  if (v == "true" || v == "yes" || v == "1") return true;
  if (v == "false" || v == "no" || v == "0") return false;
  return InvalidArgument("options." + key + " \"" + v + "\": write \"true\" or \"false\"");
}

// "30", "30s", "500ms" -> milliseconds.
StatusOr<std::chrono::milliseconds> DurationOption(const MountSpec& spec, const std::string& key,
                                                   std::chrono::milliseconds fallback) {
  auto it = spec.options.find(key);
  if (it == spec.options.end()) return fallback;
  std::string_view v = it->second;
  int64_t scale = 1000;
  if (v.ends_with("ms")) {
    scale = 1;
    v.remove_suffix(2);
  } else if (v.ends_with("s")) {
    v.remove_suffix(1);
  }
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n <= 0 || n > 86'400'000) {
    return InvalidArgument("options." + key + " \"" + it->second +
                           "\": write seconds such as \"30\", \"30s\" or \"500ms\"");
  }
  return std::chrono::milliseconds(n * scale);
}

StatusOr<size_t> CountOption(const MountSpec& spec, const std::string& key, size_t fallback) {
  auto it = spec.options.find(key);
  if (it == spec.options.end()) return fallback;
  size_t n = 0;
  const std::string& v = it->second;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n == 0 || n > 1024) {
    return InvalidArgument("options." + key + " \"" + v + "\": write a number from 1 to 1024");
  }
  return n;
}

struct Common {
  HttpClientOptions http;
  size_t connections = 16;
  RetryPolicy retry;
};

StatusOr<Common> CommonOptions(const MountSpec& spec, const SourceEnv& env) {
  Common c;
  FERRY_ASSIGN_OR_RETURN(c.http.tls_verify, BoolOption(spec, "tls_verify", true));
  c.http.ca_file = OptionOr(spec, "ca_file", "");
  FERRY_ASSIGN_OR_RETURN(std::chrono::milliseconds timeout,
                         DurationOption(spec, "timeout", std::chrono::seconds(30)));
  // `timeout` bounds silence, not transfers: a 10 GiB read may take minutes.
  c.http.connect_timeout = std::min(timeout, std::chrono::milliseconds(10'000));
  c.http.low_speed_time = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  if (c.http.low_speed_time.count() == 0) c.http.low_speed_time = std::chrono::seconds(1);
  c.http.resolve = env.resolve;
  FERRY_ASSIGN_OR_RETURN(c.connections, CountOption(spec, "connections", 16));
  c.retry.sleep = env.retry_sleep;
  for (const auto& [key, value] : spec.options) {
    bool known = false;
    for (const char* k : kKnownOptions) known = known || key == k;
    if (!known && key != "args") {
      GetLogger("sidecar.source")->warn("{}: option '{}' is not used by {}:// sources", spec.name,
                                        key, spec.scheme);
    }
  }
  return c;
}

bool LooksLocal(const std::string& endpoint) {
  StatusOr<ParsedUrl> u = ParseHttpUrl(endpoint);
  if (!u.ok()) return false;
  const std::string& h = u->host;
  bool ip = !h.empty() && (h.find_first_not_of("0123456789.") == std::string::npos || h[0] == '[');
  return ip || h == "localhost" || u->explicit_port;
}

StatusOr<std::unique_ptr<DataSource>> MakeS3(const MountSpec& spec, const SourceEnv& env) {
  FERRY_ASSIGN_OR_RETURN(Common common, CommonOptions(spec, env));
  FERRY_ASSIGN_OR_RETURN(BucketUrl bucket, ParseBucketUrl(spec.source));
  S3Options o;
  o.scheme = spec.scheme;
  o.bucket = bucket.bucket;
  o.prefix = bucket.prefix;
  o.http = common.http;
  o.connections = common.connections;
  o.retry = common.retry;
  const bool oss = spec.scheme == "oss";
  o.region = OptionOr(spec, "region", oss ? "oss-cn-hangzhou" : "us-east-1");
  std::string default_endpoint =
      oss ? "https://" + (o.region.rfind("oss-", 0) == 0 ? o.region : "oss-" + o.region) +
                ".aliyuncs.com"
          : "https://s3." + o.region + ".amazonaws.com";
  o.endpoint = OptionOr(spec, "endpoint", default_endpoint);
  bool dotted_tls = o.bucket.find('.') != std::string::npos && o.endpoint.rfind("https", 0) == 0;
  std::string style = OptionOr(spec, "style", LooksLocal(o.endpoint) || (dotted_tls && !oss) ? "path" : "virtual");
  if (style != "path" && style != "virtual") {
    return InvalidArgument("options.style \"" + style + "\": use \"path\" or \"virtual\"");
  }
  o.path_style = style == "path";
  std::string list = OptionOr(spec, "list", "auto");
  if (list == "auto") {
    o.list_mode = S3ListMode::kAuto;
  } else if (list == "delimiter") {
    o.list_mode = S3ListMode::kDelimiter;
  } else if (list == "flat") {
    o.list_mode = S3ListMode::kFlat;
  } else {
    return InvalidArgument("options.list \"" + list + "\": use auto, delimiter or flat");
  }
  FERRY_ASSIGN_OR_RETURN(bool anonymous, BoolOption(spec, "anonymous", false));
  std::unique_ptr<CredentialSource> creds;
  if (anonymous) {
    creds = std::make_unique<StaticCredentials>(AwsCredentials{}, "anonymous access (options.anonymous)");
  } else if (!spec.credentials.empty()) {
    creds = std::make_unique<SecretFileCredentials>(env.config_dir, spec.credentials, *env.clock);
  } else if (env.standalone) {
    creds = CredentialsFromEnvironment(env.environment);
  } else {
    creds = std::make_unique<StaticCredentials>(
        AwsCredentials{}, "anonymous access (no `credentials:` in the mount: name a key prefix of "
                          "Secret ferry-credentials)");
  }
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<S3Source> s3, S3Source::Create(std::move(o), std::move(creds), *env.clock));
  return std::unique_ptr<DataSource>(std::move(s3));
}

StatusOr<std::unique_ptr<DataSource>> MakeHttp(const MountSpec& spec, const SourceEnv& env) {
  FERRY_ASSIGN_OR_RETURN(Common common, CommonOptions(spec, env));
  HttpSourceOptions o;
  o.base_url = spec.source;
  o.http = common.http;
  o.connections = common.connections;
  o.retry = common.retry;
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<HttpSource> http, HttpSource::Create(std::move(o), *env.clock));
  return std::unique_ptr<DataSource>(std::move(http));
}

}  // namespace

StatusOr<std::unique_ptr<DataSource>> MakeRemoteSource(const MountSpec& spec, const SourceEnv& env) {
  FERRY_CHECK(env.clock != nullptr);
  Status s;
  if (spec.scheme == "s3" || spec.scheme == "oss") {
    StatusOr<std::unique_ptr<DataSource>> r = MakeS3(spec, env);
    if (r.ok()) return r;
    s = r.status();
  } else if (spec.scheme == "http" || spec.scheme == "https") {
    StatusOr<std::unique_ptr<DataSource>> r = MakeHttp(spec, env);
    if (r.ok()) return r;
    s = r.status();
  } else {
    s = InvalidArgument("scheme \"" + spec.scheme + "\" is not a remote source; use s3://, oss://, "
                        "http:// or https://");
  }
  return s.WithContext("mount \"" + spec.name + "\" (" + spec.source + ")");
}

bool IsRemoteSourceOption(std::string_view scheme, std::string_view key) {
  const bool s3 = scheme == "s3" || scheme == "oss";
  for (const char* k : kKnownOptions) {
    if (key != k) continue;
    std::string_view ks(k);
    bool s3_only = ks == "endpoint" || ks == "region" || ks == "style" || ks == "anonymous" ||
                   ks == "list";
    return s3 || !s3_only;
  }
  return false;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

}  // namespace ferry::sidecar
