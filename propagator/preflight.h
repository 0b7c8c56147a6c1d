#pragma once
// Start-up checks that turn a misconfigured pod into one loud, actionable
// error instead of datasets that silently never reach the app:
//   - the mount at (or containing) --mnt-dir must be shared (mountinfo field
//     "shared:N"), or mounts made there never propagate to app containers;
//   - /dev/fuse must open.
// Each error message names the fix in pod-spec terms. Not thread-safe.

#include <string>
#include <string_view>

#include "common/sys.h"
#include "propagator/mounter.h"

namespace ferry::propagator {

// OK when `mnt_dir` sits on a shared mount. kFailedPrecondition with the fix
// otherwise; the mount table's read error if it cannot be read.
Status CheckPropagation(Mounter& mounter, std::string_view mnt_dir);

// OK when `device` opens O_RDWR (the fd is closed again). kFailedPrecondition
// naming the fix (privileged: true) otherwise.
Status CheckFuseDevice(Sys& sys, const std::string& device);

// Writes `message` to the kubelet's terminationMessagePath when it exists and
// is writable; returns whether it did. Never creates the file.
bool WriteTerminationMessage(Sys& sys, const std::string& path, std::string_view message);

}  // namespace ferry::propagator
