#pragma once
// BuildDataset: what serves one dataset through ferry's own FUSE filesystem,
// built from its MountSpec: the DataSource, the TieredBlockCache (remote
// sources only) and the FilesystemOptions. The one construction path shared by
// the reconciler (`ferry-sidecar run`) and the standalone `ferry-sidecar
// mount`, so both serve a dataset identically (STYLE R11).
//
// Option keys (spec.options, or -o of the standalone mount):
//   filesystem: attr_ttl, entry_ttl, negative_ttl, dir_ttl ("30", "30s",
//               "500ms", "5m", "1h"), list_on_lookup, uid, gid, file_mode,
//               dir_mode (octal), direct_io,
//               passthrough (local://: FUSE passthrough, default on),
//               passthrough_min_size (default 0)
//   cache:      cache_*, prefetch_*, block_size (docs/cache.md)
//   source:     endpoint, region, style, anonymous, list, tls_verify, ca_file,
//               connections, timeout (docs/sources.md)
// An unknown key is an error naming it when `strict_options` (standalone),
// a warning otherwise (the spec may carry keys of a newer ferry).

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/dataset_spec.h"
#include "common/status.h"
#include "sidecar/cache/tiered_block_cache.h"
#include "sidecar/fs/filesystem.h"
#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

struct DatasetEnv {
  Clock* clock = nullptr;  // required; outlives the dataset
  // Default disk tier directory: <cache_root>/<spec.name>. Empty: memory only
  // unless the options name a cache_dir.
  std::string cache_root;
  std::string config_dir = "/etc/ferry";  // projected Secret with credentials
  // Standalone: sign with AWS_* (or OSS_*) variables of `environment` when the
  // spec names no credentials; AWS_REGION / AWS_ENDPOINT_URL fill in region
  // and endpoint when the options do not give them.
  bool standalone = false;
  std::map<std::string, std::string> environment;
  bool strict_options = false;
};

struct BuiltDataset {
  // Destroy in reverse order: the cache reads the source.
  std::unique_ptr<DataSource> source;
  std::unique_ptr<TieredBlockCache> cache;  // null for local://
  FilesystemOptions fs_options;
};

// kInvalidArgument names the bad option and how to fix it; kUnimplemented for
// a scheme served otherwise (exec://); source and cache errors otherwise.
StatusOr<BuiltDataset> BuildDataset(const MountSpec& spec, const DatasetEnv& env);

// "s3://b/p/" -> "s3"; "/abs" -> "local"; "" when the URL has no scheme.
std::string SchemeOf(std::string_view url);

// -o values: a non-negative number; 1/true/yes or 0/false/no (empty = true).
// kInvalidArgument names `key` and the fix.
StatusOr<uint64_t> ParseUintOption(const std::string& key, const std::string& v);
StatusOr<bool> ParseBoolOption(const std::string& key, const std::string& v);

// "30" / "30s" / "500ms" / "5m" / "1h"; kInvalidArgument names `key`.
StatusOr<std::chrono::nanoseconds> ParseOptionDuration(const std::string& key,
                                                       const std::string& value);

}  // namespace ferry::sidecar
