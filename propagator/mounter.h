#pragma once
// Mounter: the mount table seam (STYLE R3), modelled on Kubernetes
// mount-utils: mount, unmount, list. LinuxMounter is the real one;
// tests/support/fake_mounter.h keeps an in-memory table with an action log.
// Header-only so the fake needs no propagator library.

#include <string>
#include <utility>
#include <vector>

#include "common/mountinfo.h"
#include "common/status.h"

namespace ferry::propagator {

class Mounter {
 public:
  virtual ~Mounter() = default;
  Mounter() = default;
  Mounter(const Mounter&) = delete;
  Mounter& operator=(const Mounter&) = delete;

  // mount(2). Errors carry the errno: kNotFound (target missing),
  // kPermissionDenied (no CAP_SYS_ADMIN), kInvalidArgument (bad data). Cheap.
  virtual Status Mount(const std::string& source, const std::string& target,
                       const std::string& fstype, unsigned long flags,
                       const std::string& data) = 0;
  // umount2(2), with MNT_DETACH when `detach` (never blocks, never EBUSY).
  // kInvalidArgument (EINVAL): `target` is not a mount point; kNotFound: no
  // such path. Never touches the filesystem served at `target`.
  virtual Status Unmount(const std::string& target, bool detach) = 0;
  // This process's mount table (/proc/self/mountinfo). Never blocks on a
  // FUSE server. Cost: one read and parse of the table.
  virtual StatusOr<std::vector<MountInfo>> List() = 0;
};

// True for the errors that mean "nothing mounted there any more".
inline bool IsAlreadyUnmounted(const Status& s) {
  return s.Is(StatusCode::kInvalidArgument) || s.Is(StatusCode::kNotFound);
}

// Detaches `target` on destruction unless Release()d (STYLE R4): a failed
// mount sequence never leaves a half-made mount behind.
class MountGuard {
 public:
  MountGuard(Mounter& mounter, std::string target)
      : mounter_(mounter), target_(std::move(target)) {}
  ~MountGuard() {
    if (!target_.empty()) (void)mounter_.Unmount(target_, /*detach=*/true);
  }
  MountGuard(const MountGuard&) = delete;
  MountGuard& operator=(const MountGuard&) = delete;
  void Release() { target_.clear(); }

 private:
  Mounter& mounter_;
  std::string target_;
};

}  // namespace ferry::propagator
