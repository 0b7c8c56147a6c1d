#include "common/fuse_mount.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <optional>
#include <vector>

#include "common/logging.h"
#include "common/mountinfo.h"

namespace ferry {
namespace {

// The mount made last at `path` (the top of a stack), from /proc/self/mountinfo.
std::optional<MountInfo> NewestMountAt(Sys& sys, const std::string& path) {
  SysResult<std::string> text = sys.ReadFile("/proc/self/mountinfo");
  if (text.err != 0) return std::nullopt;
  StatusOr<std::vector<MountInfo>> table = ParseMountInfo(text.value);
  if (!table.ok()) return std::nullopt;
  std::optional<MountInfo> found;
  for (MountInfo& m : *table) {
    if (m.mount_point == path) found = std::move(m);
  }
  return found;
}

}  // namespace

std::string FuseMountData(int fuse_fd, uint32_t max_read_bytes) {
  return "fd=" + std::to_string(fuse_fd) +
         ",rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions,max_read=" +
         std::to_string(max_read_bytes);
}

StatusOr<UniqueFd> MountFuseFd(Sys& sys, const std::string& dir, const FuseFdMountOptions& options) {
  if (options.fsname.empty() || options.fsname.find(',') != std::string::npos) {
    return InvalidArgument("fsname must be non-empty without ',': \"" + options.fsname + "\"");
  }
  // Resolved before mounting: afterwards resolving it would stat the new root.
  SysResult<std::string> path = sys.RealPath(dir);
  if (path.err != 0) return StatusFromErrno(path.err, "mount point " + dir);
  SysResult<int> fd = sys.Open(options.device, O_RDWR | O_CLOEXEC);
  if (fd.err != 0) return StatusFromErrno(fd.err, "open " + options.device);
  UniqueFd fuse_fd(fd.value);
  std::string data = FuseMountData(fuse_fd.get(), options.max_read_bytes);
  unsigned long flags = MS_NOSUID | MS_NODEV | (options.read_only ? MS_RDONLY : 0);
  SysResult<int> m = sys.Mount(options.fsname, path.value, options.fstype, flags, data);
  if (m.err != 0) return StatusFromErrno(m.err, "mount " + options.fstype + " at " + path.value);
  if (options.read_ahead_kb > 0) {
    std::optional<MountInfo> mine = NewestMountAt(sys, path.value);
    std::string bdi = mine ? options.bdi_dir + "/" + std::to_string(mine->major) + ":" +
                                 std::to_string(mine->minor) + "/read_ahead_kb"
                           : "";
    SysResult<int> w = mine && mine->fstype == options.fstype
                           ? sys.WriteFile(bdi, std::to_string(options.read_ahead_kb))
                           : SysResult<int>{0, ENOENT};
    if (w.err != 0) {
      GetLogger("fuse_mount")->warn("{}: read-ahead not set ({}): {}", path.value,
                                    bdi.empty() ? "mount not in the table" : bdi,
                                    StatusFromErrno(w.err, "write").ToString());
    }
  }
  return fuse_fd;
}

}  // namespace ferry
