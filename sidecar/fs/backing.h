#pragma once
// BackingRegistrar: registers files the data plane opened as FUSE passthrough
// backing files (common/fuse_backing.h) on one mount's connection. The
// unprivileged data plane asks ferry-propagator (MountProvider::BackingOpen);
// a data plane that mounted by itself as root does the ioctl on its own fd.

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "common/status.h"

namespace ferry::sidecar {

class BackingRegistrar {
 public:
  virtual ~BackingRegistrar() = default;
  // The backing id (> 0) for OPEN replies. Thread-safe.
  virtual StatusOr<int32_t> Open(int file_fd) = 0;
  // Drops the registration; open files keep their backing file. Thread-safe.
  virtual void Close(int32_t backing_id) = 0;
};

// ioctl on `fuse_fd`, which must outlive the registrar (needs CAP_SYS_ADMIN).
std::unique_ptr<BackingRegistrar> NewDeviceBackingRegistrar(int fuse_fd);

// Forwards to functions, e.g. a MountProvider's BackingOpen/BackingClose.
std::unique_ptr<BackingRegistrar> NewForwardingBackingRegistrar(
    std::function<StatusOr<int32_t>(int file_fd)> open, std::function<void(int32_t)> close);

}  // namespace ferry::sidecar
