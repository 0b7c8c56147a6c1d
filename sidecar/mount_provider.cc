#include "sidecar/mount_provider.h"

namespace ferry::sidecar {

StatusOr<UniqueFd> PropagatorMountProvider::Mount(const FuseMountRequest& request) {
  return client_.Mount(request);
}

Status PropagatorMountProvider::Unmount(std::string_view name) { return client_.Unmount(name); }

StatusOr<std::vector<KeptMount>> PropagatorMountProvider::Adopt() { return client_.Adopt(); }

StatusOr<int32_t> MountProvider::BackingOpen(std::string_view /*name*/, int /*file_fd*/) {
  return Unimplemented("this mount provider cannot register passthrough backing files");
}

Status MountProvider::BackingClose(std::string_view /*name*/, int32_t /*backing_id*/) {
  return Unimplemented("this mount provider cannot register passthrough backing files");
}

StatusOr<int32_t> PropagatorMountProvider::BackingOpen(std::string_view name, int file_fd) {
  return client_.BackingOpen(name, file_fd);
}

Status PropagatorMountProvider::BackingClose(std::string_view name, int32_t backing_id) {
  return client_.BackingClose(name, backing_id);
}

}  // namespace ferry::sidecar
