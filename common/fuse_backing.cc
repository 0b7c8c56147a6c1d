#include "common/fuse_backing.h"

#include <sys/ioctl.h>

#include <cerrno>
#include <string>

namespace ferry {
namespace {

// <linux/fuse.h> of kernels >= 6.9; Debian 12's headers predate it.
struct FuseBackingMap {
  int32_t fd;
  uint32_t flags;
  uint64_t padding;
};
constexpr unsigned kFuseDevIocMagic = 229;
constexpr unsigned long kFuseDevIocBackingOpen = _IOW(kFuseDevIocMagic, 1, FuseBackingMap);
constexpr unsigned long kFuseDevIocBackingClose = _IOW(kFuseDevIocMagic, 2, uint32_t);

}  // namespace

StatusOr<int32_t> FuseBackingOpen(int fuse_fd, int file_fd) {
  FuseBackingMap map{file_fd, 0, 0};
  int id = ::ioctl(fuse_fd, kFuseDevIocBackingOpen, &map);
  if (id < 0) {
    int err = errno;
    std::string why = "registering a passthrough backing file";
    if (err == EPERM) why += " (needs CAP_SYS_ADMIN and a connection that negotiated passthrough)";
    return StatusFromErrno(err, why);
  }
  if (id == 0) return Internal("the kernel returned backing id 0");
  return static_cast<int32_t>(id);
}

Status FuseBackingClose(int fuse_fd, int32_t backing_id) {
  uint32_t id = static_cast<uint32_t>(backing_id);
  if (::ioctl(fuse_fd, kFuseDevIocBackingClose, &id) != 0) {
    return StatusFromErrno(errno, "closing passthrough backing id " + std::to_string(backing_id));
  }
  return Status::Ok();
}

}  // namespace ferry
