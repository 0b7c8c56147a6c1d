#pragma once
// "volumes": adds ferry-mnt (emptyDir, the propagation channel; never medium: Memory),
// ferry-config (projected ConfigMap + Secret, both optional, mode 0440) and
// ferry-cache (emptyDir with the configured sizeLimit) to spec.volumes, the whole
// array when absent. A pod that already has a volume of one of these names is denied.

#include <memory>

#include "webhook/mutator.h"

namespace ferry::webhook {

std::unique_ptr<Mutator> NewVolumesMutator();

// The three volumes exactly as injected (exposed for tests and the sidecar repair).
Json FerryVolumes(const WebhookConfig& config, std::string_view datasets_config_map);

}  // namespace ferry::webhook
