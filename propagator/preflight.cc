#include "propagator/preflight.h"

#include <fcntl.h>

#include "common/unique_fd.h"

namespace ferry::propagator {

Status CheckPropagation(Mounter& mounter, std::string_view mnt_dir) {
  FERRY_ASSIGN_OR_RETURN(std::vector<MountInfo> table, mounter.List());
  std::optional<MountInfo> m = FindContainingMount(table, mnt_dir);
  if (!m.has_value()) {
    return FailedPrecondition("no mount contains " + std::string(mnt_dir) +
                              " in /proc/self/mountinfo");
  }
  if (m->IsShared()) return Status::Ok();
  std::string kind = m->MasterPeerGroup() != 0 ? "a slave (HostToContainer)" : "a private";
  return FailedPrecondition(
      std::string(mnt_dir) + " is on " + kind + " mount (" + m->mount_point + ", " + m->fstype +
      "), so datasets mounted there would never reach the app containers. Fix: mount the "
      "ferry-mnt volume at " + std::string(mnt_dir) +
      " with \"mountPropagation: Bidirectional\" and run this container with "
      "\"privileged: true\" (the ferry webhook injects both; check that nothing removed "
      "them). On kind or k3s in Docker the host may also need `mount --make-rshared /`.");
}

Status CheckFuseDevice(Sys& sys, const std::string& device) {
  SysResult<int> r = sys.Open(device, O_RDWR | O_CLOEXEC);
  if (r.err == 0) {
    UniqueFd closer(r.value);
    return Status::Ok();
  }
  return Status(StatusCode::kFailedPrecondition,
                "cannot open " + device + ": " + StatusFromErrno(r.err, "open").ToString() +
                    ". Fix: run the ferry-sidecar container with \"privileged: true\" (the ferry "
                    "webhook injects it) so it can use " + device +
                    ", and make sure the node has the fuse kernel module loaded.",
                r.err);
}

bool WriteTerminationMessage(Sys& sys, const std::string& path, std::string_view message) {
  if (path.empty()) return false;
  return sys.WriteFile(path, message).err == 0;
}

}  // namespace ferry::propagator
