#include "sidecar/fs/backing.h"

#include <utility>

#include "common/fuse_backing.h"
#include "common/logging.h"

namespace ferry::sidecar {
namespace {

class DeviceBackingRegistrar final : public BackingRegistrar {
 public:
  explicit DeviceBackingRegistrar(int fuse_fd) : fuse_fd_(fuse_fd) {}
  StatusOr<int32_t> Open(int file_fd) override { return FuseBackingOpen(fuse_fd_, file_fd); }
  void Close(int32_t backing_id) override {
    Status s = FuseBackingClose(fuse_fd_, backing_id);
    if (!s.ok()) GetLogger("sidecar.fs")->warn("{}", s.ToString());
  }

 private:
  const int fuse_fd_;
};

class ForwardingBackingRegistrar final : public BackingRegistrar {
 public:
  ForwardingBackingRegistrar(std::function<StatusOr<int32_t>(int)> open,
                             std::function<void(int32_t)> close)
      : open_(std::move(open)), close_(std::move(close)) {}
  StatusOr<int32_t> Open(int file_fd) override { return open_(file_fd); }
  void Close(int32_t backing_id) override { close_(backing_id); }

 private:
  const std::function<StatusOr<int32_t>(int)> open_;
  const std::function<void(int32_t)> close_;
};

}  // namespace

std::unique_ptr<BackingRegistrar> NewDeviceBackingRegistrar(int fuse_fd) {
  return std::make_unique<DeviceBackingRegistrar>(fuse_fd);
}

std::unique_ptr<BackingRegistrar> NewForwardingBackingRegistrar(
    std::function<StatusOr<int32_t>(int file_fd)> open, std::function<void(int32_t)> close) {
  return std::make_unique<ForwardingBackingRegistrar>(std::move(open), std::move(close));
}

}  // namespace ferry::sidecar
