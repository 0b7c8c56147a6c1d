#pragma once
// MountManager: makes and removes the FUSE mounts under --mnt-dir and keeps,
// per dataset name, a dup of each mount's /dev/fuse fd and the opaque state
// the data plane saved (the fd store). Every side effect goes through Sys and
// Mounter.
//
// Invariants: every name in the store has a live mount at <mnt-dir>/<name>
// that this instance made; a failed Mount() leaves neither a mount nor a
// directory it created. The manager never stat()s a FUSE mount it made (that
// would block until the data plane answers INIT); it learns the new mount's
// device from the mount table instead.
//
// Not thread-safe: the propagator's single-threaded event loop owns it.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/control_protocol.h"
#include "common/fuse_mount.h"
#include "common/sys.h"
#include "propagator/mounter.h"

namespace ferry::propagator {

inline constexpr char kFuseFsType[] = "fuse.ferry";

struct MountManagerOptions {
  std::string mnt_dir = "/run/ferry/mnt";  // absolute, no trailing slash
  std::string fuse_device = "/dev/fuse";
  std::string bdi_dir = "/sys/class/bdi";
  std::string fuse_connections_dir = "/sys/fs/fuse/connections";
  uint32_t read_ahead_kb = 16384;
  uint32_t max_background = 64;
  uint32_t max_read_bytes = 1u << 20;
};

// OK if `name` is one path component of [a-z0-9-], 1..63 characters, not
// starting with '-'; kInvalidArgument saying what is wrong otherwise.
Status ValidateDatasetName(std::string_view name);

class MountManager {
 public:
  MountManager(Sys& sys, Mounter& mounter, MountManagerOptions options);
  ~MountManager();  // closes the kept fds; mounts stay (DetachAll() removes them)
  MountManager(const MountManager&) = delete;
  MountManager& operator=(const MountManager&) = delete;

  // Opens /dev/fuse, mounts it at <mnt-dir>/<name> and returns the fd (the
  // kernel's INIT is pending on it); a dup stays in the store. Read-ahead and
  // max_background tuning failures are logged, not returned.
  // kInvalidArgument: bad name. kAlreadyExists: name already mounted here, or
  // some other mount is at the path. kFailedPrecondition: the path is a
  // non-empty directory or not a directory. Others: errno of open/mkdir/mount.
  StatusOr<UniqueFd> Mount(const FuseMountRequest& request);

  // Lazily detaches <mnt-dir>/<name>, removes the directory, closes the dup.
  // Unknown names are OK (idempotent). kInvalidArgument: bad name. A failed
  // rmdir is logged, not returned.
  Status Unmount(std::string_view name);

  // Stores the data plane's opaque state for `name`. kNotFound: not mounted.
  Status SaveState(std::string_view name, std::string_view state);

  // A fresh dup of every kept fd with its name, read-only flag and state, in
  // name order. The store keeps its own dups.
  StatusOr<std::vector<KeptMount>> Adopt();

  // Detaches every kept mount, removes the directories and closes the dups.
  // Returns how many mounts were detached. Errors are logged.
  size_t DetachAll();

  // The kept /dev/fuse fd of mount `name` (owned by the store), for
  // passthrough registrations. kNotFound: not mounted.
  StatusOr<int> FuseFd(std::string_view name) const;

  size_t size() const { return mounts_.size(); }
  bool Contains(std::string_view name) const { return mounts_.count(std::string(name)) != 0; }
  const MountManagerOptions& options() const { return options_; }

 private:
  struct Entry {
    bool read_only = true;
    std::string fsname;
    std::string state;
    bool created_dir = false;
    UniqueFd fuse_fd;  // the propagator's dup
  };

  std::string PathFor(std::string_view name) const;
  // Checks the path is free for a new mount; sets created_dir if it made it.
  Status PrepareMountPoint(const std::string& path, bool& created_dir);
  void TuneConnection(const std::string& path, std::string_view name);
  void DetachEntry(const std::string& name, Entry& entry);

  Sys& sys_;
  Mounter& mounter_;
  const MountManagerOptions options_;
  std::map<std::string, Entry, std::less<>> mounts_;
};

}  // namespace ferry::propagator
