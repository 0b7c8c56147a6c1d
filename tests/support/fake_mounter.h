#pragma once
// FakeMounter: an in-memory mount table for unit tests, shaped like
// Kubernetes mount-utils' FakeMounter: a table, an action log and error
// hooks. Mount() appends an entry (a fresh minor number per mount, options
// derived from the flags); Unmount() removes the top mount at a path and,
// with detach, everything below it. When given a FakeSys, Mount() needs the
// target directory to exist there and Unmount() clears any stat/lstat error a
// test set on the path (a detached dead mount no longer gives ENOTCONN).
// Thread-safe.

#include <string>
#include <vector>

#include "common/mountinfo.h"
#include "common/mutex.h"
#include "propagator/mounter.h"
#include "tests/support/fake_sys.h"

namespace ferry::testing {

class FakeMounter final : public propagator::Mounter {
 public:
  explicit FakeMounter(FakeSys* sys = nullptr);

  // Adds an entry as is (mount_id assigned when 0). For set-up.
  void AddMount(MountInfo m);
  // A "/" entry and `dir` as a tmpfs, shared (peer group 1) or private.
  void AddRootAndTmpfs(const std::string& dir, bool shared);
  // The next call of `op` ("mount", "unmount", "list") fails with `s`, or
  // every call when `sticky`.
  void FailNext(const std::string& op, Status s, bool sticky = false);

  // "mount:TARGET:FSTYPE:FLAGS_HEX:DATA", "unmount:TARGET:detach|sync".
  std::vector<std::string> Log() const;
  void ClearLog();
  std::vector<MountInfo> Table() const;
  // Mounts whose mount point is `path`, bottom first.
  std::vector<MountInfo> MountsAt(const std::string& path) const;

  Status Mount(const std::string& source, const std::string& target, const std::string& fstype,
               unsigned long flags, const std::string& data) override;
  Status Unmount(const std::string& target, bool detach) override;
  StatusOr<std::vector<MountInfo>> List() override;

 private:
  Status TakeError(const std::string& op) FERRY_REQUIRES(mu_);

  FakeSys* sys_;
  // Guards everything below. Taken before FakeSys's lock.
  mutable Mutex mu_;
  std::vector<MountInfo> table_ FERRY_GUARDED_BY(mu_);
  std::vector<std::string> log_ FERRY_GUARDED_BY(mu_);
  struct Failure {
    std::string op;
    Status status;
    bool sticky;
  };
  std::vector<Failure> failures_ FERRY_GUARDED_BY(mu_);
  uint64_t next_id_ FERRY_GUARDED_BY(mu_) = 100;
  uint32_t next_minor_ FERRY_GUARDED_BY(mu_) = 60;
};

}  // namespace ferry::testing
