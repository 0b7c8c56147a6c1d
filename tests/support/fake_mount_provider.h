#pragma once
// FakeMountProvider: a MountProvider keeping a table of mounts and an action
// log ("mount:NAME:ro", "mount:NAME:rw", "unmount:NAME", "adopt"). Mount()
// returns an fd on /dev/null; FailMount() makes the next mounts of a name
// fail. Thread-safe.

#include <map>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "sidecar/mount_provider.h"

namespace ferry::testing {

class FakeMountProvider final : public sidecar::MountProvider {
 public:
  // Mount(name) fails with `s` until cleared with an OK status.
  void FailMount(const std::string& name, Status s);
  // Adopt() returns these (with /dev/null fds) once.
  void SetKept(std::vector<std::string> names);

  std::map<std::string, bool> Mounted() const;  // name -> read_only
  std::vector<std::string> Log() const;
  void ClearLog();
  int CountActions(const std::string& prefix) const;

  StatusOr<UniqueFd> Mount(const FuseMountRequest& request) override;
  Status Unmount(std::string_view name) override;
  StatusOr<std::vector<KeptMount>> Adopt() override;

 private:
  mutable Mutex mu_;  // guards everything below; leaf lock
  std::map<std::string, bool> mounted_ FERRY_GUARDED_BY(mu_);
  std::map<std::string, Status> failures_ FERRY_GUARDED_BY(mu_);
  std::vector<std::string> kept_ FERRY_GUARDED_BY(mu_);
  std::vector<std::string> log_ FERRY_GUARDED_BY(mu_);
};

}  // namespace ferry::testing
