#pragma once
// Internals of ParseDatasetSpec shared by the native and the Fluid readers:
// the per-mount checks (name, scheme, per-scheme source rules, options,
// credentials, preload globs) and the spec-wide ones (unique names). Every
// error message starts with the mount's label, e.g. `mounts[2] "imagenet"`,
// names the field and says how to fix it. Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "common/dataset_spec.h"
#include "common/status.h"

namespace ferry::spec_internal {

// Upper bound of the whole `datasets.yaml` text: a ConfigMap's data is <= 1 MiB.
inline constexpr size_t kMaxSpecBytes = 1u << 20;

// A mount as read from one document, with what messages need to point at it.
struct ParsedMount {
  MountSpec spec;
  std::string label;          // `mounts[2] "imagenet"` or `Dataset "d": spec.mounts[0] "x"`
  std::string original_name;  // as written (Fluid names may have been converted); "" = same
  int line = 0;               // 1-based line of the mount in the text, 0 = unknown
};

// `mounts[i] "name"` (or `mounts[i]` when the name is empty).
std::string MountLabel(std::string_view prefix, size_t index, std::string_view name);

// OK if `name` is a valid directory name under /datasets: [a-z0-9-], 1..63
// bytes, not starting with '-', not ".ferry". The error text (without label)
// says which rule broke.
Status CheckMountName(std::string_view name);

// Fills `scheme` from `source` (lower-cased) and checks the scheme whitelist
// and the per-scheme rules (s3/oss: bucket; http(s): host; local: absolute
// path; exec: a command). Errors say what to write instead.
Status CheckSource(MountSpec& mount);

// Option keys and values: non-empty keys, no credentials in a ConfigMap,
// well-formed values for the keys ferry knows (endpoint, region, style).
Status CheckOptions(const MountSpec& mount);

// credentials prefix: a valid Secret key prefix ([-._a-zA-Z0-9]).
Status CheckCredentials(std::string_view prefix);

// cache.preload globs: non-empty, relative, no ".." component.
Status CheckPreload(const std::vector<std::string>& globs);

// Runs every per-mount check above; errors are prefixed with `m.label`.
Status ValidateMount(ParsedMount& m);

// Names unique across the whole spec (all documents); the message names both
// mounts and, for converted Fluid names, the original spelling.
Status CheckUniqueNames(const std::vector<ParsedMount>& mounts);

// True for option keys that carry secrets (accessKeyId, aws.secretKey, ...):
// they belong in Secret ferry-credentials, never in the ConfigMap.
bool IsCredentialOptionKey(std::string_view key);

// Lowercase hex SHA-256 of `data` (ConfigHash's digest; tested with FIPS vectors).
std::string Sha256Hex(std::string_view data);

}  // namespace ferry::spec_internal
