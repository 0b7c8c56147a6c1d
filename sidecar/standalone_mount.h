#pragma once
// `ferry-sidecar mount SOURCE DIR [-o k=v,...] [-f]`: one dataset mounted
// standalone, like s3fs or rclone mount, for debugging and benchmarks. Needs
// root (it mounts DIR itself). SIGINT/SIGTERM unmount and exit 0; an external
// unmount of DIR ends it too.
//
// SOURCE: s3://bucket/prefix/, oss://bucket/prefix/, http(s)://host/path/,
// local:///abs/path (or /abs/path), exec://PROGRAM (a vendor FUSE binary,
// supervised: standalone_exec.h). Remote datasets are served exactly as
// the reconciler serves them (BuildDataset: source + TieredBlockCache +
// prefetch). Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN (oss:// also OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET /
// OSS_SESSION_TOKEN); AWS_REGION and AWS_ENDPOINT_URL (OSS_REGION,
// OSS_ENDPOINT) stand in for region= and endpoint=.
//
// Options (-o, comma-separated, repeatable):
//   ro                    accepted; datasets are always served read-only
//   threads=N             FUSE worker threads (default 16)
//   fsname=NAME           first field of /proc/mounts (default "ferry")
//   splice=0|1            reply to reads by splicing from fds (default 0)
//   read_ahead_kb=N       kernel read-ahead of the mount (default 16384; 0 = keep)
//   allow_other, default_permissions, nonempty   accepted; allow_other always on
//   s3fs spellings: url=ENDPOINT, use_path_request_style, public_bucket=1
//   everything else: dataset options of BuildDataset (dataset_builder.h):
//   TTLs, cache_*/prefetch_*/block_size, endpoint/region/style/...
// An unknown key fails with a message naming it.

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/dataset_spec.h"
#include "common/status.h"

namespace ferry::sidecar {

// argv as main() received it; argv[1] may be "mount" (it is skipped). Returns
// the process exit code: 0 after a clean unmount, 1 on errors, 2 on usage.
int RunStandaloneMount(int argc, char** argv);

// The MountSpec a standalone mount of `url` at `dir` serves: scheme from the
// URL, name from DIR's last component, every -o key that is not a mount-level
// one in `options` (s3fs spellings translated). kInvalidArgument for a bad
// URL (the message says what is accepted).
StatusOr<MountSpec> MakeStandaloneSpec(std::string_view url, std::string_view dir,
                                       const std::map<std::string, std::string>& options);

}  // namespace ferry::sidecar
