#include "propagator/linux_mounter.h"

#include <sys/mount.h>

namespace ferry::propagator {

Status LinuxMounter::Mount(const std::string& source, const std::string& target,
                           const std::string& fstype, unsigned long flags,
                           const std::string& data) {
  SysResult<int> r = sys_.Mount(source, target, fstype, flags, data);
  if (r.err != 0) return StatusFromErrno(r.err, "mount " + fstype + " at " + target);
  return Status::Ok();
}

Status LinuxMounter::Unmount(const std::string& target, bool detach) {
  SysResult<int> r = sys_.Umount2(target, detach ? MNT_DETACH : 0);
  if (r.err != 0) return StatusFromErrno(r.err, "umount2 " + target);
  return Status::Ok();
}

StatusOr<std::vector<MountInfo>> LinuxMounter::List() {
  SysResult<std::string> r = sys_.ReadFile(mountinfo_path_);
  if (r.err != 0) return StatusFromErrno(r.err, "read " + mountinfo_path_);
  return ParseMountInfo(r.value);
}

}  // namespace ferry::propagator
