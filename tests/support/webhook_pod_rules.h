#pragma once
// The apiserver's pod validation rules (pkg/apis/core/validation ValidatePod) that a
// sidecar injection can break, checked on the mutated pod. Each error is
// "path: problem"; empty when the pod passes.
//  - container names unique across initContainers + containers, DNS-1123 labels;
//  - volume names unique, DNS-1123 labels; emptyDir sizeLimit / projected defaultMode;
//  - every volumeMount names a volume; mountPath unique per container, non-empty,
//    without ':'; mountPropagation one of None/HostToContainer/Bidirectional, and
//    Bidirectional only in privileged containers;
//  - restartPolicy only on init containers and only "Always";
//  - probes and lifecycle not on plain init containers; readinessProbe... allowed on
//    sidecars; each probe has exactly one handler and positive timings;
//  - privileged with allowPrivilegeEscalation: false is rejected;
//  - imagePullPolicy / terminationMessagePolicy values; env names valid;
//  - annotations: string values, valid qualified-name keys, total size < 256 KiB.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ferry::testing {

std::vector<std::string> ValidatePodRules(const nlohmann::json& pod);

}  // namespace ferry::testing
