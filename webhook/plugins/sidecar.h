#pragma once
// "sidecar": adds the ferry-sidecar container of docs/pod-contract.md.
//  - native mode: an init container with restartPolicy: Always and an exec
//    startupProbe (`ferryctl probe`), inserted right after the last istio-proxy /
//    linkerd-proxy init container, else at index 0 (before every other init container);
//  - legacy mode: a regular container at index 0 (after leading mesh proxies) with a
//    blocking postStart `ferryctl probe --wait=600s`, plus the
//    kubectl.kubernetes.io/default-container annotation naming the first app container
//    unless present.
// A container already named ferry-sidecar is denied (the handler routes pods with
// ferry's own sidecar to the repair path before the chain runs).

#include <memory>

#include "webhook/mutator.h"

namespace ferry::webhook {

std::unique_ptr<Mutator> NewSidecarMutator();

// The sidecar container exactly as injected in `mode`.
Json SidecarContainer(const WebhookConfig& config, SidecarMode mode);

// True for service-mesh proxies the sidecar must come after.
bool IsMeshProxy(const Json& container);

}  // namespace ferry::webhook
