#pragma once
// Helpers for tests that mount real FUSE filesystems (integration tier). They
// use only libc and ferry_common, so every test binary can link them.
//  - FuseAvailable(): root and an openable /dev/fuse, else the reason to skip;
//  - MountDevFuse(): what the propagator does: open /dev/fuse, mount(2) it at
//    a directory with fd=N, hand back the fd;
//  - FuseMountGuard: lazily unmounts a path on destruction if still mounted;
//  - IsMountPoint / WaitUntil / CountOpenFds / CountThreads.

#include <chrono>
#include <functional>
#include <string>

#include "common/status.h"
#include "common/unique_fd.h"

namespace ferry::testing {

// Empty when FUSE mounts can be made here; otherwise why not (for GTEST_SKIP).
std::string FuseUnavailableReason();

struct DevFuseMountOptions {
  bool read_only = true;
  std::string fstype = "fuse.ferry";
};
// Opens /dev/fuse (O_RDWR|O_CLOEXEC) and mounts it at `dir` with
// "fd=N,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions",
// MS_NOSUID|MS_NODEV (+MS_RDONLY). Returns the fd; the kernel sends INIT on it.
StatusOr<UniqueFd> MountDevFuse(const std::string& dir, DevFuseMountOptions options = {});

// True if `dir` is the mount point of a mount in this namespace. Never
// touches `dir` itself (a FUSE mount whose server is gone would block).
bool IsMountPoint(const std::string& dir);

// Polls `cond` until it holds or `timeout` passes; returns its last value.
bool WaitUntil(const std::function<bool()>& cond,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

int CountOpenFds();
int CountThreads();

// Lazily unmounts `dir` (MNT_DETACH) on destruction while it is a mount point.
class FuseMountGuard {
 public:
  explicit FuseMountGuard(std::string dir) : dir_(std::move(dir)) {}
  ~FuseMountGuard();
  FuseMountGuard(const FuseMountGuard&) = delete;
  FuseMountGuard& operator=(const FuseMountGuard&) = delete;

 private:
  std::string dir_;
};

// A fresh directory under /tmp, removed recursively (never across mounts) on
// destruction.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& prefix = "ferry-test");
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace ferry::testing
