#include "sidecar/mount_provider.h"

namespace ferry::sidecar {

StatusOr<UniqueFd> PropagatorMountProvider::Mount(const FuseMountRequest& request) {
  return client_.Mount(request);
}

Status PropagatorMountProvider::Unmount(std::string_view name) { return client_.Unmount(name); }

StatusOr<std::vector<KeptMount>> PropagatorMountProvider::Adopt() { return client_.Adopt(); }

}  // namespace ferry::sidecar
