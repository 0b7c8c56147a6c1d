#pragma once
// "app_mounts": mounts ferry-mnt read-only with HostToContainer propagation at the
// datasets path (ferry.io/mount-path, else the config's datasetsPath) into every
// regular container except mesh proxies (istio-proxy, linkerd-proxy) and Knative's
// queue-proxy, and into the init containers named by ferry.io/init-containers ("*" =
// all). Edits existing containers only, so it queues no insertions. A container that
// already mounts something at that path is denied, naming the container and the fix.

#include <memory>

#include "webhook/mutator.h"

namespace ferry::webhook {

std::unique_ptr<Mutator> NewAppMountsMutator();

// True for containers that never get the datasets (mesh proxies, Knative queue-proxy).
bool IsInfrastructureContainer(const Json& pod, const Json& container);

}  // namespace ferry::webhook
