#pragma once
// MountProvider: where the data plane gets its FUSE mounts from. The
// unprivileged data plane cannot mount; ferry-propagator does it and hands
// back the /dev/fuse fd (common/control_protocol.h). PropagatorMountProvider
// forwards to the PropagatorClient; unit tests use
// testing::FakeMountProvider; an integration test may mount by itself.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/control_protocol.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace ferry::sidecar {

class MountProvider {
 public:
  MountProvider() = default;
  virtual ~MountProvider() = default;
  MountProvider(const MountProvider&) = delete;
  MountProvider& operator=(const MountProvider&) = delete;

  // A fresh FUSE mount at <mnt-dir>/<request.name>; returns its /dev/fuse fd
  // with the kernel's INIT pending. Errors: the mounter's (kPermissionDenied,
  // kAlreadyExists for a name still mounted, kUnavailable...). Thread-safe.
  virtual StatusOr<UniqueFd> Mount(const FuseMountRequest& request) = 0;

  // Lazily detaches <mnt-dir>/<name> (open files keep working until closed).
  // Unknown names are OK. Thread-safe.
  virtual Status Unmount(std::string_view name) = 0;

  // The mounts a previous data plane instance left behind, with their fds.
  // Thread-safe.
  virtual StatusOr<std::vector<KeptMount>> Adopt() = 0;

  // Registers `file_fd` as a FUSE passthrough backing file on mount `name`'s
  // connection (common/fuse_backing.h); the id goes into OPEN replies.
  // kUnimplemented when the provider cannot (the default). Thread-safe.
  virtual StatusOr<int32_t> BackingOpen(std::string_view name, int file_fd);
  virtual Status BackingClose(std::string_view name, int32_t backing_id);
};

class PropagatorMountProvider final : public MountProvider {
 public:
  explicit PropagatorMountProvider(PropagatorClient& client) : client_(client) {}
  StatusOr<UniqueFd> Mount(const FuseMountRequest& request) override;
  Status Unmount(std::string_view name) override;
  StatusOr<std::vector<KeptMount>> Adopt() override;
  StatusOr<int32_t> BackingOpen(std::string_view name, int file_fd) override;
  Status BackingClose(std::string_view name, int32_t backing_id) override;

 private:
  PropagatorClient& client_;
};

}  // namespace ferry::sidecar
