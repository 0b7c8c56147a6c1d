#include "sidecar/dataset_builder.h"

#include <set>

#include "common/logging.h"
#include "sidecar/cache/cache_options.h"
#include "sidecar/source/local_source.h"
#include "sidecar/source/remote_sources.h"

namespace ferry::sidecar {
namespace {

constexpr const char* kFsKeys[] = {"attr_ttl", "entry_ttl", "negative_ttl", "dir_ttl",
                                   "list_on_lookup", "uid", "gid", "file_mode", "dir_mode",
                                   "direct_io", "passthrough", "passthrough_min_size"};

bool IsFsKey(const std::string& k) {
  for (const char* f : kFsKeys) {
    if (k == f) return true;
  }
  return false;
}

bool IsCacheKey(const std::string& k) {
  return k.rfind("cache_", 0) == 0 || k.rfind("prefetch_", 0) == 0 || k == "block_size";
}

Status ApplyFsOption(const std::string& k, const std::string& v, FilesystemOptions& fs) {
  if (k == "attr_ttl") {
    FERRY_ASSIGN_OR_RETURN(fs.attr_ttl, ParseOptionDuration(k, v));
  } else if (k == "entry_ttl") {
    FERRY_ASSIGN_OR_RETURN(fs.entry_ttl, ParseOptionDuration(k, v));
  } else if (k == "negative_ttl") {
    FERRY_ASSIGN_OR_RETURN(fs.negative_ttl, ParseOptionDuration(k, v));
  } else if (k == "dir_ttl") {
    FERRY_ASSIGN_OR_RETURN(fs.dir_ttl, ParseOptionDuration(k, v));
  } else if (k == "list_on_lookup") {
    FERRY_ASSIGN_OR_RETURN(fs.list_on_lookup, ParseBoolOption(k, v));
  } else if (k == "direct_io") {
    FERRY_ASSIGN_OR_RETURN(fs.local_direct_io, ParseBoolOption(k, v));
  } else if (k == "passthrough") {
    FERRY_ASSIGN_OR_RETURN(fs.passthrough, ParseBoolOption(k, v));
  } else if (k == "passthrough_min_size") {
    StatusOr<uint64_t> n = ParseByteSize(v);
    if (!n.ok()) {
      return InvalidArgument("option passthrough_min_size: \"" + v +
                             "\" is not a size (e.g. 0, 512Ki, 1Mi)");
    }
    fs.passthrough_min_bytes = *n;
  } else if (k == "uid" || k == "gid") {
    FERRY_ASSIGN_OR_RETURN(uint64_t n, ParseUintOption(k, v));
    if (n > 0xffffffffull) return InvalidArgument("option " + k + ": too large");
    (k == "uid" ? fs.uid : fs.gid) = static_cast<uint32_t>(n);
  } else if (k == "file_mode" || k == "dir_mode") {
    // Octal, as chmod: 0444, 644, 0755.
    uint32_t mode = 0;
    bool ok = !v.empty() && v.size() <= 5;
    for (char c : v) {
      ok = ok && c >= '0' && c <= '7';
      mode = mode * 8 + static_cast<uint32_t>(c - '0');
    }
    if (!ok || mode == 0 || mode > 07777) {
      return InvalidArgument("option " + k + ": \"" + v +
                             "\" is not an octal permission mode (e.g. 0444, 0644, 0755)");
    }
    (k == "file_mode" ? fs.file_mode : fs.dir_mode) = mode;
  }
  return Status();
}

std::string EnvOr(const DatasetEnv& env, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    auto it = env.environment.find(n);
    if (it != env.environment.end() && !it->second.empty()) return it->second;
  }
  return "";
}

// Standalone conventions: AWS_REGION/AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3/
// AWS_ENDPOINT_URL (s3); OSS_REGION, OSS_ENDPOINT and the OSS/Alibaba Cloud
// credential variables (oss), mapped onto what MakeRemoteSource reads.
void ApplyStandaloneEnvironment(MountSpec& spec, SourceEnv& source_env, const DatasetEnv& env) {
  const bool oss = spec.scheme == "oss";
  if (spec.scheme != "s3" && !oss) return;
  std::string region = oss ? EnvOr(env, {"OSS_REGION"})
                           : EnvOr(env, {"AWS_REGION", "AWS_DEFAULT_REGION"});
  std::string endpoint = oss ? EnvOr(env, {"OSS_ENDPOINT"})
                             : EnvOr(env, {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
  if (!endpoint.empty() && endpoint.find("://") == std::string::npos) {
    endpoint = "https://" + endpoint;  // OSS_ENDPOINT is usually a bare host
  }
  if (!region.empty()) spec.options.emplace("region", region);
  if (!endpoint.empty()) spec.options.emplace("endpoint", endpoint);
  if (oss && EnvOr(env, {"AWS_ACCESS_KEY_ID"}).empty()) {
    auto& e = source_env.environment;
    e["AWS_ACCESS_KEY_ID"] = EnvOr(env, {"OSS_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID"});
    e["AWS_SECRET_ACCESS_KEY"] =
        EnvOr(env, {"OSS_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"});
    e["AWS_SESSION_TOKEN"] = EnvOr(env, {"OSS_SESSION_TOKEN", "ALIBABA_CLOUD_SECURITY_TOKEN"});
  }
}

}  // namespace

StatusOr<uint64_t> ParseUintOption(const std::string& key, const std::string& v) {
  if (v.empty() || v.size() > 10 || v.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("option " + key + "=\"" + v + "\": write a non-negative number");
  }
  return std::stoull(v);
}

StatusOr<bool> ParseBoolOption(const std::string& key, const std::string& v) {
  if (v.empty() || v == "1" || v == "true" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "no") return false;
  return InvalidArgument("option " + key + "=\"" + v + "\": write 1/true or 0/false");
}

std::string SchemeOf(std::string_view url) {
  if (!url.empty() && url[0] == '/') return "local";
  size_t p = url.find("://");
  return p == std::string_view::npos ? "" : std::string(url.substr(0, p));
}

StatusOr<std::chrono::nanoseconds> ParseOptionDuration(const std::string& key,
                                                       const std::string& v) {
  size_t pos = 0;
  double n = 0;
  try {
    n = std::stod(v, &pos);
  } catch (...) {
    return InvalidArgument("option " + key + "=\"" + v + "\": not a duration (e.g. 30s, 500ms, 5m)");
  }
  std::string unit = v.substr(pos);
  double scale = 1e9;
  if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "m") {
    scale = 60e9;
  } else if (unit == "h") {
    scale = 3600e9;
  } else if (!unit.empty() && unit != "s") {
    return InvalidArgument("option " + key + "=\"" + v + "\": unknown unit (use ms, s, m or h)");
  }
  if (n < 0 || n > 1e7) return InvalidArgument("option " + key + "=\"" + v + "\": out of range");
  return std::chrono::nanoseconds(static_cast<int64_t>(n * scale));
}

StatusOr<BuiltDataset> BuildDataset(const MountSpec& spec_in, const DatasetEnv& env) {
  FERRY_CHECK(env.clock != nullptr);
  MountSpec spec = spec_in;
  const bool local = spec.scheme == "local";
  const bool remote =
      spec.scheme == "s3" || spec.scheme == "oss" || spec.scheme == "http" || spec.scheme == "https";
  if (!local && !remote) {
    if (spec.scheme == "exec") return Unimplemented("exec:// is served by ExecMount");
    return InvalidArgument("source \"" + spec.source +
                           "\": unsupported scheme; use s3://, oss://, http://, https:// or local://");
  }
  SourceEnv source_env;
  source_env.config_dir = env.config_dir;
  source_env.clock = env.clock;
  source_env.standalone = env.standalone;
  source_env.environment = env.environment;
  if (env.standalone) ApplyStandaloneEnvironment(spec, source_env, env);

  BuiltDataset out;
  out.fs_options = local ? FilesystemOptions::ForLocal() : FilesystemOptions::ForRemote();
  // local:// files are served by the kernel from the backing files where it
  // can (FUSE passthrough); `passthrough=false` keeps every read in ferry.
  out.fs_options.passthrough = local;
  MountSpec source_spec = spec;  // only the source's own keys
  source_spec.options.clear();
  std::map<std::string, std::string> cache_keys;
  for (const auto& [k, v] : spec.options) {
    if (IsFsKey(k)) {
      FERRY_RETURN_IF_ERROR(ApplyFsOption(k, v, out.fs_options));
    } else if (IsCacheKey(k)) {
      if (local) {
        if (env.strict_options) {
          return InvalidArgument("option " + k + ": local:// datasets are read without the block "
                                 "cache (the kernel page cache serves them); drop it");
        }
        continue;
      }
      cache_keys[k] = v;
    } else if (remote && IsRemoteSourceOption(spec.scheme, k)) {
      source_spec.options[k] = v;
    } else if (env.strict_options) {
      return InvalidArgument(
          "unknown option " + k + " for " + spec.scheme +
          ":// (see `ferry-sidecar mount --help`; source options: endpoint, region, style, "
          "anonymous, list, tls_verify, ca_file, connections, timeout)");
    } else {
      GetLogger("sidecar.dataset")->warn("{}: option '{}' is not used by {}:// datasets", spec.name,
                                         k, spec.scheme);
    }
  }
  if (local) {
    std::string root = spec.source.rfind("local://", 0) == 0 ? spec.source.substr(8) : spec.source;
    if (root.empty() || root[0] != '/') {
      return InvalidArgument("local:// needs an absolute path, e.g. local:///srv/data");
    }
    auto source = std::make_unique<LocalSource>(root);
    FERRY_RETURN_IF_ERROR(source->CheckRoot().WithContext(spec.source));
    out.source = std::move(source);
    return out;
  }
  FERRY_ASSIGN_OR_RETURN(out.source, MakeRemoteSource(source_spec, source_env));
  std::string default_dir = env.cache_root.empty() ? "" : env.cache_root + "/" + spec.name;
  FERRY_ASSIGN_OR_RETURN(CacheOptions cache_options, ParseCacheOptions(cache_keys, default_dir));
  FERRY_ASSIGN_OR_RETURN(out.cache, TieredBlockCache::Create(*out.source, cache_options, *env.clock));
  return out;
}

}  // namespace ferry::sidecar
