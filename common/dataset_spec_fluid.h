#pragma once
// Reads one Fluid manifest document of `datasets.yaml` into ferry mounts, so
// Fluid users can paste their `Dataset` unchanged (DESIGN "The dataset spec").
//
// Mapping (docs/dataset-spec.md has the full table):
//  - spec.mounts[].mountPoint -> source; name/path -> name (the directory is
//    `path` when absolute and not "/", else `name`; "/" or nothing -> the
//    Dataset's metadata.name). Names are lower-cased and '_' becomes '-' when
//    that yields a valid name; anything else fails with a message.
//  - options: Fluid/Alluxio/Hadoop keys (fs.oss.endpoint, fs.s3a.endpoint,
//    alluxio.underfs.s3.endpoint, ...region, path-style switches) become
//    endpoint/region/style; unknown keys are kept as they are. sharedOptions
//    apply to every mount (the mount's own options win).
//  - encryptOptions / sharedEncryptOptions: credentials = the mount's name;
//    ferry reads `<name>.accessKeyId`, `<name>.secretAccessKey` (and
//    `<name>.sessionToken`) from Secret ferry-credentials.
//  - readOnly: true if the mount says so or spec.accessModes has no ReadWrite*
//    mode (Fluid's default access mode is ReadOnlyMany).
//  - `shared`, owner, nodeAffinity, tolerations, runtimes, placement,
//    dataRestoreLocation, metadata and status are accepted and ignored.
//  - data.fluid.io `*Runtime` documents (AlluxioRuntime, ...) are ignored.
// Pure; thread-safe.

#include <string_view>
#include <vector>

#include "common/dataset_spec_validate.h"
#include "common/status.h"
#include "common/yaml_util.h"

namespace ferry::spec_internal {

// `entries` are the top-level keys of a document that has `apiVersion` or
// `kind`. Appends its mounts (not yet validated) to `out`. `prefix` starts
// every message ("" or "document 2: "). kInvalidArgument with a fix hint.
Status ReadFluidDocument(const std::vector<yaml::MapEntry>& entries, std::string_view prefix,
                         std::vector<ParsedMount>& out);

}  // namespace ferry::spec_internal
