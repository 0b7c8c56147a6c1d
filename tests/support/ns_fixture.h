#pragma once
// Mount-namespace helpers for integration tests that need root: run the test
// process in a private mount namespace, make a shared tmpfs, and watch it
// from a second namespace that is a slave of it (what an app container with
// mountPropagation: HostToContainer gets). Everything made here is undone by
// destructors, by path and pid. Not thread-safe; call from the test thread.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace ferry::testing {

// Moves the calling (single-threaded) process into a new mount namespace whose
// mounts are all private, so nothing done afterwards reaches the host.
// kPermissionDenied / kUnimplemented when the machine does not allow it
// (the caller should GTEST_SKIP with the message).
Status EnterPrivateMountNamespace();

// Why FUSE integration tests cannot run here ("" when they can): not root,
// no /dev/fuse, or unshare(CLONE_NEWNS) refused.
std::string FuseTestSkipReason();

// A tmpfs mounted on a fresh directory under /tmp, made shared (or private).
class ScopedTmpfs {
 public:
  static StatusOr<std::unique_ptr<ScopedTmpfs>> Create(bool shared);
  ~ScopedTmpfs();  // lazily detaches everything below and removes the directory
  ScopedTmpfs(const ScopedTmpfs&) = delete;
  ScopedTmpfs& operator=(const ScopedTmpfs&) = delete;
  const std::string& path() const { return path_; }

 private:
  explicit ScopedTmpfs(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// A child process in its own mount namespace in which `path` (a shared mount
// in the parent's namespace) is a slave. It only sleeps; tests look through
// /proc/<pid>/mountinfo and /proc/<pid>/root. Killed and reaped on destruction.
class SlaveNamespace {
 public:
  static StatusOr<std::unique_ptr<SlaveNamespace>> Create(const std::string& path);
  ~SlaveNamespace();
  SlaveNamespace(const SlaveNamespace&) = delete;
  SlaveNamespace& operator=(const SlaveNamespace&) = delete;
  pid_t pid() const { return pid_; }
  // The namespace's mount table text.
  std::string MountInfoText() const;
  // `path` as seen from inside the namespace (via /proc/<pid>/root).
  std::string Outside(const std::string& path) const;

 private:
  explicit SlaveNamespace(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

// Polls `cond` every few ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& cond,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace ferry::testing
