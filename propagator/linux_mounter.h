#pragma once
// LinuxMounter: Mounter over the real kernel, through Sys (mount(2),
// umount2(2), /proc/self/mountinfo). Thread-compatible.

#include "common/sys.h"
#include "propagator/mounter.h"

namespace ferry::propagator {

class LinuxMounter final : public Mounter {
 public:
  explicit LinuxMounter(Sys& sys, std::string mountinfo_path = "/proc/self/mountinfo")
      : sys_(sys), mountinfo_path_(std::move(mountinfo_path)) {}

  Status Mount(const std::string& source, const std::string& target, const std::string& fstype,
               unsigned long flags, const std::string& data) override;
  Status Unmount(const std::string& target, bool detach) override;
  StatusOr<std::vector<MountInfo>> List() override;

 private:
  Sys& sys_;
  std::string mountinfo_path_;
};

}  // namespace ferry::propagator
