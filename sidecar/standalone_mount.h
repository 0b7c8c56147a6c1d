#pragma once
// `ferry-sidecar mount SOURCE DIR [-o k=v,...] [-f]`: one dataset mounted
// standalone, like s3fs or rclone mount, for debugging and benchmarks. Needs
// root (it mounts DIR itself). SIGINT/SIGTERM unmount and exit 0; an external
// unmount of DIR ends it too.
//
// Options (-o, comma-separated, repeatable):
//   ro                    accepted; datasets are always served read-only
//   threads=N             FUSE worker threads (default 16)
//   attr_ttl=D entry_ttl=D negative_ttl=D dir_ttl=D
//                         metadata TTLs: "30", "30s", "500ms", "5m", "1h"
//                         (default 1 s for local://, 60 s for remote sources)
//   list_on_lookup=0|1    resolve names by listing the parent (default 1)
//   uid=N gid=N           owner reported for every file (default 0)
//   fsname=NAME           first field of /proc/mounts (default "ferry")
//   splice=0|1            reply to reads by splicing from fds (default 0)
//   direct_io=0|1         read local files with O_DIRECT (default 0)
//   allow_other           accepted; always on
// Other keys go to the source (MakeSourceForStandalone); unknown ones fail.

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

// argv as main() received it; argv[1] may be "mount" (it is skipped). Returns
// the process exit code: 0 after a clean unmount, 1 on errors, 2 on usage.
int RunStandaloneMount(int argc, char** argv);

// The one place where a standalone mount turns a SOURCE URL into a
// DataSource. Consumes the keys of `options` it understands. Supported now:
// local:///abs/path (or a bare absolute path). kInvalidArgument for other
// schemes, relative paths or bad options; the source's own errors otherwise.
StatusOr<std::unique_ptr<DataSource>> MakeSourceForStandalone(
    std::string_view url, std::map<std::string, std::string>& options);

}  // namespace ferry::sidecar
