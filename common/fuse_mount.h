#pragma once
// MountFuseFd: makes a FUSE mount served through a fresh /dev/fuse fd, as the
// propagator's MountManager does for pods (open /dev/fuse, mount(2) with
// "fd=N,rootmode=40000,..."; the kernel's INIT is then pending on the fd),
// for a process that mounts by itself as root: the standalone
// `ferry-sidecar mount exec://...`, which hands the fd to a vendor binary as
// /dev/fd/N. Every side effect goes through Sys. Never stat()s the new mount
// (that would block until somebody answers INIT): the read-ahead is set on
// the device the mount table names. Thread-compatible.

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/sys.h"
#include "common/unique_fd.h"

namespace ferry {

struct FuseFdMountOptions {
  std::string device = "/dev/fuse";
  std::string fsname = "ferry";         // first field of /proc/mounts; no commas
  std::string fstype = "fuse.ferry";
  bool read_only = true;
  uint32_t max_read_bytes = 1u << 20;
  uint32_t read_ahead_kb = 16384;       // 0: leave the kernel's default
  std::string bdi_dir = "/sys/class/bdi";
};

// The mount(2) data string for a FUSE mount served through `fuse_fd`
// (owner uid/gid 0, allow_other, default_permissions).
std::string FuseMountData(int fuse_fd, uint32_t max_read_bytes);

// Mounts at `dir` (an existing directory) and returns the /dev/fuse fd.
// allow_other and default_permissions are always on, owner uid/gid 0. A
// failed read-ahead write is logged, not returned. Errors carry the errno of
// realpath/open/mount (kPermissionDenied without CAP_SYS_ADMIN).
StatusOr<UniqueFd> MountFuseFd(Sys& sys, const std::string& dir, const FuseFdMountOptions& options);

}  // namespace ferry
