#pragma once
// The dataset spec: the `datasets.yaml` key of ConfigMap `ferry-datasets`
// (DESIGN.md "The dataset spec"). One parser serves the webhook's /validate,
// the sidecar's reconciler and ferryctl, so they can never disagree.
//
// Accepted documents:
//  - native:  `mounts: [{name, source, options, credentials, cache, readOnly}]`
//  - Fluid:   a `data.fluid.io/v1alpha1` `Dataset` manifest (spec.mounts with
//             mountPoint, name, path, options such as fs.oss.endpoint,
//             encryptOptions, readOnly), accepted as is.
// An empty document or `mounts: []` is a valid, empty spec.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry {

struct CacheSpec {
  std::vector<std::string> preload;  // globs relative to the dataset root, e.g. "train/**"
  bool operator==(const CacheSpec&) const = default;
};

struct MountSpec {
  std::string name;    // directory under /datasets: [a-z0-9-], 1..63 chars, not starting with '-'
  std::string source;  // full URL as written: s3://bucket/prefix/, oss://..., http(s)://..., local:///path, exec://...
  std::string scheme;  // "s3", "oss", "http", "https", "local", "exec"
  // Per-source options, keys normalized to ferry's names (Fluid's
  // fs.oss.endpoint -> endpoint, ...). Values are strings.
  std::map<std::string, std::string> options;
  std::string credentials;  // key prefix in Secret ferry-credentials; empty = none
  CacheSpec cache;
  bool read_only = true;
  bool operator==(const MountSpec&) const = default;

  // Stable hex digest of every field whose change requires a remount (source,
  // options, credentials prefix, readOnly). cache.preload is excluded.
  std::string ConfigHash() const;
};

struct DatasetSpec {
  std::vector<MountSpec> mounts;  // names unique
  bool operator==(const DatasetSpec&) const = default;
};

// Parses and validates `text`. Never throws. On error the message names the
// mount (index and name) and the field, says what is wrong and how to fix it,
// e.g. `mounts[2] "imagenet": source "ftp://x": unsupported scheme "ftp"; use
// s3://, oss://, http://, https://, local:// or exec://`.
// kInvalidArgument for any bad input. Thread-safe.
StatusOr<DatasetSpec> ParseDatasetSpec(std::string_view yaml_text);

// Inverse of ParseDatasetSpec for the native form (ferryctl add/remove). Thread-safe.
std::string SerializeDatasetSpec(const DatasetSpec& spec);

}  // namespace ferry
