#pragma once
// PodInjector: the decision and mutation for one Pod CREATE (DESIGN.md "The pod
// contract", KUBERNETES.md §4-§12). Pure: reads the pod, returns a patch, warnings or
// a denial; writes nothing anywhere, so dry runs are safe.
//
// Order of checks: excluded namespace (always kube-system and the webhook's own) ->
// opt-out (ferry.io/inject: "false", annotation or label) -> already injected
// (ferry.io/injected) -> ferry's sidecar present without the marker (repair: add-only
// fixes, or deny a sidecar changed beyond repair) -> hostUsers: false (skip + warning)
// -> platform profile without FUSE (skip + warning) -> annotations -> mutator chain.
// Thread-safe (const).

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "webhook/config.h"
#include "webhook/mutator.h"

namespace ferry::webhook {

struct InjectionOutcome {
  // Non-OK: deny with this message (kFailedPrecondition: clash; kInvalidArgument: bad
  // annotation or malformed pod).
  Status status;
  Json patch = Json::array();  // empty: no change
  std::vector<std::string> warnings;
  std::string decision;  // short label for logs/metrics: injected, skipped, repaired, ...
};

class PodInjector {
 public:
  // `config` must not change while the injector lives (the sidecar container is
  // built from it once, here).
  PodInjector(const WebhookConfig& config, const MutatorChain& chain);

  // `ns` is request.namespace (authoritative); `pod` is request.object.
  InjectionOutcome Inject(std::string_view ns, const Json& pod) const;

 private:
  InjectionOutcome Repair(const Json& pod, const SidecarLocation& loc) const;
  StatusOr<InjectionParams> ResolveParams(const Json& pod, std::vector<std::string>& warnings) const;
  const PlatformProfile* MatchProfile(const Json& pod) const;

  const WebhookConfig& config_;
  const MutatorChain& chain_;
  const Json sidecar_;  // SidecarContainer(config_, config_.mode)
};

}  // namespace ferry::webhook
