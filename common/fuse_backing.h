#pragma once
// FUSE passthrough (Linux >= 6.9, CONFIG_FUSE_PASSTHROUGH): the kernel serves
// reads of an open FUSE file straight from a "backing" file of another file
// system, with that file system's page cache, and no request reaches the
// daemon. The daemon registers the backing file on the /dev/fuse connection
// (an ioctl that needs CAP_SYS_ADMIN in the initial user namespace) and names
// the returned id in its OPEN reply (FOPEN_PASSTHROUGH). libfuse 3.14 knows
// none of this; the wire constants live here.
//
// Both ends use these helpers: ferry-propagator (privileged) on its dup of a
// mount's /dev/fuse fd for the unprivileged data plane, and a data plane that
// mounted by itself as root (`ferry-sidecar mount`).

#include <cstdint>

#include "common/status.h"

namespace ferry {

// INIT flags (fuse_init_in/out.flags; flags2 holds bits 32..63 when
// FUSE_INIT_EXT is set).
inline constexpr uint64_t kFuseInitExt = 1ull << 30;
inline constexpr uint64_t kFusePassthrough = 1ull << 37;
// OPEN reply flag.
inline constexpr uint32_t kFopenPassthrough = 1u << 7;
// What ferry answers as max_stack_depth: a backing file may itself live on a
// stacked file system (overlayfs: depth 1), and nothing may stack on ferry.
inline constexpr uint32_t kFusePassthroughStackDepth = 2;

// Registers `file_fd` (a regular file open for reading) as a backing file on
// the FUSE connection of `fuse_fd`; returns the id (> 0) for OPEN replies.
// EPERM: no CAP_SYS_ADMIN, or the connection did not negotiate passthrough.
// ELOOP: the file's file system is stacked too deep. EINVAL: not a usable
// file. Errors name the errno.
StatusOr<int32_t> FuseBackingOpen(int fuse_fd, int file_fd);

// Drops the connection's reference; files opened with the id keep theirs.
Status FuseBackingClose(int fuse_fd, int32_t backing_id);

}  // namespace ferry
