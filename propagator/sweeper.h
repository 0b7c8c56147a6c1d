#pragma once
// StaleMountSweeper: at start-up, removes mounts under --mnt-dir left by a
// previous propagator instance (whose mount namespace may be gone while the
// propagated copies stay, answering ENOTCONN once their server died, and
// making the pod's emptyDir teardown fail forever).
//
// Rules: every mount in the mount table below mnt-dir whose fstype is
// fuse.ferry (this instance owns none yet) is detached without being
// stat()ed; then every remaining mount below mnt-dir and every entry of
// mnt-dir is stat()ed, and one failing with ENOTCONN is detached. Each
// detached mount point is rmdir()ed; each action is logged. Deepest mounts go
// first; stacked mounts are peeled until none is left.
// Not thread-safe.

#include <string>
#include <vector>

#include "common/sys.h"
#include "propagator/mounter.h"

namespace ferry::propagator {

class StaleMountSweeper {
 public:
  StaleMountSweeper(Sys& sys, Mounter& mounter, std::string mnt_dir)
      : sys_(sys), mounter_(mounter), mnt_dir_(std::move(mnt_dir)) {}

  // The mount points detached, in order. Errors: the mount table cannot be
  // read or mnt-dir cannot be listed; a mount that will not detach is logged
  // and the sweep goes on.
  StatusOr<std::vector<std::string>> Sweep();

  // Only the first rule: detaches every fuse.ferry mount below mnt-dir
  // without stat()ing anything. Used at shutdown.
  StatusOr<std::vector<std::string>> DetachFerryMounts();

 private:
  Status DetachAndRemove(const std::string& path, const std::string& why,
                         std::vector<std::string>& swept);
  Status SweepFerryMounts(std::vector<std::string>& swept);
  Status SweepDeadEntries(std::vector<std::string>& swept);

  Sys& sys_;
  Mounter& mounter_;
  std::string mnt_dir_;
};

}  // namespace ferry::propagator
